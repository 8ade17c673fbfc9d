"""Home: what SparseLens does, its five methods, and guided starts.

A guided start is a link to a page with the dataset, models and settings of a
view in its query string (``dashboard/common/links.py``), so it is also a link
one can share.
"""

from __future__ import annotations

import streamlit as st

from dashboard.common import state

#: The five methods, one line each, and the pages that show them.
METHODS = {
    "Neural LASSO": "an L1 penalty on input gradients makes a network read few "
    "features, smoothly; compared with L1 on the weights and plain training "
    "(Input gradients, PCA maps).",
    "Group LASSO": "a block soft threshold on the first layer's weight columns "
    "switches whole input features off (Train, Weights).",
    "Sparse decision layers": "an elastic-net path over deep features gives a "
    "last layer that uses a few features per class, each read through its word "
    "clouds or, for images, its top images, superpixels and visualisation (λ "
    "sweep, Word clouds, Feature views, Counterfactuals, Bias probe, "
    "Misclassifications).",
    "CAFO / CASO": "sparse saliency maps from a second-order expansion of the "
    "loss around the input, solved by proximal gradient steps (Saliency lab).",
    "Rate-distortion explanations": "the smallest set of inputs that keeps the "
    "prediction when the rest is replaced by noise: RC-RDE, MR-RDE and Ord-RDE "
    "(Saliency lab).",
}

ICU = "icu_physionet2012"
ICU_MODELS = [f"{ICU}-mlp-{penalty}" for penalty in ("none", "l1_weights", "grad_l1")]
TEXT = {state.Q_DATASET: "sst2", state.Q_LAYER: "sst2-finetuned-sst2"}
#: A short test sentence ("it 's all pretty cynical and condescending , too .")
#: that word swaps flip in both layers.
SWAPPED = {**TEXT, state.Q_EXAMPLE: 135}
IMAGES = {
    state.Q_DATASET: "cifar10",
    state.Q_LAYER: "cifar10-penultimate-cifar10-airbench-none",
}
PAGES = "app_pages"

#: Guided starts: title, what it shows, and its links (page, label, parameters).
STARTS = [
    (
        "ICU: how gradient-regularised models read lab values",
        "PhysioNet 2012 in-hospital mortality: the shipped plain, L1-weights and "
        "gradient-L1 MLPs side by side, each lab value against its input gradient "
        "with the normal range shaded (the Neural LASSO paper's Fig. 2).",
        [
            (
                f"{PAGES}/neural_lasso/gradients.py",
                "Input gradients",
                {state.Q_DATASET: ICU, state.Q_MODELS: ICU_MODELS},
            )
        ],
    ),
    (
        "Sparse decision layers live",
        "The shipped SST-2 layer on the features of MiniLM fine-tuned on SST-2: "
        "slide λ along its elastic-net path and watch features enter, accuracy "
        "against sparsity.",
        [(f"{PAGES}/sparse_layers/lambda_sweep.py", "λ sweep", TEXT)],
    ),
    (
        "Debug a text model",
        "The same SST-2 layer: what each feature reads (word clouds), which word "
        "swaps flip a prediction (counterfactuals), which features cause errors.",
        [
            (f"{PAGES}/sparse_layers/word_clouds.py", "1 · Word clouds", TEXT),
            (
                f"{PAGES}/sparse_layers/counterfactuals.py",
                "2 · Counterfactuals",
                SWAPPED,
            ),
            (
                f"{PAGES}/sparse_layers/misclassifications.py",
                "3 · Misclassifications",
                TEXT,
            ),
        ],
    ),
    (
        "Debug an image model",
        "The shipped CIFAR-10 layer on a CNN's 128 pooled features: what each "
        "feature responds to (top images, LIME superpixels, a visualisation), and "
        "a misclassified image traced to the feature that pushed it wrong.",
        [
            (f"{PAGES}/sparse_layers/feature_views.py", "1 · Feature views", IMAGES),
            (
                f"{PAGES}/sparse_layers/misclassifications.py",
                "2 · Misclassifications",
                IMAGES,
            ),
        ],
    ),
    (
        "Sparse saliency",
        "Handwritten digits and the shipped CNN: CAFO and CASO maps beside "
        "Captum's Saliency and Integrated Gradients, with deletion, insertion "
        "and rate–distortion curves.",
        [
            (
                f"{PAGES}/saliency/saliency_lab.py",
                "Saliency lab",
                {
                    state.Q_DATASET: "digits",
                    state.Q_MODEL: "digits-cnn_digits-none",
                    state.Q_METHODS: [
                        "Saliency",
                        "Integrated Gradients",
                        "CAFO",
                        "CASO",
                    ],
                },
            )
        ],
    ),
    (
        "Bring your own data",
        "A table, a text corpus, precomputed features or a MIMIC-III sepsis "
        "extract: register it, train models on it, and every page opens on it.",
        [(f"{PAGES}/data/add_data.py", "Add data", {})],
    ),
]

st.title("SparseLens")
st.markdown(
    "A workbench for **sparse, interpretable models**: train networks with "
    "sparsity penalties, fit sparse decision layers on deep features and compute "
    "sparse saliency maps, then inspect them on clinical, tabular, text and image "
    "data. Every page shows what a `python -m core` command computes, with the "
    "figure and table to download."
)
for name, line in METHODS.items():
    st.markdown(f"- **{name}**: {line}")

st.header("Guided starts")
st.caption(
    "Each opens a page with the dataset, models and settings chosen. The address "
    "bar always holds the current view: copy it to share what you see."
)
for row in range(0, len(STARTS), 2):
    for column, (title, text, links) in zip(
        st.columns(2), STARTS[row : row + 2], strict=False
    ):
        with column.container(border=True):
            st.subheader(title)
            st.caption(text)
            for page, label, params in links:
                st.page_link(
                    page,
                    label=label,
                    icon=":material/arrow_forward:",
                    query_params=params,
                )
