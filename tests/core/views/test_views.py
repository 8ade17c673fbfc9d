"""Dataset summaries and figures: shapes, original units, ranges, escaping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from core.data import Dataset, Split, load_dataset
from core.data.builtin.synthetic import make_synthetic
from core.data.featurize import fit_scaler
from core.figures import data as data_figures
from core.training.models import build_model
from core.training.store import list_models, save_model
from core.views import data as data_view
from core.views import models as models_view

SCRIPT = "<script>alert(1)</script>"
LOW, HIGH = 70.0, 100.0


def _tiny(
    n: int = 60, seed: int = 0, images_rgb: bool = False, class_names=None
) -> Dataset:
    """A small tabular + text + image dataset with a unit, a normal range and
    a one-hot group; split sizes 30 / 12 / 18."""
    rng = np.random.default_rng(seed)
    glucose = rng.normal(90.0, 20.0, n)
    female = (rng.random(n) < 0.4).astype(float)
    raw = np.column_stack([glucose, female, 1.0 - female])
    y = (glucose > 95).astype(np.int64)
    tr, va, te = np.arange(30), np.arange(30, 42), np.arange(42, n)
    prep = fit_scaler(raw[tr], "zscore", "z-scored on train")
    X = prep.transform(raw)
    texts = tuple(SCRIPT if i == 0 else f"note {i} *not markdown*" for i in range(n))
    shape = (n, 4, 5, 3) if images_rgb else (n, 4, 5)
    images = rng.integers(0, 256, shape, dtype=np.uint8)

    def split(idx):
        return Split(
            y=y[idx],
            ids=idx.astype(np.int64),
            X=X[idx],
            texts=tuple(texts[i] for i in idx),
            images=images[idx],
        )

    return Dataset(
        name="tiny",
        task="binary",
        modality="tabular",
        class_names=class_names or ("normal", "high"),
        train=split(tr),
        val=split(va),
        test=split(te),
        feature_names=("glucose", "sex=F", "sex=M"),
        feature_groups={"glucose": (0,), "sex": (1, 2)},
        units={"glucose": "mg/dL"},
        normal_ranges={"glucose": (LOW, HIGH)},
        preprocessing=prep,
        info={"raw": raw, "tr": tr},  # for the tests, not JSON
    )


@pytest.fixture
def tiny() -> Dataset:
    return _tiny()


def _text_only(ds: Dataset) -> Dataset:
    from dataclasses import replace

    def strip(s: Split) -> Split:
        return replace(s, X=None, images=None)

    return replace(
        ds,
        modality="text",
        train=strip(ds.train),
        val=strip(ds.val),
        test=strip(ds.test),
        feature_names=(),
        feature_groups={},
        preprocessing=None,
    )


def test_split_sizes_counts_and_prevalence(tiny):
    t = data_view.split_sizes(tiny)
    assert list(t["split"]) == ["train", "val", "test", "total"]
    assert list(t["n"]) == [30, 12, 18, 60]
    for name, s in tiny.splits.items():
        row = t.set_index("split").loc[name]
        assert row["n normal"] == (s.y == 0).sum() and row["n high"] == (s.y == 1).sum()
    prev = t[["prevalence normal", "prevalence high"]].to_numpy()
    np.testing.assert_allclose(prev.sum(axis=1), 1.0)
    assert ((prev >= 0) & (prev <= 1)).all()


def test_feature_table_is_in_original_units(tiny):
    t = data_view.feature_table(tiny)
    assert t.shape == (3, len(data_view.FEATURE_COLUMNS))
    assert list(t.columns) == list(data_view.FEATURE_COLUMNS)
    raw_train = tiny.info["raw"][tiny.info["tr"]]
    np.testing.assert_allclose(t["mean"], raw_train.mean(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(t["std"], raw_train.std(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(t["min"], raw_train.min(axis=0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(t["max"], raw_train.max(axis=0), rtol=1e-5, atol=1e-5)
    assert list(t["group"]) == ["glucose", "sex", "sex"]
    assert list(t["unit"]) == ["mg/dL", "", ""]


def test_share_outside_normal_range(tiny):
    t = data_view.feature_table(tiny).set_index("feature")
    g = tiny.info["raw"][tiny.info["tr"], 0]
    expected = ((g < LOW) | (g > HIGH)).mean()
    share = t.loc["glucose", "share_outside_normal"]
    assert 0.0 < share < 1.0
    assert share == pytest.approx(expected)
    assert (t.loc["glucose", "normal_low"], t.loc["glucose", "normal_high"]) == (
        LOW,
        HIGH,
    )
    assert t.loc[["sex=F", "sex=M"], "share_outside_normal"].isna().all()


def test_feature_table_ignores_non_finite_values(tiny):
    from dataclasses import replace

    X = tiny.train.X.copy()
    X[:5, 0] = np.nan
    ds = replace(tiny, train=replace(tiny.train, X=X))
    t = data_view.feature_table(ds).set_index("feature")
    assert np.isfinite(t.loc["glucose", ["mean", "std", "min", "max"]]).all()
    assert 0.0 <= t.loc["glucose", "share_outside_normal"] <= 1.0


def test_synthetic_feature_table_round_trips_to_raw_units():
    ds = load_dataset("synthetic")
    X_raw, *_ = make_synthetic(ds.info["n_per_region"], ds.info["seed"])
    raw_train = X_raw[ds.train.ids]
    t = data_view.feature_table(ds)
    np.testing.assert_allclose(t["mean"], raw_train.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(t["max"], raw_train.max(axis=0), rtol=1e-5)


def test_no_feature_matrix_is_explained(tiny):
    text = _text_only(tiny)
    reason = data_view.no_features_reason(text)
    assert "encoder" in reason
    with pytest.raises(ValueError, match="encoder"):
        data_view.feature_table(text)
    assert data_view.no_features_reason(tiny) is None
    from dataclasses import replace

    image = replace(text, modality="image")
    assert "not materialised" in data_view.no_features_reason(image)


def test_filter_features_is_literal_and_case_insensitive(tiny):
    t = data_view.feature_table(tiny)
    assert list(data_view.filter_features(t, "SEX")["feature"]) == ["sex=F", "sex=M"]
    assert list(data_view.filter_features(t, "mg/dl")["feature"]) == ["glucose"]
    assert data_view.filter_features(t, "(").empty  # not a regular expression
    assert len(data_view.filter_features(t, "  ")) == 3


def test_feature_groups_and_default_features(tiny):
    groups = data_view.feature_groups_table(tiny)
    assert groups.to_dict("records") == [
        {"group": "sex", "n_columns": 2, "columns": "sex=F, sex=M"}
    ]
    assert data_view.default_features(tiny, k=2) == ["glucose", "sex=F"]
    assert data_view.default_features(tiny, k=0) == []
    from dataclasses import replace

    X = tiny.train.X.copy()
    X[:, 2] = 0.0  # a constant column is not worth a plot
    flat = replace(tiny, train=replace(tiny.train, X=X))
    assert data_view.default_features(flat, k=3) == ["glucose", "sex=F"]


def test_sample_texts_are_seeded_and_verbatim(tiny):
    a = data_view.sample_texts(tiny, "train", n=8, seed=1)
    b = data_view.sample_texts(tiny, "train", n=8, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == ["id", "label", "text"]
    assert len(a) == 8 and a["id"].is_unique
    assert set(a["label"]) <= set(tiny.class_names)
    everything = data_view.sample_texts(tiny, "train", n=1000, seed=0)
    assert len(everything) == len(tiny.train)
    assert SCRIPT in set(everything["text"])  # unchanged: escaping is the renderer's
    with pytest.raises(ValueError, match="split must be one of"):
        data_view.sample_texts(tiny, "dev")


def test_sample_texts_needs_texts():
    ds = load_dataset("synthetic")
    with pytest.raises(ValueError, match="holds no texts"):
        data_view.sample_texts(ds)


def test_class_balance_figure(tiny):
    fig = data_figures.class_balance_figure(tiny)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    assert list(fig.data[0].x) == ["train", "val", "test"]
    total = sum(np.sum(t.y) for t in fig.data)
    assert total == 60


def test_distribution_figure_shades_the_normal_range(tiny):
    fig = data_figures.feature_distribution_figure(tiny, "glucose")
    assert len(fig.data) == tiny.n_classes
    for trace in fig.data:
        assert np.sum(trace.y) == pytest.approx(1.0)  # share of its class
    (rect,) = fig.layout.shapes
    assert (rect.type, rect.x0, rect.x1) == ("rect", LOW, HIGH)
    assert any("normal range" in a.text for a in fig.layout.annotations)
    assert "mg/dL" in fig.layout.xaxis.title.text


def test_distribution_figure_without_range_or_with_bad_name(tiny):
    fig = data_figures.feature_distribution_figure(tiny, "sex=F", split="test")
    assert not fig.layout.shapes
    assert len(fig.data[0].x) == 2  # a binary column gets one bar per value
    with pytest.raises(ValueError, match="Did you mean glucose"):
        data_figures.feature_distribution_figure(tiny, "glucos")


@pytest.mark.parametrize("rgb", [False, True])
def test_image_grid_figure(rgb):
    ds = _tiny(images_rgb=rgb)
    fig = data_figures.image_grid_figure(ds, "val", n=5, seed=0, cols=3)
    assert [t.type for t in fig.data] == ["image"] * 5
    assert np.asarray(fig.data[0].z).shape == (4, 5, 3)
    titles = [a.text for a in fig.layout.annotations]
    assert len(titles) == 5 and set(titles) <= set(ds.class_names)


def test_image_grid_needs_images(tiny):
    with pytest.raises(ValueError, match="holds no images"):
        data_figures.image_grid_figure(_text_only(tiny))


def test_text_from_data_is_escaped_in_figures():
    ds = _tiny(class_names=(SCRIPT, "<b>bold</b>"))
    for fig in (
        data_figures.class_balance_figure(ds),
        data_figures.feature_distribution_figure(ds, "glucose"),
        data_figures.image_grid_figure(ds, n=8),
    ):
        texts = [t.name for t in fig.data] + [a.text for a in fig.layout.annotations]
        texts = [t for t in texts if t]
        assert not any("<" in t for t in texts), texts
        assert any("&lt;script&gt;" in t for t in texts)
    assert data_figures.label(SCRIPT) == "&lt;script&gt;alert(1)&lt;/script&gt;"


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


def test_imputed_values_are_left_out_of_statistics_and_plots():
    ds = _tiny()
    raw, tr = ds.info["raw"], ds.info["tr"]
    imputed = np.zeros((len(tr), 3), dtype=bool)
    imputed[:10, 0] = True  # pretend the first ten glucose values were imputed
    train = Split(y=ds.train.y, ids=ds.train.ids, X=ds.train.X, imputed=imputed)
    ds = Dataset(**{**ds.__dict__, "train": train})
    t = data_view.feature_table(ds).set_index("feature")
    assert t.loc["glucose", "mean"] == pytest.approx(raw[tr][10:, 0].mean())
    assert t.loc["glucose", "share_missing"] == pytest.approx(10 / len(tr))
    assert t.loc["sex=F", "share_missing"] == 0
    fig = data_figures.feature_distribution_figure(ds, "glucose")
    assert sum(int(tr_.name.split("n=")[1].rstrip(")")) for tr_ in fig.data) == 20
    assert "10 missing values left out" in fig.layout.title.text


def _card(model_id: str, **fields):
    from core.training.store import ModelCard

    return ModelCard(
        model_id=model_id,
        dataset="tiny",
        architecture=fields.pop("architecture", "mlp"),
        arch_kwargs={"n_features": 3, "n_classes": 2},
        **fields,
    )


def _stored(*cards):
    from pathlib import Path

    from core.training.store import StoredModel

    return [StoredModel(c, Path(c.model_id), shipped=False) for c in cards]


def test_trainable_architectures_follow_the_inputs(tiny):
    assert models_view.trainable_architectures(tiny) == ["linear", "mlp"]
    assert models_view.no_training_reason(tiny) is None
    text = _text_only(tiny)
    assert models_view.trainable_architectures(text) == []
    assert "sparse-decision-layer" in models_view.no_training_reason(text)
    from dataclasses import replace

    for name, cnn in [("digits", "cnn_digits"), ("mnist", "cnn6"), ("cifar10", "cnn9")]:
        assert cnn in models_view.trainable_architectures(replace(tiny, name=name))
    assert models_view.trainable_architectures(replace(tiny, name="mnist")) == ["cnn6"]
    from core.training.models import architecture_names

    everything = {
        a for archs in models_view.IMAGE_ARCHITECTURES.values() for a in archs
    }
    assert everything <= set(architecture_names())


def test_group_lasso_is_offered_only_where_features_have_columns():
    from core.training.penalties import PENALTIES

    assert set(models_view.PENALTY_NAMES) == set(PENALTIES)
    assert models_view.penalties_for("mlp") == list(models_view.PENALTY_NAMES)
    assert "group_l1" not in models_view.penalties_for("cnn6")
    assert set(models_view.STRENGTH_MEANING) == set(models_view.PENALTY_NAMES) - {
        "none"
    }


def test_table1_strength_prefers_the_exact_row():
    from core.neural_lasso.table1 import Row

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
    from core.neural_lasso.table1 import Row

    rows = (Row("MLP normal", "mlp", "none"), Row("MLP group", "mlp", "group_l1", 1.0))
    cards = [
        _card("extra", penalty="grad_l1", strength=0.2, metrics={"auc": 0.7}),
        _card(
            "g0",
            penalty="group_l1",
            strength=1.0,
            metrics={"auc": 0.8, "d_eff": 2.0},
            training={"surviving_features": ["glucose", "sex=F"]},
        ),
        _card(
            "g1",
            penalty="group_l1",
            strength=1.0,
            seed=1,
            metrics={"auc": 0.9, "d_eff": 4.0},
            training={"surviving_features": ["sex=F", "glucose", "sex=M"]},
        ),
        _card("plain", metrics={"auc": 0.95, "accuracy": 0.9}),
        _card("longer", metrics={"auc": 0.97}, training={"config": {"epochs": 50}}),
    ]
    view = models_view.table1_view(_stored(*cards), rows)
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


def test_model_comparison_figure():
    cards = [
        _card("a", metrics={"auc": 0.9, "theta_l1": 10.0, "d_eff": 3.0}),
        _card(SCRIPT, metrics={"auc": 0.8}),
    ]
    fig = data_figures.model_comparison_figure(cards)
    assert [t.type for t in fig.data] == ["bar"] * len(data_figures.COMPARED_METRICS)
    auc, theta, _ = fig.data
    assert list(auc.x) == [0.9, 0.8] and list(auc.y)[0] == "a"
    assert list(theta.text) == ["10", "n/a"]
    assert list(auc.marker.color) == list(theta.marker.color)  # a colour per model
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["AUC", "‖θ‖₁", "D_eff"]
    assert not any("<" in y for y in auc.y)  # model IDs are escaped
    with pytest.raises(ValueError, match="at least one model"):
        data_figures.model_comparison_figure([])
