"""Bring your own data: register tables, text corpora, feature matrices, MIMIC-III.

Registered datasets live in ``SPARSELENS_USER_DATA`` (see :mod:`core.paths`),
one folder each, and are served by the same ``dataset_names()`` /
``load_dataset()`` / ``availability()`` as the built-in datasets.

>>> from core.data.user import add_table
>>> add_table("cohort.csv", name="cohort", target="died", id_column="patient")
"""

from core.data import registry
from core.data.user.features_import import FeatureArrays, add_features, feature_arrays
from core.data.user.manifest import (
    Registered,
    content_stamp,
    delete,
    find,
    registered,
    specs,
)
from core.data.user.mimic import add_mimic
from core.data.user.tabular_import import TableOptions, add_table, build_table
from core.data.user.text_import import add_texts
from core.data.user.validate import max_upload_mb

registry.add_provider(specs)

__all__ = [
    "FeatureArrays",
    "Registered",
    "TableOptions",
    "add_features",
    "add_mimic",
    "add_table",
    "add_texts",
    "build_table",
    "content_stamp",
    "delete",
    "feature_arrays",
    "find",
    "max_upload_mb",
    "registered",
]
