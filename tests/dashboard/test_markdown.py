"""The Markdown escaper: data-derived text shows literally in Streamlit.

``shows_literally`` models what Streamlit 1.67's Markdown does with a string:
it parses CommonMark (any unescaped ASCII punctuation mark may start syntax),
then rewrites the parsed text with the regular expressions copied from its
frontend bundle (GFM autolink literals, emoji shortcodes, the Streamlit logo,
typographic arrows). The browser test checks the real renderer.
"""

from __future__ import annotations

import json
import os
import re
import string
from pathlib import Path

import pytest

from dashboard.common.markdown import WORD_JOINER, escape

# Streamlit 1.67 (StreamlitMarkdown-*.js, remark-emoji-*.js): rewrites of text
# nodes after parsing, i.e. after backslash escapes are resolved.
REWRITES = (
    re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE),
    re.compile(r"(?<![^\W_])([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
    re.compile(r":\+1:|:-1:|:[\w-]+:"),
    re.compile(r":streamlit:"),
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
)


def weak_old_copy(text: object) -> str:
    """The weaker of the two copies the dashboard had (sparse-layer debugging
    pages): it also left "&" (``&lt;`` showed as "<") and "=" unescaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:])", r"\\\1", str(text))


def shows_literally(markdown: str, text: str) -> bool:
    """Whether Streamlit would show ``markdown`` as ``text``, as plain text."""
    unescaped = re.sub(r"\\(.)", r"\1", markdown)
    if unescaped.replace(WORD_JOINER, "") != text:
        return False
    bare = re.sub(r"\\.", "", markdown)  # syntax can only start unescaped
    if any(c in string.punctuation for c in bare):
        return False
    return not any(r.search(unescaped) for r in REWRITES)


CASES = {
    "link": "[x](y)",
    "link with a URL": "[click](http://example.org/a_b)",
    "bare URL": "see http://example.com/path?q=1 now",
    "bare URL, capitals": "HTTPS://EXAMPLE.COM",
    "www": "www.example.com and x_www.foo.org",
    "e-mail": "write to a.b@c.org",
    "HTML tag": "<script>alert(1)</script> <b>bold</b>",
    "entity": "&lt; &amp; &#42;",
    "emphasis and code": "*a* _b_ **c** `d` ~~e~~",
    "math": "$x$ and $$y$$",
    "directive": ":red[red] :material/home:",
    "emoji": ":smile: :+1: :streamlit:",
    "arrows": "a -> b <= c -- d ~= e <-> f",
    "heading": "# not a heading",
    "list": "1. not a list",
    "table row": "| a | b |",
}
#: What the weaker old copy got wrong (the stronger one too, but for "&").
WEAK_COPY_FAILS = ("link with a URL", "bare URL", "www", "e-mail", "entity")
WEAK_COPY_FAILS += ("emoji", "arrows")


@pytest.mark.parametrize("char", list(string.punctuation))
def test_each_punctuation_mark_is_escaped(char):
    assert shows_literally(escape(char), char)
    assert escape(char).endswith("\\" + char)


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_text_shows_literally(text):
    assert shows_literally(escape(text), text)


@pytest.mark.parametrize("case", WEAK_COPY_FAILS)
def test_the_weaker_old_copy_fails(case):
    assert not shows_literally(weak_old_copy(CASES[case]), CASES[case])


def test_plain_text_and_non_strings_pass_through():
    assert escape("plain words 42") == "plain words 42"
    assert escape(3.5) == "3\\.5"
    assert escape("naïve – ok") == "naïve – ok"


APP = """
import json
import streamlit as st
from dashboard.common.markdown import escape

for i, text in enumerate(json.loads({cases!r})):
    with st.container(key=f"case-{{i}}"):
        st.markdown(escape(text))
"""
#: What a literal rendering has none of.
ELEMENTS = ("<a", "<img", "<strong", "<em", "<code", "<del", "katex", "<h1", "<ol")
ELEMENTS += ("<table", "<script", "<b>", 'role="img"')


@pytest.mark.browser
def test_escaped_text_renders_literally_in_chromium(tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.dashboard.test_browser import _chromium, _serve

    texts = list(CASES.values())
    script = tmp_path / "markdown_app.py"
    script.write_text(APP.format(cases=json.dumps(texts)))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with _serve(tmp_path, env, str(script)) as url, sync_playwright() as pw:
        browser = _chromium(pw)
        try:
            page = browser.new_page()
            page.goto(url)
            page.locator(f".st-key-case-{len(texts) - 1}").wait_for(timeout=90_000)
            for i, text in enumerate(texts):
                box = page.locator(
                    f".st-key-case-{i} [data-testid=stMarkdownContainer]"
                )
                html = box.inner_html()
                assert box.inner_text().replace(WORD_JOINER, "").strip() == text
                assert not [e for e in ELEMENTS if e in html], (text, html)
        finally:
            browser.close()
