"""The DMARC check: find the policy that applies to a domain and judge it.

Discovery runs both ways receivers use today (see :mod:`.orgdomain`): the
RFC 9989 DNS Tree Walk decides the reported policy, and the RFC 7489 lookup
with the Public Suffix List is compared with it. The record is then judged
for syntax (:mod:`.dmarc_record`), strength (p, sp, np, t, pct) and reporting
(rua, ruf, and the authorization of external report destinations from
RFC 9990, section 4, formerly RFC 7489, section 7.1).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..dns.answer import Answer
from ..dns.resolver import Resolver
from ..findings import Finding, Rule, Severity, rule
from .common import lookup_failed
from .dmarc_record import (
    POLICY_KEYS,
    POLICY_VALUES,
    DMARCRecord,
    ReportURI,
    is_dmarc_record,
    looks_like_dmarc_record,
)
from .model import CheckResult
from .orgdomain import (
    PolicyDiscovery,
    WalkStep,
    discover_policy,
    discover_policy_psl,
    organizational_domain_psl,
)

__all__ = [
    "DMARCRecord",
    "DMARC_DISCOVERY_DIFFERS",
    "DMARC_EXTERNAL_UNAUTHORIZED",
    "DMARC_INHERITED_POLICY",
    "DMARC_MULTIPLE_RECORDS",
    "DMARC_NO_POLICY",
    "DMARC_NO_RECORD",
    "DMARC_NO_RUA",
    "DMARC_ORG_DOMAIN_DIFFERS",
    "DMARC_PCT_PARTIAL",
    "DMARC_POLICY_NONE",
    "DMARC_POLICY_QUARANTINE",
    "DMARC_PSD_POLICY",
    "DMARC_TESTING",
    "DMARC_UNRELATED_RECORD",
    "DMARC_WEAK_SUBDOMAIN_POLICY",
    "DMARC_WRONG_LOCATION",
    "check_dmarc",
    "judge_record",
]

logger = logging.getLogger(__name__)

_REF_DISCOVERY = "RFC 9989, section 4.10"
_MAX_NAME_LENGTH = 253

DMARC_NO_RECORD = rule(
    "dmarc.no_record",
    "dmarc",
    Severity.ERROR,
    "No DMARC record",
    fix=(
        "Publish a TXT record at _dmarc.<domain>, for example "
        '"v=DMARC1; p=none; rua=mailto:dmarc-reports@<domain>", and tighten p '
        "once the reports show all legitimate mail passes."
    ),
    reference=_REF_DISCOVERY,
)
DMARC_MULTIPLE_RECORDS = rule(
    "dmarc.multiple_records",
    "dmarc",
    Severity.ERROR,
    "More than one DMARC record at one name",
    fix="Merge the records into one, because receivers discard them all.",
    reference=_REF_DISCOVERY,
)
DMARC_UNRELATED_RECORD = rule(
    "dmarc.unrelated_record",
    "dmarc",
    Severity.INFO,
    "TXT record at _dmarc that is not a DMARC record",
    fix="Remove the record, or move it to the name where it belongs.",
    reference=_REF_DISCOVERY,
)
DMARC_WRONG_LOCATION = rule(
    "dmarc.wrong_location",
    "dmarc",
    Severity.ERROR,
    "DMARC record published at the domain instead of _dmarc",
    fix="Move the record from <domain> to _dmarc.<domain>; receivers look only there.",
    reference="RFC 9989, section 4.5",
)
DMARC_NO_POLICY = rule(
    "dmarc.no_policy",
    "dmarc",
    Severity.ERROR,
    "DMARC record found but no policy applies",
    fix=(
        "Publish a p tag and give p, sp and np each one of none, quarantine or "
        "reject, so that receivers apply the policy."
    ),
    reference="RFC 9989, section 4.10.1",
)
DMARC_POLICY_NONE = rule(
    "dmarc.policy_none",
    "dmarc",
    Severity.WARNING,
    "DMARC policy is none (monitoring only)",
    fix=(
        "Read the aggregate reports, make all legitimate mail pass SPF or DKIM "
        "aligned, then move to p=quarantine and later p=reject."
    ),
    reference="RFC 9989, section 4.7",
)
DMARC_POLICY_QUARANTINE = rule(
    "dmarc.policy_quarantine",
    "dmarc",
    Severity.INFO,
    "DMARC policy is quarantine",
    fix="Move to p=reject once the reports show no legitimate mail failing.",
    reference="RFC 9989, section 4.7",
)
DMARC_WEAK_SUBDOMAIN_POLICY = rule(
    "dmarc.weak_subdomain_policy",
    "dmarc",
    Severity.WARNING,
    "DMARC subdomain policy is weaker than p",
    fix=(
        "Raise sp (and np) to the strength of p, or remove them so that p "
        "applies to subdomains too."
    ),
    reference="RFC 9989, section 4.7",
)
DMARC_TESTING = rule(
    "dmarc.testing",
    "dmarc",
    Severity.WARNING,
    "DMARC policy is in test mode (t=y)",
    fix="Remove t=y once the reports look right, so the policy applies in full.",
    reference="RFC 9989, section 4.7",
)
DMARC_PCT_PARTIAL = rule(
    "dmarc.pct_partial",
    "dmarc",
    Severity.WARNING,
    "DMARC policy applies to only part of the failing mail",
    fix=(
        "Set pct=100 or remove pct; RFC 9989 removed pct, and receivers "
        "applied values other than 0 and 100 unevenly."
    ),
    reference="RFC 7489, section 6.3; RFC 9989, section 4.7",
)
DMARC_NO_RUA = rule(
    "dmarc.no_rua",
    "dmarc",
    Severity.WARNING,
    "DMARC record asks for no aggregate reports",
    fix=(
        "Add rua=mailto:<address> so receivers send aggregate reports; without "
        "them you cannot see who sends mail as the domain."
    ),
    reference="RFC 9989, section 4.7; RFC 9990, section 3",
)
DMARC_EXTERNAL_UNAUTHORIZED = rule(
    "dmarc.external_unauthorized",
    "dmarc",
    Severity.WARNING,
    "External DMARC report destination has not authorized the domain",
    fix=(
        'Have the destination publish TXT "v=DMARC1" at '
        "<policy-domain>._report._dmarc.<destination-domain>."
    ),
    reference="RFC 9990, section 4; RFC 7489, section 7.1",
)
DMARC_INHERITED_POLICY = rule(
    "dmarc.inherited_policy",
    "dmarc",
    Severity.INFO,
    "DMARC policy comes from the organizational domain",
    fix=(
        "Nothing to do if the organizational domain's sp suits this domain; "
        "otherwise publish a record at _dmarc.<domain>."
    ),
    reference="RFC 9989, section 4.10.1",
)
DMARC_PSD_POLICY = rule(
    "dmarc.psd_policy",
    "dmarc",
    Severity.WARNING,
    "DMARC policy comes from a public suffix domain",
    fix=(
        "Publish a record at the organizational domain so the domain's owner, "
        "not the operator of the public suffix, sets the policy."
    ),
    reference="RFC 9989, section 4.10.1",
)
DMARC_ORG_DOMAIN_DIFFERS = rule(
    "dmarc.org_domain_differs",
    "dmarc",
    Severity.WARNING,
    "Organizational domain differs between PSL and DNS Tree Walk",
    fix=(
        "Publish the DMARC record at the organizational domain that the Public "
        "Suffix List gives (or psd=n at the name you mean), so that relaxed "
        "alignment works the same at RFC 7489 and RFC 9989 receivers."
    ),
    reference="RFC 9989, section 4.10.2; RFC 7489, section 3.2",
)
DMARC_DISCOVERY_DIFFERS = rule(
    "dmarc.discovery_differs",
    "dmarc",
    Severity.WARNING,
    "RFC 7489 and RFC 9989 receivers find different DMARC records",
    fix=(
        "Publish a record at _dmarc.<domain> so that both discovery methods "
        "find the same policy."
    ),
    reference="RFC 9989, section 4.10.1; RFC 7489, section 6.6.3",
)


async def check_dmarc(domain: str, *, resolver: Resolver) -> CheckResult:
    """Find and judge the DMARC policy of ``domain`` (lower-case A-labels).

    Never raises for DNS outcomes: a failed lookup adds a
    ``dns.lookup_failed`` finding and makes the result incomplete, and is
    never read as a missing record.
    """
    walk = await discover_policy(domain, resolver=resolver)
    psl = await discover_policy_psl(domain, resolver=resolver)
    failed = _unique_failures([*walk.failed, *psl.failed])
    findings = [lookup_failed(answer, "the DMARC policy record") for answer in failed]
    findings += _step_findings(walk.steps)
    record = walk.record
    if record is None:
        if not failed:
            missing, apex = await _missing_findings(domain, walk, resolver)
            findings += missing
            failed += apex
    else:
        findings += _policy_findings(domain, walk, record)
        extra, auth_failed = await _authorization_findings(
            record, walk.policy_domain or domain, resolver
        )
        findings += extra
        failed += auth_failed
    findings += _comparison_findings(walk, psl)
    details = _details(walk, psl, record)
    return CheckResult("dmarc", findings, details, complete=not failed)


def judge_record(record: DMARCRecord, *, location: str | None = None) -> list[Finding]:
    """Return the record's syntax findings and the judgement of its policy.

    This is the whole verdict on a record's text, with no DNS: the audit adds
    discovery and report-authorization findings on top.
    """
    findings = list(record.findings)
    if not record.valid:
        return findings
    effective = record.effective()
    if effective["p"] is None:
        findings.append(
            DMARC_NO_POLICY.finding(
                f"{_policy_fault(record)} and the record has no valid rua URI, so "
                "receivers ignore the whole record and apply no DMARC policy at all.",
                evidence=record.text,
                location=location,
            )
        )
        return findings
    findings += _strength_findings(record, effective, location)
    if record.get("rua") is None:
        findings.append(
            DMARC_NO_RUA.finding(
                "The record has no rua tag, so no receiver sends aggregate reports "
                "and failures of legitimate mail stay unseen.",
                evidence=record.text,
                location=location,
            )
        )
    return findings


def _policy_fault(record: DMARCRecord) -> str:
    """Name what keeps the policy from applying: invalid policy tags or no p."""
    invalid = [tag for tag in ("p", "sp", "np") if tag in record.invalid]
    if not invalid:
        return "The record has no p tag"
    tags = " and ".join(invalid)
    verb = "is" if len(invalid) == 1 else "are"
    return f"The {tags} {'tag' if len(invalid) == 1 else 'tags'} {verb} invalid"


def _strength_findings(
    record: DMARCRecord, effective: dict[str, Any], location: str | None
) -> list[Finding]:
    """Judge how much of the failing mail the policy stops."""
    messages = _level_messages(record, effective["p"])
    messages += _subdomain_messages(record, effective["p"])
    strongest = max((effective[t] for t in ("p", "sp", "np")), key=_strength)
    if record.valid_value("t") == "y" and strongest != "none":
        messages.append(
            (
                DMARC_TESTING,
                "t=y puts the policy in test mode: receivers apply one level less "
                "(quarantine for reject, none for quarantine).",
            )
        )
    pct = record.pct
    if pct is not None and pct < 100:
        messages.append(
            (
                DMARC_PCT_PARTIAL,
                f"pct={pct} asks RFC 7489 receivers to apply the policy to {pct}% "
                "of failing mail only, and RFC 9989 receivers ignore pct.",
            )
        )
    return [
        finding_rule.finding(message, evidence=record.text, location=location)
        for finding_rule, message in messages
    ]


def _level_messages(record: DMARCRecord, p: str) -> list[tuple[Rule, str]]:
    if p == "quarantine":
        return [
            (
                DMARC_POLICY_QUARANTINE,
                "The policy is quarantine: failing mail goes to spam folders, "
                "while p=reject would refuse it.",
            )
        ]
    if p != "none":
        return []
    reason = "the record sets p=none"
    if not record.policy_applies():
        reason = "p, sp or np is missing or invalid and rua holds a valid URI"
    return [
        (
            DMARC_POLICY_NONE,
            f"The policy is none because {reason}: receivers only report failing "
            "mail and deliver it as if there were no DMARC record.",
        )
    ]


def _subdomain_messages(record: DMARCRecord, p: str) -> list[tuple[Rule, str]]:
    messages: list[tuple[Rule, str]] = []
    for tag, kind in (("sp", "existing"), ("np", "non-existent")):
        value = record.valid_value(tag)
        if value is not None and _weaker(value, p):
            messages.append(
                (
                    DMARC_WEAK_SUBDOMAIN_POLICY,
                    f"{tag}={value} is weaker than p={p}, so mail from {kind} "
                    "subdomains is easier to spoof than mail from the domain itself.",
                )
            )
    return messages


def _strength(policy: str) -> int:
    return POLICY_VALUES.index(policy)


def _weaker(value: str, than: str) -> bool:
    return _strength(value) < _strength(than)


def _unique_failures(answers: list[Answer]) -> list[Answer]:
    seen: dict[tuple[str, str], Answer] = {}
    for answer in answers:
        seen.setdefault((answer.name, answer.rdtype), answer)
    return list(seen.values())


def _step_findings(steps: tuple[WalkStep, ...]) -> list[Finding]:
    """Faults at the names walked: several records, and the domain's own text."""
    findings: list[Finding] = []
    for index, step in enumerate(steps):
        if len(step.records) > 1:
            findings.append(
                DMARC_MULTIPLE_RECORDS.finding(
                    f"{step.name} has {len(step.records)} DMARC records, so "
                    "receivers discard them all and look further up the tree.",
                    evidence=" | ".join(step.records),
                    location=step.name,
                )
            )
        if index == 0:
            findings += _own_name_findings(step)
    return findings


