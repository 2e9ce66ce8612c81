"""Result values of a domain audit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..findings import Finding, Severity, max_severity

__all__ = [
    "AuditOptions",
    "CheckResult",
    "DomainReport",
    "ProviderVerdict",
    "Requirement",
]


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What to audit besides the records every domain is checked for."""

    selectors: tuple[str, ...] = ()
    """DKIM selectors to check first, before the common ones."""
    common_selectors: bool = True
    """Also probe a list of selectors that mail services commonly use."""
    ips: tuple[str, ...] = ()
    """Sending IP addresses to check for forward-confirmed reverse DNS."""
    fetch_mta_sts_policy: bool | None = None
    """Fetch the MTA-STS policy over HTTPS; ``None`` means only when online."""
    bimi_selector: str = "default"


@dataclass(slots=True)
class CheckResult:
    """The outcome of one check (``spf``, ``dmarc``, ...) for one domain."""

    check: str
    findings: list[Finding] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    """JSON-ready facts: records found, counts, trees, hosts."""
    complete: bool = True
    """False when a DNS lookup failed, so the check could not conclude."""

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.details)
        data["complete"] = self.complete
        return data


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement of a mailbox provider and whether the domain meets it."""

    id: str
    """Stable id such as ``gmail-bulk.dmarc``."""
    text: str
    status: str
    """``met``, ``not_met``, ``unknown`` (lookup failed) or ``not_checked``."""
    codes: tuple[str, ...] = ()
    """Finding codes that decided the status."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "status": self.status,
            "codes": list(self.codes),
        }


@dataclass(frozen=True, slots=True)
class ProviderVerdict:
    """A mailbox provider's rule set applied to the domain's findings."""

    provider: str
    """Rule-set id such as ``gmail-yahoo-bulk-2024``."""
    title: str
    requirements: tuple[Requirement, ...]

    @property
    def status(self) -> str:
        states = {r.status for r in self.requirements}
        if "not_met" in states:
            return "not_met"
        if "unknown" in states:
            return "unknown"
        return "met"

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "title": self.title,
            "status": self.status,
            "requirements": [r.to_dict() for r in self.requirements],
        }


@dataclass(slots=True)
class DomainReport:
    """Everything the audit found for one domain."""

    domain: str
    """The audited name as A-labels."""
    display_name: str
    """The name as U-labels for people; equal to ``domain`` for ASCII names."""
    checks: dict[str, CheckResult] = field(default_factory=dict)
    verdicts: list[ProviderVerdict] = field(default_factory=list)
    queries: int = 0
    """DNS queries this domain's audit sent (cache hits excluded)."""
    source: str = ""
    """Where answers came from, e.g. ``zone files (3 zones, offline)``."""
    error: str | None = None
    """Set when the domain could not be audited at all."""

    @property
    def findings(self) -> list[Finding]:
        """All findings, errors first, then by check and code.

        A failed lookup that two checks needed (an MX host's address, say)
        is listed once; each check's own list keeps its copy.
        """
        items: list[Finding] = []
        seen_failures: set[str | None] = set()
        for result in self.checks.values():
            for finding in result.findings:
                if finding.code == "dns.lookup_failed":
                    # The location is "NAME TYPE": one lookup, failed once.
                    if finding.location in seen_failures:
                        continue
                    seen_failures.add(finding.location)
                items.append(finding)
        items.sort(key=lambda f: (-f.severity.rank, f.check, f.code))
        return items

    @property
    def complete(self) -> bool:
        return self.error is None and all(r.complete for r in self.checks.values())

    @property
    def worst(self) -> Severity | None:
        return max_severity(self.findings)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object documented in docs/json-schema.md."""
        data: dict[str, Any] = {
            "domain": self.domain,
            "display_name": self.display_name,
            "complete": self.complete,
            "findings": [f.to_dict() for f in self.findings],
            "checks": {name: r.to_dict() for name, r in self.checks.items()},
            "verdicts": [v.to_dict() for v in self.verdicts],
            "dns_queries": self.queries,
            "source": self.source,
        }
        if self.error is not None:
            data["error"] = self.error
        return data
