"""What every command prints with: a plain-text table for the terminal."""

from __future__ import annotations

from collections.abc import Sequence


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print ``rows`` under ``header`` in left-aligned columns.

    Parameters
    ----------
    header : sequence of str
        Column titles; a dashed rule goes under them.
    rows : sequence of sequence
        One entry per column each, printed with ``str``; each column is as
        wide as its widest cell, columns are two spaces apart and trailing
        spaces are dropped.
    """
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    for line in [header, ["-" * w for w in widths], *rows]:
        print(
            "  ".join(
                str(c).ljust(w) for c, w in zip(line, widths, strict=False)
            ).rstrip()
        )
