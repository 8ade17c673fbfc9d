"""Plotly figures of input gradients, PCA maps and first-layer weights.

Drawn from what :mod:`core.neural_lasso` computes (panels, PCA maps, weights);
no Streamlit here. Scatter plots use WebGL (``go.Scattergl``) and put many
panels into one figure, since a browser page holds only a handful of WebGL
contexts. Text that came from data (feature, class and model names, units)
passes through :func:`core.figures.style.label`.

Colours: outcomes use the qualitative palette; gradients a diverging scale
centred at zero with a symmetric range (red: the explained log-probability
rises with the feature, blue: it falls).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from core.figures.style import NORMAL_RANGE_COLOR, label
from core.neural_lasso.panels import GradientPanels
from core.neural_lasso.weights import ZeroStructure

#: Diverging scale for gradients and probabilities: blue low, white 0, red high.
DIVERGING = "RdBu_r"
_SHAPES = (
    "circle",
    "x",
    "diamond",
    "square",
    "triangle-up",
    "cross",
    "triangle-down",
    "star",
    # Hexagons and pentagons read as circles at marker size: not used.
    "hourglass",
    "triangle-right",
    "star-diamond",
    "triangle-left",
)
#: Marker symbols for true classes (gradient panels, PCA probability view): a
#: shape of its own for each of 24 classes, so 10-class data (digits, MNIST)
#: reads in grey and without colour vision; the open outlines follow the
#: filled shapes. Beyond 24 shapes repeat and the legend says so.
CLASS_SYMBOLS = _SHAPES + tuple(f"{s}-open" for s in _SHAPES)
OUTCOME_COLORS = qualitative.Plotly
#: Heatmap rows beyond which feature names are left to the hover text.
MAX_LABELLED_ROWS = 150


def _class_symbol(k: int) -> str:
    return CLASS_SYMBOLS[k % len(CLASS_SYMBOLS)]


def _class_legend_title(n_classes: int) -> dict:
    """A legend title that warns when classes share marker shapes, else none."""
    if n_classes <= len(CLASS_SYMBOLS):
        return {"text": ""}
    return {
        "text": f"shapes repeat after {len(CLASS_SYMBOLS)} classes "
        "(hover names each point's class):"
    }


def _spacing(rows: int, height: float, gap_px: float) -> float:
    return min(gap_px / height, 1 / max(rows - 1, 1) * 0.9) if rows > 1 else 0.0


def _symmetric(values: np.ndarray) -> float:
    """A colour range ±m around zero: the 99th percentile of |v| (1 if all zero)."""
    v = np.abs(np.asarray(values, dtype=np.float64))
    v = v[np.isfinite(v)]
    m = float(np.percentile(v, 99)) if v.size else 0.0
    if m <= 0:
        m = float(v.max()) if v.size else 0.0
    return m if m > 0 else 1.0


#: PCA maps frame this central share of the examples on each axis.
PCA_FRAME = 0.95


def _central_range(values: np.ndarray, share: float = PCA_FRAME) -> list[float]:
    """An axis range for ``values``, padded by 5 %.

    All of them, unless a few lie far out (the full span is more than twice
    that of the central ``share``): then only the central ``share``.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [-1.0, 1.0]
    lo, hi = np.quantile(v, [(1 - share) / 2, (1 + share) / 2])
    if v.max() - v.min() <= 2 * (hi - lo):
        lo, hi = v.min(), v.max()
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    return [float(lo - pad), float(hi + pad)]


def _shown_note(row: Mapping) -> str:
    parts = []
    if row["n_shown"] < row["n_observed"]:
        parts.append(f"{row['n_shown']:,} of {row['n_observed']:,} shown (random)")
    if row["n_imputed"]:
        parts.append(f"{row['n_imputed']:,} imputed left out")
    return " · ".join(parts)


