"""Input gradients: how each feature's value moves the predicted log-probability.

The Neural LASSO paper's Fig. 2: a feature's value (original units) against
its input gradient, one row per feature, up to three models side by side on
shared axes, the normal range shaded, with a trend; beside it, how smoothly
each model's gradient field varies between neighbouring examples.
"""

from __future__ import annotations

import streamlit as st

from core.data.access import SPLITS
from core.figures import neural_lasso as nl_figures
from core.neural_lasso import gradients as nl_gradients
from core.neural_lasso import smoothness as nl_smoothness
from core.views import neural_lasso as nl_views
from dashboard.app_pages.neural_lasso import inspecting
from dashboard.common import downloads, links, loaders, markdown, report, state

name = st.session_state[state.DATASET]
ds = loaders.require_dataset(name)
st.title(f"Input gradients · {name}")
inspecting.require_features(ds)
stored = inspecting.require_stored(name)
ids = inspecting.choose_models(
    name, stored, state.for_dataset(state.INSPECT_MODELS, name)
)
models = inspecting.load_models(ds, ids)
rep = report.page_report(f"Input gradients · {name}", "gradients", name)

left, mid, right = st.columns(3)
links.bind(state.Q_SPLIT, state.INSPECT_SPLIT, SPLITS)
split = left.radio("Split", SPLITS, index=2, key=state.INSPECT_SPLIT, horizontal=True)
target = inspecting.choose_target(
    ds, state.for_dataset(state.INSPECT_TARGET, name), mid
)
trend = right.radio(
    "Trend",
    list(nl_views.TRENDS),
    format_func=nl_views.TRENDS.get,
    key=state.INSPECT_TREND,
    horizontal=True,
)

grads = inspecting.gradients(models, ds, split, target)
features_key = state.for_setting(state.INSPECT_FEATURES, name, *ids)
links.bind(state.Q_FEATURES, features_key, ds.feature_names, many=True)
among = (
    " continuous variables with a normal range (indicators, missing-value flags, "
    "one-hot columns and scores can be added)"
    if ds.normal_ranges
    else ""
)
features = st.multiselect(
    "Features",
    ds.feature_names,
    default=nl_gradients.default_features(ds, split, list(grads.values())),
    key=features_key,
    help=f"By default the {nl_gradients.N_TOP_FEATURES}{among} with the largest "
    "mean |gradient| (per SD or IQR, over the chosen models and observed values).",
)
if not features:
    st.info("Choose at least one feature to plot.")
    st.stop()
share_y = st.toggle(
    "Same gradient axis for every model",
    value=True,
    key=state.INSPECT_SHARE_Y,
    help="Off: each panel gets its own y range (to see the shape of small gradients).",
)
rep.settings.update(
    {
        "dataset": name,
        "models": ids,
        "split": split,
        "explain": nl_gradients.target_label(ds, target),
        "trend": nl_views.TRENDS[trend],
        "features": features,
        "same gradient axis": share_y,
    }
)
report.add_models(rep, name, stored, ids, split)
report.add_page_command(
    rep,
    "gradients",
    name,
    ids,
    "--split",
    split,
    "--class",
    nl_views.class_option(ds, target),
    "--trend",
    trend,
    "--features",
    *features,
    *([] if share_y else ["--separate-y"]),
)

plots, side = st.columns([4, 1])
with side:
    st.subheader("Smoothness")
    smooth = loaders.guarded(
        nl_views.smoothness_table, grads, inspecting.neighbours(ds, split)
    )
    for row in smooth.to_dict("records"):
        st.caption(f"**{markdown.escape(row['model'])}**")  # wraps, a label would not
        st.metric(
            markdown.escape(row["model"]),
            f"{row['smoothness']:.3g}",
            f"relative {row['relative']:.3g}",
            delta_color="off",
            delta_arrow="off",
            label_visibility="collapsed",
            help=f"mean |gradient| {row['mean_abs_gradient']:.3g}",
        )
    st.caption(
        f"Mean |difference| between an example's gradient vector and those of its "
        f"{nl_smoothness.N_NEIGHBOURS} nearest neighbours (standardised inputs, the "
        "same neighbours for every model), over examples and features, in "
        "standardised units; *relative* divides by the model's mean |gradient|. "
        "0 means a constant gradient field."
    )
    rep.table(smooth, nl_views.SMOOTHNESS_CAPTION)
    downloads.table(
        smooth,
        downloads.file_name(name, "smoothness", split, suffix="csv"),
        key=state.download_key(state.DOWNLOAD_INSPECT, "smoothness"),
    )

panels = loaders.guarded(
    nl_views.gradient_panels_in_units, ds, split, grads, features, target, trend
)
with plots:
    fig = nl_figures.gradient_panels_figure(panels, share_y=share_y)
    st.plotly_chart(
        fig,
        key="inspect.panels",
        config=downloads.png_config(name, "input-gradients", split),
    )
    rep.figure(fig, nl_views.GRADIENTS_CAPTION)
    notes = [
        "Gradients are in original units (the chain rule through the dataset's "
        "scaling); imputed values are left out, never plotted as observations; "
        f"beyond {nl_gradients.MAX_POINTS:,} points a panel shows a seeded random "
        "sample (the trend uses every observed value)."
    ]
    for f in panels.features.to_dict("records"):
        if f["relevance"]:
            notes.append(f"★ **{markdown.escape(f['feature'])}**: {f['relevance']}.")
        if f["n_shown"] < f["n_observed"] or f["n_imputed"]:
            notes.append(
                f"**{markdown.escape(f['feature'])}**: {f['n_shown']:,} of {f['n_observed']:,} "
                f"observed values shown, {f['n_imputed']:,} imputed left out."
            )
    st.caption("  \n".join(notes))
    st.caption(downloads.PNG_HINT)
    a, b = st.columns(2)
    with a:
        downloads.table(
            panels.points,
            downloads.file_name(name, "input-gradients", split, suffix="csv"),
            key=state.download_key(state.DOWNLOAD_INSPECT, "points"),
            label="Points (CSV)",
        )
    with b:
        downloads.table(
            panels.trend,
            downloads.file_name(name, "gradient-trend", split, suffix="csv"),
            key=state.download_key(state.DOWNLOAD_INSPECT, "trend"),
            label="Trend (CSV)",
        )
