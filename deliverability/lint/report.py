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
from .model import LintItem, LintReport

__all__ = ["render", "render_html", "render_json", "render_jsonl", "render_text"]

_SNIPPET_WIDTH = 160
_LABELS = {"error": "error", "warning": "warning", "info": "note"}


def render(reports: Sequence[LintReport], fmt: str) -> str:
    """Render ``reports`` in ``fmt``: text, json, jsonl or html."""
    renderers = {
        "text": render_text,
        "json": render_json,
        "jsonl": render_jsonl,
        "html": render_html,
    }
    return renderers[fmt](reports)


def render_json(reports: Sequence[LintReport]) -> str:
    """Return one JSON object for one report, an array for several."""
    data: Any = [r.to_dict() for r in reports]
    if len(reports) == 1:
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
            f"{report.name}: {counts['error']} error(s), {counts['warning']} "
            f"warning(s), {counts['info']} note(s)"
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
    lines = [f"  {label:<8}{finding.code}  {finding.location or ''}".rstrip()]
    lines.append(f"          {finding.message}")
    if finding.evidence:
        lines.append(f"          found: {_one_line(finding.evidence)}")
    if finding.fix:
        lines.append(f"          fix: {finding.fix}")
    return lines


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET_WIDTH else flat[: _SNIPPET_WIDTH - 3] + "..."


def _counts(report: LintReport) -> Counter[str]:
    counts: Counter[str] = Counter({"error": 0, "warning": 0, "info": 0})
    counts.update(str(f.severity) for f in report.findings)
    return counts


def _environment() -> jinja2.Environment:
    return html_environment(jinja2.PackageLoader("deliverability.lint", "templates"))


def render_html(reports: Sequence[LintReport]) -> str:
    """Return a self-contained HTML page with a source snippet per finding."""
    entries = []
    for report in reports:
        items = [
            {"finding": item.finding, "snippet": _snippet(report, item)}
            for item in report.items
        ]
        entries.append({"report": report, "rows": items, "counts": _counts(report)})
    template = _environment().get_template("lint.html.j2")
    return template.render(entries=entries)


def _snippet(report: LintReport, item: LintItem) -> list[tuple[int, str, bool]]:
    lines = report.snippet(item)
    result = []
    for number, text in lines:
        if len(text) > _SNIPPET_WIDTH:
            text = text[:_SNIPPET_WIDTH] + "..."
        result.append((number, text, number == item.line))
    return result
