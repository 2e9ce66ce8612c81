"""Hostile TXT records through the real audit into every format.

The payloads travel as a nameserver would deliver them: through the record
parsers, into findings and details, and out through each renderer.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import jsonschema
import pytest

from deliverability.audit.model import DomainReport
from deliverability.report import (
    dumps_json,
    dumps_jsonl_line,
    load_schema,
    render_html,
    render_text,
)

from .samples import audit_hostile_zone


@pytest.fixture(scope="module")
def hostile_audit() -> DomainReport:
    return audit_hostile_zone()


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def test_payloads_reach_report(hostile_audit: DomainReport) -> None:
    assert "<script>" in hostile_audit.checks["spf"].details["record"]
    assert "\x1b]0;pwned" in hostile_audit.checks["dmarc"].details["record"]


def test_html_shows_payloads_as_text(hostile_audit: DomainReport) -> None:
    tags = Tags()
    tags.feed(render_html(hostile_audit))
    assert "script" not in tags.names
    assert "img" not in tags.names
    assert "include:<script>alert(1)</script>.example" in tags.text
    assert 'rua=mailto:"><img src=x onerror=alert(2)>@hostile.example' in tags.text
    assert "\x1b" not in tags.text


def test_text_neutralises_escapes(hostile_audit: DomainReport) -> None:
    text = render_text(hostile_audit, verbose=True)
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\\x1b]0;pwned\\x07" in text


def test_json_valid_and_lossless(hostile_audit: DomainReport) -> None:
    validator = jsonschema.Draft202012Validator(load_schema())
    for text in (dumps_json([hostile_audit]), dumps_jsonl_line(hostile_audit)):
        data = json.loads(text)
        assert [e.message for e in validator.iter_errors(data)] == []
        assert data["checks"]["dmarc"]["record"].endswith("\x1b]0;pwned\x07")
        assert data["checks"]["spf"]["dns_lookups"] == 1
