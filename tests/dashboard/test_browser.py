"""One real browser: headless Chromium opens the served dashboard's pages."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import torch

from core.training.models import build_model
from core.training.store import save_model

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _serve(
    tmp_path: Path, env: dict[str, str], script: str = "dashboard/app.py"
) -> Iterator[str]:
    """``streamlit run <script>`` (from the repository root) on a free port;
    yields its URL."""
    port = _free_port()
    log = open(tmp_path / "streamlit.log", "wb")  # noqa: SIM115 closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script]
        + ["--server.port", str(port), "--server.address", "127.0.0.1"]
        + ["--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"dashboard did not start:\n{(tmp_path / 'streamlit.log').read_text()}"
                )
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture
def served_app(tmp_path):
    with _serve(tmp_path, os.environ.copy()) as url:
        yield url


@pytest.fixture
def served_app_with_models(tmp_path):
    """The dashboard serving a store with two small breast-cancer MLPs."""
    store = tmp_path / "store"
    kw = {"n_features": 30, "n_classes": 2}
    for seed, penalty in enumerate(["none", "grad_l1"]):
        torch.manual_seed(seed)
        save_model(
            build_model("mlp", **kw),
            dataset="breast_cancer",
            architecture="mlp",
            arch_kwargs=kw,
            penalty=penalty,
            model_id=f"bc-{penalty}",
            store=store,
        )
    with _serve(tmp_path, {**os.environ, "SPARSELENS_MODELS": str(store)}) as url:
        yield url


def _chromium(pw):
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is missing: `bash scripts/test.sh` installs it with apt-get"
        )
    return pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)


def open_on_dataset(page, url: str, dataset: str):
    """Open the served app's Data page, choose ``dataset`` in the sidebar, wait
    for it; returns the sidebar locator."""
    page.goto(f"{url}/data")
    page.get_by_role("heading", name="Sizes and class balance").wait_for(timeout=90_000)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=dataset, exact=True).click()
    page.get_by_role("heading", name=f"Data · {dataset}").wait_for(timeout=90_000)
    return sidebar


def assert_no_exception(page, what: str = "") -> str:
    """No traceback and no Streamlit exception box; returns the page's text."""
    body = page.inner_text("body")
    assert "Traceback" not in body, what
    assert page.locator('[data-testid="stException"]').count() == 0, what
    return body


@pytest.mark.browser
def test_data_page_renders_in_chromium(served_app, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{served_app}/data")
            page.get_by_role("heading", name="Sizes and class balance").wait_for(
                timeout=90_000
            )
            page.get_by_role("heading", name="Features").wait_for(timeout=30_000)
            # The class-balance chart is drawn by plotly in the page.
            page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "data-page.png"), full_page=True)
            body = assert_no_exception(page)
            assert "train" in body and "test" in body
        finally:
            browser.close()


#: The inspection pages and the number of plotly figures each draws.
INSPECTION_PAGES = {"Input gradients": 1, "PCA maps": 2, "Weights": 1}


