"""Every inspection page's "Report (HTML)" button: what it downloads, the
commands it writes, and the report opened offline in headless Chromium."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

import core.sparse_layers.debugging.lime_clouds as lime_clouds
from core.data import load_dataset
from core.paths import ASSETS_DIR, layers_dir
from core.sparse_layers.debugging.lime_clouds import LimeSettings
from core.sparse_layers.debugging.workbench import workbench
from core.sparse_layers.sparse_layer import compute_sparse_layer, load_layer
from core.threads import torch_threads
from core.training.penalties import make_penalty
from core.training.train import TrainConfig, store_result, train
from dashboard.common import state
from tests.dashboard.apptest import assert_ok, require, run_app

ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC = "synthetic"
PENALTIES = [("none", 0.0), ("l1_weights", 5e-5), ("grad_l1", 0.1)]
PLOTLY_DIV = 'class="plotly-graph-div"'


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.fixture
def reports(monkeypatch):
    """The callables behind the pages' Report buttons, by file name.

    A download button with callable data registers it with the media file
    manager and runs it on click; the spy keeps it so a test can run it as a
    click would."""
    made = {}
    register = MediaFileManager.add_deferred

    def spy(self, data, mimetype, coordinates, file_name=None, **kwargs):
        if file_name and file_name.endswith("-report.html"):
            made[file_name] = data
        return register(self, data, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return made


def _report(at, reports: dict, page: str) -> str:
    """The HTML the page's Report button downloads."""
    assert_ok(at, errors=True)
    assert state.download_key(state.REPORT, page) in {b.key for b in at.download_button}
    (name,) = [n for n in reports if n.startswith(f"{page}-")]
    out = reports[name]()
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")
    return out


