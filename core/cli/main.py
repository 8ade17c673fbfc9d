"""Command-line interface: ``python -m core --help``.

Each area's module (:mod:`core.cli.data`, :mod:`core.cli.training`,
:mod:`core.cli.neural_lasso`, :mod:`core.cli.sparse_layers`,
:mod:`core.cli.feature_views`, :mod:`core.cli.saliency`) registers its
subcommands; each subcommand is a small function taking the parsed arguments. Long work shows a tqdm progress bar on
stderr so ``--json`` output stays clean on stdout, and heavy libraries (torch,
pandas) are imported inside the commands so that ``--help`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from core import __version__
from core.cli import (
    data,
    feature_views,
    neural_lasso,
    saliency,
    sparse_layers,
    training,
)
from core.errors import SparseLensError


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m core`` parser with every area's subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Parsed arguments carry ``func``, the command to call with them.
    """
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="SparseLens: train sparsity-regularized models and inspect them.",
    )
    parser.add_argument(
        "--version", action="version", version=f"sparselens {__version__}"
    )
    parser.add_argument(
        "--data-dir",
        help="data home with raw dataset files (default: $SPARSELENS_DATA or the user cache)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in (data, training, neural_lasso, sparse_layers, feature_views, saliency):
        area.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; a failure is a one-line message on stderr, no traceback.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success; 1 when the command fails with a
        :class:`SparseLensError`, ``ValueError`` or ``OSError`` (bad input, a
        bad or unreadable file, a full disk); 2 for arguments the parser
        refuses (argparse's own status); 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (SparseLensError, ValueError, OSError) as exc:
        # One line even when the message quotes data holding line breaks.
        print(f"error: {' '.join(str(exc).splitlines())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
