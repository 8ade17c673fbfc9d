"""``python -m core report``: the Input gradients, PCA maps and Weights pages'
views of the shipped breast_cancer models as HTML reports."""

from __future__ import annotations

import re
import shlex

import pytest

import core.training.store as store
from core.cli.main import main
from core.data import load_dataset
from core.paths import ASSETS_DIR
from core.views import neural_lasso as nl_views

MODELS = ["breast_cancer-mlp-none", "breast_cancer-mlp-grad_l1"]
PLOTLY_DIV = 'class="plotly-graph-div"'
ARGV = ["report", "--dataset", "breast_cancer", "--models", *MODELS]


@pytest.fixture(autouse=True)
def _shipped_models(monkeypatch):
    """The models shipped in assets/models (the suite hides them by default)."""
    monkeypatch.setattr(store, "SHIPPED_DIR", ASSETS_DIR / "models")


@pytest.mark.parametrize(
    ("page", "figures", "title"),
    [
        ("gradients", 1, "Input gradients · breast_cancer"),
        ("pca", 2, "PCA maps · breast_cancer"),
        ("weights", 1, "Weights · breast_cancer"),
    ],
)
def test_report_writes_the_pages_figures_cards_and_itself(
    page, figures, title, tmp_path, capsys
):
    out = tmp_path / f"{page}.html"
    assert main([*ARGV, "--page", page, "--out", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert html.count(PLOTLY_DIV) == figures and title in html
    for model_id in MODELS:
        assert f"Model {model_id}" in html  # the cards
    (command,) = re.findall(
        r"<pre><code>(python -m core report .*?)</code></pre>", html
    )
    args = shlex.split(command.replace("&#x27;", "'"))
    assert args[3:6] == ["report", "--page", page] and args[-2:] == ["--out", str(out)]


def test_gradients_report_keeps_the_chosen_settings(tmp_path):
    out = tmp_path / "g.html"
    argv = [*ARGV, "--page", "gradients", "--class", "all", "--trend", "none"]
    argv += ["--features", "mean radius", "worst area", "--separate-y"]
    assert main([*argv, "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<th>explain</th><td>Σₖ log pₖ</td>" in html
    assert "<th>same gradient axis</th><td>False</td>" in html
    assert "--features &#x27;mean radius&#x27; &#x27;worst area&#x27;" in html


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--models", "nope"], "No stored model 'nope'"),
        (["--class", "zz"], "--class must be one of 'malignant', 'benign' or 'all'"),
        (["--features", "zz"], "breast_cancer has no feature 'zz'"),
        (["--gradients-of", "zz"], "--gradients-of must be one of the --models"),
        (["--models", *MODELS, MODELS[0], MODELS[1]], "at most 3 model IDs"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_1(extra, message, tmp_path, capsys):
    page = "pca" if "--gradients-of" in extra else "gradients"
    out = tmp_path / "r.html"
    assert main([*ARGV, "--page", page, *extra, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_an_unknown_page_is_refused_by_the_parser(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*ARGV, "--page", "nope", "--out", str(tmp_path / "r.html")])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err


def test_class_option_and_target_of_round_trip():
    ds = load_dataset("breast_cancer")
    for target in (None, 0, 1):
        assert nl_views.target_of(ds, nl_views.class_option(ds, target)) == target
    assert nl_views.target_of(ds, None) == 1  # the positive class of a binary task
