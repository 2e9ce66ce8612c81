"""Facts every renderer shows the same way: the status, the counts, the check order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from ..audit.model import CheckResult, DomainReport
from ..findings import Finding, Severity

__all__ = [
    "CHECK_ORDER",
    "CHECK_TITLES",
    "LOOKUP_FAILED_CODE",
    "STATUS_FAIL",
    "STATUS_INCOMPLETE",
    "STATUS_PASS",
    "STATUSES",
    "check_title",
    "findings_status",
    "incomplete_checks",
    "ordered_checks",
    "report_status",
    "severity_counts",
    "spf_term_label",
]

STATUS_PASS: Final = "pass"
"""No error finding, and every lookup the audit needed was answered."""
STATUS_FAIL: Final = "fail"
"""An error finding other than a failed lookup, whether or not all lookups worked."""
STATUS_INCOMPLETE: Final = "incomplete"
"""No such error, but a lookup failed, so the audit cannot vouch for the domain."""

STATUSES: Final = (STATUS_PASS, STATUS_FAIL, STATUS_INCOMPLETE)

LOOKUP_FAILED_CODE: Final = "dns.lookup_failed"
"""The code of a failed DNS lookup: an error that makes a report incomplete."""

CHECK_ORDER: Final = (
    "spf",
    "dkim",
    "dmarc",
    "mx",
    "ptr",
    "mta-sts",
    "tls-rpt",
    "bimi",
    "dnssec",
    "dns",
)
"""The order of check sections in every report; unknown checks follow, sorted."""

CHECK_TITLES: Final = {
    "spf": "SPF",
    "dmarc": "DMARC",
    "dkim": "DKIM",
    "mx": "MX (mail servers)",
    "ptr": "Reverse DNS (PTR)",
    "mta-sts": "MTA-STS",
    "tls-rpt": "TLS reporting (TLS-RPT)",
    "bimi": "BIMI",
    "dnssec": "DNSSEC",
    "dns": "DNS lookups",
}


def report_status(report: DomainReport) -> str:
    """Return ``pass``, ``fail`` or ``incomplete`` for ``report``.

    An error finding makes the domain fail even when other lookups failed,
    because no missing answer can undo that error. The exception is
    ``dns.lookup_failed``: it only says that an answer is missing, so on its own
    it gives ``incomplete``, like any failed lookup or audit error, never ``pass``.
    """
    return findings_status(report.findings, complete=report.complete)


def findings_status(findings: Iterable[Finding], *, complete: bool) -> str:
    """Return ``pass``, ``fail`` or ``incomplete`` for one check or one report.

    The rule is the one :func:`report_status` describes; ``complete`` is false
    when a lookup failed.
    """
    items = list(findings)
    if any(_is_standing_error(f) for f in items):
        return STATUS_FAIL
    if not complete or any(f.code == LOOKUP_FAILED_CODE for f in items):
        return STATUS_INCOMPLETE
    return STATUS_PASS


def _is_standing_error(finding: Finding) -> bool:
    return finding.severity is Severity.ERROR and finding.code != LOOKUP_FAILED_CODE


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Count ``findings`` by severity; every severity is a key, errors first."""
    counts = {str(s): 0 for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    for finding in findings:
        counts[str(finding.severity)] += 1
    return counts


def ordered_checks(report: DomainReport) -> list[CheckResult]:
    """Return the report's check results in :data:`CHECK_ORDER`, unknown ones last."""
    known = [report.checks[name] for name in CHECK_ORDER if name in report.checks]
    others = sorted(name for name in report.checks if name not in CHECK_ORDER)
    return known + [report.checks[name] for name in others]


def incomplete_checks(report: DomainReport) -> list[str]:
    """Return the names of checks that could not conclude, in report order."""
    return [r.check for r in ordered_checks(report) if not r.complete]


def check_title(check: str) -> str:
    """Return the heading for ``check``, e.g. ``Reverse DNS (PTR)`` for ``ptr``."""
    return CHECK_TITLES.get(check, check.upper())


def spf_term_label(term: str | None, domain: str) -> str | None:
    """Shorten an SPF tree node's ``term`` to its mechanism when it names ``domain``.

    ``include:_spf.google.com`` at ``_spf.google.com`` gives ``include`` and
    ``redirect=_spf.example.com`` gives ``redirect``. A term whose target differs
    from the node's domain, such as one with macros, is returned whole.
    """
    if not term:
        return None
    for separator in (":", "="):
        mechanism, found, target = term.partition(separator)
        if found and target.rstrip(".").lower() == domain.rstrip(".").lower():
            return mechanism
    return term