def _own_name_findings(step: WalkStep) -> list[Finding]:
    findings: list[Finding] = []
    if step.parsed is not None and not step.parsed.valid:
        findings += step.parsed.findings
    for text in step.answer.texts:
        if is_dmarc_record(text):
            continue
        if looks_like_dmarc_record(text):
            findings += DMARCRecord.from_text(text, location=step.name).findings
            continue
        kind = "an SPF record" if text.lower().startswith("v=spf1") else "a TXT record"
        findings.append(
            DMARC_UNRELATED_RECORD.finding(
                f"{step.name} has {kind} that is not a DMARC record; receivers "
                "ignore it.",
                evidence=text,
                location=step.name,
            )
        )
    return findings


async def _missing_findings(
    domain: str, walk: PolicyDiscovery, resolver: Resolver
) -> tuple[list[Finding], list[Answer]]:
    """Explain why no record applies, and look for one at the apex."""
    findings: list[Finding] = []
    apex = await resolver.resolve(domain, "TXT")
    if apex.failed:
        return [lookup_failed(apex, "a DMARC record misplaced at the domain")], [apex]
    misplaced = [text for text in apex.texts if is_dmarc_record(text)]
    if misplaced:
        findings.append(
            DMARC_WRONG_LOCATION.finding(
                f"A DMARC record is published at {domain} itself, where receivers "
                f"never look; it belongs at _dmarc.{domain}.",
                evidence=misplaced[0],
                location=domain,
                fix=f"Move the record to _dmarc.{domain}.",
            )
        )
    own = walk.steps[0]
    if own.records or any(looks_like_dmarc_record(t) for t in own.answer.texts):
        return findings, []  # the faulty record at the domain is already reported
    searched = ", ".join(walk.names)
    findings.append(
        DMARC_NO_RECORD.finding(
            f"No DMARC record applies to {domain}: none was found at {searched}. "
            "Receivers apply no DMARC policy, and mailbox providers such as Gmail "
            "and Yahoo require one of bulk senders.",
            location=own.name,
            fix=(
                f'Publish TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}" '
                f"at _dmarc.{domain}, then tighten p once the reports look right."
            ),
        )
    )
    return findings, []


