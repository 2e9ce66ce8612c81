"""The terminal report: a verdict at a glance, then the findings, errors first.

Every string that can come from DNS passes through :func:`escape_terminal`, so a
TXT record holding escape sequences cannot move the cursor, recolour the screen
or set the window title. Colour is added only when the caller asks for it.
"""

from __future__ import annotations

import json
import re
import textwrap
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from ..audit.model import DomainReport, ProviderVerdict
from ..findings import Finding, Severity
from .summary import (
    STATUS_FAIL,
    STATUS_INCOMPLETE,
    STATUS_PASS,
    STATUSES,
    check_title,
    incomplete_checks,
    ordered_checks,
    report_status,
    severity_counts,
    spf_term_label,
)

__all__ = ["escape_terminal", "render_summary_text", "render_text"]

WRAP_WIDTH: Final = 88
"""Column at which prose (messages, fixes) wraps; records are never wrapped."""

# C0 and C1 controls, DEL, zero-width space, direction marks and overrides, and
# the Unicode line separators: none of them may reach a terminal raw. The zero-
# width joiners (U+200C, U+200D) are kept because emoji and Persian text need them.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]"
)
# The same without tab and newline, for HTML, where both are harmless in <pre>.
_UNSAFE_KEEP_LINES = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e"
    "\u2066-\u2069\ufeff]"
)

_SGR: Final = {
    "error": "1;31",
    "warning": "33",
    "info": "36",
    STATUS_PASS: "1;32",
    STATUS_FAIL: "1;31",
    STATUS_INCOMPLETE: "1;35",
    "dim": "2",
    "bold": "1",
}

_SEVERITY_LABELS: Final = {
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARN",
    Severity.INFO: "INFO",
}

_SECTION_TITLES: Final = {
    Severity.ERROR: "Errors",
    Severity.WARNING: "Warnings",
    Severity.INFO: "Info",
}

_PROVIDER_LABELS: Final = {
    "met": "MET",
    "not_met": "NOT MET",
    "unknown": "UNKNOWN",
    "not_checked": "NOT CHECKED",
}


def escape_terminal(text: str, *, keep_lines: bool = False) -> str:
    """Return ``text`` with every control character shown as a visible escape.

    ESC becomes ``\\x1b``, a newline ``\\x0a``, a right-to-left override
    ``\\u202e``. Printable text, accented letters included, is kept, and so are
    tab and newline when ``keep_lines`` is set.
    """
    pattern = _UNSAFE_KEEP_LINES if keep_lines else _UNSAFE
    return pattern.sub(_visible_escape, text)


def _visible_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if color else text


def render_text(
    report: DomainReport, *, color: bool = False, verbose: bool = False
) -> str:
    """Render one domain's audit for a terminal.

    The verdict and the counts come first, then the findings with errors first.
    Info findings take one line each unless ``verbose`` is set, which also adds
    every provider requirement and the details of every check. ``color`` adds
    ANSI colours. The text has no final newline.
    """
    lines = list(_header_lines(report, color))
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        lines.extend(_finding_section(report.findings, severity, color, verbose))
    lines.extend(_verdict_lines(report.verdicts, color, verbose))
    if verbose:
        lines.extend(_details_lines(report))
    return "\n".join(lines)


def _domain_label(report: DomainReport) -> str:
    name = escape_terminal(report.display_name or report.domain)
    if report.display_name and report.display_name != report.domain:
        name += f" ({escape_terminal(report.domain)})"
    return name


def _header_lines(report: DomainReport, color: bool) -> Iterator[str]:
    status = report_status(report)
    yield f"{_paint(_domain_label(report), 'bold', color)}: " + _paint(
        status.upper(), status, color
    )
    counts = severity_counts(report.findings)
    summary = f"  {_count_phrase(counts)}; {_plural(report.queries, 'DNS query')}"
    if report.source:
        summary += f" ({escape_terminal(report.source)})"
    yield summary
    unfinished = incomplete_checks(report)
    if unfinished:
        yield f"  Incomplete: {', '.join(unfinished)} (a DNS lookup failed)"
    if report.error is not None:
        yield f"  Audit error: {escape_terminal(report.error)}"


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    if noun.endswith("y"):
        return f"{count} {noun[:-1]}ies"
    return f"{count} {noun}s"


def _count_phrase(counts: Mapping[str, int]) -> str:
    return ", ".join(
        [
            _plural(counts["error"], "error"),
            _plural(counts["warning"], "warning"),
            f"{counts['info']} info",
        ]
    )


def _finding_section(
    findings: Sequence[Finding], severity: Severity, color: bool, verbose: bool
) -> Iterator[str]:
    selected = [f for f in findings if f.severity is severity]
    if not selected:
        return
    yield ""
    yield _paint(f"{_SECTION_TITLES[severity]} ({len(selected)})", "bold", color)
    for finding in selected:
        if severity is Severity.INFO and not verbose:
            yield _finding_line(finding, color)
        else:
            yield from _finding_block(finding, color)


def _finding_line(finding: Finding, color: bool) -> str:
    label = _paint(_SEVERITY_LABELS[finding.severity], str(finding.severity), color)
    return f"  {label} {finding.code}  {escape_terminal(finding.message)}"


def _finding_block(finding: Finding, color: bool) -> Iterator[str]:
    label = _paint(_SEVERITY_LABELS[finding.severity], str(finding.severity), color)
    yield f"  {label} {_paint(finding.code, 'bold', color)}"
    yield from _wrapped(finding.message, "    ")
    fields = (
        ("evidence", finding.evidence),
        ("location", finding.location),
        ("fix", finding.fix),
        ("reference", finding.reference),
    )
    for name, value in fields:
        if value is None:
            continue
        if name == "fix":
            yield from _wrapped(value, "    fix:       ", "               ")
        else:
            yield f"    {name + ':':<10} {escape_terminal(value)}"


