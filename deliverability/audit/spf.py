"""The SPF check of the domain audit (RFC 7208).

:func:`check_spf` discovers the domain's SPF record, checks its syntax and
size, judges its terms, and walks its include and redirect tree to count DNS
lookups and void lookups. The parser is :mod:`.spf_syntax`, the DNS-free
rules are in :mod:`.spf_lint` and the tree in :mod:`.spf_tree`.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from ..dns.answer import Answer, TXTRecord
from ..dns.resolver import Resolver
from ..findings import Finding, Severity, rule
from .common import lookup_failed
from .model import CheckResult
from .spf_lint import lint_record
from .spf_syntax import SPFRecord, syntax_findings
from .spf_tree import Discovery, SPFTree, build_tree, crawl, discover

__all__ = [
    "MAX_RECORD_BYTES",
    "MAX_STRING_BYTES",
    "MAX_UDP_BYTES",
    "check_spf",
    "estimate_response_size",
    "sending_ips",
]

SPF_MISSING = rule(
    "spf.missing",
    "spf",
    Severity.ERROR,
    "No SPF record",
    fix=(
        "Publish one TXT record at the domain that lists your senders, e.g. "
        "'v=spf1 include:_spf.example.net -all', or 'v=spf1 -all' if the "
        "domain sends no mail."
    ),
    reference="RFC 7208, section 4.5",
)
SPF_NXDOMAIN = rule(
    "spf.nxdomain",
    "spf",
    Severity.ERROR,
    "Domain does not exist, so it has no SPF record",
    fix="Check the spelling of the domain, or create it and publish an SPF record.",
    reference="RFC 7208, section 4.3",
)
SPF_MULTIPLE = rule(
    "spf.multiple_records",
    "spf",
    Severity.ERROR,
    "More than one SPF record",
    fix="Merge the records into one TXT record; receivers return permerror for two.",
    reference="RFC 7208, section 4.5",
)
SPF_IGNORED_TXT = rule(
    "spf.ignored_txt",
    "spf",
    Severity.WARNING,
    "SPF-like TXT record is ignored",
    fix="Make the record begin exactly with 'v=spf1' followed by a space.",
    reference="RFC 7208, section 4.5",
)
SPF_TYPE99 = rule(
    "spf.type99",
    "spf",
    Severity.WARNING,
    "Obsolete SPF record type is published",
    fix=(
        "Remove the record of type SPF (99); receivers read only TXT, so the "
        "two copies can drift apart."
    ),
    reference="RFC 7208, section 3.1",
)
SPF_STRING_TOO_LONG = rule(
    "spf.string_too_long",
    "spf",
    Severity.ERROR,
    "TXT character-string longer than 255 bytes",
    fix=(
        "Split the record into several quoted strings of at most 255 bytes "
        'each, e.g. "v=spf1 ... " "include:... -all"; they are joined with '
        "nothing between them."
    ),
    reference="RFC 7208, section 3.3",
)
SPF_RECORD_TOO_LONG = rule(
    "spf.record_too_long",
    "spf",
    Severity.WARNING,
    "SPF record longer than 450 bytes",
    fix="Shorten the record: drop unused terms or move senders into an include.",
    reference="RFC 7208, section 3.4",
)
SPF_UDP_SIZE = rule(
    "spf.udp_size",
    "spf",
    Severity.WARNING,
    "TXT answer exceeds 512 bytes",
    fix=(
        "Shorten or remove TXT records at this name (old verification tokens "
        "are common), so the answer fits a plain UDP response."
    ),
    reference="RFC 7208, section 3.4",
)

#: The maximum length of a TXT character-string (RFC 1035, section 3.3).
MAX_STRING_BYTES = 255
#: The record length that RFC 7208, section 3.4 advises staying under.
MAX_RECORD_BYTES = 450
#: The DNS message size that always fits UDP without EDNS (RFC 1035, section 4.2.1).
MAX_UDP_BYTES = 512


async def check_spf(domain: str, *, resolver: Resolver) -> CheckResult:
    """Audit the SPF record of ``domain`` (lower-case A-labels).

    Returns the findings and the details documented in docs/spf.md. The
    result is incomplete when any lookup, in the whole tree, failed.
    """
    found, type99 = await asyncio.gather(
        discover(resolver, domain), resolver.resolve(domain, "SPF")
    )
    result = CheckResult(check="spf", details=_base_details(found))
    result.findings += _discovery_findings(found)
    result.findings += _size_findings(found)
    failed: list[Answer] = [found.answer] if found.answer.failed else []
    record = found.record
    if record is not None:
        tree = build_tree(await crawl(resolver, found), domain)
        result.findings += _record_findings(found, record, tree)
        result.details.update(_tree_details(record, tree))
        failed += [a for a in tree.failed if a is not found.answer]
    if type99.failed:
        failed.append(type99)
    elif type99.found:
        result.findings.append(_type99_finding(type99))
    result.findings += [lookup_failed(a, "the SPF check") for a in failed]
    result.complete = not failed
    return result


def _base_details(found: Discovery) -> dict[str, Any]:
    single = found.records[0] if found.status == "ok" else None
    status = {"nodata": "none", "nxdomain": "none", "multiple": "error"}
    return {
        "record": found.text,
        "strings": _strings(single) if single else [],
        "records_found": len(found.records),
        "records": [r.text for r in found.records],
        "dns_lookups": 0,
        "void_lookups": 0,
        "tree": {
            "domain": found.name,
            "term": None,
            "record": found.text,
            "status": status.get(found.status, found.status),
            "lookups": 0,
            "void_lookups": 0,
            "children": [],
        },
        "sending_ips": [],
    }


def _strings(record: TXTRecord) -> list[str]:
    return [s.decode("utf-8", errors="replace") for s in record.strings]


def _tree_details(record: SPFRecord, tree: SPFTree) -> dict[str, Any]:
    return {
        "dns_lookups": tree.dns_lookups,
        "void_lookups": tree.void_lookups,
        "tree": tree.root,
        "sending_ips": sending_ips(record),
    }


def sending_ips(record: SPFRecord) -> list[str]:
    """Return the single addresses the record authorises directly.

    These are ``ip4`` terms without a prefix length or with ``/32`` and
    ``ip6`` terms without one or with ``/128``, whose qualifier is ``+``.
    """
    found: list[str] = []
    for mechanism in record.mechanisms:
        if mechanism.name not in ("ip4", "ip6") or mechanism.result != "+":
            continue
        full = 32 if mechanism.name == "ip4" else 128
        if mechanism.value is not None and mechanism.cidr in (None, full):
            address = str(ipaddress.ip_address(mechanism.value))
            if address not in found:
                found.append(address)
    return found


def _discovery_findings(found: Discovery) -> list[Finding]:
    where = f"{found.name} TXT"
    findings = [
        SPF_IGNORED_TXT.finding(
            f"The TXT record {ignored.text!r} at {found.name} looks like SPF but "
            "is ignored, because an SPF record must begin exactly with 'v=spf1' "
            "and a space.",
            evidence=ignored.text,
            location=where,
        )
        for ignored in found.ignored
    ]
    status = found.status
    if status == "nxdomain":
        findings.append(
            SPF_NXDOMAIN.finding(
                f"The domain {found.name} does not exist (NXDOMAIN), so it has "
                "no SPF record.",
                location=where,
            )
        )
    elif status in ("none", "nodata"):
        findings.append(
            SPF_MISSING.finding(
                f"{found.name} publishes no SPF record, so receivers cannot tell "
                "which hosts may send its mail.",
                location=where,
            )
        )
    elif status == "multiple":
        findings.append(
            SPF_MULTIPLE.finding(
                f"{found.name} publishes {len(found.records)} SPF records; "
                "receivers return permerror and SPF fails for every message.",
                evidence=" | ".join(r.text for r in found.records),
                location=where,
            )
        )
    return findings


def _record_findings(
    found: Discovery, record: SPFRecord, tree: SPFTree
) -> list[Finding]:
    text = found.text
    where = f"{found.name} TXT"
    findings = syntax_findings(record, evidence=text, location=where)
    if record.valid:
        findings += lint_record(record, evidence=text, location=where)
    for name, target in tree.redirect_chain:
        if target.valid:
            findings += lint_record(
                target, evidence=target.to_text(), location=f"{name} TXT"
            )
    findings += tree.findings
    return findings


def _size_findings(found: Discovery) -> list[Finding]:
    where = f"{found.name} TXT"
    findings = []
    for record in found.records:
        for raw in record.strings:
            if len(raw) > MAX_STRING_BYTES:
                findings.append(
                    SPF_STRING_TOO_LONG.finding(
                        f"A character-string of the SPF record at {found.name} is "
                        f"{len(raw)} bytes; DNS allows at most {MAX_STRING_BYTES}, "
                        "so the record cannot be published as it stands.",
                        evidence=record.text,
                        location=where,
                    )
                )
        if len(record.data) > MAX_RECORD_BYTES:
            findings.append(
                SPF_RECORD_TOO_LONG.finding(
                    f"The SPF record at {found.name} is {len(record.data)} bytes, "
                    f"more than the {MAX_RECORD_BYTES} RFC 7208 advises.",
                    evidence=record.text,
                    location=where,
                )
            )
    size = estimate_response_size(found.answer)
    if size > MAX_UDP_BYTES:
        findings.append(
            SPF_UDP_SIZE.finding(
                f"The TXT answer for {found.name} is about {size} bytes, more "
                f"than {MAX_UDP_BYTES}, so receivers without EDNS get a truncated "
                "answer and must retry over TCP; some give up with temperror.",
                location=where,
            )
        )
    return findings


def estimate_response_size(answer: Answer) -> int:
    """Estimate the size in bytes of the DNS response carrying ``answer``.

    An estimate: a 12-byte header, the question, then per resource record a
    compressed owner (2 bytes), type, class, TTL and length (10 bytes) and the
    rdata. A CNAME's target is counted uncompressed; EDNS and the authority
    and additional sections are left out.
    """
    size = 12 + _wire_length(answer.name) + 4
    for target in answer.cnames:
        size += 12 + _wire_length(target)
    for record in answer.records:
        if isinstance(record, TXTRecord):
            size += 12 + sum(1 + len(s) for s in record.strings)
    return size


def _wire_length(name: str) -> int:
    """Return the length of ``name`` in DNS wire format, uncompressed."""
    return sum(len(label) + 1 for label in name.split(".") if label) + 1


def _type99_finding(answer: Answer) -> Finding:
    texts = [r.text for r in answer.records if isinstance(r, TXTRecord)]
    return SPF_TYPE99.finding(
        f"{answer.name} publishes {len(texts)} record(s) of the obsolete type "
        "SPF (99); RFC 7208 removed it and receivers only read TXT.",
        evidence=" | ".join(texts) or None,
        location=f"{answer.name} SPF",
    )
