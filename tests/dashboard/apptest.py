"""Shared AppTest helpers: open the dashboard on a dataset and page, check it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.data import availability, dataset_names
from dashboard.common import state

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TIMEOUT = 180  # the first load of a dataset parses its raw files
DATA_PAGE = "app_pages/data/data.py"


def require(name: str) -> None:
    """Skip when ``name`` is not registered or its files are not here."""
    if name not in dataset_names():
        pytest.skip(f"dataset {name} is not registered")
    if not availability(name).available:
        pytest.skip(f"dataset {name} is not available here")


def assert_ok(at: AppTest, *, errors: bool = False) -> None:
    """No exception on the page (and, with ``errors``, no st.error either)."""
    assert not at.exception, [e.value for e in at.exception]
    if errors:
        assert not at.error, [e.value for e in at.error]


def run_app(dataset: str | None = None, page: str | None = DATA_PAGE) -> AppTest:
    """Run the app (absolute path), choose a dataset, then switch page (by
    default the Data page; ``None`` stays on the Home page).

    Pages are registered by ``st.navigation`` during the first run, so the
    switch comes after it.
    """
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    if dataset is not None:
        at.selectbox(key=state.DATASET).set_value(dataset).run()
    if page is not None:
        at.switch_page(page).run()
    return at