def _commands(out: str) -> list[str]:
    return [
        c.replace("&#x27;", "'").replace("&amp;", "&")
        for c in re.findall(r"<pre><code>(.*?)</code></pre>", out)
    ]


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """A report's ``python -m core …`` line, run from ``cwd`` on this checkout."""
    args = shlex.split(command)
    assert args[:3] == ["python", "-m", "core"]
    return subprocess.run(
        [sys.executable, *args[1:]],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def synthetic_models():
    """Three tiny synthetic MLPs (2 epochs) trained once for the module."""
    require(SYNTHETIC)
    ds = load_dataset(SYNTHETIC, download=False)
    with torch_threads(1):
        return ds, [
            train(ds, "mlp", [make_penalty(p, s)], TrainConfig(epochs=2))
            for p, s in PENALTIES
        ]


@pytest.fixture
def stored(synthetic_models):
    """The three models in this test's store, named as ``smoothness`` reads them."""
    ds, results = synthetic_models
    for (penalty, _), result in zip(PENALTIES, results, strict=True):
        store_result(result, ds, model_id=f"{SYNTHETIC}-mlp-{penalty}")
    return ds


def test_input_gradients_report_and_its_command_runs(stored, reports, tmp_path):
    at = run_app(SYNTHETIC, "app_pages/neural_lasso/gradients.py")
    out = _report(at, reports, "gradients")
    assert "Input gradients · synthetic" in out and PLOTLY_DIV in out
    assert "Model synthetic-mlp-grad_l1" in out  # the cards
    assert "<th>split</th><td>test</td>" in out
    smoothness = [c for c in _commands(out) if " smoothness " in c]
    assert smoothness == [
        "python -m core smoothness --datasets synthetic --penalties none "
        "l1_weights grad_l1 --split test"
    ]
    done = _run(smoothness[0], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "synthetic-mlp-grad_l1" in done.stdout
    # The page's own command draws the same view again, into a report.
    (again,) = [c for c in _commands(out) if " report " in c]
    assert again.startswith(
        "python -m core report --page gradients --dataset synthetic --models "
        "synthetic-mlp-none synthetic-mlp-l1_weights synthetic-mlp-grad_l1 "
        "--split test --class "
    )
    done = _run(again, tmp_path)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "gradients-synthetic-report.html").read_text("utf-8")
    assert PLOTLY_DIV in written and "Model synthetic-mlp-grad_l1" in written


@pytest.mark.parametrize(
    ("page", "figures", "options"),
    [
        ("pca", 2, "--gradients-of synthetic-mlp-none --projection "),
        ("weights", 1, "--tolerance 1e-06 "),
    ],
    ids=["pca", "weights"],
)
def test_pca_and_weights_reports(stored, reports, page, figures, options):
    at = run_app(SYNTHETIC, f"app_pages/neural_lasso/{page}.py")
    out = _report(at, reports, page)
    assert "synthetic" in out and out.count(PLOTLY_DIV) == figures
    assert "python -m core models --dataset synthetic" in _commands(out)
    assert "Model synthetic-mlp-none" in out
    (again,) = [c for c in _commands(out) if " report " in c]
    assert again.startswith(f"python -m core report --page {page} --dataset synthetic")
    assert options in again and again.endswith(f"--out {page}-synthetic-report.html")


def test_saliency_lab_report(stored, reports, tmp_path):
    at = run_app(SYNTHETIC, "app_pages/saliency/saliency_lab.py")
    at.multiselect(key=state.SALIENCY_METHODS).set_value(["Saliency", "CASO"]).run()
    out = _report(at, reports, "saliency")
    assert "Saliency lab · synthetic" in out and out.count(PLOTLY_DIV) == 2
    (compare,) = [c for c in _commands(out) if "saliency-compare" in c]
    assert compare.endswith("--examples 1 --methods Saliency CASO")
    done = _run(compare, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CASO" in done.stdout


@pytest.fixture
def digits_layer():
    require("digits")
    compute_sparse_layer("digits", "raw", n_lambdas=8)
    return "digits-raw"


def test_lambda_sweep_report_and_its_command_runs(digits_layer, reports, tmp_path):
    at = run_app("digits", "app_pages/sparse_layers/lambda_sweep.py")
    out = _report(at, reports, "lambda-sweep")
    assert "digits" in out and out.count(PLOTLY_DIV) == 2
    assert "Sparse layer digits-raw" in out and "Top-k highlighting" in out
    (fit,) = [c for c in _commands(out) if "sparse-layer" in c]
    assert fit.startswith(
        "python -m core sparse-layer --dataset digits --features raw --alpha 0.99 "
        "--n-lambdas 8 --eps 0.001"
    )
    before = load_layer(digits_layer)
    done = _run(fit, tmp_path)
    assert done.returncode == 0, done.stderr
    after = load_layer(digits_layer)  # the same path again
    assert after.selected == before.selected
    np.testing.assert_allclose(after.path.lambdas, before.path.lambdas, rtol=1e-6)


def test_misclassifications_report_and_its_command_runs(
    digits_layer, reports, tmp_path
):
    at = run_app("digits", "app_pages/sparse_layers/misclassifications.py")
    out = _report(at, reports, "misclassifications")
    assert "digits" in out and PLOTLY_DIV in out  # ten classes: the confusion plot
    (errors,) = [c for c in _commands(out) if " errors " in c]
    assert "--layer digits-raw --split test --index" in errors
    done = _run(errors, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "errors.json").is_file()


@pytest.fixture
def sst2_clouds(tmp_path, monkeypatch):
    """The shipped SST-2 layer in the user's store, with word clouds from
    three validation sentences and 20 LIME samples, cached apart."""
    require("sst2")
    shutil.copytree(
        ASSETS_DIR / "sparse_layers" / "sst2-minilm", layers_dir() / "sst2-minilm"
    )
    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path)
    workbench("sst2-minilm").cloud_corpus(
        LimeSettings(n_samples=20, seed=0), split="val", limit=3
    )
    return "sst2-minilm"


@pytest.mark.parametrize(
    ("page", "file", "min_count"),
    [
        ("word-clouds", "word_clouds", lime_clouds.READABLE_MIN_COUNT),
        ("counterfactuals", "counterfactuals", 1),  # Algorithm 3: every word
    ],
)
def test_text_layer_reports_hold_the_clouds(
    sst2_clouds, reports, page, file, min_count
):
    at = run_app("sst2", f"app_pages/sparse_layers/{file}.py")
    out = _report(at, reports, page)
    # These pages draw word-cloud pictures, no plotly figure: no plotly.js.
    assert "sst2" in out and 'src="data:image/png;base64,' in out
    assert "Sparse layer sst2-minilm" in out
    (command,) = [c for c in _commands(out) if f" {page} " in c]
    assert "--layer sst2-minilm" in command
    clouds = "--cloud-split val --cloud-limit 3 --samples 20 --seed 0"
    assert f"{clouds} --min-count {min_count} " in command


@pytest.mark.browser
def test_an_exported_report_draws_its_figures_offline(stored, reports, tmp_path):
    """The PCA maps' report, opened from a file:// URL with every request that
    is not a local file refused: plotly.js is in the file, the figures draw."""
    from playwright.sync_api import sync_playwright

    from tests.dashboard.test_browser import _chromium

    at = run_app(SYNTHETIC, "app_pages/neural_lasso/pca.py")
    path = tmp_path / "pca-report.html"
    path.write_text(_report(at, reports, "pca"), encoding="utf-8")
    refused, errors = [], []

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.route("**/*", only_files)
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.as_uri())
            page.locator(".plotly .main-svg").first.wait_for(timeout=30_000)
            drawn = page.locator(".js-plotly-plot").count()
            page.screenshot(path=str(tmp_path / "pca-report.png"), full_page=True)
        finally:
            browser.close()
    assert drawn == 2
    assert errors == [] and refused == []
