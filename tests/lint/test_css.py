"""The CSS helpers: rules of <style> blocks, read in linear time."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.lint.css import parse_rules
from deliverability.lint.htmlscan import scan_html

# The rule pattern tried at every offset, as before the look-behind.
_PLAIN_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")


def test_simple_selectors_kept():
    rules = parse_rules("p, .a, td.b { color: red } div p { color: blue }")
    assert [r.selector for r in rules] == ["p", ".a", "td.b"]
    assert rules[0].declarations == {"color": "red"}


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab{}; :.#\n@", max_size=40))
def test_rule_pattern_matches_plain_pattern(css):
    from deliverability.lint.css import _RULE

    assert _RULE.findall(css) == _PLAIN_RULE.findall(css)


def test_style_without_braces_is_text():
    # A tag run of 20,000 <style> tags took 79 s with the plain pattern.
    doc = scan_html("<style>" * 2000 + ">")
    assert [line for line, _, block in doc.css_chunks if block] == [1]
