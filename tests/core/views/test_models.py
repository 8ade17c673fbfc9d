"""Tables about stored models: cards, training choices, the Table 1 view."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from core.data import Dataset
from core.neural_lasso.table1 import Row
from core.training.models import architecture_names, build_model
from core.training.penalties import PENALTIES
from core.training.store import list_models, save_model
from core.views import models as models_view
from tests.core.views.tiny import (
    model_card,
    stored_models,
    text_only,
    tiny_dataset,
)


@pytest.fixture
def tiny() -> Dataset:
    return tiny_dataset()


def test_models_table_reads_cards():
    kw = {"n_features": 3, "n_classes": 2}
    torch.manual_seed(0)
    for i, metrics in enumerate([{"auc": 0.8}, {"auc": 0.9, "d_eff": 2.0}]):
        save_model(
            build_model("linear", **kw),
            dataset="tiny",
            architecture="linear",
            arch_kwargs=kw,
            penalty="l1",
            strength=0.1 * (i + 1),
            seed=i,
            metrics=metrics,
            model_id=f"tiny-{i}",
        )
    t = models_view.models_table(list_models("tiny"))
    assert set(t["model_id"]) == {"tiny-0", "tiny-1"}
    assert list(t.columns[:5]) == [
        "model_id",
        "architecture",
        "penalty",
        "strength",
        "seed",
    ]
    assert {"metric: auc", "metric: d_eff", "created", "shipped"} <= set(t.columns)
    assert not t["shipped"].any()
    row = t.set_index("model_id").loc["tiny-0"]
    assert np.isnan(row["metric: d_eff"]) and row["metric: auc"] == 0.8
    assert models_view.models_table([]).empty


def test_trainable_architectures_follow_the_inputs(tiny):
    assert models_view.trainable_architectures(tiny) == ["linear", "mlp"]
    assert models_view.no_training_reason(tiny) is None
    text = text_only(tiny)
    assert models_view.trainable_architectures(text) == []
    assert "sparse-decision-layer" in models_view.no_training_reason(text)

    for name, cnn in [("digits", "cnn_digits"), ("mnist", "cnn6"), ("cifar10", "cnn9")]:
        assert cnn in models_view.trainable_architectures(replace(tiny, name=name))
    assert models_view.trainable_architectures(replace(tiny, name="mnist")) == ["cnn6"]
    everything = {
        a for archs in models_view.IMAGE_ARCHITECTURES.values() for a in archs
    }
    assert everything <= set(architecture_names())


def test_group_lasso_is_offered_only_where_features_have_columns():
    assert set(models_view.PENALTY_NAMES) == set(PENALTIES)
    assert models_view.penalties_for("mlp") == list(models_view.PENALTY_NAMES)
    assert "group_l1" not in models_view.penalties_for("cnn6")


def test_table1_strength_prefers_the_exact_row():
    rows = {
        "a": (Row("L1", "linear", "l1_weights", 1e-3), Row("G", "mlp", "grad_l1", 0.1)),
        "b": (Row("G", "mlp", "grad_l1", 0.01), Row("C", "cnn6", "grad_l1", 0.5)),
    }
    assert models_view.table1_strength(rows, "b", "mlp", "grad_l1")[0] == 0.01
    strength, source = models_view.table1_strength(rows, "c", "cnn6", "grad_l1")
    assert strength == 0.5 and "no Table 1 row for c · cnn6" in source
    assert models_view.table1_strength(rows, "b", "cnn9", "grad_l1")[0] == 0.1
    assert models_view.table1_strength(rows, "a", "mlp", "group_l1")[0] == 0.0
    assert models_view.table1_strength(rows, "a", "mlp", "none") == (
        0.0,
        "no penalty",
    )


def test_table1_view_groups_seeds_and_keeps_common_features():
    rows = (Row("MLP normal", "mlp", "none"), Row("MLP group", "mlp", "group_l1", 1.0))
    cards = [
        model_card("extra", penalty="grad_l1", strength=0.2, metrics={"auc": 0.7}),
        model_card(
            "g0",
            penalty="group_l1",
            strength=1.0,
            metrics={"auc": 0.8, "d_eff": 2.0},
            training={"surviving_features": ["glucose", "sex=F"]},
        ),
        model_card(
            "g1",
            penalty="group_l1",
            strength=1.0,
            seed=1,
            metrics={"auc": 0.9, "d_eff": 4.0},
            training={"surviving_features": ["sex=F", "glucose", "sex=M"]},
        ),
        model_card("plain", metrics={"auc": 0.95, "accuracy": 0.9}),
        model_card(
            "longer", metrics={"auc": 0.97}, training={"config": {"epochs": 50}}
        ),
    ]
    view = models_view.table1_view(stored_models(*cards), rows)
    assert list(view["model"]) == [
        "MLP normal",
        "MLP normal",  # another number of epochs is another configuration
        "MLP group",
        "mlp · grad_l1",
    ]
    assert view["epochs"].iloc[1] == 50 and np.isnan(view["epochs"].iloc[0])
    group = view.set_index("model").loc["MLP group"]
    assert (group["n_models"], group["seeds"]) == (2, "0, 1")
    assert group["auc"] == pytest.approx(0.85)
    assert group["auc_sd"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert group["d_eff"] == pytest.approx(3.0) and np.isnan(group["theta_l1"])
    assert group["n_surviving_features"] == 2.5
    assert group["surviving_features"] == "glucose, sex=F"  # kept by both seeds
    plain = view.iloc[0]
    assert np.isnan(plain["auc_sd"]) and plain["surviving_features"] == ""
    assert models_view.table1_view([]).empty
    assert list(models_view.table1_view([]).columns) == list(view.columns)


def test_surviving_features_on_card_reads_what_training_recorded():
    kept = model_card("g", training={"surviving_features": ["glucose", 3]})
    assert models_view.surviving_features_on_card(kept) == ["glucose", "3"]
    assert models_view.surviving_features_on_card(model_card("plain")) is None