@pytest.mark.browser
def test_inspection_pages_render_in_chromium(served_app_with_models, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            sidebar = open_on_dataset(page, served_app_with_models, "breast_cancer")
            for title, n_figures in INSPECTION_PAGES.items():
                sidebar.get_by_role("link", name=title).click()
                page.get_by_role("heading", name=f"{title} · breast_cancer").wait_for(
                    timeout=60_000
                )
                plots = page.locator(".js-plotly-plot")
                plots.nth(n_figures - 1).wait_for(timeout=60_000)
                # WebGL scatters and heatmaps have drawn something.
                page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
                assert plots.count() == n_figures, title
                slug = title.lower().replace(" ", "-")
                page.screenshot(path=str(tmp_path / f"{slug}.png"))
                body = assert_no_exception(page, title)
                assert "bc-none" in body and "bc-grad_l1" in body
        finally:
            browser.close()


#: Every page of the navigation, in its order.
NAVIGATION = [
    "Home",
    "Data",
    "Add data",
    "Train",
    "Models",
    "Input gradients",
    "PCA maps",
    "Weights",
    "λ sweep",
    "Word clouds",
    "Feature views",
    "Counterfactuals",
    "Bias probe",
    "Misclassifications",
    "Saliency lab",
]


def wait_until_run(page, timeout: float = 180_000) -> None:
    """Wait until the app has finished running the page."""
    page.wait_for_function(
        "!document.querySelector('[data-testid=stStatusWidget]')", timeout=timeout
    )


@pytest.mark.browser
def test_home_page_opens_first_with_every_page_in_view(served_app, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(served_app)
            page.get_by_role("heading", name="Guided starts").wait_for(timeout=90_000)
            wait_until_run(page)
            page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
            assert_no_exception(page)
            nav = page.locator('[data-testid="stSidebarNav"]')
            links = nav.locator('[data-testid="stSidebarNavLink"]')
            # A link's text is its icon's ligature name, then its title.
            titles = [t.strip().splitlines()[-1] for t in links.all_inner_texts()]
            assert titles == NAVIGATION
            for i in range(links.count()):
                assert links.nth(i).is_visible(), NAVIGATION[i]
            assert "more" not in nav.inner_text().lower()  # no "View 3 more"
        finally:
            browser.close()


#: Each guided start's link: the title of the page it opens, the parameter
#: that page writes to the URL once it has run (the URL carries the whole
#: view), and what the page must show (dataset, models or layer, settings).
STARTS = {
    "Input gradients": (
        "Input gradients · icu_physionet2012",
        "features",
        [f"icu_physionet2012-mlp-{p}" for p in ("none", "l1_weights", "grad_l1")],
    ),
    "λ sweep": ("λ sweep · sparse decision layers", "lambda", ["sst2-finetuned-sst2"]),
    "1 · Word clouds": ("Word clouds", "feature", ["sst2-finetuned-sst2", "Feature"]),
    "2 · Counterfactuals": (
        "Counterfactuals",
        "decision",
        [
            "sst2-finetuned-sst2",
            "cynical and condescending",
            "Every candidate substitution",
        ],
    ),
    "3 · Misclassifications": (
        "misclassifications",
        "example",
        ["sst2-finetuned-sst2"],
    ),
    "1 · Feature views": (
        "Feature views",
        "feature",
        ["cifar10-penultimate-cifar10-airbench-none", "Its weight in each class"],
    ),
    "2 · Misclassifications": (
        "misclassifications",
        "example",
        ["cifar10-penultimate-cifar10-airbench-none", "One error"],
    ),
    "Saliency lab": (
        "Saliency lab · digits",
        "example",
        ["digits-cnn_digits-none", "CAFO", "CASO", "Integrated Gradients"],
    ),
    # Nothing of its view is in the URL; Streamlit's frontend shows a page
    # link without parameters as a bare URL even after the sidebar wrote the
    # dataset (the next run writes it).
    "Add data": ("Add data", None, []),
}


@pytest.mark.browser
def test_guided_starts_land_on_their_pages(served_app, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for label, (title, written, shown) in STARTS.items():
                page.goto(served_app)
                main = page.locator('[data-testid="stMainBlockContainer"]')
                link = main.get_by_role("link", name=label, exact=True)
                wanted = parse_qs(urlsplit(link.get_attribute("href")).query)
                link.click()
                page.locator("h1").filter(has_text=title).first.wait_for(
                    timeout=180_000
                )
                if written:
                    page.wait_for_url(re.compile(rf"[?&]{written}="), timeout=180_000)
                wait_until_run(page)
                slug = label.split("·")[-1].strip().lower().replace(" ", "-")
                page.screenshot(path=str(tmp_path / f"start-{slug}.png"))
                body = assert_no_exception(page, label)
                assert page.locator('[data-testid="stAlert"]').count() == 0, label
                got = parse_qs(urlsplit(page.url).query)
                assert {k: got.get(k) for k in wanted} == wanted, label
                chosen = page.locator('[data-testid="stSelectbox"] input').evaluate_all(
                    "inputs => inputs.map(i => i.value)"
                )
                shown_text = body + "\n".join(chosen)
                for text in shown + wanted.get("dataset", []):
                    assert text in shown_text, (label, text)
        finally:
            browser.close()
