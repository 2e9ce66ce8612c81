"""Render lint reports as text, JSON, JSON Lines or a self-contained HTML page.

The HTML page extends the report package's ``base.html.j2``, so it loads
nothing from outside: its Content-Security-Policy allows no requests, and
message content (snippets, URLs, evidence) is escaped by Jinja2's
autoescaping, so image URLs show as text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import jinja2

from ..report.html import html_environment
from ..report.text import escape_terminal
from .model import LintItem, LintReport

__all__ = ["render", "render_html", "render_json", "render_jsonl", "render_text"]

_SNIPPET_WIDTH = 160
_LABELS = {"error": "error", "warning": "warning", "info": "note"}


def render(
    reports: Sequence[LintReport], fmt: str, *, several: bool | None = None
) -> str:
    """Render ``reports`` in ``fmt``: text, json, jsonl or html.

    ``several`` is true when several messages were requested, so that JSON
    stays an array when all but one were skipped (default: more than one
    report).
    """
    if fmt == "json":
        return render_json(reports, several=several)
    renderers = {
        "text": render_text,
        "jsonl": render_jsonl,
        "html": render_html,
    }
    return renderers[fmt](reports)


def render_json(reports: Sequence[LintReport], *, several: bool | None = None) -> str:
    """Return one JSON object for one report, an array for several."""
    data: Any = [r.to_dict() for r in reports]
    if not (len(reports) > 1 if several is None else several):
        data = data[0]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render_jsonl(reports: Sequence[LintReport]) -> str:
    """Return one JSON object per line, one per report."""
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in reports)


def render_text(reports: Sequence[LintReport]) -> str:
    """Return a plain-text report for people."""
    lines: list[str] = []
    for report in reports:
        counts = _counts(report)
        lines.append(
            f"{escape_terminal(report.name)}: {counts['error']} error(s), "
            f"{counts['warning']} warning(s), {counts['info']} note(s)"
        )
        for item in report.items:
            lines.extend(_text_item(item))
        if report.spamassassin is not None:
            result = report.spamassassin
            rules = ", ".join(f"{r.name} ({r.points:g})" for r in result.rules)
            lines.append(
                f"  SpamAssassin ({result.program}): {result.score:g} of "
                f"{result.threshold:g} required; {rules or 'no rules'}"
            )
        lines.append("")
    return "\n".join(lines)


def _text_item(item: LintItem) -> list[str]:
    finding = item.finding
    label = _LABELS[str(finding.severity)]
    location = escape_terminal(finding.location or "")
    lines = [f"  {label:<8}{finding.code}  {location}".rstrip()]
    lines.append(f"          {escape_terminal(finding.message)}")
    if finding.evidence:
        lines.append(f"          found: {_one_line(finding.evidence)}")
    if finding.fix:
        lines.append(f"          fix: {finding.fix}")
    return lines


def _one_line(text: str) -> str:
    flat = escape_terminal(" ".join(text.split()))
    return flat if len(flat) <= _SNIPPET_WIDTH else flat[: _SNIPPET_WIDTH - 3] + "..."


def _counts(report: LintReport) -> Counter[str]:
    counts: Counter[str] = Counter({"error": 0, "warning": 0, "info": 0})
    counts.update(str(f.severity) for f in report.findings)
    return counts


def _environment() -> jinja2.Environment:
    return html_environment(jinja2.PackageLoader("deliverability.lint", "templates"))


def render_html(reports: Sequence[LintReport]) -> str:
    """Return a self-contained HTML page with a source snippet per finding.

    Control and direction characters from the mail (such as U+202E, which
    reverses text) are shown as escapes, so the page shows the source as it
    is stored.
    """
    entries = []
    for report in reports:
        items = [
            {
                "finding": item.finding,
                "message": _visible(item.finding.message),
                "location": _visible(item.finding.location or ""),
                "evidence": _visible(item.finding.evidence or ""),
                "snippet": _snippet(report, item),
            }
            for item in report.items
        ]
        entries.append(
            {
                "report": report,
                "name": _visible(report.name),
                "rows": items,
                "counts": _counts(report),
            }
        )
    template = _environment().get_template("lint.html.j2")
    return template.render(entries=entries)


def _visible(text: str) -> str:
    return escape_terminal(text, keep_lines=True)


def _snippet(report: LintReport, item: LintItem) -> list[tuple[int, str, bool]]:
    """Return the numbered lines around ``item``, dedented and cut to
    :data:`_SNIPPET_WIDTH` columns around the element at fault."""
    raw = report.snippet(item)
    lines = [(number, text.expandtabs(4)) for number, text in raw]
    if not lines:
        return []
    indent = min(
        (len(text) - len(text.lstrip()) for _, text in lines if text.strip()),
        default=0,
    )
    lines = [(number, text[indent:]) for number, text in lines]
    hit = next((text for number, text in lines if number == item.line), "")
    if item.column and len(hit) > _SNIPPET_WIDTH:
        # The scanner recorded where the element starts: begin the snippet there.
        raw_hit = next(text for number, text in raw if number == item.line)
        start = max(0, len(raw_hit[: item.column - 1].expandtabs(4)) - indent)
    else:
        start = _window_start(hit, item)
    result = []
    for number, text in lines:
        piece = text[start : start + _SNIPPET_WIDTH]
        if start > 0 and text[:start].strip():
            piece = "..." + piece
        if len(text) > start + _SNIPPET_WIDTH:
            piece += "..."
        result.append((number, _visible(piece), number == item.line))
    return result


def _window_start(line: str, item: LintItem) -> int:
    """Return the column where the snippet starts, so that the element at
    fault shows in a long line (HTML is often one long line).

    The evidence (a URL, say) finds the place; the snippet then starts at
    the tag that holds it, when that tag is close enough to show both.
    """
    if len(line) <= _SNIPPET_WIDTH:
        return 0
    lowered = line.lower()
    evidence = (item.finding.evidence or "").strip().lower()
    tag = _tag_of(item.element)
    found = lowered.find(evidence[:60]) if evidence else -1
    if found < 0 and tag:
        found = lowered.find(tag)
    if found < 0:
        return 0
    opening = lowered.rfind(tag, 0, found + 1) if tag else -1
    if 0 <= opening and found - opening < _SNIPPET_WIDTH // 2:
        return opening
    return max(0, found - _SNIPPET_WIDTH // 4)


def _tag_of(element: str | None) -> str:
    """Return ``<img`` for the element ``<img>`` or ``<a href>``."""
    if not element or not element.startswith("<"):
        return ""
    words = element.strip("<>").split()
    return "<" + words[0].lower() if words else ""
