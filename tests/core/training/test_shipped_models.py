"""Every model shipped in assets/models loads, matches its card and its dataset."""

from __future__ import annotations

import json

import pytest

from core.data import dataset_names, load_dataset
from core.neural_lasso.table1 import ROWS
from core.paths import ASSETS_DIR
from core.training.metrics import evaluate
from core.training.store import load_model
from core.training.train import model_inputs

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


def _table1_strength(folder):
    """The strength of the Table 1 row a shipped model stands for, or None."""
    card = json.loads((folder / "card.json").read_text())
    for row in ROWS.get(card["dataset"], ()):
        if (row.architecture, row.penalty) == (card["architecture"], card["penalty"]):
            return row.strength
    return None


TABLE1_SHIPPED = [
    (folder, strength)
    for folder in SHIPPED
    if (strength := _table1_strength(folder)) is not None
]


TABLE1_DOC = ASSETS_DIR.parent / "docs" / "table1.md"


def _chosen_in_doc() -> dict[str, dict[tuple[str, str], float]]:
    """The strengths docs/table1.md's validation tables mark as chosen (✓), per
    dataset and (model, penalty): the rows ``table1-select`` printed."""
    chosen: dict[str, dict[tuple[str, str], float]] = {}
    for line in TABLE1_DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[-1] == "✓":
            dataset, model, penalty, strength = cells[:4]
            chosen.setdefault(dataset, {})[(model, penalty)] = float(strength)
    return chosen


def test_table1_rows_are_the_strengths_chosen_on_validation():
    """ROWS hold what the selection on validation metrics chose, as the tables
    in docs/table1.md show it, for every dataset selected there."""
    chosen = _chosen_in_doc()
    assert len(chosen) >= 7  # the six tabular datasets and digits
    for dataset, picks in chosen.items():
        rows = {(r.label, r.penalty): r.strength for r in ROWS[dataset]}
        assert picks == pytest.approx(rows), dataset


def test_every_tabular_dataset_ships_its_table1_models():
    assert len(TABLE1_SHIPPED) >= 24  # 6 tabular datasets × 4 MLPs


@pytest.mark.parametrize(
    "folder, strength", TABLE1_SHIPPED, ids=[f.name for f, _ in TABLE1_SHIPPED]
)
def test_shipped_model_is_trained_like_its_table1_row(folder, strength):
    """The default models the pages offer are the models Table 1 reports."""
    _, card = load_model(folder)
    assert card.strength == pytest.approx(strength)
    assert card.seed == 0
    if card.penalty == "group_l1":
        assert card.training["penalties"][0]["groups"] == "dataset"
