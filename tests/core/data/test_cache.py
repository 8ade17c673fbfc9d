"""The parsed-dataset cache serves only what it wrote: every damaged entry is a
miss that is rebuilt, with one warning naming it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from core.data import cache, load_dataset
from core.data.types import Dataset
from core.errors import DataCorruptError

OPTIONS = {"n_per_region": 20}


def _same(a: Dataset, b: Dataset) -> bool:
    meta_a, arrays_a = cache._to_parts(a)
    meta_b, arrays_b = cache._to_parts(b)
    return (
        meta_a == meta_b
        and arrays_a.keys() == arrays_b.keys()
        and all(np.array_equal(arrays_a[k], arrays_b[k]) for k in arrays_a)
    )


@pytest.fixture
def entry(tmp_path, monkeypatch) -> tuple[Path, Dataset]:
    """A cache entry of the synthetic dataset, and the dataset parsed afresh."""
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    fresh = load_dataset("synthetic", use_cache=False, **OPTIONS)
    load_dataset("synthetic", **OPTIONS)
    (folder,) = (tmp_path / "synthetic").iterdir()
    return folder, fresh


def _wrong_types(meta: dict) -> dict:
    return {**meta, "class_names": "ab", "splits": {"train": []}}


def _edited_classes(meta: dict) -> dict:
    return {**meta, "class_names": [f"edited {c}" for c in meta["class_names"]]}


CORRUPTIONS = {
    "zero-length": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "garbage": lambda data: bytes(range(256)) * 4,
}


def _reload_rebuilds(folder: Path, fresh: Dataset) -> None:
    with pytest.warns(UserWarning, match=str(folder)):
        again = load_dataset("synthetic", **OPTIONS)
    assert _same(again, fresh)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt entry is read cleanly
        assert _same(cache.read("synthetic", folder.name), fresh)


@pytest.mark.parametrize("how", CORRUPTIONS)
@pytest.mark.parametrize("fname", [cache.ARRAYS, cache.META])
def test_damaged_file_is_rebuilt_with_a_warning(entry, fname, how):
    folder, fresh = entry
    path = folder / fname
    path.write_bytes(CORRUPTIONS[how](path.read_bytes()))
    _reload_rebuilds(folder, fresh)


@pytest.mark.parametrize("edit", [_wrong_types, _edited_classes])
def test_edited_meta_is_not_served(entry, edit):
    folder, fresh = entry
    path = folder / cache.META
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    _reload_rebuilds(folder, fresh)


def test_wrongly_typed_meta_with_matching_digest_is_rebuilt(entry):
    # A meta that passes the digest check (rewritten with its digests) is still
    # checked field by field: a string of class names is not served as classes.
    folder, fresh = entry
    path = folder / cache.META
    path.write_text(json.dumps(_wrong_types(json.loads(path.read_text()))))
    digests = json.loads((folder / cache.DIGESTS).read_text())
    digests[cache.META] = cache._sha256(path)
    (folder / cache.DIGESTS).write_text(json.dumps(digests))
    _reload_rebuilds(folder, fresh)


@pytest.mark.parametrize("damage", ["missing", "garbage"])
def test_damaged_digest_file_is_rebuilt(entry, damage):
    folder, fresh = entry
    digests = folder / cache.DIGESTS
    if damage == "missing":
        digests.unlink()
    else:
        digests.write_bytes(b"\xff\xfe{")
    _reload_rebuilds(folder, fresh)


def test_single_array_in_place_of_the_archive_is_rebuilt(entry):
    folder, fresh = entry
    with open(folder / cache.ARRAYS, "wb") as fh:
        np.save(fh, np.arange(3))
    _reload_rebuilds(folder, fresh)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: {**m, "class_names": "ab"}, "'class_names' should be a list"),
        (lambda m: {**m, "units": {"x": 1}}, "'units' should be an object of strings"),
        (lambda m: {**m, "splits": {}}, "split 'train': no field 'texts'"),
        (lambda m: [m], "should hold a JSON object"),
        (lambda m: {k: v for k, v in m.items() if k != "info"}, "no field 'info'"),
    ],
)
def test_load_names_the_file_and_the_field(entry, edit, message):
    folder, _ = entry
    path = folder / cache.META
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(DataCorruptError, match=message) as err:
        cache.load(folder)
    assert str(path) in str(err.value)


def test_sound_entry_is_served_without_a_warning(entry):
    folder, fresh = entry
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _same(cache.read("synthetic", folder.name), fresh)
