"""Inspecting input gradients: units, rankings, PCA, weights, smoothness, figures."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from core.data import Dataset, Preprocessing, Split, load_dataset
from core.figures import neural_lasso as nl_figures
from core.neural_lasso import inspection
from core.training.models import build_model

D = 4
NAMES = ("creatinine", "age", "flag", "<b>odd</b>")
SCALE = np.array([0.05, 12.0, 0.5, 300.0])
CENTER = np.array([1.1, 60.0, 0.4, 2000.0])


def _dataset(n: int = 90, seed: int = 0, imputed: bool = True) -> Dataset:
    """A small robust-scaled set with units, one normal range and imputed values."""
    rng = np.random.default_rng(seed)
    raw = CENTER + SCALE * rng.standard_normal((n, D))
    raw[:, 2] = rng.integers(0, 2, n)  # a binary flag
    prep = Preprocessing("robust", CENTER, SCALE)
    X = prep.transform(raw)
    mask = np.zeros((n, D), dtype=bool)
    if imputed:
        mask[::5, 0] = True  # every fifth creatinine was imputed
        X[mask] = 0.0
    y = (raw[:, 0] > CENTER[0]).astype(np.int64)

    def split(idx):
        return Split(
            y=y[idx], ids=idx + 1000, X=X[idx], imputed=mask[idx] if imputed else None
        )

    third = n // 3
    return Dataset(
        name="toy",
        task="binary",
        modality="tabular",
        class_names=("survived", "died"),
        train=split(np.arange(third)),
        val=split(np.arange(third, 2 * third)),
        test=split(np.arange(2 * third, n)),
        feature_names=NAMES,
        feature_groups={f: (i,) for i, f in enumerate(NAMES)},
        units={"creatinine": "mg/dL", "age": "years"},
        normal_ranges={"creatinine": (0.6, 1.2)},
        preprocessing=prep,
    )


def _model(seed: int = 0, n_features: int = D) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("mlp", n_features=n_features, n_classes=2).eval()


# --- gradients in original units -------------------------------------------------


@pytest.mark.parametrize("target", [1, 0, None])
def test_gradients_in_original_units_match_finite_differences(target):
    ds = _dataset()
    model = _model()
    grads = inspection.to_original_units(
        ds, inspection.standardised_gradients(model, ds, "test", target)
    )
    raw = ds.preprocessing.inverse_transform(ds.test.X)
    double = copy.deepcopy(model).double()

    def log_p(x_raw: np.ndarray) -> np.ndarray:
        # Re-standardise the raw values exactly as the loader did, in float64.
        x = torch.as_tensor((x_raw - CENTER) / SCALE)
        with torch.no_grad():
            lp = torch.log_softmax(double(x), dim=1)
        return (lp.sum(dim=1) if target is None else lp[:, target]).numpy()

    for j in range(D):
        h = 1e-4 * SCALE[j]  # a step that is small in the feature's own units
        up, down = raw.copy(), raw.copy()
        up[:, j] += h
        down[:, j] -= h
        fd = (log_p(up) - log_p(down)) / (2 * h)
        np.testing.assert_allclose(grads[:, j], fd, rtol=2e-3, atol=1e-6 / SCALE[j])
    # Per mg/dL the gradient is 1/0.05 = 20 times the per-IQR one.
    std = inspection.standardised_gradients(model, ds, "test", target)
    np.testing.assert_allclose(grads[:, 0], std[:, 0] / 0.05, rtol=1e-6)


def test_gradient_units_and_targets():
    ds = _dataset()
    assert inspection.default_target(ds) == 1
    assert inspection.gradient_unit(ds, "creatinine", 1) == "Δ log p(died) per mg/dL"
    assert inspection.gradient_unit(ds, "flag", None) == "Δ Σₖ log pₖ per unit of flag"
    with pytest.raises(ValueError, match="class index"):
        inspection.target_label(ds, 2)


def test_a_dataset_without_features_is_refused():
    ds = _dataset()
    text = Dataset(
        name="t",
        task="binary",
        modality="text",
        class_names=("a", "b"),
        train=Split(y=ds.train.y, ids=ds.train.ids),
        val=Split(y=ds.val.y, ids=ds.val.ids),
        test=Split(y=ds.test.y, ids=ds.test.ids),
    )
    with pytest.raises(ValueError, match="no feature matrix"):
        inspection.split_inputs(text, "test")


# --- rankings and defaults -------------------------------------------------------


def test_top_features_rank_by_mean_abs_gradient_over_models_and_observed_values():
    ds = _dataset()
    n = len(ds.test)
    a = np.zeros((n, D))
    b = np.zeros((n, D))
    a[:, 1] = 3.0  # age: 3 in one model, 0 in the other → mean 1.5
    b[:, 3] = -2.0  # the odd one: mean |−2|/2 = 1
    a[:, 2] = b[:, 2] = 1.2  # flag: 1.2
    # Creatinine's gradient is huge where it was imputed, small where observed.
    imputed = ds.test.imputed[:, 0]
    a[imputed, 0] = 100.0
    a[~imputed, 0] = 0.1
    ranked = inspection.top_features(ds, "test", [a, b])
    assert ranked == ["age", "flag", "<b>odd</b>", "creatinine"]
    assert inspection.top_features(ds, "test", [a, b], k=2) == ["age", "flag"]
    np.testing.assert_allclose(
        inspection.feature_importance(ds, "test", [a, b]), [0.05, 1.5, 1.2, 1.0]
    )
    with pytest.raises(ValueError, match="shape"):
        inspection.top_features(ds, "test", [a[:, :2]])


def _stored(model_id, penalty, architecture="mlp"):
    card = SimpleNamespace(
        model_id=model_id, penalty=penalty, architecture=architecture
    )
    return SimpleNamespace(card=card)


def test_default_models_prefer_the_papers_three_mlps():
    stored = [
        _stored("mine-grad", "grad_l1"),
        _stored("lin", "none", "linear"),
        _stored("mine-plain", "none"),
        _stored("group", "group_l1"),
        _stored("shipped-plain", "none"),
        _stored("shipped-l1", "l1_weights"),
    ]
    assert inspection.default_models(stored) == [
        "mine-plain",
        "shipped-l1",
        "mine-grad",
    ]
    others = [_stored("lin", "none", "linear"), _stored("group", "group_l1")]
    assert inspection.default_models(others, ["group", "gone"]) == ["group"]
    assert inspection.default_models(others) == ["lin"]
    assert inspection.default_models([]) == []


# --- panels and trends -----------------------------------------------------------


def test_binned_trend_and_lowess():
    x = np.repeat([0.0, 1.0, 2.0], 4)
    y = np.array([1, 2, 3, 4, 5, 5, 5, 5, -1, 0, 1, 2], dtype=float)
    t = inspection.binned_trend(x, y, min_count=1)
    assert list(t["x"]) == [0, 1, 2] and list(t["mean"]) == [2.5, 5, 0.5]
    assert list(t["n"]) == [4, 4, 4] and list(t["q25"]) == [1.75, 5, -0.25]
    sparse = inspection.binned_trend(np.append(x, 9.0), np.append(y, 100.0))
    assert list(sparse["x"]) == [] and inspection.binned_trend(x, y).empty
    padded = inspection.binned_trend(np.append(x, [9.0] * 5), np.append(y, [1.0] * 5))
    assert list(padded["x"]) == [9.0]
    rng = np.random.default_rng(0)
    xs = rng.uniform(-3, 3, 500)
    t = inspection.binned_trend(xs, 2 * xs, bins=10)
    assert len(t) == 10 and np.all(np.diff(t["x"]) > 0)
    # Local linear regression reproduces a straight line exactly.
    fit = inspection.lowess(xs, 1.5 - 2 * xs, frac=0.2)
    np.testing.assert_allclose(fit["fit"], 1.5 - 2 * fit["x"], atol=1e-9)
    assert len(fit) == 50
    with pytest.raises(ValueError, match="frac"):
        inspection.lowess(xs, xs, frac=0)


def _panels(trend="binned", max_points=inspection.MAX_POINTS):
    ds = _dataset()
    grads = {
        name: inspection.to_original_units(
            ds, inspection.standardised_gradients(_model(seed), ds, "test", 1)
        )
        for seed, name in enumerate(["plain", "<i>sparse</i>"])
    }
    return ds, inspection.gradient_panels(
        ds, "test", grads, ["creatinine", "age"], 1, trend=trend, max_points=max_points
    )


def test_gradient_panels_leave_imputed_values_out_and_subsample():
    ds, p = _panels()
    n = len(ds.test)
    imputed = int(ds.test.imputed[:, 0].sum())
    rows = p.features.set_index("feature")
    assert rows.loc["creatinine", "n_imputed"] == imputed
    assert rows.loc["creatinine", "n_shown"] == n - imputed
    assert rows.loc["age", "n_shown"] == n
    assert rows.loc["creatinine", "normal_low"] == 0.6
    assert math.isnan(rows.loc["age", "normal_low"])
    cre = p.points[
        (p.points["feature"] == "creatinine") & (p.points["model"] == "plain")
    ]
    observed_ids = ds.test.ids[~ds.test.imputed[:, 0]]
    assert sorted(cre["id"]) == sorted(observed_ids)
    raw = ds.preprocessing.inverse_transform(ds.test.X)[~ds.test.imputed[:, 0], 0]
    np.testing.assert_allclose(np.sort(cre["value"]), np.sort(raw))
    assert set(p.points["outcome"]) <= {"survived", "died"}
    assert set(p.trend["model"]) == {"plain", "<i>sparse</i>"}
    # Subsampled: the same examples for every model, a fixed seed.
    _, small = _panels(max_points=7)
    pts = small.points[small.points["feature"] == "age"]
    by_model = [list(g["id"]) for _, g in pts.groupby("model")]
    assert len(by_model[0]) == 7 and by_model[0] == by_model[1]
    assert list(_panels(max_points=7)[1].points["id"]) == list(small.points["id"])
    assert small.features["n_shown"].tolist() == [7, 7]


def test_relevant_regions_of_the_synthetic_set():
    ds = load_dataset("synthetic", download=False)
    relevant = ds.info["relevant_features"]
    a, b = relevant["2"]["label_features"]
    feature = ds.feature_names[a]
    assert 2 in inspection.relevant_regions(ds, feature)["label"]
    assert inspection.relevant_regions(ds, "region_3") == {
        "label": [],
        "indicator": [3],
    }
    assert "region 2" in inspection.relevance_note(ds, feature)
    assert inspection.relevance_note(_dataset(), "age") == ""


# --- PCA -------------------------------------------------------------------------


def test_pca_basis_is_fitted_on_train_shared_and_reproducible():
    ds = _dataset(n=120, imputed=False)
    first, again = inspection.pca_basis(ds), inspection.pca_basis(ds)
    np.testing.assert_array_equal(first.components_, again.components_)
    np.testing.assert_allclose(first.mean_, ds.train.X.mean(axis=0), rtol=1e-5)
    coords = inspection.pca_coordinates(first, ds, "test")
    expected = (ds.test.X - first.mean_) @ first.components_.T
    np.testing.assert_allclose(coords, expected, rtol=1e-6, atol=1e-9)
    assert coords.shape == (len(ds.test), 2)
    words = inspection.pca_loadings(first, ds.feature_names)
    assert len(words) == 2 and words[0].startswith("PC 1 (")
    table = inspection.pca_table(ds, "test", coords, {"m": np.arange(len(ds.test))})
    assert list(table.columns) == ["id", "outcome", "class", "pc1", "pc2", "m"]
    assert len(inspection.pca_table(ds, "test", coords, {}, max_points=5)) == 5


# --- weights ---------------------------------------------------------------------


def test_zero_rows_and_columns_are_counted_with_a_relative_tolerance():
    W = np.arange(1.0, 21.0).reshape(4, 5)
    W[:, 2] = 0.0  # a feature column switched off (exactly)
    W[1, :] = 1e-7 * W.max()  # a hidden unit whose weights are merely tiny
    W[0, 0] = 0.0  # a single zero makes neither a zero row nor column
    z = inspection.zero_structure(W)
    assert z.tolerance == pytest.approx(1e-6 * 20)
    assert z.zero_features.tolist() == [2]
    assert z.zero_units.tolist() == [1]
    assert (z.n_features, z.n_units) == (5, 4)
    assert inspection.zero_structure(W, rel_tol=0).zero_units.tolist() == []
    table = inspection.zero_table({"m": z}, list("abcde"))
    assert table.loc[0, "zeroed features"] == "c"
    assert table.loc[0, "zero hidden units"] == 1
    with pytest.raises(ValueError, match="2-d"):
        inspection.zero_structure(np.zeros(3))


def test_first_layer_weights_and_heatmap_rows():
    model = _model()
    W = inspection.first_layer_weights(model)
    assert W.shape == (50, D)
    big = np.ones((3, 10))
    big[:, [1, 7]] = 5.0
    assert inspection.weight_rows([big, big], 2).tolist() == [1, 7]
    assert inspection.weight_rows([big], 20).tolist() == list(range(10))
    with pytest.raises(ValueError, match="fully connected"):
        inspection.first_layer_weights(build_model("cnn_digits"))


# --- smoothness ------------------------------------------------------------------


def test_neighbours_exclude_the_example_itself_even_with_duplicates():
    X = np.array([[0.0], [0.0], [1.0], [3.0], [7.0]])
    nbrs = inspection.neighbours(X, k=2)
    assert nbrs.shape == (5, 2)
    assert all(i not in row for i, row in enumerate(nbrs))
    assert set(nbrs[0]) == {1, 2} and set(nbrs[4]) == {2, 3}
    with pytest.raises(ValueError, match="k must be"):
        inspection.neighbours(X, k=5)


def test_smoothness_is_zero_for_a_constant_field_and_grows_with_noise():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    nbrs = inspection.neighbours(X)
    constant = np.tile([0.5, -2.0, 0.0], (300, 1))
    assert inspection.smoothness(constant, nbrs)[0] == 0.0
    noise = rng.standard_normal(constant.shape)
    values = [inspection.smoothness(constant + s * noise, nbrs) for s in (0.01, 0.1, 1)]
    assert values[0][0] < values[1][0] < values[2][0]
    # A field that varies smoothly with x beats noise of the same size.
    smooth = np.column_stack([X[:, 0], X[:, 1], X[:, 2]])
    rough = rng.permutation(smooth)
    assert (
        inspection.smoothness(smooth, nbrs)[1] < inspection.smoothness(rough, nbrs)[1]
    )
    # The relative number ignores the field's scale.
    s1, r1 = inspection.smoothness(smooth, nbrs)
    s2, r2 = inspection.smoothness(10 * smooth, nbrs, chunk=7)
    assert s2 == pytest.approx(10 * s1) and r2 == pytest.approx(r1)
    assert math.isnan(inspection.smoothness(np.zeros((300, 3)), nbrs)[1])
    table = inspection.smoothness_table({"a": smooth, "b": rough}, nbrs)
    assert list(table["model"]) == ["a", "b"]
    assert table.loc[0, "relative"] == pytest.approx(r1)


# --- figures ---------------------------------------------------------------------


def _traces(fig: go.Figure, kind: str) -> list:
    return [t for t in fig.data if t.type == kind]


def test_gradient_panels_figure_shares_axes_and_shades_normal_ranges():
    ds, p = _panels()
    fig = nl_figures.gradient_panels_figure(p)
    # 2 features × 2 models × 2 classes WebGL scatters, plus band and mean lines.
    assert len(_traces(fig, "scattergl")) == 8
    assert len(_traces(fig, "scatter")) == 8
    layout = fig.layout
    assert layout.xaxis2.matches == "x" and layout.yaxis2.matches == "y"
    assert layout.xaxis4.matches == "x3" and layout.yaxis4.matches == "y3"
    rects = [s for s in layout.shapes if s.type == "rect"]
    assert len(rects) == 2  # creatinine's row only, one per model
    assert {(r.x0, r.x1) for r in rects} == {(0.6, 1.2)}
    assert {r.xref for r in rects} == {"x", "x2"}
    text = fig.to_json()
    assert "<i>sparse" not in text and "&lt;i&gt;sparse" in text
    assert "per mg/dL" in layout.yaxis.title.text
    assert "imputed left out" in layout.xaxis.title.text
    free = nl_figures.gradient_panels_figure(p, share_y=False)
    assert free.layout.xaxis2.matches == "x" and free.layout.yaxis2.matches is None


def test_gradient_panels_figure_marks_relevant_features_and_lowess():
    _, p = _panels(trend="lowess")
    lines = _traces(nl_figures.gradient_panels_figure(p), "scatter")
    assert len(lines) == 4 and {t.name for t in lines} == {"LOWESS"}
    _, p = _panels(trend="none")
    assert not _traces(nl_figures.gradient_panels_figure(p), "scatter")
    marked = p.features.assign(relevance=["the label of region 1 depends on it", ""])
    fig = nl_figures.gradient_panels_figure(
        inspection.GradientPanels(**{**p.__dict__, "features": marked})
    )
    titles = [a.text for a in fig.layout.annotations]
    assert "★" in titles[0] and "★" not in titles[2]


def test_pca_figures_use_symmetric_diverging_colours_and_class_symbols():
    ds = _dataset(n=120, imputed=False)
    coords = inspection.pca_coordinates(inspection.pca_basis(ds), ds, "test")
    n = len(ds.test)
    g = np.linspace(-1, 3, n)
    table = inspection.pca_table(ds, "test", coords, {"age": g, "flag": -g})
    units = {"age": "Δ per years", "flag": "Δ per unit"}
    fig = nl_figures.pca_gradient_figure(table, ["age", "flag"], units, title="t")
    traces = _traces(fig, "scattergl")
    assert len(traces) == 2
    for t in traces:
        assert t.marker.cmid == 0 and t.marker.cmin == -t.marker.cmax > -np.inf
        assert t.marker.colorscale[0][1] != t.marker.colorscale[-1][1]
    assert traces[0].marker.showscale and not traces[1].marker.showscale
    assert fig.layout.xaxis2.matches == "x"
    lo, hi = fig.layout.xaxis.range  # every example in view...
    assert lo < table["pc1"].min() and hi > table["pc1"].max()
    far = table.assign(pc1=table["pc1"].where(table.index > 0, 1e3))
    fig = nl_figures.pca_gradient_figure(far, ["age"], units, title="t")
    assert fig.layout.xaxis.range[1] < 1e3  # ...unless a few lie far out

    probs = pd.DataFrame({"a": np.linspace(0, 1, n), "b": np.full(n, 0.5)})
    table = inspection.pca_table(ds, "test", coords, dict(probs))
    fig = nl_figures.pca_probability_figure(
        table, ["a", "b"], ds.class_names, title="p", colorbar_title="p(died)"
    )
    traces = _traces(fig, "scattergl")
    assert len(traces) == 4
    assert {t.marker.symbol for t in traces} == {"circle", "x"}
    assert {t.marker.coloraxis for t in traces} == {"coloraxis"}
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)


def test_weights_heatmap_figure():
    W = {
        "plain": np.random.default_rng(0).normal(size=(3, D)),
        "sparse": np.zeros((3, D)),
    }
    W["sparse"][:, 1] = 2.0
    rows = inspection.weight_rows(list(W.values()), D)
    table = inspection.weights_table(W, NAMES, rows)
    assert list(table.columns) == ["model", "feature", "unit 0", "unit 1", "unit 2"]
    assert len(table) == 2 * D
    zeros = {k: inspection.zero_structure(v) for k, v in W.items()}
    fig = nl_figures.weights_heatmap_figure(table, title="W", zeros=zeros)
    heat = _traces(fig, "heatmap")
    assert len(heat) == 2 and np.shape(heat[0].z) == (D, 3)
    assert fig.layout.yaxis2.matches == "y"
    assert fig.layout.coloraxis.cmid == 0
    assert fig.layout.coloraxis.cmin == -fig.layout.coloraxis.cmax
    titles = [a.text for a in fig.layout.annotations]
    assert "0/4 feature columns" in titles[0] and "3/4 feature columns" in titles[1]
    assert "&lt;b&gt;odd" in "".join(heat[0].y)