def gradient_panels_figure(
    panels: GradientPanels, *, share_y: bool = True
) -> go.Figure:
    """Feature value against its input gradient: features as rows, models as columns.

    Parameters
    ----------
    panels : GradientPanels
        From :func:`core.neural_lasso.panels.gradient_panels`.
    share_y : bool
        Share the gradient axis within a row (the default, so models compare
        at a glance); False gives each panel its own y range, to see the shape
        of a model whose gradients are much smaller.

    Returns
    -------
    Figure
        Per panel, one ``go.Scattergl`` trace per true class (legend group by
        class, marker symbol by class: :data:`CLASS_SYMBOLS`), then the trend (band and mean, ``go.Scatter``). Axes are shared
        within each row (``matches``): one feature, same x (and unless
        ``share_y`` is False, y) range for every model. A feature's normal
        range is a ``rect`` shape spanning each of its panels' height (what
        ``add_vrect`` draws); the synthetic set's relevant features carry a ★
        in their titles.
    """
    feats = panels.features.to_dict("records")
    models = list(panels.models)
    n_rows, n_cols = max(len(feats), 1), max(len(models), 1)
    height = 300 * n_rows + 140
    titles = [
        f"<b>{label(f['feature'])}</b>{' ★' if f['relevance'] else ''}"
        f"<br><span style='font-size:10px'>{label(m)}</span>"
        for f in feats
        for m in models
    ]
    grid = make_subplots(
        rows=n_rows,
        cols=n_cols,
        shared_xaxes="rows",
        shared_yaxes="rows" if share_y else False,
        subplot_titles=titles or None,
        horizontal_spacing=0.03 if share_y else 0.05,
        vertical_spacing=_spacing(n_rows, height, 105),
    )
    # Traces, axis titles and shapes are collected as plain dicts and
    # validated once: plotly's per-subplot helpers (add_trace(row=...),
    # add_vrect(col="all")) search the whole grid on every call, seconds for
    # a 12 × 3 grid.
    traces, axes, shapes = _panel_contents(panels, feats, models)
    layout = grid.to_plotly_json()["layout"]
    for name, update in axes.items():
        layout.setdefault(name, {}).update(update)
        if name.startswith("yaxis"):
            layout[name].update(zeroline=True, zerolinecolor="grey", zerolinewidth=1)
    for a in layout.get("annotations", []):
        a["font"] = {"size": 12}
    layout.update(
        shapes=shapes,
        title={
            "text": f"Input gradients of {label(panels.target)} in original units "
            f"({panels.split} split)",
            "yref": "container",
            "y": 1 - 12 / height,
            "yanchor": "top",
        },
        height=height,
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 1 - 48 / height,
            "yanchor": "top",
            "x": 0,
            "title": _class_legend_title(len(panels.class_names)),
        },
        margin={"l": 10, "r": 10, "t": 130, "b": 40},
    )
    return go.Figure({"data": traces, "layout": layout})


def _axis_names(i: int) -> tuple[str, str]:
    """The layout keys of subplot ``i``'s axes (1-based): ``xaxis``, ``xaxis2`` ..."""
    suffix = str(i) if i > 1 else ""
    return f"xaxis{suffix}", f"yaxis{suffix}"


def _panel_contents(
    panels: GradientPanels, feats: list[dict], models: list[str]
) -> tuple[list[dict], dict[str, dict], list[dict]]:
    """Every panel's traces, axis settings and normal-range shapes, as plain dicts.

    Returns
    -------
    traces : list of dict
        Per panel in row-major order: the class scatters, then the trend.
    axes : dict of str to dict
        Layout updates per axis (``xaxis``, ``yaxis2`` ...).
    shapes : list of dict
    """
    n_cols = max(len(models), 1)
    pts = panels.points
    groups = dict(tuple(pts.groupby(["feature", "model"], sort=False)))
    trend = dict(tuple(panels.trend.groupby(["feature", "model"], sort=False)))
    has_region = "region" in pts.columns
    traces, axes, shapes = [], {}, []
    for r, f in enumerate(feats, start=1):
        unit = label(f["unit"])
        for c, model in enumerate(models, start=1):
            i = (r - 1) * n_cols + c
            x, y = ("x", "y") if i == 1 else (f"x{i}", f"y{i}")
            cell = groups.get((f["feature"], model), pts.iloc[:0])
            first = r == 1 and c == 1
            new = [
                _class_trace(cell, k, cls, f["feature"], unit, has_region, first)
                for k, cls in enumerate(panels.class_names)
            ]
            t = trend.get((f["feature"], model))
            if t is not None:
                new += _trend_traces(t, panels.trend_method, first)
            for trace in new:
                trace.update(xaxis=x, yaxis=y)
            traces += new
            x_axis, y_axis = _axis_names(i)
            axes[x_axis] = {
                "title": {"text": label(f["feature"]), "font": {"size": 11}}
            }
            axes[y_axis] = {"exponentformat": "e"}
            if not math.isnan(f["normal_low"]):
                shapes.append(_normal_range_shape(f, x, y))
        x_axis, y_axis = _axis_names((r - 1) * n_cols + 1)
        note = _shown_note(f)
        axes[x_axis]["title"]["text"] += (f" ({unit})" if unit else "") + (
            f" · {note}" if note else ""
        )
        axes[y_axis]["title"] = {
            "text": label(f["gradient_unit"]),
            "font": {"size": 11},
        }
    return traces, axes, shapes