def _policy_findings(
    domain: str, walk: PolicyDiscovery, record: DMARCRecord
) -> list[Finding]:
    location = walk.location
    findings = judge_record(record, location=location)
    if walk.policy_domain == domain:
        return findings
    effective = record.effective()
    if walk.from_public_suffix:
        findings.append(
            DMARC_PSD_POLICY.finding(
                f"Neither {domain} nor its organizational domain "
                f"{walk.organizational_domain} has a DMARC record, so the public "
                f"suffix policy at {location} applies (sp={effective['sp']}, "
                f"np={effective['np']}).",
                evidence=record.text,
                location=location,
            )
        )
    else:
        findings.append(
            DMARC_INHERITED_POLICY.finding(
                f"{domain} has no DMARC record of its own, so the record at "
                f"{location} applies to it with sp={effective['sp']} "
                f"(np={effective['np']} for names that do not exist).",
                evidence=record.text,
                location=location,
            )
        )
    return findings


def _external_destinations(
    record: DMARCRecord, policy_domain: str
) -> dict[str, list[ReportURI]]:
    """Group the valid mailto URIs by destination outside the policy's org."""
    own_org = organizational_domain_psl(policy_domain)
    by_domain: dict[str, list[ReportURI]] = {}
    for uri in (*record.rua, *record.ruf):
        if not uri.valid or uri.domain is None:
            continue
        if organizational_domain_psl(uri.domain) != own_org:
            by_domain.setdefault(uri.domain, []).append(uri)
    return by_domain


