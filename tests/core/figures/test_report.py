"""The HTML report of a view: one document, plotly.js once, text escaped."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image
from plotly.offline import get_plotlyjs

from core import __version__
from core.figures.report import MAX_ROWS, Report, layer_card, render_html

SCRIPT = "<script>alert(1)</script>"


def _figure(title: str) -> go.Figure:
    return go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2]), layout={"title": title})


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def report() -> Report:
    r = Report(f"Input gradients · {SCRIPT}")
    r.settings.update(
        {"dataset": SCRIPT, "models": ["a", "b"], "parameters": {"CASO": {"k": 3}}}
    )
    r.cards[f"Model {SCRIPT}"] = {"model_id": SCRIPT, "metrics": {"auc": 0.91234}}
    r.commands.append(("python -m core models --dataset synthetic", "Lists them."))
    r.figure(_figure("first"), "The first figure.")
    r.table(pd.DataFrame({"feature": [SCRIPT, "age"], "weight": [0.5, -1.25]}))
    r.figure(_figure("second"))
    r.image(_png(), "A cloud.")
    r.text(f"A note about {SCRIPT}.")
    return r


def test_one_document_with_plotly_js_once_and_each_figure_drawn(report):
    out = render_html(report)
    assert out.startswith("<!DOCTYPE html>")
    assert out.count("</html>") == 1
    assert out.count(get_plotlyjs()) == 1
    # Apart from the bundle, no script or link loads anything (no CDN).
    rest = out.replace(get_plotlyjs(), "")
    assert not re.search(r"<script[^>]* src=|<link|https?://", rest)
    divs = re.findall(r'<div id="([0-9a-f-]+)" class="plotly-graph-div"', out)
    assert len(divs) == 2
    for div in divs:
        assert f'document.getElementById("{div}")' in out


def test_hostile_text_is_shown_never_run(report):
    out = render_html(report)
    escaped = html.escape(SCRIPT)
    # Title, setting, card, table cell, note: each written as text.
    assert out.count(escaped) >= 6
    assert SCRIPT not in out


def test_settings_cards_command_and_footer(report):
    out = render_html(report, created=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC))
    assert "python -m core models --dataset synthetic" in out
    assert "<th>models</th><td>a, b</td>" in out
    assert "<th>parameters.CASO.k</th><td>3</td>" in out  # nested: flattened
    assert "<th>metrics.auc</th><td>0.9123</td>" in out
    assert f"SparseLens {__version__} · 2026-01-02 03:04 UTC" in out
    assert 'src="data:image/png;base64,' in out


def test_without_figures_no_plotly_js():
    r = Report("Word clouds")
    r.table(pd.DataFrame({"a": [1]}))
    assert get_plotlyjs()[:200] not in render_html(r)


def test_a_long_table_is_cut_and_says_so():
    r = Report("t")
    r.table(pd.DataFrame({"i": np.arange(MAX_ROWS + 50)}))
    out = render_html(r)
    assert f"First {MAX_ROWS} of {MAX_ROWS + 50} rows" in out
    assert out.count("<td>") == MAX_ROWS
    assert f"<td>{MAX_ROWS - 1}</td>" in out and f"<td>{MAX_ROWS}</td>" not in out


def test_wrong_contents_are_refused_with_what_came():
    r = Report("t")
    with pytest.raises(TypeError, match="plotly Figure; got dict"):
        r.figure({"data": []})
    with pytest.raises(TypeError, match="DataFrame; got list"):
        r.table([[1, 2]])
    with pytest.raises(TypeError, match="PNG bytes; got str"):
        r.image("cloud.png")
    with pytest.raises(ValueError, match="5 bytes without the PNG signature"):
        r.image(b"GIF89")


def test_layer_card_names_the_layer_and_its_selected_and_shown_lambda():
    from core.sparse_layers.sparse_layer import compute_sparse_layer

    layer, _ = compute_sparse_layer("digits", "raw", n_lambdas=6)
    card = layer_card(layer, 1 if layer.selected != 1 else 2)
    assert card["name"] == "digits-raw" and card["dataset"] == "digits"
    assert card["λ values"] == 6
    selected = card[f"selected λ[{layer.selected}]"]
    assert selected["test accuracy"] == pytest.approx(
        layer.test_accuracy[layer.selected]
    )
    assert any(k.startswith("shown λ[") for k in card)
    assert not any(k.startswith("shown") for k in layer_card(layer, layer.selected))
