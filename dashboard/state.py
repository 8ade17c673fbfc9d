"""Session-state keys, in one place: every widget's ``key=`` comes from here.

Tests drive widgets by these keys (``at.selectbox(key=state.DATASET)``); the
keys of widgets whose options depend on the dataset come from :func:`for_dataset`.
"""

from __future__ import annotations

# Sidebar, shared by every page.
DATASET = "dataset"
MODELS = "models"  # per dataset: for_dataset(MODELS, name)

# Data page.
FEATURE_FILTER = "data.feature_filter"  # per dataset
PLOT_FEATURES = "data.plot_features"  # per dataset
PLOT_SPLIT = "data.plot_split"
SAMPLE_SPLIT = "data.sample_split"
SAMPLE_SEED = "data.sample_seed"
DOWNLOAD_SIZES = "data.download_sizes"
DOWNLOAD_DISTRIBUTION = "data.download_distribution"  # + "." + feature name
DOWNLOAD_BALANCE = "data.download_balance"
DOWNLOAD_FEATURES = "data.download_features"
DOWNLOAD_SAMPLES = "data.download_samples"
DOWNLOAD_IMAGES = "data.download_images"

# Models page.
DOWNLOAD_MODELS = "models.download_table"


def download_key(prefix: str, name: str) -> str:
    """A widget key for one of several downloads (one per figure)."""
    return f"{prefix}.{name}"


def for_dataset(key: str, dataset: str) -> str:
    """The key of a widget whose options depend on the chosen dataset.

    Each dataset gets a widget of its own, so a choice made for another
    dataset is never shown stale in the browser: with one key for all
    datasets, deleting the stale choice from session state reset the value the
    page used but not the chips the browser displayed. (Streamlit forgets the
    state of widgets a run does not draw, so returning to a dataset starts from
    its defaults again.)
    """
    return f"{key}[{dataset}]"
