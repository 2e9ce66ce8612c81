"""The MX check: where mail for the domain goes, and whether those hosts exist.

The rules come from three standards. RFC 5321, section 5.1 requires MX
targets to be host names with addresses, and lets a domain without MX fall
back to its own address records. RFC 7505 defines the null MX (``0 .``) of
a domain that accepts no mail. RFC 2181, section 10.3 forbids an alias as
an MX target.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from typing import Any

from ..dns.answer import Answer, MXRecord, Status
from ..dns.names import normalize_domain
from ..dns.resolver import Resolver
from ..errors import InvalidDomainError
from ..findings import Finding, Severity, rule
from .common import lookup_failed
from .model import CheckResult

__all__ = [
    "MX_CNAME_TARGET",
    "MX_DUPLICATE_HOST",
    "MX_IMPLICIT",
    "MX_INVALID_HOST",
    "MX_IP_LITERAL",
    "MX_MISSING",
    "MX_NO_ADDRESS",
    "MX_NULL_MX",
    "MX_NULL_MX_MIXED",
    "MX_NULL_MX_PREFERENCE",
    "MX_TARGET_NXDOMAIN",
    "MX_TOO_MANY_HOSTS",
    "check_mx",
    "resolve_addresses",
]

logger = logging.getLogger(__name__)

#: The maximum number of MX names an SPF ``mx`` mechanism may use
#: (RFC 7208, section 4.6.4).
MAX_SPF_MX_NAMES = 10

MX_MISSING = rule(
    "mx.missing",
    "mx",
    Severity.ERROR,
    "No MX record and no address record",
    fix=(
        "Publish an MX record naming the host that receives the domain's mail, "
        "or a null MX (MX 0 .) if the domain never receives mail. With a null "
        "MX, send with another domain in the Return-Path, because receivers may "
        "reject envelope senders whose domain has a null MX (RFC 7505, "
        "section 4.2)."
    ),
    reference="RFC 5321, section 5.1",
)
MX_IMPLICIT = rule(
    "mx.implicit",
    "mx",
    Severity.WARNING,
    "No MX record: mail falls back to the address record",
    fix=(
        "Publish an MX record naming the mail host explicitly, or a null MX "
        "(MX 0 .) if the domain receives no mail."
    ),
    reference="RFC 5321, section 5.1",
)
MX_NULL_MX = rule(
    "mx.null_mx",
    "mx",
    Severity.INFO,
    "Null MX: the domain accepts no mail",
    fix=(
        "Nothing to do if the domain should receive no mail. Replies and "
        "bounces to its addresses fail, so send with a different Return-Path "
        "domain if you need bounces."
    ),
    reference="RFC 7505, section 3",
)
MX_NULL_MX_MIXED = rule(
    "mx.null_mx_mixed",
    "mx",
    Severity.ERROR,
    "Null MX published together with other MX records",
    fix="Keep either the single null MX (MX 0 .) or the real MX hosts, not both.",
    reference="RFC 7505, section 3",
)
MX_NULL_MX_PREFERENCE = rule(
    "mx.null_mx_preference",
    "mx",
    Severity.ERROR,
    "Null MX with a preference other than 0",
    fix='Publish the null MX exactly as MX 0 . (preference 0, exchange ".").',
    reference="RFC 7505, section 3",
)
MX_CNAME_TARGET = rule(
    "mx.cname_target",
    "mx",
    Severity.WARNING,
    "MX target is an alias (CNAME)",
    fix=(
        "Point the MX record at the canonical host name (the CNAME's target) "
        "instead of the alias."
    ),
    reference="RFC 2181, section 10.3",
)
MX_IP_LITERAL = rule(
    "mx.ip_literal",
    "mx",
    Severity.ERROR,
    "MX target is an IP address, not a host name",
    fix=(
        "Give the mail server a host name with A/AAAA records and point the "
        "MX record at that name."
    ),
    reference="RFC 5321, section 5.1",
)
MX_INVALID_HOST = rule(
    "mx.invalid_host",
    "mx",
    Severity.ERROR,
    "MX target is not a valid host name",
    fix="Point the MX record at a host name made of letters, digits and hyphens.",
    reference="RFC 5321, section 5.1",
)
MX_NO_ADDRESS = rule(
    "mx.no_address",
    "mx",
    Severity.ERROR,
    "MX host has no A or AAAA record",
    fix="Publish A and/or AAAA records for the MX host, or remove the MX record.",
    reference="RFC 5321, section 5.1",
)
MX_TARGET_NXDOMAIN = rule(
    "mx.target_nxdomain",
    "mx",
    Severity.ERROR,
    "MX host does not exist",
    fix="Fix the spelling of the MX target, or create the host's A/AAAA records.",
    reference="RFC 5321, section 5.1",
)
MX_DUPLICATE_HOST = rule(
    "mx.duplicate_host",
    "mx",
    Severity.WARNING,
    "The same MX host is listed more than once",
    fix="Keep one MX record per host, with the preference you want.",
    reference="RFC 5321, section 5.1",
)
MX_TOO_MANY_HOSTS = rule(
    "mx.too_many_hosts",
    "mx",
    Severity.WARNING,
    "More than 10 MX hosts",
    fix=(
        "Reduce the MX set to 10 hosts or fewer; an SPF 'mx' mechanism that "
        "names this domain fails with permerror when it has more."
    ),
    reference="RFC 7208, section 4.6.4",
)


async def check_mx(domain: str, *, resolver: Resolver) -> CheckResult:
    """Check the MX records of ``domain`` and the hosts they name.

    ``details`` contains ``null_mx`` (bool), ``implicit`` (bool: no MX, mail
    goes to the domain's own A/AAAA records), ``implicit_addresses`` and
    ``hosts``: one dict per MX record with ``exchange``, ``preference``,
    ``addresses``, ``cname_target`` (the alias target, or None) and
    ``status``. A failed lookup adds ``dns.lookup_failed`` and sets
    ``complete`` to False.
    """
    result = CheckResult(
        "mx",
        details={"null_mx": False, "implicit": False, "hosts": []},
    )
    answer = await resolver.resolve(domain, "MX")
    if answer.failed:
        _fail(result, answer, f"the MX records of {domain}")
    elif answer.status is Status.NXDOMAIN:
        result.findings.append(
            MX_MISSING.finding(
                f"{domain} does not exist (NXDOMAIN), so it has no MX record "
                "and cannot receive mail.",
                location=f"{domain} MX",
            )
        )
    elif not answer.found:
        await _check_implicit(domain, resolver, result)
    else:
        records = [r for r in answer.records if isinstance(r, MXRecord)]
        await _check_records(domain, records, resolver, result)
    return result


async def _check_implicit(domain: str, resolver: Resolver, result: CheckResult) -> None:
    """Judge a domain without MX: RFC 5321 falls back to its A/AAAA records."""
    answers = await resolve_addresses(domain, resolver)
    failed = [a for a in answers if a.failed]
    for answer in failed:
        _fail(result, answer, f"the implicit MX of {domain}")
    addresses = _addresses_of(answers)
    result.details["implicit_addresses"] = addresses
    if addresses:
        result.details["implicit"] = True
        result.findings.append(
            MX_IMPLICIT.finding(
                f"{domain} has no MX record, so senders deliver to its address "
                f"records ({', '.join(addresses)}) as an implicit MX.",
                evidence=", ".join(addresses),
                location=f"{domain} MX",
            )
        )
    elif not failed:
        result.findings.append(
            MX_MISSING.finding(
                f"{domain} has no MX record and no A/AAAA record, so it cannot "
                "receive mail, bounces included.",
                location=f"{domain} MX",
            )
        )


async def _check_records(
    domain: str, records: list[MXRecord], resolver: Resolver, result: CheckResult
) -> None:
    evidence = "; ".join(f"{r.preference} {r.exchange}" for r in records)
    location = f"{domain} MX"
    nulls = [r for r in records if r.exchange == "."]
    if nulls:
        result.details["null_mx"] = True
        result.findings.extend(_judge_null_mx(domain, records, nulls, evidence))
    hosts = [r for r in records if r.exchange != "."]
    if len(hosts) > MAX_SPF_MX_NAMES:
        result.findings.append(
            MX_TOO_MANY_HOSTS.finding(
                f"{domain} lists {len(hosts)} MX hosts; an SPF 'mx' mechanism "
                f"over this domain may use at most {MAX_SPF_MX_NAMES}.",
                evidence=evidence,
                location=location,
            )
        )
    result.findings.extend(_duplicates(domain, hosts, evidence))
    judged = await asyncio.gather(*(_check_host(domain, r, resolver) for r in hosts))
    for host, findings, failures in judged:
        result.details["hosts"].append(host)
        result.findings.extend(findings)
        for answer in failures:
            _fail(result, answer, f"the address of MX host {host['exchange']}")


def _judge_null_mx(
    domain: str, records: list[MXRecord], nulls: list[MXRecord], evidence: str
) -> list[Finding]:
    location = f"{domain} MX"
    findings: list[Finding] = []
    if len(records) > len(nulls):
        findings.append(
            MX_NULL_MX_MIXED.finding(
                f'{domain} publishes a null MX (".") next to real MX hosts, '
                "so senders cannot tell whether it accepts mail.",
                evidence=evidence,
                location=location,
            )
        )
    for null in nulls:
        if null.preference != 0:
            findings.append(
                MX_NULL_MX_PREFERENCE.finding(
                    f"The null MX of {domain} has preference {null.preference}; "
                    "RFC 7505 requires exactly MX 0 .",
                    evidence=evidence,
                    location=location,
                )
            )
    if not findings:
        findings.append(
            MX_NULL_MX.finding(
                f"{domain} publishes a null MX: it declares that it accepts no mail.",
                evidence=evidence,
                location=location,
            )
        )
    return findings


def _duplicates(domain: str, hosts: list[MXRecord], evidence: str) -> list[Finding]:
    counts = Counter(r.exchange for r in hosts)
    return [
        MX_DUPLICATE_HOST.finding(
            f"MX host {name} is listed {count} times for {domain}.",
            evidence=evidence,
            location=f"{domain} MX",
        )
        for name, count in sorted(counts.items())
        if count > 1
    ]


async def _check_host(
    domain: str, record: MXRecord, resolver: Resolver
) -> tuple[dict[str, Any], list[Finding], list[Answer]]:
    """Resolve one MX target; return its details, findings and failed lookups."""
    host: dict[str, Any] = {
        "exchange": record.exchange,
        "preference": record.preference,
        "addresses": [],
        "cname_target": None,
        "status": "ok",
    }
    location = f"{domain} MX"
    if _is_ip_literal(record.exchange):
        host["status"] = "ip_literal"
        message = (
            f"The MX target {record.exchange} is an IP address; an MX record "
            "must name a host."
        )
        finding = MX_IP_LITERAL.finding(
            message, evidence=record.exchange, location=location
        )
        return host, [finding], []
    try:
        normalize_domain(record.exchange)
    except InvalidDomainError as exc:
        host["status"] = "invalid"
        message = f"The MX target {record.exchange!r} is invalid: {exc.reason}."
        finding = MX_INVALID_HOST.finding(
            message, evidence=record.exchange, location=location
        )
        return host, [finding], []
    answers = await resolve_addresses(record.exchange, resolver)
    host["addresses"] = _addresses_of(answers)
    findings = _judge_host(record.exchange, answers, host)
    failures = [a for a in answers if a.failed]
    if failures and not host["addresses"]:
        host["status"] = "lookup_failed"
    return host, findings, failures


def _judge_host(
    exchange: str, answers: tuple[Answer, Answer], host: dict[str, Any]
) -> list[Finding]:
    findings: list[Finding] = []
    location = f"{exchange} A/AAAA"
    cnames = next((a.cnames for a in answers if a.cnames), ())
    if cnames:
        host["cname_target"] = cnames[-1]
        host["status"] = "cname"
        findings.append(
            MX_CNAME_TARGET.finding(
                f"The MX target {exchange} is an alias of {cnames[-1]}; MX "
                "records must point at the canonical name.",
                evidence=f"{exchange} CNAME {cnames[0]}",
                location=location,
            )
        )
    if host["addresses"] or any(a.failed for a in answers):
        return findings
    if all(a.status is Status.NXDOMAIN for a in answers):
        host["status"] = "nxdomain"
        findings.append(
            MX_TARGET_NXDOMAIN.finding(
                f"The MX host {exchange} does not exist (NXDOMAIN), so mail "
                "for it cannot be delivered.",
                location=location,
            )
        )
    else:
        host["status"] = "no_address"
        findings.append(
            MX_NO_ADDRESS.finding(
                f"The MX host {exchange} has no A or AAAA record, so mail for "
                "it cannot be delivered.",
                location=location,
            )
        )
    return findings


async def resolve_addresses(name: str, resolver: Resolver) -> tuple[Answer, Answer]:
    """Look up the A and AAAA records of ``name`` at once."""
    a, aaaa = await asyncio.gather(
        resolver.resolve(name, "A"), resolver.resolve(name, "AAAA")
    )
    return a, aaaa


def _addresses_of(answers: tuple[Answer, Answer]) -> list[str]:
    return [str(r) for a in answers if a.found for r in a.records]


def _is_ip_literal(name: str) -> bool:
    text = name.strip("[]")
    if text.lower().startswith("ipv6:"):
        text = text[5:]
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _fail(result: CheckResult, answer: Answer, purpose: str) -> None:
    logger.debug("lookup failed: %s %s (%s)", answer.name, answer.rdtype, answer.error)
    result.findings.append(lookup_failed(answer, purpose))
    result.complete = False
