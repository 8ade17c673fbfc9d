"""Shareable links: the state that makes a view lives in the URL's query string.

A page ties each widget that makes its view to a query parameter with
:func:`bind`, just before drawing the widget. When the URL carries values this
session has not written itself (a link pasted into a new browser, a guided
start on the Home page), each is checked against the widget's options and put
into session state, so the widget opens on it; a value that is not among the
options is named in a warning and the widget keeps its default. After the page
has run, :func:`publish` writes every bound widget's value back, so the address
bar always holds a link to the current view. The parameter names are the
``Q_*`` constants of :mod:`dashboard.common.state`.

Streamlit's own ``bind="query-params"`` is not used: it names the parameter
after the widget key (``inspect.models[icu_physionet2012]`` in the URL) and
drops a value it cannot use without telling the user.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from dashboard.common import markdown

# Not widgets: this run's bindings (parameter -> (widget key, several values)),
# the query string this session last wrote, and whether this run's URL differs
# from it (then it came from outside and is read).
_BOUND = "links.bound"
_PUBLISHED = "links.published"
_FROM_OUTSIDE = "links.from_outside"

#: How many of the valid choices a warning lists.
_SHOWN_CHOICES = 5


def _url() -> dict[str, list[str]]:
    params = st.query_params
    return {k: params.get_all(k) for k in params}


def start() -> None:
    """Begin a run of the app: forget the last run's bindings; is the URL new?

    The app calls it before the sidebar and the page, :func:`publish` after.
    """
    st.session_state[_FROM_OUTSIDE] = _url() != st.session_state.get(_PUBLISHED)
    st.session_state[_BOUND] = {}


def bind(
    param: str,
    key: str,
    options: Iterable[object],
    *,
    many: bool = False,
    max_values: int | None = None,
) -> None:
    """Tie the widget ``key`` to the query parameter ``param``.

    Call it just before drawing the widget. When the URL is new to this
    session and carries ``param``, its value (``many``: its values, at most
    ``max_values``) must be the text of one of ``options``; then the widget
    opens on that option, else a warning names the value and the widget keeps
    its default.

    Parameters
    ----------
    param : str
        The query parameter, a ``state.Q_*`` constant.
    key : str
        The widget's session-state key.
    options : iterable
        The widget's options; a URL value matches the option whose ``str()``
        it equals.
    many : bool
        Whether the widget holds several options (a multiselect): the
        parameter is repeated, once per option.
    max_values : int, optional
        The most options the widget accepts.
    """
    st.session_state[_BOUND][param] = (key, many)
    if not st.session_state.get(_FROM_OUTSIDE) or param not in st.query_params:
        return
    raw = st.query_params.get_all(param)
    by_text = {str(o): o for o in options}
    unknown = [r for r in raw if r not in by_text]
    limit = max_values if many else 1
    if unknown or not raw or (limit is not None and len(raw) > limit):
        _warn(param, raw, unknown, list(by_text), limit)
        return
    chosen = [by_text[r] for r in dict.fromkeys(raw)]
    st.session_state[key] = chosen if many else chosen[0]


def _warn(
    param: str,
    raw: list[str],
    unknown: list[str],
    choices: list[str],
    limit: int | None,
) -> None:
    given = ", ".join(f"“{r}”" for r in raw) or "nothing"
    if unknown or not raw:
        shown = ", ".join(choices[:_SHOWN_CHOICES])
        more = len(choices) - _SHOWN_CHOICES
        expected = f"one of {shown}" + (f" (and {more} more)" if more > 0 else "")
        if not choices:
            expected = "a choice, but there is none here"
    else:
        expected = f"at most {limit} value{'s' if limit != 1 else ''}"
    st.warning(
        markdown.escape(
            f"This link's {param} ({given}) is not used: expected {expected}. "
            f"The page shows its own choice of {param} instead."
        )
    )


def publish() -> None:
    """Write every bound widget's current value to the URL's query string.

    Parameters of widgets this run did not draw leave the URL; an empty
    multiselect leaves it too (its default is what a link without it opens).
    """
    params: dict[str, list[str]] = {}
    for param, (key, many) in st.session_state.get(_BOUND, {}).items():
        value = st.session_state.get(key)
        if value is None or (many and not value):
            continue
        params[param] = [str(v) for v in value] if many else [str(value)]
    # Written even when Streamlit's copy of the URL already holds the same: a
    # page link without parameters shows a bare URL in the browser while that
    # copy keeps the parameters of the page before.
    st.query_params.from_dict(params)
    st.session_state[_PUBLISHED] = params
