"""Concurrent sessions never cross (issue 23): eight browser tabs on one served
dashboard, opened at once on the λ sweep page with their own layer, λ and
class, each shows its own numbers.

Shown to fail (docs/reliability.md): with the λ index, or the class, kept in a
module-level global instead of the session's state, it goes red.

AppTest cannot stand in for this: its runtime is one per process, and eight of
them in threads fail inside Streamlit before any page runs.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from core.sparse_layers.sparse_layer import class_names, fit_sparse_layer
from tests.core.sparse_layers.test_sparse_layer import toy_features
from tests.dashboard.test_browser import _chromium, _serve

SESSIONS = 8
_METRICS = (
    "features used",
    "non-zero weights",
    "train accuracy",
    "validation accuracy",
    "test accuracy",
)


def _rendered(layer, index: int, output: int) -> tuple[str, ...]:
    """What the λ sweep page shows for one choice: its metrics, then the
    heading of the top-features table (the class and λ)."""
    path, d = layer.path, layer.path.diagnostics
    return (
        str(int(path.active_features[index])),
        str(int(path.nonzeros[index].sum())),
        f"{d['train_accuracy'][index]:.3f}",
        f"{d['val_accuracy'][index]:.3f}",
        f"{layer.test_accuracy[index]:.3f}",
        f"Top features of {class_names(layer)[output]} at λ = "
        f"{path.lambdas[index]:.3g}",
    )


@pytest.mark.browser
def test_eight_concurrent_sessions_each_see_their_own_layer_and_lambda(tmp_path):
    from playwright.sync_api import sync_playwright

    store = tmp_path / "layers"
    layers = [
        fit_sparse_layer(
            dataclasses.replace(toy_features(seed), extractor=extractor), n_lambdas=15
        )
        for seed, extractor in ((2, "raw"), (3, "alt"))
    ]
    for layer in layers:
        layer.save(store / layer.name)
    # Each session: its layer, a λ index and a class; no two sessions choose
    # the same λ index on one layer.
    wanted = [(layers[i % 2], 2 + i, i % 3) for i in range(SESSIONS)]
    # A session shown another's layer, λ or class, or any mix of them, sees
    # something other than its own: every mix renders differently.
    mixes = [
        _rendered(layer, index, output)
        for layer in layers
        for index in {i for _, i, _ in wanted}
        for output in {c for _, _, c in wanted}
    ]
    assert len(set(mixes)) == len(mixes)
    env = {**os.environ, "SPARSELENS_LAYERS": str(store)}
    with _serve(tmp_path, env) as url, sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            pages = [browser.new_page() for _ in wanted]
            # Start every session before waiting for any: their runs overlap
            # in the server.
            for page, (layer, index, output) in zip(pages, wanted, strict=True):
                page.goto(
                    f"{url}/lambda_sweep?dataset=breast_cancer&layer={layer.name}"
                    f"&lambda={index}&class={output}",
                    wait_until="commit",
                )
            for i, (page, (layer, index, output)) in enumerate(
                zip(pages, wanted, strict=True)
            ):
                heading = page.locator("h3").filter(has_text="Top features of")
                heading.wait_for(timeout=180_000)
                page.screenshot(path=str(tmp_path / f"session-{i}.png"))
                assert page.locator('[data-testid="stException"]').count() == 0, i
                metrics = page.locator('[data-testid="stMetric"]')
                shown = tuple(
                    metrics.filter(has_text=label)
                    .locator('[data-testid="stMetricValue"]')
                    .inner_text()
                    for label in _METRICS
                ) + (heading.inner_text(),)
                assert shown == _rendered(layer, index, output), i
                assert f"layer={layer.name}" in page.url, i
                assert f"lambda={index}" in page.url, i
                assert f"class={output}" in page.url, i
        finally:
            browser.close()
