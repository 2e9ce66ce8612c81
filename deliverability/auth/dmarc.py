"""DMARC evaluation of one message: alignment and the policy that applies.

Policy discovery and the record parser come from the audit
(:mod:`deliverability.audit.orgdomain`, :mod:`deliverability.audit.dmarc_record`).
This module adds what a receiver does with them (RFC 7489, section 6.6). An
authenticated identifier aligns with the author domain strictly (equal names)
or relaxed (the same Organizational Domain). DMARC passes when an aligned SPF
or DKIM pass exists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..audit.orgdomain import (
    PolicyDiscovery,
    discover_policy,
    discover_policy_psl,
    organizational_domain_psl,
)
from ..dns import Resolver, Status
from ..errors import InvalidDomainError
from .spf import SPFResult
from .verification import DKIMResult

__all__ = ["DISCOVERY_METHODS", "DMARCResult", "aligned", "evaluate_dmarc"]

log = logging.getLogger(__name__)

DISCOVERY_METHODS = ("psl", "tree-walk")
"""RFC 7489 uses the Public Suffix List; RFC 9989 walks the DNS tree."""


@dataclass(frozen=True, slots=True)
class DMARCResult:
    """The DMARC verdict for one author domain."""

    result: str
    """``pass``, ``fail``, ``none``, ``temperror`` or ``permerror``."""
    from_domain: str | None
    policy: str | None = None
    """The policy that applies (``none``, ``quarantine``, ``reject``), if any."""
    policy_source: str | None = None
    """The name of the record that applies, e.g. ``_dmarc.example.com``."""
    organizational_domain: str | None = None
    record: str | None = None
    spf_aligned: bool = False
    dkim_aligned: bool = False
    aligned_dkim_domain: str | None = None
    reason: str = ""

    @property
    def passed(self) -> bool:
        """True when DMARC passed."""
        return self.result == "pass"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "result": self.result,
            "from_domain": self.from_domain,
            "policy": self.policy,
            "policy_source": self.policy_source,
            "organizational_domain": self.organizational_domain,
            "record": self.record,
            "spf_aligned": self.spf_aligned,
            "dkim_aligned": self.dkim_aligned,
            "aligned_dkim_domain": self.aligned_dkim_domain,
            "reason": self.reason,
        }


def aligned(identifier: str, author: str, mode: str, org_of: str | None = None) -> bool:
    """Return True when ``identifier`` aligns with ``author`` in ``mode``.

    ``mode`` is ``s`` (the names must be equal) or ``r`` (relaxed: the
    Organizational Domains must be equal). ``org_of`` is the author's
    Organizational Domain when known, e.g. from a tree walk.
    """
    identifier = identifier.rstrip(".").lower()
    author = author.rstrip(".").lower()
    if identifier == author:
        return True
    if mode == "s":
        return False
    author_org = org_of or organizational_domain_psl(author)
    return organizational_domain_psl(identifier) == author_org


async def _domain_exists(domain: str, resolver: Resolver) -> bool | None:
    """Return False for NXDOMAIN, None when the lookup failed (RFC 9091)."""
    answer = await resolver.resolve(domain, "A")
    if answer.failed:
        return None
    return answer.status is not Status.NXDOMAIN


def _applicable_policy(
    found: PolicyDiscovery, author: str, exists: bool | None
) -> str | None:
    record = found.record
    if record is None:
        return None
    effective = record.effective()
    # p= covers the domain that published it and the Organizational Domain
    # (also when a public suffix's psd=y record applies to it); sp= and np=
    # cover the subdomains (RFC 9989, section 4.10).
    if author in (found.policy_domain, found.organizational_domain):
        return str(effective["p"]) if effective["p"] else None
    if exists is False and effective.get("np"):
        return str(effective["np"])
    return str(effective["sp"]) if effective["sp"] else None


def _alignment(
    author: str,
    found: PolicyDiscovery,
    spf: SPFResult | None,
    dkim_results: Sequence[DKIMResult],
) -> tuple[bool, str | None, bool]:
    record = found.record
    adkim = (record.valid_value("adkim") if record else None) or "r"
    aspf = (record.valid_value("aspf") if record else None) or "r"
    org = found.organizational_domain
    spf_ok = bool(
        spf
        and spf.result == "pass"
        and spf.identity == "mailfrom"
        and aligned(spf.domain, author, aspf, org)
    )
    dkim_domain = next(
        (
            r.domain
            for r in dkim_results
            if r.passed and aligned(r.domain, author, adkim, org)
        ),
        None,
    )
    temp = any(r.result == "temperror" for r in dkim_results) or bool(
        spf and spf.result == "temperror"
    )
    return spf_ok, dkim_domain, temp


async def evaluate_dmarc(
    author: str,
    *,
    spf: SPFResult | None,
    dkim_results: Sequence[DKIMResult],
    resolver: Resolver,
    method: str = "psl",
) -> DMARCResult:
    """Evaluate DMARC for the author domain ``author`` (RFC 7489, section 6.6).

    ``method`` picks policy discovery: ``psl`` (RFC 7489) or ``tree-walk``
    (RFC 9989). A failed ``_dmarc`` lookup gives ``temperror``, never
    ``none``.
    """
    try:
        if method == "tree-walk":
            found = await discover_policy(author, resolver=resolver)
        else:
            found = await discover_policy_psl(author, resolver=resolver)
    except InvalidDomainError as exc:
        return DMARCResult("permerror", author, reason=str(exc))
    base = DMARCResult(
        "none", author, organizational_domain=found.organizational_domain
    )
    if found.record is None:
        if found.failed:
            failed = found.failed[0]
            reason = f"the lookup of {failed.name} failed: {failed.error}"
            return replace(base, result="temperror", reason=reason)
        return replace(base, reason="no DMARC record applies")
    exists = None
    if author not in (found.policy_domain, found.organizational_domain):
        exists = await _domain_exists(author, resolver)
    policy = _applicable_policy(found, author, exists)
    spf_ok, dkim_domain, temp = _alignment(author, found, spf, dkim_results)
    details = replace(
        base,
        policy=policy,
        policy_source=found.location,
        record=found.record.text,
        spf_aligned=spf_ok,
        dkim_aligned=dkim_domain is not None,
        aligned_dkim_domain=dkim_domain,
    )
    if policy is None:
        return replace(details, reason="the record sets no usable p=")
    if spf_ok or dkim_domain:
        return replace(details, result="pass")
    if temp:
        reason = "no aligned pass, and a DKIM or SPF check failed temporarily"
        return replace(details, result="temperror", reason=reason)
    log.debug("DMARC fail for %s (policy %s)", author, policy)
    return replace(details, result="fail", reason="no aligned SPF or DKIM pass")
