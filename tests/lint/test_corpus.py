"""Calibration on the shared corpus: real newsletters, spam, ham and broken mail.

The newsletters are HTML templates; they are wrapped in correct headers (an
aligned Return-Path, one-click List-Unsubscribe) the way a sending platform
would send them. docs/lint.md lists the warnings they still get and why.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from deliverability.lint import (
    LintOptions,
    LintReport,
    lint_bytes,
    lint_html,
    lint_path,
)

pytestmark = pytest.mark.corpus

NEWSLETTER_HEADERS = b"""\
From: Example Newsletter <news@example.com>
To: reader@example.org
Subject: This week's news from the Example Foundation
Date: Fri, 04 Dec 2026 15:30:00 +0000
Message-ID: <20261204153000.4f2a9c1e7b@example.com>
Return-Path: <bounce-4f2a9c@mail.example.com>
List-Unsubscribe: <https://example.com/unsubscribe?u=4f2a>,
 <mailto:unsubscribe@example.com>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
"""

# A pattern library of content blocks, not a sendable newsletter: it has no
# footer, so no unsubscribe link, and that error is right.
NO_FOOTER = {"modular-template-patterns__modular-template-patterns.html"}


def newsletters(corpus_dir: Path) -> list[Path]:
    folders = ("mailchimp-email-blueprints", "sunlight-newsletters")
    return [p for f in folders for p in sorted((corpus_dir / f).glob("*.html"))]


def messages(corpus_dir: Path, folder: str) -> list[Path]:
    return [p for p in sorted((corpus_dir / folder).iterdir()) if p.name != "SOURCE.md"]


def errors(report: LintReport) -> list[str]:
    return sorted(f.code for f in report.findings if f.severity == "error")


def test_newsletters_found(corpus_dir):
    assert len(newsletters(corpus_dir)) == 66


def test_newsletters_have_no_errors(corpus_dir):
    failing = {}
    for path in newsletters(corpus_dir):
        report = lint_html(
            path.read_bytes(), headers=NEWSLETTER_HEADERS, name=path.name
        )
        expected = (
            ["lint.list.body_unsubscribe_missing"] if path.name in NO_FOOTER else []
        )
        if errors(report) != expected:
            failing[path.name] = errors(report)
    assert failing == {}


def test_pattern_library_lacks_unsubscribe(corpus_dir):
    path = corpus_dir / "mailchimp-email-blueprints" / next(iter(NO_FOOTER))
    report = lint_html(path.read_bytes(), headers=NEWSLETTER_HEADERS)
    assert errors(report) == ["lint.list.body_unsubscribe_missing"]


def test_spam_trips_several_rules(corpus_dir):
    spam = messages(corpus_dir, "spamassassin-testdata/spam")
    counts = []
    for path in spam:
        report = lint_bytes(path.read_bytes())
        counts.append(len({f.code for f in report.findings if f.severity != "info"}))
    several = sum(1 for count in counts if count >= 3)
    assert several / len(spam) >= 0.85


def test_spam_trips_content_rules(corpus_dir):
    spam = messages(corpus_dir, "spamassassin-testdata/spam")
    hit = 0
    for path in spam:
        report = lint_bytes(path.read_bytes())
        content = {
            f.code
            for f in report.findings
            if f.severity != "info" and not f.code.startswith("lint.list.")
        }
        hit += bool(content)
    assert hit / len(spam) >= 0.8


def test_every_spam_message_gets_an_error(corpus_dir):
    spam = messages(corpus_dir, "spamassassin-testdata/spam")
    clean = [p.name for p in spam if not errors(lint_bytes(p.read_bytes()))]
    assert clean == []


def test_real_newsletters_keep_unsubscribe(corpus_dir):
    folder = corpus_dir / "mailparser-samples"
    for name in ("mail_test_5.eml", "mail_test_13.eml"):
        report = lint_bytes((folder / name).read_bytes())
        assert "lint.list.unsubscribe_header_missing" not in {
            f.code for f in report.findings
        }


def test_no_rule_crashes_on_any_corpus_file(corpus_dir):
    options = LintOptions(max_size=64 * 1024 * 1024)
    linted = Counter()
    for path in sorted(corpus_dir.rglob("*")):
        if path.is_file():
            lint_path(path, options=options)
            linted[path.suffix] += 1
    assert sum(linted.values()) >= 155
