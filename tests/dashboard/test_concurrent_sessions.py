"""Concurrent sessions never cross (issue 23): eight browser tabs on one served
dashboard, opened at once on the λ sweep page with their own layer and λ, each
shows its own numbers.

AppTest cannot stand in for this: its runtime is one per process, and eight of
them in threads fail inside Streamlit before any page runs.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from core.sparse_layers.sparse_layer import fit_sparse_layer
from tests.core.sparse_layers.test_sparse_layer import toy_features
from tests.dashboard.test_browser import _chromium, _serve

SESSIONS = 8


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
    # Each session: its layer, a λ index no other session on that layer chose,
    # and a class.
    wanted = [(layers[i % 2], 2 + i, i % 3) for i in range(SESSIONS)]
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
                metric = page.locator('[data-testid="stMetric"]')
                metric.filter(has_text="test accuracy").wait_for(timeout=180_000)
                page.screenshot(path=str(tmp_path / f"session-{i}.png"))
                assert page.locator('[data-testid="stException"]').count() == 0, i

                def shown(label: str, page=page) -> str:
                    box = page.locator('[data-testid="stMetric"]').filter(
                        has_text=label
                    )
                    return box.locator('[data-testid="stMetricValue"]').inner_text()

                assert shown("features used") == str(
                    layer.path.active_features[index]
                ), i
                assert shown("test accuracy") == f"{layer.test_accuracy[index]:.3f}", i
                assert f"layer={layer.name}" in page.url, i
                assert f"lambda={index}" in page.url, i
                assert f"class={output}" in page.url, i
        finally:
            browser.close()