def _normal_range_shape(feature: Mapping, x: str, y: str) -> dict:
    """A band over the full height of one panel, from the feature's normal range."""
    return {
        "type": "rect",
        "xref": x,
        "yref": f"{y} domain",
        "x0": feature["normal_low"],
        "x1": feature["normal_high"],
        "y0": 0,
        "y1": 1,
        "fillcolor": NORMAL_RANGE_COLOR,
        "opacity": 0.15,
        "line": {"width": 0},
        "layer": "below",
    }


def _class_trace(
    cell: pd.DataFrame,
    k: int,
    cls: str,
    feature: str,
    unit: str,
    has_region: bool,
    first: bool,
) -> dict:
    part = cell[cell["outcome"] == cls]
    extra = ["region"] if has_region else []
    return dict(
        type="scattergl",
        x=part["value"].to_numpy(),
        y=part["gradient"].to_numpy(),
        mode="markers",
        name=f"true: {label(cls)}",
        legendgroup=f"class{k}",
        showlegend=first,
        marker={
            "size": 4,
            "opacity": 0.55,
            "color": OUTCOME_COLORS[k % len(OUTCOME_COLORS)],
            "symbol": _class_symbol(k),
        },
        customdata=part[["id", *extra]].to_numpy(dtype=object),
        hovertemplate=(
            "id %{customdata[0]}<br>"
            f"{label(feature)} = %{{x:.4g}}{' ' + unit if unit else ''}<br>"
            "gradient %{y:.3g}"
            + ("<br>region %{customdata[1]}" if has_region else "")
            + f"<extra>{label(cls)}</extra>"
        ),
    )


def _trend_traces(t: pd.DataFrame, method: str, first: bool) -> list[dict]:
    if t.empty or method == "none":
        return []
    out = []
    if method == "binned":
        out.append(
            dict(
                type="scatter",
                x=np.concatenate([t["x"], t["x"][::-1]]),
                y=np.concatenate([t["q75"], t["q25"][::-1]]),
                fill="toself",
                mode="lines",
                fillcolor="rgba(0,0,0,0.15)",
                line={"width": 0},
                name="inter-quartile band",
                legendgroup="trend-band",
                showlegend=first,
                hoverinfo="skip",
            )
        )
    out.append(
        dict(
            type="scatter",
            x=t["x"].to_numpy(),
            y=t["mean"].to_numpy(),
            mode="lines",
            line={"color": "black", "width": 2},
            name="binned mean" if method == "binned" else "LOWESS",
            legendgroup="trend",
            showlegend=first,
            hovertemplate="%{x:.4g}: %{y:.3g}<extra>trend</extra>",
        )
    )
    return out


