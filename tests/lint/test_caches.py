"""What the linter keeps between messages changes no result."""

from __future__ import annotations

from deliverability.lint import clear_caches, lint_bytes
from deliverability.lint.htmlscan import scan_html

from .messages import BODY, build_message, html_document

PLAIN = html_document('<p class="note">' + BODY + "</p>")
STYLED = html_document(
    '<p class="note">' + BODY + "</p>",
    head="<style>.note { display: none }</style>",
)


def hidden_paragraphs(html: str) -> list[str]:
    return [block.reason for block in scan_html(html).hidden if block.element == "<p>"]


def test_style_rules_apply_only_where_defined():
    assert hidden_paragraphs(PLAIN) == []
    assert hidden_paragraphs(STYLED) == ["display:none"]
    assert hidden_paragraphs(PLAIN) == []


def test_shared_markup_gives_same_findings_either_order():
    first = build_message(html=PLAIN)
    second = build_message(html=STYLED)
    clear_caches()
    alone = lint_bytes(second).to_dict()
    clear_caches()
    lint_bytes(first)
    after = lint_bytes(second).to_dict()
    assert after == alone
