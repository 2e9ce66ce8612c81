"""Rules and helpers shared by every audit check."""

from __future__ import annotations

from ..dns.answer import Answer
from ..findings import Finding, Severity, rule

__all__ = ["DNS_LOOKUP_FAILED", "DNS_NXDOMAIN", "lookup_failed"]

DNS_LOOKUP_FAILED = rule(
    "dns.lookup_failed",
    "dns",
    Severity.ERROR,
    "DNS lookup failed",
    fix=(
        "Check that the domain's nameservers answer (dig +norec @NS NAME TYPE), "
        "then run the audit again; a failed lookup is never read as a missing "
        "or passing record."
    ),
    reference="RFC 7208, section 2.6.6; RFC 7489, section 6.6.3",
)

DNS_NXDOMAIN = rule(
    "dns.nxdomain",
    "dns",
    Severity.ERROR,
    "Domain does not exist",
    fix="Check the spelling of the domain, or register and delegate it.",
    reference="RFC 1035, section 4.1.1",
)


def lookup_failed(answer: Answer, purpose: str, *, check: str = "dns") -> Finding:
    """Return a ``dns.lookup_failed`` finding for a failed lookup.

    ``purpose`` says what the answer was needed for, e.g. ``the SPF record``.
    """
    del check  # every failed lookup is reported under the "dns" check
    return DNS_LOOKUP_FAILED.finding(
        f"The lookup of {answer.rdtype} {answer.name} for {purpose} failed "
        f"({answer.error or 'unknown error'}), so it could not be checked.",
        location=f"{answer.name} {answer.rdtype}",
    )
