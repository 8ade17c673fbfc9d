"""Headless Chromium on the shipped CIFAR-10 layer: its feature views, the λ
sweep's image meanings and a misclassified image traced to its feature open
ready (the views ship in assets/feature_views) and their images are drawn."""

from __future__ import annotations

import pytest

from tests.dashboard.apptest import require
from tests.dashboard.test_browser import (  # noqa: F401 (served_app: a fixture)
    _chromium,
    assert_no_exception,
    served_app,
    wait_until_run,
)

LAYER = "cifar10-penultimate-cifar10-airbench-none"


#: Images on the page that the browser decoded (naturalWidth > 0).
DRAWN = (
    "[...document.querySelectorAll('[data-testid=stImageContainer] img')]"
    ".filter(i => i.complete && i.naturalWidth > 0).length"
)


def _drawn_images(page) -> int:
    """Waits until an image is drawn, then counts the drawn ones."""
    page.wait_for_function(f"{DRAWN} > 0", timeout=60_000)
    return page.evaluate(DRAWN)


@pytest.mark.browser
def test_cifar_layer_views_open_ready_in_chromium(served_app, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    require("cifar10")
    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{served_app}/feature_views?dataset=cifar10&layer={LAYER}")
            page.get_by_role("heading", name="Its weight in each class").wait_for(
                timeout=180_000
            )
            wait_until_run(page)
            assert _drawn_images(page) == 1
            body = assert_no_exception(page, "Feature views")
            assert "Computing the feature's view" not in body  # read, not computed
            assert "Visualisation: activation" in body
            page.screenshot(path=str(tmp_path / "feature-views.png"))

            page.goto(f"{served_app}/misclassifications?dataset=cifar10&layer={LAYER}")
            page.get_by_role("heading", name="One error").wait_for(timeout=180_000)
            wait_until_run(page)
            assert _drawn_images(page) == 1
            body = assert_no_exception(page, "Misclassifications")
            assert "predicted" in body and "its superpixels" not in body  # in the PNG
            page.screenshot(path=str(tmp_path / "misclassifications.png"))

            page.goto(f"{served_app}/lambda_sweep?dataset=cifar10&layer={LAYER}")
            page.get_by_role("heading", name="Top features").first.wait_for(
                timeout=180_000
            )
            wait_until_run(page)
            body = assert_no_exception(page, "λ sweep")
            assert "Show what these features respond to" not in body  # all shipped
            page.screenshot(path=str(tmp_path / "lambda-sweep.png"))
        finally:
            browser.close()
