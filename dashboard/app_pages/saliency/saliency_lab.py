"""Saliency lab: CAFO/CASO, RDE and Captum's methods side by side.

Pick a model and a test example; choose methods and their λ₁ / λ₂ / k
controls; the maps appear with SmoothGrad's visual normalisation, then the
deletion, insertion and rate–distortion curves with their areas.
"""

from __future__ import annotations

import streamlit as st

from core.figures import saliency as figures
from core.saliency import lab, method_names
from core.saliency.evaluation import area_under
from core.saliency.hessian_study import binned
from core.training.metrics import predict_proba
from core.training.store import list_models
from dashboard.app_pages.neural_lasso import inspecting
from dashboard.app_pages.saliency import explaining
from dashboard.common import (
    downloads,
    links,
    loaders,
    markdown,
    report,
    sidebar,
    state,
)

name = st.session_state[state.DATASET]
ds = loaders.require_dataset(name)
st.title(f"Saliency lab · {name}")
if ds.test.X is None and ds.test.images is None:
    st.info(
        f"**{name}** has raw text but no features a model reads directly; choose "
        "digits, mnist, cifar10 or a tabular dataset in the sidebar."
    )
    st.stop()
stored = loaders.guarded(list_models, name)
if not stored:
    st.info(
        f"No models are stored for **{name}** yet. Train one with\n\n"
        f"`{lab.train_command(ds)}`\n\n(or on the Train page), then reload."
    )
    st.stop()

by_id = {m.card.model_id: m for m in stored}
left, mid, right = st.columns([2, 1, 1])
links.bind(state.Q_MODEL, state.for_dataset(state.SALIENCY_MODEL, name), by_id)
model_id = left.selectbox(
    "Model",
    list(by_id),
    format_func=lambda i: sidebar.model_label(by_id[i]),
    key=state.for_dataset(state.SALIENCY_MODEL, name),
)
model, card = loaders.require_model(model_id)
inspecting.load_models(ds, [model_id])  # stops on an input-size mismatch
rep = report.page_report(f"Saliency lab · {name}", "saliency", name, model_id)
links.bind(state.Q_EXAMPLE, state.SALIENCY_EXAMPLE, range(len(ds.test)))
index = int(
    mid.number_input(
        "Test example",
        min_value=0,
        max_value=len(ds.test) - 1,
        value=0,
        key=state.SALIENCY_EXAMPLE,
    )
)
n_curve = int(
    right.number_input(
        "Examples for the curves",
        min_value=1,
        max_value=min(50, len(ds.test)),
        value=1,
        key=state.SALIENCY_CURVE_EXAMPLES,
        help="The curves and their areas average over this many test examples, "
        "starting at the chosen one.",
    )
)
links.bind(state.Q_METHODS, state.SALIENCY_METHODS, method_names(), many=True)
methods = st.multiselect(
    "Methods",
    method_names(),
    default=list(lab.DEFAULT_METHODS),
    key=state.SALIENCY_METHODS,
    help="RC-RDE, MR-RDE and Ord-RDE solve an optimisation per example: seconds "
    "on digits, minutes for a CNN on MNIST or CIFAR-10 (fewer iterations help).",
)
if not methods:
    st.info("Choose at least one method.")
    st.stop()
choices = explaining.parameters(name, methods, ds.n_features)

