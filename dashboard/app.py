"""SparseLens dashboard: ``streamlit run dashboard/app.py`` from the repository root.

Only a router and a frame: page config, the shared sidebar, navigation, and the
shareable link of the current view (``dashboard/common/links.py``). Each page
lives in ``dashboard/app_pages/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# ``streamlit run`` puts this file's folder, not the repository, on sys.path.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.common import links, sidebar  # noqa: E402


def _page(path: str, title: str, icon: str, *, default: bool = False) -> st.Page:
    return st.Page(
        f"app_pages/{path}", title=title, icon=f":material/{icon}:", default=default
    )


# The Home page on top (a section without a header), then one section per
# method, with the data and models they share first.
SECTIONS = {
    "": [_page("home.py", "Home", "home", default=True)],
    "Data & models": [
        _page("data/data.py", "Data", "table_chart"),
        _page("data/add_data.py", "Add data", "upload_file"),
        _page("data/train.py", "Train", "model_training"),
        _page("data/models.py", "Models", "inventory_2"),
    ],
    "Neural LASSO & group LASSO": [
        _page("neural_lasso/gradients.py", "Input gradients", "show_chart"),
        _page("neural_lasso/pca.py", "PCA maps", "scatter_plot"),
        _page("neural_lasso/weights.py", "Weights", "grid_on"),
    ],
    "Sparse decision layers": [
        _page("sparse_layers/lambda_sweep.py", "λ sweep", "tune"),
        _page("sparse_layers/word_clouds.py", "Word clouds", "cloud"),
        _page("sparse_layers/feature_views.py", "Feature views", "image_search"),
        _page("sparse_layers/counterfactuals.py", "Counterfactuals", "swap_horiz"),
        _page("sparse_layers/bias_probe.py", "Bias probe", "balance"),
        _page("sparse_layers/misclassifications.py", "Misclassifications", "error"),
    ],
    "Saliency: CAFO/CASO & RDE": [
        _page("saliency/saliency_lab.py", "Saliency lab", "blur_on"),
    ],
}

st.set_page_config(page_title="SparseLens", layout="wide")
page = st.navigation(SECTIONS, expanded=True)
links.start()
try:
    sidebar.render()
    page.run()
finally:  # also when the page stops early: the URL still names what it shows
    links.publish()
