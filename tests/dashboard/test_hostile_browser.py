"""Hostile text from data stays text in a real browser (issue 23).

A user dataset whose file name, column names and class labels hold Markdown
and HTML, a model whose card fields hold the same, and store folders with
hostile names and malformed cards: headless Chromium opens the pages that show
them and finds no link, image or script that came from data, and no exception.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from core.data.user import add_table
from core.training.models import build_model
from core.training.store import save_model
from tests.dashboard.test_browser import _chromium, _serve, wait_until_run

DATASET = "hostile"
MODEL_ID = "hostile-mlp"

#: The texts a hostile user puts where data goes: a Markdown link, an HTML
#: image and script, a bare URL (Streamlit links those itself), an HTML link
#: (plotly draws ``<a href>`` in labels).
HOSTILE = [
    "[click me](https:evil.example)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "http://evil.example",
    '<a href="http://evil.example/a">a</a>',
]
CLASSES = [
    "[win](https:evil.example)",
    "<img src=y onerror=alert(2)>",
    "www.evil.example",
]

#: The pages opened on the hostile dataset, in the sidebar's navigation: the
#: title each shows and the plotly figures it draws (their labels hold data).
PAGES = {
    "Data": (f"Data · {DATASET}", 1),
    "Models": (f"Models · {DATASET}", 1),
    "Input gradients": (f"Input gradients · {DATASET}", 1),
    "PCA maps": (f"PCA maps · {DATASET}", 2),
    "Saliency lab": (f"Saliency lab · {DATASET}", 2),
}

#: Anything in the DOM that came from data as markup: a link (HTML or SVG)
#: to the hostile host, an image or a script that is not the app's own.
_FROM_DATA = """() => {
  const links = [...document.querySelectorAll('a')].filter(a =>
      (a.getAttribute('href') || a.getAttribute('xlink:href') || '')
          .includes('evil.example'));
  const images = [...document.querySelectorAll('img')].filter(i =>
      ['x', 'y'].includes(i.getAttribute('src')) || i.hasAttribute('onerror'));
  const scripts = [...document.querySelectorAll('script')].filter(s =>
      s.textContent.includes('alert('));
  return [...links, ...images, ...scripts].map(e => e.outerHTML.slice(0, 200));
}"""


def _hostile_csv(folder: Path) -> Path:
    """A CSV named like a Markdown link, with hostile column names and labels."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(len(CLASSES)), 30)
    frame = pd.DataFrame(
        rng.normal(loc=y[:, None], size=(len(y), len(HOSTILE))), columns=HOSTILE
    )
    frame["label"] = [CLASSES[k] for k in y]
    path = folder / "[click me](https:evil.example).csv"
    frame.to_csv(path, index=False)
    return path


def _hostile_store(store: Path, n_features: int) -> None:
    """A model whose card holds hostile text, and folders that are not models."""
    kw = {"n_features": n_features, "n_classes": len(CLASSES)}
    torch.manual_seed(0)
    save_model(
        build_model("mlp", **kw),
        dataset=DATASET,
        architecture="mlp",
        arch_kwargs=kw,
        penalty=HOSTILE[0],
        metrics={HOSTILE[1]: 0.5, "auc": 0.5},
        training={"surviving_features": HOSTILE, "note": HOSTILE[2]},
        model_id=MODEL_ID,
        store=store,
    )
    for name, card in [
        ("[store](https:evil.example)", {"format": "2"}),
        ("<img src=x onerror=alert(4)>", "not json <script>alert(5)</script>"),
    ]:
        (store / name).mkdir()
        text = card if isinstance(card, str) else json.dumps(card)
        (store / name / "card.json").write_text(text)


@pytest.fixture
def hostile_app(tmp_path, monkeypatch):
    """The dashboard serving the hostile dataset, model and store folders."""
    dirs = {
        "SPARSELENS_USER_DATA": tmp_path / "user",
        "SPARSELENS_MODELS": tmp_path / "models",
        "SPARSELENS_CACHE": tmp_path / "cache",
        "SPARSELENS_LAYERS": tmp_path / "layers",
    }
    for var, folder in dirs.items():
        folder.mkdir()
        monkeypatch.setenv(var, str(folder))
    registered = add_table(_hostile_csv(tmp_path), name=DATASET, target="label")
    assert set(registered.manifest["class_names"]) == set(CLASSES)
    _hostile_store(dirs["SPARSELENS_MODELS"], registered.manifest["n_features"])
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}}
    with _serve(tmp_path, env) as url:
        yield url


def _check(page, what: str) -> None:
    """No exception, and nothing from data rendered as markup."""
    body = page.inner_text("body")
    assert "Traceback" not in body, what
    assert page.locator('[data-testid="stException"]').count() == 0, (what, body)
    assert page.evaluate(_FROM_DATA) == [], what
    # The hostile text is there, as text: the sidebar names the dataset's
    # source file and the store folders it skipped.
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    sidebar = sidebar.replace("\u2060", "")  # the escaper's invisible joiners
    assert "Your data from [click me](https:evil.example).csv" in sidebar, what
    assert "Skipping stored model '<img src=x onerror=alert(4)>'" in sidebar, what
    assert "Skipping stored model '[store](https:evil.example)'" in sidebar, what


def _choose_in_multiselect(page, multiselect, text: str, tries: int = 3) -> None:
    """Open ``multiselect`` and click its option holding ``text``.

    A rerun that lands while the list is open (the first run of a page can
    still be finishing when the status widget has not yet appeared) closes
    it: then wait for the run and open it again.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = page.get_by_role("option").filter(has_text=text)
    for attempt in range(tries):
        multiselect.click()
        try:
            option.click(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")
            wait_until_run(page)


@pytest.mark.browser
def test_hostile_names_and_cards_render_as_text(hostile_app, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{hostile_app}/data?dataset={DATASET}")
            page.locator("h1").filter(has_text=PAGES["Data"][0]).wait_for(
                timeout=180_000
            )
            wait_until_run(page)
            # Choose the hostile model in the sidebar: its label is drawn there
            # and the Models page compares it.
            sidebar = page.locator('[data-testid="stSidebar"]')
            _choose_in_multiselect(
                page, sidebar.locator('[data-testid="stMultiSelect"]'), MODEL_ID
            )
            page.keyboard.press("Escape")
            wait_until_run(page)
            for title, (heading, n_figures) in PAGES.items():
                sidebar.get_by_role("link", name=title, exact=True).click()
                page.locator("h1").filter(has_text=heading).wait_for(timeout=180_000)
                wait_until_run(page)
                # Plotly has drawn the figures whose labels hold the names.
                plots = page.locator(".js-plotly-plot .main-svg")
                plots.nth(n_figures - 1).wait_for(timeout=60_000)
                page.screenshot(path=str(tmp_path / f"{title}.png"))
                _check(page, title)
        finally:
            browser.close()
