"""Headless Chromium opens the Saliency lab on digits (the shipped CNN)."""

from __future__ import annotations

import os
import shutil

import pytest

from core.paths import ASSETS_DIR
from tests.dashboard.test_browser import (
    _chromium,
    _serve,
    assert_no_exception,
    open_on_dataset,
)

SHIPPED_DIGITS = ASSETS_DIR / "models" / "digits-cnn_digits-none"


@pytest.fixture
def served_app_with_digits(tmp_path):
    """The dashboard serving a user store that holds the shipped digits CNN."""
    store = tmp_path / "store"
    shutil.copytree(SHIPPED_DIGITS, store / SHIPPED_DIGITS.name)
    env = {**os.environ, "SPARSELENS_MODELS": str(store), "OMP_NUM_THREADS": "1"}
    with _serve(tmp_path, env) as url:
        yield url


@pytest.mark.browser
def test_saliency_lab_renders_in_chromium(served_app_with_digits, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            sidebar = open_on_dataset(page, served_app_with_digits, "digits")
            sidebar.get_by_role("link", name="Saliency lab").click()
            page.get_by_role("heading", name="Saliency lab · digits").wait_for(
                timeout=60_000
            )
            plots = page.locator(".js-plotly-plot")
            plots.nth(1).wait_for(timeout=120_000)  # the maps and the curves
            page.get_by_text("Deletion, insertion and rate–distortion").wait_for()
            page.get_by_text("Is the Hessian rank one here?").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "saliency-lab.png"), full_page=True)
            body = assert_no_exception(page)
            assert "CASO settings" in body
            plots.first.screenshot(path=str(tmp_path / "maps.png"))
            plots.nth(1).screenshot(path=str(tmp_path / "curves.png"))
        finally:
            browser.close()
