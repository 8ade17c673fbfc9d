"""A page's view as one HTML report: collected while the page renders, written
on click.

A page calls :func:`page_report` once, near its title; the returned
:class:`core.figures.report.Report` is filled as the page draws (the figures
and tables it already built, its settings, cards and command), and the button
writes it with :func:`core.figures.report.render_html` only when clicked — by
then the run has finished and the report holds the whole view.
"""

from __future__ import annotations

import functools
import shlex
from collections.abc import Iterable

import streamlit as st

from core.figures.report import Report, layer_card, render_html
from core.sparse_layers.sparse_layer import SparseLayer
from core.training.store import StoredModel
from core.views.neural_lasso import model_card, report_command
from dashboard.common import downloads, state


def page_report(title: str, page: str, *parts: object) -> Report:
    """Start ``page``'s report and draw its download button.

    Parameters
    ----------
    title : str
        The report's heading (the page title).
    page : str
        Short page name: the button's key and the file name's start.
    *parts
        What else names the file (dataset, layer, model …).

    Returns
    -------
    Report
        Empty; the page adds to it as it renders.
    """
    report = Report(title)
    st.download_button(
        "Report (HTML)",
        data=functools.partial(render_html, report),
        file_name=downloads.file_name(page, *parts, "report", suffix="html"),
        mime="text/html",
        key=state.download_key(state.REPORT, page),
        on_click="ignore",
        icon=":material/description:",
        help="This view as one HTML file that opens in any browser, offline: "
        "its interactive figures, tables, settings, the model or layer cards and "
        "the command that reproduces it.",
    )
    return report


def add_models(
    report: Report,
    dataset: str,
    stored: Iterable[StoredModel],
    ids: list[str],
    split: str | None = None,
) -> None:
    """The cards of the models ``ids`` (of ``stored``) and the commands behind
    them: their listing and, with ``split``, the smoothness table when they
    are named as that command reads them (``<dataset>-mlp-<penalty>``)."""
    by_id = {m.card.model_id: m for m in stored}
    models = [by_id[i] for i in ids]
    for m in models:
        report.cards[f"Model {m.card.model_id}"] = model_card(m)
    report.commands.append(
        (command("models", "--dataset", dataset), "The stored models and their cards.")
    )
    penalties = [m.card.penalty for m in models]
    if split is None or ids != [f"{dataset}-mlp-{p}" for p in penalties]:
        return
    report.commands.append(
        (
            command(
                "smoothness",
                "--datasets",
                dataset,
                "--penalties",
                *penalties,
                "--split",
                split,
            ),
            "The smoothness of these models' input gradients (default class and "
            "Σₖ log pₖ), with their AUC and D_eff.",
        )
    )


def add_page_command(
    report: Report, page: str, dataset: str, ids: list[str], *options: object
) -> None:
    """The ``python -m core report`` line that writes ``page``'s view (models
    ``ids``, the page's settings as ``options``) to an HTML report again.

    See :func:`core.views.neural_lasso.report_command`.
    """
    report.commands.append(
        (
            report_command(page, dataset, ids, *options),
            "Draws these figures and tables again, with the same functions, and "
            "writes them to an HTML report.",
        )
    )


def add_layer(report: Report, layer: SparseLayer, index: int | None = None) -> None:
    """The sparse layer's card (:func:`core.figures.report.layer_card`, with
    λ[``index``] beside the selected λ) and the command that fits it again."""
    report.cards[f"Sparse layer {layer.name}"] = layer_card(layer, index)
    path = layer.path
    report.commands.append(
        (
            command(
                "sparse-layer",
                "--dataset",
                layer.dataset,
                "--features",
                layer.features,
                "--alpha",
                f"{path.alpha:g}",
                "--n-lambdas",
                len(path),
                "--eps",
                f"{path.lambdas[-1] / path.lambdas[0]:.6g}",
                "--tol",
                f"{path.tol:g}",
                "--tolerance",
                f"{layer.tolerance:g}",
            ),
            "Fits this layer again (the same λ grid and selection rule) and "
            "stores it, replacing the stored one.",
        )
    )


def command(*args: object) -> str:
    """``python -m core`` with ``args``, each quoted for a POSIX shell."""
    return " ".join(["python -m core", *(shlex.quote(str(a)) for a in args)])