async def _authorization_findings(
    record: DMARCRecord, policy_domain: str, resolver: Resolver
) -> tuple[list[Finding], list[Answer]]:
    """Check that each external report destination accepts the reports."""
    destinations = _external_destinations(record, policy_domain)
    checks = [
        _authorize(policy_domain, dest, uris, resolver)
        for dest, uris in destinations.items()
    ]
    findings: list[Finding] = []
    failed: list[Answer] = []
    for found, answer in await asyncio.gather(*checks):
        findings += found
        if answer is not None:
            failed.append(answer)
    return findings, failed


async def _authorize(
    policy_domain: str, dest: str, uris: list[ReportURI], resolver: Resolver
) -> tuple[list[Finding], Answer | None]:
    name = f"{policy_domain}._report._dmarc.{dest}"
    listed = ", ".join(uri.text for uri in uris)
    if len(name) > _MAX_NAME_LENGTH:
        return [
            DMARC_EXTERNAL_UNAUTHORIZED.finding(
                f"The report destination {dest} ({listed}) cannot authorize "
                f"{policy_domain}: the name {name} is longer than DNS allows, so "
                "receivers drop these URIs.",
                location=f"_dmarc.{policy_domain}",
                fix="Send reports to an address in your own domain and forward them.",
            )
        ], None
    answer = await resolver.resolve(name, "TXT")
    if answer.failed:
        return [lookup_failed(answer, "the external report authorization")], answer
    if any(is_dmarc_record(text) for text in answer.texts):
        return [], None
    return [
        DMARC_EXTERNAL_UNAUTHORIZED.finding(
            f"The report destination {dest} ({listed}) is outside the organizational "
            f"domain of {policy_domain} and publishes no authorization at {name}, so "
            "receivers send it no reports.",
            location=f"_dmarc.{policy_domain}",
            fix=(
                f"Ask the operator of {dest} to publish this record (or a wildcard "
                f'*._report._dmarc.{dest}): {name}. IN TXT "v=DMARC1"'
            ),
        )
    ], None


