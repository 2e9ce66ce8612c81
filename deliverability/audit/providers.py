"""Mailbox-provider verdicts: the domain's checks read against each rule set.

Three rule sets are built in, each a table of requirements:

- ``gmail-yahoo-bulk-2024``: Gmail's and Yahoo's rules for bulk senders,
  enforced since February 2024 (Google, Email sender guidelines,
  support.google.com/mail/answer/81126; Yahoo, Sender Best Practices,
  senders.yahooinc.com/best-practices).
- ``gmail-all-2024``: Gmail's rules for every sender (same Google page).
- ``outlook-2025``: Outlook's rules for senders of more than 5,000 messages a
  day, enforced since 5 May 2025 (Microsoft Defender for Office 365 Blog,
  "Strengthening Email Ecosystem: Outlook's New Requirements for High-Volume
  Senders", techcommunity.microsoft.com).

Each requirement is derived from the check results alone, never from new
lookups. Its status is ``met``, ``not_met``, ``unknown`` (a check it depends
on could not complete) or ``not_checked`` (DNS cannot show it, e.g. TLS use
or one-click unsubscribe headers, which are properties of sent messages).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..findings import Finding, Severity
from .model import CheckResult, DomainReport, ProviderVerdict, Requirement

__all__ = [
    "MIN_DKIM_BITS",
    "RULE_SETS",
    "RuleSet",
    "provider_verdicts",
]

#: The smallest RSA key Gmail and Yahoo accept for DKIM.
MIN_DKIM_BITS = 1024

MET = "met"
NOT_MET = "not_met"
UNKNOWN = "unknown"
NOT_CHECKED = "not_checked"

Status = tuple[str, tuple[str, ...]]
"""A requirement's status and the finding codes that decided it."""
Evaluator = Callable[[DomainReport], Status]


def _codes(findings: Iterable[Finding]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f.code for f in findings))


def _failed_codes(result: CheckResult) -> tuple[str, ...]:
    return _codes(f for f in result.findings if f.code == "dns.lookup_failed")


def _notable_codes(result: CheckResult) -> tuple[str, ...]:
    """Return the codes of the warnings and errors of ``result``."""
    return _codes(f for f in result.findings if f.severity is not Severity.INFO)


def spf_status(report: DomainReport) -> Status:
    """Met when the domain publishes an SPF record without errors."""
    result = report.checks.get("spf")
    if result is None:
        return NOT_CHECKED, ()
    errors = [
        f
        for f in result.findings
        if f.severity is Severity.ERROR and f.code != "dns.lookup_failed"
    ]
    if result.details.get("record") is None:
        if not result.complete:
            return UNKNOWN, _failed_codes(result)
        return NOT_MET, _codes(errors) or _notable_codes(result)
    if errors:
        return NOT_MET, _codes(errors)
    if not result.complete:
        return UNKNOWN, _failed_codes(result)
    return MET, ()


def dkim_status(report: DomainReport) -> Status:
    """Met when some selector has a valid key of at least 1024 bits."""
    result = report.checks.get("dkim")
    if result is None:
        return NOT_CHECKED, ()
    keys = result.details.get("keys") or []
    if any(_strong_key(key) for key in keys):
        return MET, ()
    if not result.complete:
        return UNKNOWN, _failed_codes(result)
    codes = _notable_codes(result)
    if codes == ("dkim.not_found",) and result.details.get("domainkey_node") != (
        "nxdomain"
    ):
        # Only guessed selectors were missing, and the domain may sign with
        # one that cannot be guessed, so DNS alone cannot tell.
        return UNKNOWN, codes
    return NOT_MET, codes


def _strong_key(key: dict[str, object]) -> bool:
    bits = key.get("bits")
    return (
        key.get("status") == "valid" and isinstance(bits, int) and bits >= MIN_DKIM_BITS
    )


def dmarc_status(report: DomainReport) -> Status:
    """Met when a valid DMARC record applies a policy (p=none at least)."""
    result = report.checks.get("dmarc")
    if result is None:
        return NOT_CHECKED, ()
    effective = result.details.get("effective") or {}
    if result.details.get("record") is not None and effective.get("p"):
        return MET, ()
    if not result.complete:
        return UNKNOWN, _failed_codes(result)
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    return NOT_MET, _codes(errors) or _notable_codes(result)


def alignment_status(report: DomainReport) -> Status:
    """Met when SPF or DKIM can pass for a name under the domain itself.

    An SPF record on the domain lets it be the envelope sender (Return-Path)
    domain, and a DKIM key on it lets it be the signing domain (d=); either
    one aligns with a From address at the domain, strictly or relaxed.
    """
    spf, spf_codes = spf_status(report)
    dkim, dkim_codes = dkim_status(report)
    states = {spf, dkim}
    if MET in states:
        return MET, ()
    codes = tuple(dict.fromkeys(spf_codes + dkim_codes))
    if UNKNOWN in states:
        return UNKNOWN, codes
    if states == {NOT_CHECKED}:
        return NOT_CHECKED, ()
    return NOT_MET, codes


