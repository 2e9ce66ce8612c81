"""The HTML tokenizer: tags, text, lines, raw text and malformed markup."""

from __future__ import annotations

import html.parser
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.lint.tokenizer import TOKEN_PATTERN, TokenFinder, tokenize


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


# The token pattern as the regex engine alone would apply it: every "<" tried
# in turn, a start tag without its ">" skipped. Quadratic on some input, but
# the plain reading of what the finder must return.
_REFERENCE = re.compile(
    TOKEN_PATTERN.pattern.replace("(?:>|(?P<broken>))", ">"), re.S | re.X
)
_MARKUP = st.text(alphabet="<>\"'/!-ab =\n", max_size=60)


def reference_spans(source: str) -> list[tuple[int, int, int | None]]:
    spans = []
    position = 0
    while True:
        match = _REFERENCE.search(source, position)
        if match is None:
            return spans
        spans.append((match.start(), match.end(), match.lastindex))
        position = match.end()


def finder_spans(
    source: str, careful: bool = False
) -> list[tuple[int, int, int | None]]:
    finder = TokenFinder(source)
    if careful:  # decide every start tag by walking, as after a broken one
        finder.specials = [i for i, c in enumerate(source[: finder.cut]) if c in ">\"'"]
    spans = []
    position = 0
    while True:
        match = finder.next(position)
        if match is None:
            return spans
        spans.append((match.start(), match.end(), match.lastindex))
        position = match.end()


@settings(max_examples=500, deadline=None)
@given(_MARKUP)
def test_finder_matches_plain_search(source):
    assert finder_spans(source) == reference_spans(source)


@settings(max_examples=500, deadline=None)
@given(_MARKUP)
def test_careful_mode_matches_plain_search(source):
    assert finder_spans(source, careful=True) == reference_spans(source)


@pytest.mark.parametrize(
    "source",
    [
        "<a x" * 200,
        '<a t="x" ' * 200 + '">',
        "<a '" * 200 + '">',
        "<p a=\"1\" b='2' c=3 " * 100 + "'>",
        '<a b="' * 200 + "'>",
        "<a" * 200 + " '>",
        "<a\x00" * 200 + " '>",
    ],
)
def test_unclosed_tags_read_as_plain_search(source):
    # benchmarks/lint_unclosed_tags.py times these at 100 times the length.
    assert finder_spans(source) == reference_spans(source)
