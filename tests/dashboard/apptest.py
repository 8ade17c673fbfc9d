"""Shared AppTest helpers: open the dashboard on a dataset and page, check it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.data import availability, dataset_names
from core.paths import DATA_ENV, data_home
from dashboard.common import state

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
TIMEOUT = 180  # the first load of a dataset parses its raw files
DATA_PAGE = "app_pages/data/data.py"


def require(name: str) -> None:
    """Skip the test when dataset ``name`` cannot be loaded here; fail it in CI.

    Without the offline data mirror a developer still runs the rest of the
    suite, but CI (``CI=true``, set by ``.ci/run``) has the mirror beside the
    clone, so there a missing file is a broken setup that must not pass as a
    skip. A name that is not registered is a mistake in the test: it fails.

    Parameters
    ----------
    name : str
        A registered dataset.
    """
    if name not in dataset_names():
        pytest.fail(
            f"dataset {name!r} is not registered; registered: "
            f"{', '.join(dataset_names())}",
            pytrace=False,
        )
    found = availability(name)
    if found.available:
        return
    message = (
        f"dataset {name} is not available here ({found.where}); the data mirror "
        f"is read from {DATA_ENV}={data_home()}"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}. CI=true: a missing data mirror fails.", pytrace=False)
    pytest.skip(message)


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
