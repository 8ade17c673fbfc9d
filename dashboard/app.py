"""SparseLens dashboard: ``streamlit run dashboard/app.py`` from the repository root.

Only a router and a frame: page config, the shared sidebar, navigation. Each
page lives in ``dashboard/app_pages/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# ``streamlit run`` puts this file's folder, not the repository, on sys.path.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard import sidebar  # noqa: E402

PAGES = [
    st.Page("app_pages/data.py", title="Data", icon=":material/table_chart:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/models.py", title="Models", icon=":material/inventory_2:"),
    st.Page(
        "app_pages/gradients.py", title="Input gradients", icon=":material/show_chart:"
    ),
    st.Page("app_pages/pca.py", title="PCA maps", icon=":material/scatter_plot:"),
    st.Page("app_pages/weights.py", title="Weights", icon=":material/grid_on:"),
    st.Page("app_pages/lambda_sweep.py", title="λ sweep", icon=":material/tune:"),
    st.Page("app_pages/add_data.py", title="Add data", icon=":material/upload_file:"),
    st.Page("app_pages/saliency.py", title="Saliency lab", icon=":material/blur_on:"),
    st.Page("app_pages/word_clouds.py", title="Word clouds", icon=":material/cloud:"),
    st.Page(
        "app_pages/counterfactuals.py",
        title="Counterfactuals",
        icon=":material/swap_horiz:",
    ),
    st.Page("app_pages/bias_probe.py", title="Bias probe", icon=":material/balance:"),
    st.Page("app_pages/errors.py", title="Errors", icon=":material/error:"),
]

st.set_page_config(page_title="SparseLens", layout="wide")
page = st.navigation(PAGES)
sidebar.render()
page.run()