def _wrapped(text: str, first: str, rest: str | None = None) -> Iterator[str]:
    wrapped = textwrap.wrap(
        escape_terminal(text),
        width=WRAP_WIDTH,
        initial_indent=first,
        subsequent_indent=first if rest is None else rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    yield from wrapped or [first.rstrip()]


def _verdict_lines(
    verdicts: Sequence[ProviderVerdict], color: bool, verbose: bool
) -> Iterator[str]:
    if not verdicts:
        return
    yield ""
    yield _paint("Mailbox provider requirements", "bold", color)
    for verdict in verdicts:
        label = _PROVIDER_LABELS.get(verdict.status, verdict.status.upper())
        style = {"met": STATUS_PASS, "not_met": STATUS_FAIL}.get(
            verdict.status, STATUS_INCOMPLETE
        )
        title = escape_terminal(verdict.title)
        yield f"  {_paint(f'{label:<8}', style, color)} {title} ({verdict.provider})"
        for requirement in verdict.requirements:
            if verbose or requirement.status in ("not_met", "unknown"):
                state = _PROVIDER_LABELS.get(requirement.status, requirement.status)
                codes = (
                    f" [{', '.join(requirement.codes)}]" if requirement.codes else ""
                )
                yield (
                    f"           {state.lower()}: {requirement.id}  "
                    f"{escape_terminal(requirement.text)}{codes}"
                )


def _details_lines(report: DomainReport) -> Iterator[str]:
    for result in ordered_checks(report):
        yield ""
        state = "" if result.complete else " (incomplete)"
        yield f"{check_title(result.check)} details{state}"
        for key, value in result.details.items():
            if key == "tree" and isinstance(value, Mapping):
                yield "  tree:"
                yield from _tree_lines(value, "    ", "    ")
            else:
                yield from _detail_lines(key, value)


def _detail_lines(key: str, value: Any) -> Iterator[str]:
    label = escape_terminal(str(key))
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        yield f"  {label}:"
        for item in value:
            yield f"    - {_compact(item)}"
    else:
        yield f"  {label}: {_compact(value)}"


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return escape_terminal(value)
    if isinstance(value, Mapping):
        parts = [f"{escape_terminal(str(k))}={_compact(v)}" for k, v in value.items()]
        return ", ".join(parts)
    text = json.dumps(value, ensure_ascii=False, default=str)
    return escape_terminal(text)


def _tree_lines(node: Mapping[str, Any], first: str, rest: str) -> Iterator[str]:
    domain = str(node.get("domain", "?"))
    term = node.get("term")
    label = spf_term_label(term if isinstance(term, str) else None, domain)
    head = escape_terminal(domain)
    if label is not None and label == term:
        head = f"{escape_terminal(label)} -> {head}"
    elif label is not None:
        head = f"{escape_terminal(label)} {head}"
    facts = [
        _plural(_count(node.get("lookups")), "lookup"),
        f"{_count(node.get('void_lookups'))} void",
    ]
    for key in ("status", "error"):
        if node.get(key):
            facts.append(escape_terminal(str(node[key])))
    yield f"{first}{head}  [{', '.join(facts)}]"
    if node.get("record"):
        yield f"{rest}  {escape_terminal(str(node['record']))}"
    children = [c for c in node.get("children") or [] if isinstance(c, Mapping)]
    for index, child in enumerate(children):
        last = index == len(children) - 1
        yield from _tree_lines(
            child, rest + ("`- " if last else "|- "), rest + ("   " if last else "|  ")
        )


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def render_summary_text(reports: Sequence[DomainReport]) -> str:
    """Render a table of many domains: status, counts, queries and the first error.

    The last line totals the domains per status. The text has no final newline.
    """
    header = (
        "DOMAIN",
        "STATUS",
        "ERRORS",
        "WARNINGS",
        "INFO",
        "QUERIES",
        "FIRST ERROR",
    )
    rows = [header] + [_summary_row(report) for report in reports]
    widths = [max(_display_width(row[i]) for row in rows) for i in range(len(header))]
    lines = [_format_row(row, widths) for row in rows]
    statuses = [report_status(report) for report in reports]
    totals = ", ".join(f"{statuses.count(status)} {status}" for status in STATUSES)
    lines.append("")
    lines.append(f"{_plural(len(reports), 'domain')}: {totals}")
    return "\n".join(lines)


def _summary_row(report: DomainReport) -> tuple[str, ...]:
    counts = severity_counts(report.findings)
    errors = [f.code for f in report.findings if f.severity is Severity.ERROR]
    first = errors[0] if errors else ""
    if not first and report.error is not None:
        first = escape_terminal(report.error)
    return (
        escape_terminal(report.display_name or report.domain),
        report_status(report).upper(),
        str(counts["error"]),
        str(counts["warning"]),
        str(counts["info"]),
        str(report.queries),
        first,
    )


def _format_row(row: Sequence[str], widths: Sequence[int]) -> str:
    cells = []
    for index, cell in enumerate(row):
        padding = " " * (widths[index] - _display_width(cell))
        numeric = 2 <= index <= 5
        cells.append(padding + cell if numeric else cell + padding)
    return "  ".join(cells).rstrip()


def _display_width(text: str) -> int:
    """Return the terminal columns ``text`` takes: wide CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