def _comparison_findings(walk: PolicyDiscovery, psl: PolicyDiscovery) -> list[Finding]:
    findings: list[Finding] = []
    found_any = any(step.record is not None for step in walk.steps)
    if found_any and walk.organizational_domain != psl.organizational_domain:
        findings.append(
            DMARC_ORG_DOMAIN_DIFFERS.finding(
                f"The organizational domain of {walk.domain} is "
                f"{walk.organizational_domain} by the RFC 9989 DNS Tree Walk but "
                f"{psl.organizational_domain} by the Public Suffix List (RFC 7489), "
                "so relaxed SPF and DKIM alignment give different results at "
                "different receivers.",
                location=walk.steps[0].name,
            )
        )
    if walk.location != psl.location:
        findings.append(
            DMARC_DISCOVERY_DIFFERS.finding(
                f"RFC 9989 receivers apply {_describe(walk)}, but RFC 7489 "
                f"receivers apply {_describe(psl)}.",
                location=walk.steps[0].name,
            )
        )
    return findings


def _describe(discovery: PolicyDiscovery) -> str:
    if discovery.location is None:
        return "no DMARC record"
    return f"the record at {discovery.location}"


def _details(
    walk: PolicyDiscovery, psl: PolicyDiscovery, record: DMARCRecord | None
) -> dict[str, Any]:
    names = walk.names + [name for name in psl.names if name not in walk.names]
    return {
        "record": record.text if record else None,
        "location": walk.location,
        "policy_domain": walk.policy_domain,
        "policy_source": _policy_source(walk),
        "policy": record.published() if record else _empty_policy(),
        "effective": record.effective() if record else _empty_policy(),
        "org_domain_psl": psl.organizational_domain,
        "org_domain_tree_walk": walk.organizational_domain,
        "location_psl": psl.location,
        "discovery": names,
    }


def _empty_policy() -> dict[str, Any]:
    data: dict[str, Any] = dict.fromkeys(POLICY_KEYS)
    data.update(rua=[], ruf=[])
    return data


def _policy_source(walk: PolicyDiscovery) -> str | None:
    """``domain``, ``organizational``, ``public-suffix`` or ``None``."""
    if walk.policy_step is None:
        return None
    if walk.policy_domain == walk.domain:
        return "domain"
    return "public-suffix" if walk.from_public_suffix else "organizational"