indices = [(index + j) % len(ds.test) for j in range(n_curve)]
x = loaders.guarded(lab.inputs, ds, "test", indices)
probs = loaders.guarded(predict_proba, model, x[:1].numpy())[0]
pred = int(probs.argmax())
st.caption(
    f"True class **{markdown.escape(ds.class_names[ds.test.y[index]])}**, predicted "
    f"**{markdown.escape(ds.class_names[pred])}** (p = {probs[pred]:.3f}). Each map "
    "explains the predicted class; shown as |value|, channels summed, capped at "
    "the 99th percentile and scaled to [0, 1] (SmoothGrad's normalisation)."
)
rep.settings.update(
    {
        "dataset": name,
        "model": model_id,
        "test example": index,
        "true class": ds.class_names[ds.test.y[index]],
        "predicted": f"{ds.class_names[pred]} (p = {probs[pred]:.3f})",
        "examples for the curves": n_curve,
        "methods": methods,
        "parameters": choices,
    }
)
report.add_models(rep, name, stored, [model_id])
rep.commands.append(
    (
        report.command(
            "saliency-compare",
            "--model",
            model_id,
            "--examples",
            n_curve,
            "--methods",
            *methods,
        ),
        "Deletion, insertion and rate–distortion areas of these methods with their "
        f"default parameters, over the first {n_curve} test examples (the page "
        f"starts at example {index}).",
    )
)
result = explaining.maps(model, model_id, card.sha256, ds, x, indices, choices, None)
for line in result.warnings:
    st.warning(line)

shown = lab.normalised(result.raw, ds)
if lab.dataset_image_shape(ds) is not None:
    fig = figures.maps_figure(shown, lab.display_image(ds, "test", index))
else:
    fig = figures.features_figure(shown, list(ds.feature_names))
st.plotly_chart(
    fig, key="saliency.maps", config=downloads.png_config(name, "maps"), theme=None
)
rep.figure(fig, "Each method's map of the predicted class (|value|, normalised).")
a, b = st.columns(2)
with a:
    downloads.table(
        lab.maps_table(result.raw, ds),
        downloads.file_name(name, model_id, index, "attributions", suffix="csv"),
        key=state.download_key(state.DOWNLOAD_SALIENCY, "maps"),
        label="Attributions (CSV)",
    )
with b:
    downloads.figure(
        fig,
        downloads.file_name(name, model_id, index, "maps", suffix="html"),
        key=state.download_key(state.DOWNLOAD_SALIENCY, "maps_html"),
        label="Maps (HTML)",
    )

st.subheader("Deletion, insertion and rate–distortion")
table = explaining.curve_table(
    model, model_id, card.sha256, ds, x, indices, result, choices, None
)
curves_fig = figures.curves_figure(table)
st.plotly_chart(
    curves_fig, key="saliency.curves", config=downloads.png_config(name, "curves")
)
summary = area_under(table)
st.dataframe(summary, hide_index=True)
rep.figure(curves_fig, "Deletion, insertion and rate–distortion curves.")
rep.table(summary, "Area under each curve, per method.")
st.caption(
    "Features are taken in order of |attribution| (ties in a seeded random "
    "order). Deletion sets them to 0 and "
    "insertion starts from all zeros (target probability); rate–distortion keeps "
    "them and replaces the rest by Gaussian noise with the example's mean and "
    "standard deviation (32 samples). " + downloads.PNG_HINT
)
explaining.csv_buttons(
    (
        table,
        downloads.file_name(name, model_id, "curves", suffix="csv"),
        "curves",
        "Curves (CSV)",
    ),
    (
        summary,
        downloads.file_name(name, model_id, "areas", suffix="csv"),
        "areas",
        "Areas (CSV)",
    ),
)

st.subheader("Is the Hessian rank one here?")
if st.toggle("Run the Hessian study on 100 test examples", key=state.SALIENCY_STUDY):
    stats = explaining.study(model, model_id, card.sha256, ds, 100)
    study_fig = figures.hessian_study_figure(stats)
    st.plotly_chart(study_fig, key="saliency.study_chart")
    st.dataframe(binned(stats), hide_index=True)
    rep.figure(study_fig, "Is the Hessian rank one? 100 test examples.")
    rep.table(binned(stats), "The Hessian study, binned by predicted probability.")
    explaining.csv_buttons(
        (
            stats,
            downloads.file_name(name, model_id, "hessian-study", suffix="csv"),
            "study",
            "Study (CSV)",
        ),
    )
