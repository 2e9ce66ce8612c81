"""The BIMI check: the brand-logo record and the DMARC policy it depends on.

Follows draft-brand-indicators-for-message-identification (BIMI): a TXT
record at ``<selector>._bimi.<domain>`` reads ``v=BIMI1; l=<HTTPS URL of an
SVG logo>; a=<HTTPS URL of a PEM mark certificate>``. When the domain has no
record, the organizational domain's record at the same selector applies, as
the draft's discovery steps require. Mailbox providers show the logo only when
DMARC is enforced, so the DMARC result decides whether the logo can appear.

The audit stays offline-first: neither the SVG nor the certificate is
downloaded, and an info finding reports that.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..dns.answer import Answer
from ..dns.resolver import Resolver
from ..findings import Rule, Severity, rule
from .common import lookup_failed
from .model import CheckResult
from .mta_sts import split_tag_list
from .orgdomain import organizational_domain_psl

__all__ = ["check_bimi", "dmarc_blockers"]

# Section numbers move between revisions of the draft, so sections are named.
_DRAFT = "draft-brand-indicators-for-message-identification"
_REF = f'{_DRAFT}, section "Assertion Record"'
_REF_DISCOVERY = f'{_DRAFT}, section "Assertion Record Discovery"'
_REF_DECLINE = f'{_DRAFT}, section "Declination to Publish"'
_REF_DMARC = f'{_DRAFT}, section "Authentication Requirements"'
_DOWNGRADE = {"reject": "quarantine", "quarantine": "none", "none": "none"}


def _rule(code: str, severity: Severity, title: str, fix: str, ref: str) -> Rule:
    return rule(f"bimi.{code}", "bimi", severity, title, fix=fix, reference=ref)


MISSING = _rule(
    "missing",
    Severity.INFO,
    "No BIMI record",
    "To show a brand logo in supporting inboxes, enforce DMARC, then publish "
    'default._bimi TXT "v=BIMI1; l=https://.../logo.svg; a=https://.../vmc.pem".',
    _REF_DISCOVERY,
)
MULTIPLE_RECORDS = _rule(
    "multiple_records",
    Severity.ERROR,
    "More than one BIMI record",
    "Keep exactly one TXT record starting with v=BIMI1 at the selector.",
    _REF_DISCOVERY,
)
INVALID_RECORD = _rule(
    "invalid_record",
    Severity.ERROR,
    "BIMI record has invalid syntax",
    "Start the record with v=BIMI1; and give each tag once, as tag=value "
    "separated by semicolons.",
    _REF,
)
INVALID_LOGO = _rule(
    "invalid_logo",
    Severity.ERROR,
    "BIMI logo URL is invalid",
    "Set l= to one https:// URL of an SVG Tiny PS logo, or leave it empty to decline.",
    _REF,
)
INVALID_AUTHORITY = _rule(
    "invalid_authority",
    Severity.ERROR,
    "BIMI certificate URL is invalid",
    "Set a= to one https:// URL of the PEM file with your Verified Mark "
    "Certificate or Common Mark Certificate.",
    _REF,
)
DECLINED = _rule(
    "declined",
    Severity.INFO,
    "BIMI record declines to show a logo",
    "Nothing to do if the domain should show no logo; otherwise set l= to the "
    "logo's https:// URL.",
    _REF_DECLINE,
)
NO_AUTHORITY = _rule(
    "no_authority",
    Severity.WARNING,
    "BIMI record has no mark certificate",
    "Obtain a Verified Mark Certificate (VMC) or Common Mark Certificate (CMC) "
    "and publish its URL in a=; most providers, Gmail among them, show no "
    "logo without one.",
    _REF,
)
DMARC_NOT_ENFORCED = _rule(
    "dmarc_not_enforced",
    Severity.ERROR,
    "DMARC too weak for BIMI: logo will not be shown",
    "Publish DMARC with p=quarantine (pct=100) or p=reject, and sp not none.",
    _REF_DMARC,
)
ASSETS_NOT_CHECKED = _rule(
    "assets_not_checked",
    Severity.INFO,
    "BIMI logo and certificate not checked",
    "Validate the SVG (SVG Tiny PS profile) and the mark certificate with your "
    "certificate issuer's tools; this audit does not download them.",
    _REF,
)


async def check_bimi(
    domain: str,
    *,
    resolver: Resolver,
    dmarc: CheckResult,
    selector: str = "default",
) -> CheckResult:
    """Check the BIMI record of ``domain`` at ``selector`` and its DMARC needs.

    ``dmarc`` is the domain's DMARC result: ``details["record"]`` (None when
    there is no valid record) and ``details["effective"]`` (p, sp, pct, t
    with defaults applied). ``details`` contains ``record``, ``selector``,
    ``location`` (the DNS name the record came from), ``logo`` (the l= URL),
    ``authority`` (the a= URL) and ``dmarc_ready``: True or False, or None
    when the DMARC check could not complete or there is no BIMI record.
    """
    result = CheckResult(
        "bimi",
        details={
            "record": None,
            "selector": selector,
            "location": None,
            "logo": None,
            "authority": None,
            "dmarc_ready": None,
        },
    )
    found = await _find_record(domain, selector, resolver, result)
    if found is None:
        return result
    name, record = found
    result.details.update(record=record, location=name)
    declined = _judge_record(f"{name} TXT", record, result)
    if not declined:
        _judge_dmarc(domain, dmarc, result)
    return result


async def _find_record(
    domain: str, selector: str, resolver: Resolver, result: CheckResult
) -> tuple[str, str] | None:
    """Return ``(name, record)`` from the domain, else its organizational domain."""
    names = [f"{selector}._bimi.{domain}"]
    org = organizational_domain_psl(domain)
    if org != domain:
        names.append(f"{selector}._bimi.{org}")
    for name in names:
        answer = await resolver.resolve(name, "TXT")
        if answer.failed:
            purpose = f"the BIMI record of {domain}"
            result.findings.append(lookup_failed(answer, purpose))
            result.complete = False
            return None
        records = [t for t in answer.texts if _is_bimi(t)]
        if len(records) > 1:
            result.findings.append(_multiple(answer, records))
            return None
        if records:
            return name, records[0]
    result.findings.append(
        MISSING.finding(
            f"{domain} publishes no BIMI record at selector {selector!r}.",
            location=f"{names[0]} TXT",
        )
    )
    return None


def _is_bimi(text: str) -> bool:
    head = text.lstrip(" \t").split(";", 1)[0]
    name, _, value = head.partition("=")
    return name.strip(" \t") == "v" and value.strip(" \t") == "BIMI1"


def _multiple(answer: Answer, records: list[str]) -> Any:
    return MULTIPLE_RECORDS.finding(
        f"{answer.name} has {len(records)} BIMI records; receivers use none "
        "unless there is exactly one.",
        evidence=" | ".join(records),
        location=f"{answer.name} TXT",
    )


def _judge_record(location: str, record: str, result: CheckResult) -> bool:
    """Judge the tags; return True when the record declines to show a logo."""
    tags = split_tag_list(record, spaces_around_equals=True)
    duplicates = sorted({n for n in tags.names() if tags.names().count(n) > 1})
    problems = tags.problems + [f"tag {n}= is given more than once" for n in duplicates]
    if tags.first("l") is None:
        problems.append("the required l= tag is missing")
    avp = tags.first("avp")
    if avp is not None and avp.lower() not in ("personal", "brand"):
        problems.append(f"avp={avp!r} must be personal or brand")
    if problems:
        result.findings.append(
            INVALID_RECORD.finding(
                f"The BIMI record is invalid: {'; '.join(problems)}.",
                evidence=record,
                location=location,
            )
        )
    logo = tags.first("l") or ""
    authority = tags.first("a") or ""
    result.details.update(logo=logo or None, authority=authority or None)

    if not logo and not authority:
        result.findings.append(
            DECLINED.finding(
                "The BIMI record has empty l= and a= tags: the domain declines "
                "to show a logo.",
                evidence=record,
                location=location,
            )
        )
        return True
    _judge_urls(location, record, logo, authority, result)
    return False


def _judge_urls(
    location: str, record: str, logo: str, authority: str, result: CheckResult
) -> None:
    logo_problem = _https_problem(logo) if logo else None
    if logo_problem:
        result.findings.append(
            INVALID_LOGO.finding(
                f"The BIMI logo URL {logo!r} is invalid: {logo_problem}.",
                evidence=record,
                location=location,
            )
        )
    if not authority:
        result.findings.append(
            NO_AUTHORITY.finding(
                "The BIMI record has no a= certificate URL, so most mailbox "
                "providers, Gmail among them, will not show the logo.",
                evidence=record,
                location=location,
            )
        )
    elif (problem := _https_problem(authority)) is not None:
        result.findings.append(
            INVALID_AUTHORITY.finding(
                f"The BIMI certificate URL {authority!r} is invalid: {problem}.",
                evidence=record,
                location=location,
            )
        )
    result.findings.append(
        ASSETS_NOT_CHECKED.finding(
            "The logo and the mark certificate were not downloaded, so their "
            "format and validity were not checked.",
            location=location,
        )
    )


def _https_problem(url: str) -> str | None:
    if "," in url:
        return "it lists more than one URL"
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        return "it must start with https://"
    if not parts.hostname or "." not in parts.hostname:
        return "it has no host name"
    return None


def dmarc_blockers(dmarc: CheckResult) -> list[str] | None:
    """Return why the DMARC policy keeps a BIMI logo from showing.

    An empty list means DMARC is enforced enough; None means the DMARC check
    could not complete, so it is unknown. A record needs p=quarantine with
    pct=100 (RFC 7489) or p=reject, and sp not none. With t=y (RFC 9989)
    receivers apply the next weaker policy, so quarantine counts as none.
    """
    if dmarc.details.get("record") is None:
        if not dmarc.complete:
            return None
        return ["the domain has no valid DMARC record"]
    effective: dict[str, Any] = dmarc.details.get("effective") or {}
    testing = effective.get("t") == "y"
    problems = []
    p = effective.get("p") or "none"
    sp = effective.get("sp") or p
    if testing:
        p, sp = _DOWNGRADE.get(p, p), _DOWNGRADE.get(sp, sp)
    applied = " (after t=y test mode)" if testing else ""
    if p not in ("quarantine", "reject"):
        problems.append(f"the policy is p={p}{applied}, not quarantine or reject")
    pct = effective.get("pct")
    if p == "quarantine" and isinstance(pct, int) and pct < 100:
        problems.append(f"p=quarantine applies to only pct={pct} percent of mail")
    if sp == "none" and p != "none":
        problems.append(f"the subdomain policy is sp=none{applied}")
    return problems


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _judge_dmarc(domain: str, dmarc: CheckResult, result: CheckResult) -> None:
    blockers = dmarc_blockers(dmarc)
    if blockers is None:
        return
    result.details["dmarc_ready"] = not blockers
    if blockers:
        result.findings.append(
            DMARC_NOT_ENFORCED.finding(
                f"The logo will not be shown: the DMARC policy of {domain} is not "
                f"enforced ({'; '.join(blockers)}).",
                evidence=_text_or_none(dmarc.details.get("record")),
            )
        )
