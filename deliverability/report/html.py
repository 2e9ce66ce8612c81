"""The HTML report: one self-contained page per domain, and an index page.

A page loads nothing: the CSS is inlined, there is no script, font or image,
and a Content-Security-Policy meta tag forbids every fetch in case a value ever
slips past autoescaping. Every value from DNS is escaped by Jinja2.

Other pages (campaign lint, consent) extend ``base.html.j2`` through
:func:`html_environment`, which also offers the macros in ``macros.html.j2``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .. import __version__
from ..audit.model import CheckResult, DomainReport
from ..findings import Finding, Severity
from .summary import (
    STATUS_PASS,
    STATUSES,
    check_title,
    findings_status,
    incomplete_checks,
    ordered_checks,
    report_status,
    severity_counts,
    spf_term_label,
)
from .text import escape_terminal

__all__ = [
    "html_environment",
    "html_file_name",
    "render_html",
    "render_html_index",
    "write_html_reports",
]

logger = logging.getLogger(__name__)

INDEX_NAME: Final = "index.html"

# Detail keys that the SPF section shows itself, above the generic list.
_SPF_KEYS: Final = ("record", "dns_lookups", "void_lookups", "tree")

# Badge classes for the statuses an SPF tree node may carry; others are neutral.
_NODE_STATUS_CLASSES: Final = {
    "ok": "ok",
    "pass": "ok",
    "found": "ok",
    "void": "warn",
    "nodata": "warn",
    "nxdomain": "warn",
    "missing": "warn",
    "none": "warn",
    "failed": "bad",
    "error": "bad",
    "loop": "bad",
    "invalid": "bad",
    "permerror": "bad",
    "temperror": "bad",
    "limit": "bad",
}

# The deepest SPF tree shown; real trees stop far earlier at the 10-lookup limit.
_MAX_TREE_DEPTH: Final = 32

# Longest file-name stem kept; a longer one is cut and given a hash, because
# names may have 253 characters and most file systems allow 255-byte file names.
_MAX_STEM: Final = 120

_WINDOWS_RESERVED: Final = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{i}" for i in range(1, 10)]
    + [f"lpt{i}" for i in range(1, 10)]
)


def html_environment(*loaders: BaseLoader) -> Environment:
    """Create the Jinja2 environment of the HTML reports.

    Autoescaping is on for every template and undefined variables raise.
    Control characters and direction overrides in printed text are shown as
    visible escapes (see :func:`escape_terminal`), tab and newline excepted. The
    report templates (``base.html.j2``, ``macros.html.j2``) are found after
    the given ``loaders``, so a page of another part of the package can extend
    ``base.html.j2`` and import ``macros.html.j2``. The globals ``report_css``
    and ``version`` and the filters the macros use are set.
    """
    own = PackageLoader("deliverability.report", "templates")
    environment = Environment(
        loader=ChoiceLoader([*loaders, own]),
        autoescape=True,
        finalize=_show_controls,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.globals["report_css"] = _report_css()
    environment.globals["version"] = __version__
    environment.filters["detail_kind"] = detail_kind
    environment.filters["table_columns"] = table_columns
    environment.filters["label"] = _label
    environment.filters["check_title"] = check_title
    return environment


def _show_controls(value: Any) -> Any:
    """Make control characters visible in text before it is escaped.

    Markup is left alone: macro output was handled value by value as the macro
    printed it, and the style sheet is package data.
    """
    if isinstance(value, str) and not isinstance(value, Markup):
        return escape_terminal(value, keep_lines=True)
    return value


@functools.cache
def _report_css() -> Markup:
    text = resources.files(__package__).joinpath("report.css").read_text("utf-8")
    if "</" in text:
        raise ValueError("report.css must not contain '</', which would end <style>")
    # The style sheet is package data, not input, so it is safe to emit as is.
    return Markup(text)


@functools.cache
def _environment() -> Environment:
    return html_environment()


def detail_kind(value: Any) -> str:
    """Classify a detail value for the ``value`` macro.

    Returns ``none``, ``boolean``, ``number``, ``text``, ``empty``, ``mapping``,
    ``table`` (a list of mappings), ``scalars`` (a list of strings, numbers,
    booleans or nulls) or ``list``.
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, Mapping):
        return "mapping" if value else "empty"
    if isinstance(value, list | tuple | set | frozenset):
        if not value:
            return "empty"
        if all(isinstance(item, Mapping) for item in value):
            return "table"
        if all(_is_scalar(item) for item in value):
            return "scalars"
        return "list"
    return "text"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float)


def table_columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Return the keys of ``rows`` in first-seen order, for a table's columns."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def _label(key: object) -> str:
    return str(key).replace("_", " ")


def render_html(report: DomainReport) -> str:
    """Render one domain's audit as a self-contained HTML page."""
    template = _environment().get_template("domain.html.j2")
    return template.render(
        report=report,
        status=report_status(report),
        counts=severity_counts(report.findings),
        incomplete=incomplete_checks(report),
        checks=[_check_view(result) for result in ordered_checks(report)],
        fixes=_fixes(report),
    )


def _check_view(result: CheckResult) -> dict[str, Any]:
    counts = severity_counts(result.findings)
    status, label = _check_status(result, counts)
    details = dict(result.details)
    spf = None
    if result.check == "spf":
        spf = _spf_view(details)
        for key in _SPF_KEYS:
            details.pop(key, None)
    return {
        "name": result.check,
        "title": check_title(result.check),
        "anchor": _anchor(result.check),
        "status": status,
        "label": label,
        "complete": result.complete,
        "counts": counts,
        "findings": sorted(result.findings, key=_finding_order),
        "spf": spf,
        "details": details,
    }


