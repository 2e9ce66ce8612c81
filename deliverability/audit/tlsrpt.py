"""The TLS-RPT check (RFC 8460): where senders report TLS delivery failures.

The TXT record at ``_smtp._tls.<domain>`` reads ``v=TLSRPTv1; rua=...``
with one or more ``mailto:`` or ``https:`` URIs. Unknown tags are ignored,
as section 3 of the RFC requires; report destinations are not contacted.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..dns.answer import Answer
from ..dns.resolver import Resolver
from ..findings import Rule, Severity, rule
from .common import lookup_failed
from .model import CheckResult
from .mta_sts import check_extension_tags, split_tag_list

__all__ = ["check_tlsrpt", "parse_rua", "uri_problem"]

_REF = "RFC 8460, section 3"
_URI_SPLIT = re.compile(r"[ \t]*,[ \t]*")


def _rule(code: str, severity: Severity, title: str, fix: str) -> Rule:
    return rule(f"tls-rpt.{code}", "tls-rpt", severity, title, fix=fix, reference=_REF)


MISSING = _rule(
    "missing",
    Severity.INFO,
    "No TLS-RPT record",
    'Publish _smtp._tls TXT "v=TLSRPTv1; rua=mailto:tls-reports@<domain>" to '
    "receive daily reports of senders' TLS failures.",
)
MULTIPLE_RECORDS = _rule(
    "multiple_records",
    Severity.ERROR,
    "More than one TLS-RPT record",
    "Keep exactly one TXT record starting with v=TLSRPTv1 at _smtp._tls; "
    "senders send no reports when there are several.",
)
INVALID_RECORD = _rule(
    "invalid_record",
    Severity.ERROR,
    "TLS-RPT record has invalid syntax",
    "Publish the record as v=TLSRPTv1; rua=<uri>[,<uri>] with fields separated "
    "by semicolons and no spaces around '='.",
)
MISSING_RUA = _rule(
    "missing_rua",
    Severity.ERROR,
    "TLS-RPT record has no rua",
    "Add rua=mailto:<address> or rua=https://<endpoint> to the record.",
)
INVALID_URI = _rule(
    "invalid_uri",
    Severity.ERROR,
    "TLS-RPT report URI is invalid",
    "Give each rua destination as mailto:<address> or https://<host>/<path>; "
    "encode commas and semicolons inside a URI as %2C and %3B.",
)


async def check_tlsrpt(domain: str, *, resolver: Resolver) -> CheckResult:
    """Check the TLS-RPT record of ``domain``.

    ``details`` contains ``record`` (the text, or None) and ``rua`` (the report
    URIs as published).
    """
    result = CheckResult("tls-rpt", details={"record": None, "rua": []})
    name = f"_smtp._tls.{domain}"
    answer = await resolver.resolve(name, "TXT")
    if answer.failed:
        result.findings.append(lookup_failed(answer, f"the TLS-RPT record of {domain}"))
        result.complete = False
        return result
    record = _pick_record(domain, answer, result)
    if record is not None:
        result.details["record"] = record
        _judge_record(f"{name} TXT", record, result)
    return result


def _pick_record(domain: str, answer: Answer, result: CheckResult) -> str | None:
    location = f"{answer.name} TXT"
    # Records that do not start with the version are not TLS-RPT records.
    records = [t for t in answer.texts if t.startswith("v=TLSRPTv1")]
    if not records:
        result.findings.append(
            MISSING.finding(
                f"{domain} publishes no TLS-RPT record, so senders cannot "
                "report failed TLS deliveries to it.",
                location=location,
            )
        )
        return None
    if len(records) > 1:
        result.findings.append(
            MULTIPLE_RECORDS.finding(
                f"{domain} publishes {len(records)} TLS-RPT records; senders "
                "use none unless there is exactly one.",
                evidence=" | ".join(records),
                location=location,
            )
        )
        return None
    return records[0]


def _judge_record(location: str, record: str, result: CheckResult) -> None:
    tags = split_tag_list(record)
    if tags.tags[:1] != [("v", "TLSRPTv1")]:
        tags.problems.insert(0, "the record must start with exactly v=TLSRPTv1;")
    check_extension_tags(tags, known=("v", "rua"))
    if tags.names().count("rua") > 1:
        tags.problems.append("rua= is given more than once")
    if tags.problems:
        result.findings.append(
            INVALID_RECORD.finding(
                f"The TLS-RPT record is invalid: {'; '.join(tags.problems)}.",
                evidence=record,
                location=location,
            )
        )
    rua = tags.first("rua")
    if rua is None:
        result.findings.append(
            MISSING_RUA.finding(
                "The TLS-RPT record has no rua= tag, so senders have nowhere "
                "to send reports.",
                evidence=record,
                location=location,
            )
        )
        return
    uris = parse_rua(rua)
    result.details["rua"] = uris
    for uri in uris:
        reason = uri_problem(uri)
        if reason is not None:
            result.findings.append(
                INVALID_URI.finding(
                    f"The TLS-RPT report URI {uri!r} is invalid: {reason}.",
                    evidence=record,
                    location=location,
                )
            )


def parse_rua(value: str) -> list[str]:
    """Split a ``rua`` value into its URIs (commas, optional white space)."""
    return [uri for uri in _URI_SPLIT.split(value.strip(" \t"))]


def uri_problem(uri: str) -> str | None:
    """Return why ``uri`` is no valid TLS-RPT destination, or None if it is."""
    if not uri:
        return "it is empty"
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        local, at, host = parts.path.rpartition("@")
        if not at or not local or "." not in host:
            return "a mailto: URI needs an address such as mailto:tls@example.com"
        return None
    if scheme == "https":
        if not parts.hostname:
            return "an https: URI needs a host name"
        return None
    return f"the scheme {parts.scheme or '(none)'!r} is not mailto or https"
