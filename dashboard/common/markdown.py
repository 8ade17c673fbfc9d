"""The one Markdown escaper: text that came from data, shown literally.

Streamlit renders ``st.markdown``, ``st.caption``, ``st.info`` and the other
message elements as CommonMark with GFM, math, directives (``:red[…]``) and
emoji shortcodes. Backslash-escaping every ASCII punctuation mark stops all
the syntax the parser reads. It is not enough on its own: after parsing,
Streamlit rewrites the *text* (escapes already resolved) with regular
expressions — bare URLs (``http://…``, ``www.…``) and e-mail addresses become
links, ``:smile:`` and ``:streamlit:`` become pictures, and ``->``, ``<=``,
``--`` … become arrows and dashes. An invisible word joiner (U+2060) between
the characters those expressions need breaks each match.
"""

from __future__ import annotations

import re

#: Invisible, zero-width and never a line break.
WORD_JOINER = "\u2060"

# Where a joiner goes: after a colon that could open an emoji shortcode or a
# URL's "://"; between "www" and its dot; before an e-mail's "@"; between two
# characters of an arrow or dash ("->", "<=", "--", "~=" …).
_REWRITTEN = re.compile(
    r"(?<=:)(?=[\w+/-])|(?i:(?<=www)(?=\.))|(?=@)|(?<=[<>~=-])(?=[<>~=-])"
)
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark


def escape(text: object) -> str:
    """``text`` made literal in Streamlit Markdown.

    Parameters
    ----------
    text : object
        Anything; its ``str()`` is escaped (labels, column names, messages).

    Returns
    -------
    str
        Markdown that Streamlit shows as exactly ``str(text)`` (plus invisible
        word joiners): no formatting, link, HTML, math, emoji or arrow.
    """
    joined = _REWRITTEN.sub(WORD_JOINER, str(text))
    return _PUNCTUATION.sub(r"\\\1", joined)