def _check_status(result: CheckResult, counts: Mapping[str, int]) -> tuple[str, str]:
    """Return the badge class and text of one check."""
    status = findings_status(result.findings, complete=result.complete)
    if status == STATUS_PASS and counts["warning"]:
        return "warning", "warning"
    return status, status


def _finding_order(finding: Finding) -> tuple[int, str, str]:
    return (-finding.severity.rank, finding.code, finding.message)


def _anchor(check: str) -> str:
    return re.sub(r"[^a-z0-9-]", "-", check.lower())


def _fixes(report: DomainReport) -> list[dict[str, Any]]:
    """List the errors and warnings with the section each one sits in."""
    items: list[dict[str, Any]] = []
    for result in ordered_checks(report):
        for finding in result.findings:
            if finding.severity is Severity.INFO:
                continue
            items.append(
                {
                    "finding": finding,
                    "anchor": _anchor(result.check),
                    "title": check_title(result.check),
                }
            )
    items.sort(key=lambda item: _finding_order(item["finding"]))
    return items


def _spf_view(details: Mapping[str, Any]) -> dict[str, Any]:
    tree = details.get("tree")
    return {
        "record": details.get("record"),
        "dns_lookups": _count_or_none(details.get("dns_lookups")),
        "void_lookups": _count_or_none(details.get("void_lookups")),
        "tree": _spf_node(tree, 0) if isinstance(tree, Mapping) else None,
    }


def _spf_node(node: Mapping[str, Any], depth: int) -> dict[str, Any]:
    """Copy one SPF tree node with every key the template reads filled in."""
    status = node.get("status")
    children = node.get("children") or []
    if depth >= _MAX_TREE_DEPTH:
        children = []
    domain = str(node.get("domain", ""))
    term = node.get("term")
    return {
        "domain": domain,
        "record": node.get("record"),
        "term": spf_term_label(term if isinstance(term, str) else None, domain),
        "status": None if status is None else str(status),
        "status_class": _NODE_STATUS_CLASSES.get(str(status).lower(), "neutral"),
        "error": None if node.get("error") is None else str(node["error"]),
        "lookups": _count_or_none(node.get("lookups")) or 0,
        "void_lookups": _count_or_none(node.get("void_lookups")) or 0,
        "children": [
            _spf_node(child, depth + 1)
            for child in children
            if isinstance(child, Mapping)
        ],
    }


def _count_or_none(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def render_html_index(reports: Sequence[DomainReport], links: Mapping[str, str]) -> str:
    """Render a page that lists ``reports`` with their status and counts.

    ``links`` maps a report's ``domain`` to the relative address of its page; a
    domain without one is listed without a link. Addresses are percent-encoded,
    so a link cannot carry a scheme such as ``javascript:``.
    """
    rows = [_index_row(report, links.get(report.domain)) for report in reports]
    statuses = [row["status"] for row in rows]
    totals = {status: statuses.count(status) for status in STATUSES}
    template = _environment().get_template("index.html.j2")
    return template.render(rows=rows, totals=totals)


def _index_row(report: DomainReport, link: str | None) -> dict[str, Any]:
    errors = [f.code for f in report.findings if f.severity is Severity.ERROR]
    return {
        "name": report.display_name or report.domain,
        "href": None if link is None else quote(link, safe="/"),
        "status": report_status(report),
        "counts": severity_counts(report.findings),
        "queries": report.queries,
        "first_error": errors[0] if errors else None,
    }


def html_file_name(domain: str, used_names: set[str]) -> str:
    """Return a file name for ``domain``'s page that is not in ``used_names``.

    The name returned is added to ``used_names``.

    The name is the A-label in lower case with anything but letters, digits,
    dots and hyphens replaced by ``_``. A long name is cut and given a hash, a
    name already taken (or ``index``, or a Windows device name) a number.
    """
    stem = re.sub(r"[^a-z0-9.-]", "_", domain.lower()).strip(".") or "domain"
    if len(stem) > _MAX_STEM:
        digest = hashlib.sha256(domain.encode("utf-8")).hexdigest()[:12]
        stem = f"{stem[:_MAX_STEM]}-{digest}"
    if stem.split(".")[0] in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    candidate = f"{stem}.html"
    number = 2
    while candidate in used_names or candidate == INDEX_NAME:
        candidate = f"{stem}-{number}.html"
        number += 1
    used_names.add(candidate)
    return candidate


def write_html_reports(reports: Iterable[DomainReport], folder: Path) -> list[Path]:
    """Write one page per domain and an ``index.html`` into ``folder``.

    The folder is created if needed and existing pages of the same names are
    replaced. Returns the paths written, the index last. Raises ``OSError``
    when a file cannot be written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    reports_written: list[DomainReport] = []
    links: dict[str, str] = {}
    used_names: set[str] = set()
    for report in reports:
        name = html_file_name(report.domain, used_names)
        path = folder / name
        path.write_text(render_html(report), encoding="utf-8", newline="\n")
        links.setdefault(report.domain, name)
        reports_written.append(report)
        written.append(path)
    index = folder / INDEX_NAME
    index.write_text(
        render_html_index(reports_written, links), encoding="utf-8", newline="\n"
    )
    written.append(index)
    logger.info(
        "wrote %d HTML reports and an index to %s", len(reports_written), folder
    )
    return written