def spf_or_dkim_status(report: DomainReport) -> Status:
    """Met when SPF or DKIM is in place (Gmail's rule for all senders)."""
    return alignment_status(report)


def fcrdns_status(report: DomainReport) -> Status:
    """Met when every known sending IP has forward-confirmed reverse DNS."""
    entries = _sending_entries(report)
    if entries is None:
        return NOT_CHECKED, ()
    confirmed = [e.get("forward_confirmed") for e in entries]
    if False in confirmed:
        return NOT_MET, _ptr_codes(report, ("ptr.missing", "ptr.not_confirmed"))
    if None in confirmed:
        return UNKNOWN, _failed_codes(report.checks["ptr"])
    return MET, ()


def ptr_name_status(report: DomainReport) -> Status:
    """Met when no sending IP's PTR name looks generic (Yahoo's rule)."""
    entries = _sending_entries(report)
    if entries is None:
        return NOT_CHECKED, ()
    if any(e.get("generic") for e in entries):
        return NOT_MET, _ptr_codes(report, ("ptr.generic",))
    if any(e.get("forward_confirmed") is None for e in entries):
        return UNKNOWN, _failed_codes(report.checks["ptr"])
    return MET, ()


def _sending_entries(report: DomainReport) -> list[dict[str, object]] | None:
    """Return the PTR entries of sending IPs, or None when there are none."""
    result = report.checks.get("ptr")
    if result is None:
        return None
    entries = [
        e
        for e in result.details.get("addresses", [])
        if e.get("source") in ("given", "spf")
    ]
    return entries or None


def _ptr_codes(report: DomainReport, wanted: tuple[str, ...]) -> tuple[str, ...]:
    findings = report.checks["ptr"].findings
    return _codes(
        f for f in findings if f.code in wanted and f.severity is not Severity.INFO
    )


def not_checked(report: DomainReport) -> Status:
    """For requirements that DNS cannot show; always ``not_checked``."""
    del report
    return NOT_CHECKED, ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """One provider's requirements: ``(key, text, evaluator)`` rows."""

    id: str
    title: str
    rows: tuple[tuple[str, str, Evaluator], ...]

    def apply(self, report: DomainReport) -> ProviderVerdict:
        """Evaluate every row against ``report``."""
        requirements = []
        for key, text, evaluate in self.rows:
            status, codes = evaluate(report)
            requirements.append(Requirement(f"{self.id}.{key}", text, status, codes))
        return ProviderVerdict(self.id, self.title, tuple(requirements))


GMAIL_YAHOO_BULK = RuleSet(
    "gmail-yahoo-bulk-2024",
    "Gmail and Yahoo, bulk senders (February 2024)",
    (
        ("spf", "Publish a valid SPF record for the sending domain.", spf_status),
        (
            "dkim",
            "Sign with DKIM; the key must have at least 1024 bits.",
            dkim_status,
        ),
        (
            "dmarc",
            "Publish a DMARC record with a policy of at least p=none.",
            dmarc_status,
        ),
        (
            "alignment",
            "The From domain must align with the SPF or the DKIM domain.",
            alignment_status,
        ),
        (
            "fcrdns",
            "Sending IPs need a PTR record whose name resolves back to them.",
            fcrdns_status,
        ),
        (
            "ptr-name",
            "PTR names should be specific to the sender, not generic (Yahoo).",
            ptr_name_status,
        ),
        ("tls", "Send over a TLS connection.", not_checked),
        (
            "one-click-unsubscribe",
            "Marketing mail needs List-Unsubscribe with one-click (RFC 8058).",
            not_checked,
        ),
        ("spam-rate", "Keep the reported spam rate below 0.3%.", not_checked),
    ),
)

GMAIL_ALL = RuleSet(
    "gmail-all-2024",
    "Gmail, all senders (February 2024)",
    (
        (
            "spf-or-dkim",
            "Set up SPF or DKIM for the sending domain.",
            spf_or_dkim_status,
        ),
        (
            "fcrdns",
            "Sending IPs need a PTR record whose name resolves back to them.",
            fcrdns_status,
        ),
        ("tls", "Send over a TLS connection.", not_checked),
        ("spam-rate", "Keep the reported spam rate below 0.3%.", not_checked),
    ),
)

OUTLOOK = RuleSet(
    "outlook-2025",
    "Outlook, senders of over 5,000 messages a day (May 2025)",
    (
        ("spf", "SPF must pass for the sending domain.", spf_status),
        ("dkim", "DKIM must pass for the sending domain.", dkim_status),
        (
            "dmarc",
            "Publish a DMARC record with a policy of at least p=none.",
            dmarc_status,
        ),
        (
            "alignment",
            "DMARC must align with SPF or DKIM, preferably both.",
            alignment_status,
        ),
    ),
)

#: The built-in rule sets, in report order.
RULE_SETS = (GMAIL_YAHOO_BULK, GMAIL_ALL, OUTLOOK)


def provider_verdicts(report: DomainReport) -> list[ProviderVerdict]:
    """Apply every built-in rule set to ``report``'s check results."""
    return [rule_set.apply(report) for rule_set in RULE_SETS]