def pca_gradient_figure(
    table: pd.DataFrame,
    features: Sequence[str],
    gradient_units: Mapping[str, str],
    *,
    title: str,
    cols: int = 4,
) -> go.Figure:
    """Small multiples of the PCA plane, each coloured by one feature's gradient.

    Parameters
    ----------
    table : DataFrame
        :func:`core.neural_lasso.pca.pca_table` with one column per feature named
        ``feature`` holding that feature's gradient.
    features : sequence of str
        Panel order.
    gradient_units : mapping of str to str
        The unit of each feature's gradient (for the panel title).
    title : str
        Already escaped by the caller where it holds data-derived text.

    Returns
    -------
    Figure
        One ``go.Scattergl`` per feature (all axes shared; where a few
        examples lie far out, the axes frame the central :data:`PCA_FRAME`
        of them, and double-clicking shows all), coloured on
        :data:`DIVERGING` with ``cmid=0`` and ``cmin = −cmax``; the first
        trace's colour bar reads "lowers" / "raises".
    """
    n = max(len(features), 1)
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    height = 260 * rows + 120
    ranges = {f: _symmetric(table[f]) for f in features}
    titles = [
        f"{label(f)}<br><span style='font-size:10px'>±{ranges[f]:.2g} "
        f"{label(gradient_units[f])}</span>"
        for f in features
    ]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        shared_xaxes="all",
        shared_yaxes="all",
        subplot_titles=titles or None,
        horizontal_spacing=0.02,
        vertical_spacing=_spacing(rows, height, 60),
    )
    custom = table[["id", "outcome"]].to_numpy(dtype=object)
    for i, f in enumerate(features):
        fig.add_trace(
            _gradient_map_trace(table, f, ranges[f], custom, i == 0, height),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    # Heavy-tailed inputs put a few examples far out: then frame the central
    # 95 % (double-click a panel to see them all).
    fig.update_xaxes(showticklabels=False, range=_central_range(table["pc1"]))
    fig.update_yaxes(showticklabels=False, range=_central_range(table["pc2"]))
    fig.update_annotations(font_size=12)
    fig.update_layout(
        title=title, height=height, margin={"l": 10, "r": 10, "t": 90, "b": 20}
    )
    return fig


def _gradient_map_trace(
    table: pd.DataFrame,
    feature: str,
    m: float,
    custom: np.ndarray,
    with_scale: bool,
    height: float,
) -> go.Scattergl:
    """The PCA plane coloured by one feature's gradient on the range ±``m``."""
    return go.Scattergl(
        x=table["pc1"],
        y=table["pc2"],
        mode="markers",
        name=label(feature),
        showlegend=False,
        marker={
            "size": 4,
            "color": table[feature],
            "colorscale": DIVERGING,
            "cmin": -m,
            "cmax": m,
            "cmid": 0,
            "showscale": with_scale,
            "colorbar": {
                "title": "gradient",
                "tickvals": [-m, 0, m],
                "ticktext": ["lowers", "0", "raises"],
                "len": min(1.0, 600 / height),
                "y": 1,
                "yanchor": "top",
            },
        },
        customdata=custom,
        hovertemplate=(
            "id %{customdata[0]} (%{customdata[1]})<br>"
            f"gradient of {label(feature)}: %{{marker.color:.3g}}<extra></extra>"
        ),
    )


def pca_probability_figure(
    table: pd.DataFrame,
    models: Sequence[str],
    class_names: Sequence[str],
    *,
    title: str,
    colorbar_title: str,
) -> go.Figure:
    """The PCA plane coloured by each model's predicted probability.

    Parameters
    ----------
    table : DataFrame
        :func:`core.neural_lasso.pca.pca_table` with one column per model (named by
        the model) holding its predicted probability of the explained class.

    Returns
    -------
    Figure
        One panel per model, axes shared; per panel one ``go.Scattergl`` per
        true class, marker symbol by class (:data:`CLASS_SYMBOLS`), colour on
        the shared ``coloraxis`` (0 to 1).
    """
    fig = make_subplots(
        rows=1,
        cols=max(len(models), 1),
        shared_xaxes="all",
        shared_yaxes="all",
        subplot_titles=[label(m) for m in models] or None,
        horizontal_spacing=0.02,
    )
    for c, model in enumerate(models, start=1):
        for k, cls in enumerate(class_names):
            part = table[table["class"] == k]
            fig.add_trace(_probability_trace(part, model, k, cls, c == 1), row=1, col=c)
    fig.update_layout(
        title=title,
        height=520,
        coloraxis={
            "colorscale": DIVERGING,
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"title": colorbar_title},
        },
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "title": _class_legend_title(len(class_names)),
        },
        margin={"l": 10, "r": 10, "t": 90, "b": 80},
    )
    fig.update_xaxes(title_text="PC 1", range=_central_range(table["pc1"]))
    fig.update_yaxes(range=_central_range(table["pc2"]))
    fig.update_yaxes(title_text="PC 2", col=1)
    return fig


