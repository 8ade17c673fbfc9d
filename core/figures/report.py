"""One view of a page as a self-contained HTML report, readable with no server.

A :class:`Report` holds what made the view (its settings, the cards of its
models or layer, the command that reproduces it) and what it shows (figures,
tables, images and notes, in page order); :func:`render_html` writes it as one
HTML document with plotly.js inlined once, so the figures stay interactive
offline. Every piece of text from data is escaped: dataset, model and feature
names may hold markup.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from core import __version__

if TYPE_CHECKING:  # the layer's module imports the solvers; a card only reads it
    from core.sparse_layers.sparse_layer import SparseLayer

#: Tables longer than this show their first rows only (the page's CSV has all).
MAX_ROWS = 200
_PNG = b"\x89PNG\r\n\x1a\n"

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;
padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
.cards td{overflow-wrap:anywhere}
th{background:#f4f4f4}figure{margin:1rem 0}figcaption,.note{color:#555;font-size:.85rem}
pre{background:#f4f4f4;padding:.6rem;overflow-x:auto;white-space:pre-wrap}
img{max-width:100%}footer{margin-top:3rem;color:#777;font-size:.8rem}
""".strip()


@dataclass(frozen=True)
class Section:
    """One block of a report's body.

    Attributes
    ----------
    kind : {"figure", "table", "image", "text"}
    content : Figure, DataFrame, bytes or str
        A plotly figure, a table, PNG bytes or plain text, by ``kind``.
    caption : str
        Plain text shown under it (escaped).
    """

    kind: str
    content: object
    caption: str = ""


@dataclass
class Report:
    """What one page shows, collected in page order while it renders.

    Attributes
    ----------
    title : str
        The page and what it is about (e.g. ``"Input gradients · icu_rhc"``).
    settings : dict of str to object
        The page's controls and their values (dataset, models, λ index …).
    cards : dict of str to mapping
        A card per model or layer: its title and its fields (nested mappings
        are flattened to ``parent.child``).
    commands : list of (str, str)
        ``python -m core …`` lines and what each reproduces.
    sections : list of Section
    """

    title: str
    settings: dict[str, object] = field(default_factory=dict)
    cards: dict[str, Mapping[str, object]] = field(default_factory=dict)
    commands: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def figure(self, fig: go.Figure, caption: str = "") -> None:
        """Add a plotly figure (drawn interactive in the report)."""
        if not isinstance(fig, go.Figure):
            raise TypeError(
                f"A report figure must be a plotly Figure; got {type(fig).__name__}"
            )
        self.sections.append(Section("figure", fig, caption))

    def table(self, df: pd.DataFrame, caption: str = "") -> None:
        """Add a table (its first :data:`MAX_ROWS` rows are written)."""
        if not isinstance(df, pd.DataFrame):
            raise TypeError(
                f"A report table must be a pandas DataFrame; got {type(df).__name__}"
            )
        self.sections.append(Section("table", df, caption))

    def image(self, png: bytes, caption: str = "") -> None:
        """Add a PNG image (embedded in the file)."""
        if not isinstance(png, bytes):
            raise TypeError(
                f"A report image must be PNG bytes; got {type(png).__name__}"
            )
        if not png.startswith(_PNG):
            raise ValueError(
                f"A report image must be PNG bytes; got {len(png)} bytes without "
                "the PNG signature"
            )
        self.sections.append(Section("image", png, caption))

    def text(self, text: str) -> None:
        """Add a note (plain text, escaped)."""
        self.sections.append(Section("text", str(text)))


def layer_card(layer: SparseLayer, index: int | None = None) -> dict[str, object]:
    """What identifies a sparse layer and how well it does, for a report card.

    Parameters
    ----------
    layer : SparseLayer
    index : int, optional
        The λ index shown on the page; its numbers are added beside the
        selected λ's.

    Returns
    -------
    dict
        Name, dataset, features, the path's α, family, solver and λ range, the
        selection rule, and train/validation/test accuracy and features used
        at the selected λ (and at ``index``), and the dense layer's accuracy.
    """
    path, d = layer.path, layer.path.diagnostics

    def at(i: int) -> dict[str, object]:
        return {
            "λ": float(path.lambdas[i]),
            "features used": int(path.active_features[i]),
            "train accuracy": float(d["train_accuracy"][i]),
            "validation accuracy": float(d["val_accuracy"][i]),
            "test accuracy": float(layer.test_accuracy[i]),
        }

    card: dict[str, object] = {
        "name": layer.name,
        "dataset": layer.dataset,
        "features": layer.features,
        "deep features": len(path.feature_names),
        "α (L1 share)": float(path.alpha),
        "family": path.family,
        "solver": path.solver,
        "λ values": len(path),
        "λ range": f"{path.lambdas[0]:.4g} … {path.lambdas[-1]:.4g}",
        "selection": f"sparsest λ within {layer.tolerance:.0%} of the best "
        "validation accuracy",
        f"selected λ[{layer.selected}]": at(layer.selected),
        "dense layer (ridge)": dict(layer.dense_accuracy),
    }
    if index is not None and index != layer.selected:
        card[f"shown λ[{index}]"] = at(index)
    return card


