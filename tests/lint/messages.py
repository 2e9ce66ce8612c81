"""Builders for lint tests: a clean campaign message that each test spoils once."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage

from deliverability.lint import LintReport

HEADERS = {
    "From": "Example News <news@example.com>",
    "To": "reader@example.org",
    "Subject": "Our autumn garden workshop schedule",
    "Date": "Fri, 04 Dec 2026 15:30:00 +0000",
    "Message-ID": "<20261204153000.4f2a9c1e7b@example.com>",
    "Return-Path": "<bounce-4f2a9c@mail.example.com>",
    "MIME-Version": "1.0",
    "List-Unsubscribe": "<https://example.com/unsubscribe?u=4f2a>, "
    "<mailto:unsubscribe@example.com>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}

PREHEADER = "Three evening sessions on pruning, composting and seed saving this month."

BODY = """\
<p>Dear reader, our autumn workshops start next week in the community garden.
Each session runs from six to eight in the evening, and the first one covers
pruning fruit trees before the frost. Bring gloves and a pair of secateurs if
you have them; we will lend tools to anyone who needs them.</p>
<p>The second evening is about compost: what to put in, what to keep out, and
how to turn a heap so it stays warm through the winter. The third evening is
for seed saving, with beans, tomatoes and squash from this year's beds.</p>
<p><a href="https://example.com/workshops">See the full schedule</a> and
reply to this message if you have a question for the gardeners.</p>
<img src="https://example.com/img/garden.jpg" alt="The community garden"
 width="300" height="200">
"""

FOOTER = """\
<p>Example Gardens, 1200 Market Street, Suite 4, Springfield, IL 62701</p>
<p><a href="https://example.com/unsubscribe?u=4f2a">Unsubscribe</a></p>
"""

TEXT = """\
Dear reader, our autumn workshops start next week in the community garden.
Each session runs from six to eight in the evening, and the first one covers
pruning fruit trees before the frost. Bring gloves and a pair of secateurs if
you have them; we will lend tools to anyone who needs them.

The second evening is about compost: what to put in, what to keep out, and
how to turn a heap so it stays warm through the winter. The third evening is
for seed saving, with beans, tomatoes and squash from this year's beds.

See the full schedule: https://example.com/workshops

Example Gardens, 1200 Market Street, Suite 4, Springfield, IL 62701
Unsubscribe: https://example.com/unsubscribe?u=4f2a
"""


def html_document(
    body: str = BODY, *, head: str = "", preheader: str = PREHEADER
) -> str:
    """Return a complete HTML document around ``body`` with a footer."""
    hidden = f'<div style="display:none">{preheader}</div>' if preheader else ""
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f"<title>Autumn garden workshops</title>\n{head}</head>\n<body>\n"
        f"{hidden}\n{body}{FOOTER}</body>\n</html>\n"
    )


def build_message(
    *,
    html: str | None = None,
    text: str | None = TEXT,
    headers: dict[str, str | None] | None = None,
    html_encoding: str = "quoted-printable",
) -> bytes:
    """Build a multipart/alternative message; header values of None are dropped."""
    fields = dict(HEADERS)
    fields.update(headers or {})
    body = EmailMessage(policy=email.policy.default.clone(max_line_length=76))
    html_text = html_document() if html is None else html
    if text is None:
        body.set_content(html_text, subtype="html", cte=html_encoding)
    else:
        body.set_content(text, cte="quoted-printable")
        body.add_alternative(html_text, subtype="html", cte=html_encoding)
    head = "".join(
        f"{name}: {value}\n"
        for name, value in fields.items()
        if value is not None and name != "MIME-Version"
    )
    entity = body.as_bytes()
    if fields.get("MIME-Version") is None:
        entity = entity.replace(b"MIME-Version: 1.0\n", b"")
    return head.encode("utf-8") + entity


def codes(report: LintReport) -> set[str]:
    """Return the set of finding codes in ``report``."""
    return {finding.code for finding in report.findings}