def _probability_trace(
    part: pd.DataFrame, model: str, k: int, cls: str, in_legend: bool
) -> go.Scattergl:
    """The examples of true class ``k``, coloured by ``model``'s probability."""
    return go.Scattergl(
        x=part["pc1"],
        y=part["pc2"],
        mode="markers",
        name=f"true: {label(cls)}",
        legendgroup=f"class{k}",
        showlegend=in_legend,
        marker={
            "size": 6 if k else 5,
            "symbol": _class_symbol(k),
            "color": part[model],
            "coloraxis": "coloraxis",
        },
        customdata=part[["id"]].to_numpy(dtype=object),
        hovertemplate=(
            "id %{customdata[0]}<br>p = %{marker.color:.3f}"
            f"<extra>{label(cls)}</extra>"
        ),
    )


def weights_heatmap_figure(
    table: pd.DataFrame,
    *,
    title: str,
    zeros: Mapping[str, ZeroStructure] | None = None,
) -> go.Figure:
    """First-layer weight matrices side by side: input features (rows) × hidden units.

    Parameters
    ----------
    table : DataFrame
        :func:`core.neural_lasso.weights.weights_table`: ``model``, ``feature``, then one
        column per hidden unit.
    title : str
        Already escaped where it holds data-derived text.
    zeros : mapping of str to ZeroStructure, optional
        Per model; its counts go into the model's panel title.

    Returns
    -------
    Figure
        One ``go.Heatmap`` per model, the feature axis shared (first feature on
        top), all on one ``coloraxis``: :data:`DIVERGING`, centred at 0, with
        a symmetric range, so colours compare across models.
    """
    models = list(dict.fromkeys(table["model"]))
    units = [c for c in table.columns if c not in ("model", "feature")]
    values = table[units].to_numpy(dtype=np.float64)
    m = float(np.nanmax(np.abs(values))) if values.size else 0.0
    m = m if m > 0 else 1.0
    titles = [_heatmap_title(model, zeros) for model in models]
    fig = make_subplots(
        rows=1,
        cols=max(len(models), 1),
        shared_yaxes=True,
        subplot_titles=titles or None,
        horizontal_spacing=0.015,
    )
    n = 0
    for c, model in enumerate(models, start=1):
        part = table[table["model"] == model]
        z = part[units].dropna(axis=1, how="all")
        names = [label(f) for f in part["feature"]]
        n = len(names)
        fig.add_trace(
            go.Heatmap(
                z=z.to_numpy(dtype=np.float64),
                x=list(z.columns),
                y=names,
                coloraxis="coloraxis",
                name=label(model),
                hovertemplate="%{y} → %{x}<br>w = %{z:.3g}<extra>%{fullData.name}</extra>",
            ),
            row=1,
            col=c,
        )
    fig.update_layout(
        title=title + _zero_note(zeros),
        height=min(max(320, 12 * n), 2400) + 160,
        coloraxis={
            "colorscale": DIVERGING,
            "cmid": 0,
            "cmin": -m,
            "cmax": m,
            "colorbar": {"title": "weight"},
        },
        margin={"l": 10, "r": 10, "t": 120, "b": 40},
    )
    fig.update_annotations(font_size=11)
    fig.update_xaxes(title_text="hidden unit", showticklabels=False)
    fig.update_yaxes(autorange="reversed", showticklabels=False, tickfont_size=9)
    fig.update_yaxes(
        title_text="input feature", showticklabels=n <= MAX_LABELLED_ROWS, col=1
    )
    return fig


def _heatmap_title(model: str, zeros: Mapping[str, ZeroStructure] | None) -> str:
    """The model's name, and its zero columns and units when they were counted."""
    t = f"<b>{label(model)}</b>"
    if zeros is not None and model in zeros:
        z = zeros[model]
        t += (
            f"<br>{z.zero_features.size}/{z.n_features} feature columns, "
            f"{z.zero_units.size}/{z.n_units} units zero"
        )
    return t


def _zero_note(zeros: Mapping[str, ZeroStructure] | None) -> str:
    """A subtitle saying when a weight counts as zero ("" without counts)."""
    if not zeros:
        return ""
    tol = ", ".join(f"{z.tolerance:.2g}" for z in zeros.values())
    rel = next(iter(zeros.values())).rel_tol
    return f"<br><sup>zero: |w| ≤ {rel:g}·max|W| ({tol})</sup>"
