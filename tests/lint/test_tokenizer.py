"""The HTML tokenizer: tags, text, lines, raw text and malformed markup."""

from __future__ import annotations

import html.parser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.lint.tokenizer import tokenize


def kinds(source: str) -> list[tuple[str, str]]:
    return [(t.kind, t.name or t.text) for t in tokenize(source)]


def test_start_text_end():
    assert kinds("<P>Hi</P>") == [("start", "p"), ("text", "Hi"), ("end", "p")]


def test_attributes_lower_case_and_unescaped():
    token = next(tokenize('<A HREF="x?a=1&amp;b=2" hidden>'))
    assert token.attributes == (("href", "x?a=1&b=2"), ("hidden", None))


def test_unquoted_and_single_quoted_values():
    token = next(tokenize("<td width=10 class='a b'>"))
    assert token.attributes == (("width", "10"), ("class", "a b"))


def test_self_closing():
    assert next(tokenize("<br/>")).self_closing


def test_line_numbers():
    lines = [t.line for t in tokenize("<p>\none\n<b>two</b>\n</p>") if t.kind != "text"]
    assert lines == [1, 3, 3, 4]


def test_text_entities_decoded():
    assert kinds("a &lt; b &amp; c") == [("text", "a < b & c")]


def test_script_is_raw_text():
    assert kinds("<script>if (a<b) x()</script>") == [
        ("start", "script"),
        ("text", "if (a<b) x()"),
        ("end", "script"),
    ]


def test_comments_and_declarations_skipped():
    assert kinds("<!DOCTYPE html><!--[if mso]>x<![endif]--><p>") == [("start", "p")]


def test_lone_angle_bracket_is_text():
    assert kinds("1 < 2") == [("text", "1 < 2")]


def test_cut_off_tag_is_text():
    assert kinds('<p>a<a href="x') == [("start", "p"), ("text", 'a<a href="x')]


@pytest.mark.parametrize("source", ["<![ foo bar", "<!--", "</", "<a\x00b>", "<<<>>>"])
def test_malformed_markup(source):
    assert isinstance(list(tokenize(source)), list)


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.names.append(tag)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["<p>", "</p>", "<b class='x'>", "</b>", "text ", "<br/>", "\n"]
        ),
        max_size=30,
    )
)
def test_start_tags_match_html_parser(pieces):
    source = "".join(pieces)
    reference = _Tags()
    reference.feed(source)
    reference.close()
    ours = [t.name for t in tokenize(source) if t.kind == "start"]
    assert ours == reference.names