def render_html(report: Report, *, created: dt.datetime | None = None) -> str:
    """``report`` as one HTML document that opens in a browser with no server.

    plotly.js is inlined once (only when there is a figure); each figure is
    its own ``<div>`` drawn by it. Tables longer than :data:`MAX_ROWS` show
    their first rows and say so. All text is escaped, so a name holding
    ``<script>`` is shown, never run.

    Parameters
    ----------
    report : Report
    created : datetime, optional
        Written in the footer (default: now, UTC).

    Returns
    -------
    str
        The document, UTF-8 text starting ``<!DOCTYPE html>``.
    """
    created = created or dt.datetime.now(dt.UTC)
    esc = html.escape
    figures = any(s.kind == "figure" for s in report.sections)
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(report.title)} · SparseLens</title>",
        f"<style>{_CSS}</style>",
    ]
    if figures:
        # The library's own bundle, so the report needs no network (no CDN).
        head.append(f'<script charset="utf-8">{get_plotlyjs()}</script>')
    body = [f"<h1>{esc(report.title)}</h1>"]
    if report.settings:
        body += ["<h2>Settings</h2>", _fields(_flatten(report.settings))]
    if report.commands:
        body.append("<h2>Reproduce from the command line</h2>")
        for command, note in report.commands:
            body.append(f"<pre><code>{esc(command)}</code></pre>")
            if note:
                body.append(f'<p class="note">{esc(note)}</p>')
    if report.sections:
        body.append("<h2>View</h2>")
        body += [_section(s) for s in report.sections]
    if report.cards:
        body += ["<h2>Cards</h2>", _cards(report.cards)]
    body.append(
        f"<footer>SparseLens {esc(__version__)} · "
        f"{esc(created.strftime('%Y-%m-%d %H:%M %Z').strip())}</footer>"
    )
    return "\n".join([*head, "</head><body>", *body, "</body></html>"]) + "\n"


def _section(s: Section) -> str:
    caption = f"<figcaption>{html.escape(s.caption)}</figcaption>" if s.caption else ""
    if s.kind == "figure":
        div = s.content.to_html(full_html=False, include_plotlyjs=False)
        return f"<figure>{div}{caption}</figure>"
    if s.kind == "table":
        return f"<figure>{_table(s.content)}{caption}</figure>"
    if s.kind == "image":
        data = base64.b64encode(s.content).decode("ascii")
        alt = html.escape(s.caption, quote=True)
        return f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">{caption}</figure>'
    return f"<p>{html.escape(s.content)}</p>"


def _table(df: pd.DataFrame) -> str:
    shown = df.head(MAX_ROWS)
    table = shown.to_html(
        index=False,
        escape=True,
        border=0,
        na_rep="—",
        float_format=lambda v: f"{v:.4g}",
    )
    if len(df) <= MAX_ROWS:
        return table
    return (
        f'<p class="note">First {MAX_ROWS:,} of {len(df):,} rows; the page\'s CSV '
        "download holds the full table.</p>" + table
    )


def _cards(cards: Mapping[str, Mapping[str, object]]) -> str:
    """The cards side by side: one column per card, one row per field."""
    esc = html.escape
    flat = {title: dict(_flatten(fields)) for title, fields in cards.items()}
    names = dict.fromkeys(name for fields in flat.values() for name in fields)
    head = "".join(f"<th>{esc(str(title))}</th>" for title in flat)
    rows = "".join(
        f"<tr><th>{esc(name)}</th>"
        + "".join(
            f"<td>{esc(_value(fields[name])) if name in fields else '—'}</td>"
            for fields in flat.values()
        )
        + "</tr>"
        for name in names
    )
    return f'<table class="cards"><tr><th></th>{head}</tr>{rows}</table>'


def _flatten(fields: Mapping[str, object], prefix: str = "") -> list[tuple]:
    out = []
    for key, value in fields.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out += _flatten(value, f"{name}.")
        else:
            out.append((name, value))
    return out


def _value(value: object) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    if isinstance(value, list | tuple) and all(
        isinstance(v, str | int | np.integer) for v in value
    ):
        return ", ".join(map(str, value))
    if isinstance(value, list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _fields(items: Iterable[tuple[object, object]]) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_value(v))}</td></tr>"
        for k, v in items
    )
    return f"<table>{rows}</table>"
