"""Test-wide settings: real data from ../shared/data, caches inside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# Loaders read the offline mirror unless the caller chose a data home; parsed
# datasets are cached in the repo so a second run is fast.
os.environ.setdefault("SPARSELENS_DATA", str(SHARED_DATA))
os.environ.setdefault("SPARSELENS_CACHE", str(ROOT / ".cache" / "parsed"))


@pytest.fixture(autouse=True)
def _isolated_model_store(tmp_path_factory, monkeypatch):
    """Every test gets an empty user model store, no shipped models, no shipped
    sparse layers, no shipped word clouds and no shipped feature views, of its
    own, and an empty store of fine-tuned encoders.

    Tests of the shipped models read ``assets/models`` explicitly. The shipped
    encoders stay visible: only a layer on their features reads them, and the
    shipped layers are hidden unless a test opts in.
    """
    import core.sparse_layers.debugging.lime_clouds
    import core.sparse_layers.feature_views.views
    import core.sparse_layers.sparse_layer
    import core.training.store

    monkeypatch.setenv("SPARSELENS_MODELS", str(tmp_path_factory.mktemp("models")))
    monkeypatch.setattr(
        core.training.store, "SHIPPED_DIR", tmp_path_factory.mktemp("shipped")
    )
    monkeypatch.setenv("SPARSELENS_LAYERS", str(tmp_path_factory.mktemp("layers")))
    monkeypatch.setattr(
        core.sparse_layers.sparse_layer,
        "SHIPPED_DIR",
        tmp_path_factory.mktemp("shipped_layers"),
    )
    monkeypatch.setattr(
        core.sparse_layers.debugging.lime_clouds,
        "SHIPPED_DIR",
        tmp_path_factory.mktemp("shipped_clouds"),
    )
    monkeypatch.setattr(
        core.sparse_layers.feature_views.views,
        "SHIPPED_DIR",
        tmp_path_factory.mktemp("shipped_views"),
    )
    monkeypatch.setenv("SPARSELENS_ENCODERS", str(tmp_path_factory.mktemp("encoders")))


@pytest.fixture(autouse=True)
def _isolated_user_data(tmp_path_factory, monkeypatch):
    """Every test gets an empty folder of registered user datasets of its own."""
    monkeypatch.setenv("SPARSELENS_USER_DATA", str(tmp_path_factory.mktemp("user")))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"The offline data mirror {SHARED_DATA} is missing")
    return SHARED_DATA
