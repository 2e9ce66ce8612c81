"""Findings: the values every check returns, and the catalogue of their codes.

A finding is data, not a string. Reports, exit statuses, suppressions and tests
key on its stable ``code``. Each code is declared once as a :class:`Rule`, which
carries the severity, the fix and the RFC reference, so docs/checks.md and the
code cannot drift apart (a test compares them).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CHECKS",
    "Finding",
    "Rule",
    "Severity",
    "all_rules",
    "get_rule",
    "max_severity",
    "rule",
]

#: Names a finding's ``check`` may take. The audit uses the first ten; the
#: message, lint, consent and pre-send parts add their own.
CHECKS = (
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
    "auth",
    "lint",
    "consent",
    "presend",
)


class Severity(enum.StrEnum):
    """How much a finding matters; ordered ``info < warning < error``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class Finding:
    """One observation about a domain, a message or a contact list."""

    code: str
    """Stable identifier such as ``spf.lookup_limit``; never reworded."""
    check: str
    """The check the finding belongs to (one of :data:`CHECKS`)."""
    severity: Severity
    message: str
    """A full sentence for people, naming the record or token at fault."""
    evidence: str | None = None
    """The record, header or text as found, unchanged."""
    fix: str | None = None
    reference: str | None = None
    """The standard behind the rule, e.g. ``RFC 7208, section 4.6.4``."""
    location: str | None = None
    """The place of the evidence: a DNS name, a MIME part and line, a CSV row."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: empty optional fields are left out."""
        data: dict[str, Any] = {
            "code": self.code,
            "check": self.check,
            "severity": str(self.severity),
            "message": self.message,
        }
        for key in ("evidence", "fix", "reference", "location"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class Rule:
    """The declaration of one finding code: what it means and how to fix it."""

    code: str
    check: str
    severity: Severity
    title: str
    """A short phrase for the docs and the report's table of contents."""
    fix: str
    reference: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def finding(
        self,
        message: str,
        *,
        evidence: str | None = None,
        location: str | None = None,
        fix: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """Create a finding of this rule; ``fix`` overrides the generic fix."""
        # Positional arguments, in field order: rules create many findings.
        return Finding(
            self.code,
            self.check,
            severity or self.severity,
            message,
            evidence,
            fix or self.fix,
            self.reference,
            location,
        )


_REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    check: str,
    severity: Severity,
    title: str,
    *,
    fix: str,
    reference: str | None = None,
) -> Rule:
    """Declare a finding code. Raises ``ValueError`` when the code exists."""
    if code in _REGISTRY:
        raise ValueError(f"finding code {code!r} is declared twice")
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r} for finding code {code!r}")
    declared = Rule(code, check, severity, title, fix, reference)
    _REGISTRY[code] = declared
    return declared


def get_rule(code: str) -> Rule:
    """Return the rule declared for ``code``; raises ``KeyError`` if none is."""
    return _REGISTRY[code]


def all_rules() -> Iterator[Rule]:
    """Yield every declared rule, sorted by code.

    Only rules of imported modules are registered; import
    :mod:`deliverability.catalog` first to load them all.
    """
    yield from sorted(_REGISTRY.values(), key=lambda r: r.code)


def max_severity(findings: Iterable[Finding]) -> Severity | None:
    """Return the highest severity among ``findings``, or ``None`` if empty."""
    highest: Severity | None = None
    for item in findings:
        if highest is None or item.severity > highest:
            highest = item.severity
    return highest
