"""What every figure shares: escaping text from data, and common colours.

Plotly renders titles, legend entries and annotations as a subset of HTML, so
every string that came from data (class names, feature names, units, model
IDs) passes through :func:`label` before it reaches a figure.
"""

from __future__ import annotations

import html

#: Normal ranges are shaded in this colour on distribution and gradient plots.
NORMAL_RANGE_COLOR = "seagreen"


def label(text: object) -> str:
    """``text`` made safe for plotly's HTML-like text (``<`` → ``&lt;`` ...)."""
    return html.escape(str(text), quote=False)
