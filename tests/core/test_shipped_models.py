"""Every model shipped in assets/models loads, matches its card and its dataset."""

from __future__ import annotations

import pytest

from core.data import dataset_names, load_dataset
from core.metrics import evaluate
from core.paths import ASSETS_DIR
from core.store import load_model
from core.train import model_inputs

SHIPPED = sorted(p for p in (ASSETS_DIR / "models").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_model_loads_and_reproduces_its_card(folder):
    model, card = load_model(folder)  # checks the SHA-256 of the weights
    assert card.model_id == folder.name
    assert card.dataset in dataset_names()
    ds = load_dataset(card.dataset)
    metrics = evaluate(model, model_inputs(ds.test), ds.test.y)
    assert metrics["auc"] == pytest.approx(card.metrics["auc"], abs=1e-6)
    assert metrics["d_eff"] == pytest.approx(card.metrics["d_eff"], rel=1e-4)
