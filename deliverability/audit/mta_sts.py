"""The MTA-STS check (RFC 8461): the TXT record, and the policy over HTTPS.

The TXT record at ``_mta-sts.<domain>`` is always checked. The policy at
``https://mta-sts.<domain>/.well-known/mta-sts.txt`` is fetched only when the
caller allows network access; offline audits report it as not checked. The
policy host's address comes from the audit's resolver, so the fetch sends no
query to any other DNS source. The policy parser, :func:`parse_policy`, is a
pure function.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

from ..dns.answer import Answer
from ..dns.names import normalize_domain
from ..dns.resolver import Resolver
from ..errors import InvalidDomainError
from ..findings import Finding, Rule, Severity, rule
from .common import lookup_failed
from .model import CheckResult
from .mx import resolve_addresses

__all__ = [
    "POLICY_PATH",
    "PolicyFetcher",
    "PolicyParse",
    "TagList",
    "check_mta_sts",
    "mx_matches",
    "parse_policy",
    "split_tag_list",
]

logger = logging.getLogger(__name__)

POLICY_PATH = "/.well-known/mta-sts.txt"
#: The largest max_age a policy may set, in seconds (RFC 8461, section 3.2).
MAX_AGE_LIMIT = 31_557_600
#: Policies cached for less than a week leave little protection between fetches.
MAX_AGE_ADVISED = 604_800
_REF = "RFC 8461, section 3.1"
_REF_POLICY = "RFC 8461, section 3.2"
_REF_FETCH = "RFC 8461, section 3.3"

_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_EXT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_EXT_VALUE = re.compile(r"[\x21-\x3a\x3c\x3e-\x7e]+")
_MAX_AGE = re.compile(r"[0-9]{1,10}")
_WSP = " \t"


def _rule(code: str, severity: Severity, title: str, fix: str, ref: str) -> Rule:
    return rule(f"mta-sts.{code}", "mta-sts", severity, title, fix=fix, reference=ref)


MISSING = _rule(
    "missing",
    Severity.INFO,
    "No MTA-STS record",
    'Publish _mta-sts TXT "v=STSv1; id=..." and a policy at '
    "https://mta-sts.<domain>/.well-known/mta-sts.txt so senders require TLS "
    "to your MX hosts.",
    _REF,
)
MULTIPLE_RECORDS = _rule(
    "multiple_records",
    Severity.ERROR,
    "More than one MTA-STS record",
    "Keep exactly one TXT record starting with v=STSv1 at _mta-sts; senders "
    "ignore MTA-STS when there are several.",
    _REF,
)
INVALID_RECORD = _rule(
    "invalid_record",
    Severity.ERROR,
    "MTA-STS record has invalid syntax",
    "Publish the record as v=STSv1; id=<1 to 32 letters or digits>; with "
    "fields separated by semicolons.",
    _REF,
)
INVALID_ID = _rule(
    "invalid_id",
    Severity.ERROR,
    "MTA-STS record has a missing or invalid id",
    "Set id= to 1 to 32 letters or digits, e.g. a date stamp such as "
    "id=20240101T000000, and change it whenever the policy changes.",
    _REF,
)
POLICY_NOT_CHECKED = _rule(
    "policy_not_checked",
    Severity.INFO,
    "MTA-STS policy not checked (DNS only)",
    "Run the audit against live DNS, with policy fetching on, to fetch and "
    "check the policy over HTTPS.",
    _REF_FETCH,
)
POLICY_HOST_MISSING = _rule(
    "policy_host_missing",
    Severity.ERROR,
    "MTA-STS policy host has no address",
    "Publish A/AAAA records for mta-sts.<domain> pointing at an HTTPS server "
    "that serves the policy.",
    _REF_FETCH,
)
POLICY_FETCH_FAILED = _rule(
    "policy_fetch_failed",
    Severity.ERROR,
    "MTA-STS policy could not be fetched",
    "Serve the policy over HTTPS with a certificate valid for mta-sts.<domain> "
    "from a publicly trusted authority.",
    _REF_FETCH,
)
POLICY_HTTP_STATUS = _rule(
    "policy_http_status",
    Severity.ERROR,
    "MTA-STS policy not served with HTTP 200",
    "Serve the policy directly with status 200; senders follow no redirects.",
    _REF_FETCH,
)
POLICY_CONTENT_TYPE = _rule(
    "policy_content_type",
    Severity.ERROR,
    "MTA-STS policy is not text/plain",
    "Serve mta-sts.txt with the header Content-Type: text/plain.",
    _REF_FETCH,
)
POLICY_TOO_LARGE = _rule(
    "policy_too_large",
    Severity.ERROR,
    "MTA-STS policy is larger than 64 KB",
    "Keep the policy to its few key: value lines.",
    _REF_FETCH,
)
POLICY_INVALID = _rule(
    "policy_invalid",
    Severity.ERROR,
    "MTA-STS policy is invalid",
    "Write one key: value per line with version: STSv1, mode, max_age and one "
    "mx: line per MX host pattern.",
    _REF_POLICY,
)
POLICY_DUPLICATE_FIELD = _rule(
    "policy_duplicate_field",
    Severity.WARNING,
    "MTA-STS policy repeats a field",
    "Keep one line each for version, mode and max_age; senders use the first "
    "and ignore the rest.",
    _REF_POLICY,
)
MODE_TESTING = _rule(
    "mode_testing",
    Severity.WARNING,
    "MTA-STS policy is in testing mode",
    "Once TLS reports show no failures, set mode: enforce and change the id.",
    _REF_POLICY,
)
MODE_NONE = _rule(
    "mode_none",
    Severity.WARNING,
    "MTA-STS policy mode is none",
    "Set mode: testing or mode: enforce, or remove the MTA-STS record if the "
    "domain is withdrawing from MTA-STS on purpose.",
    _REF_POLICY,
)
MAX_AGE_SHORT = _rule(
    "max_age_short",
    Severity.WARNING,
    "MTA-STS max_age is shorter than a week",
    "Set max_age to at least 604800 (one week); weeks or more are expected.",
    _REF_POLICY,
)
MX_NOT_COVERED = _rule(
    "mx_not_covered",
    Severity.ERROR,
    "MX host not matched by the MTA-STS policy",
    "Add an mx: line for every MX host (a leading *. matches one label), then "
    "change the id in the TXT record.",
    "RFC 8461, section 4.1",
)
NO_TLSRPT = _rule(
    "no_tlsrpt",
    Severity.INFO,
    "MTA-STS without TLS reporting",
    'Publish _smtp._tls TXT "v=TLSRPTv1; rua=mailto:..." to hear about '
    "senders that fail to deliver under the policy.",
    "RFC 8460, section 3",
)


# Tag lists, shared by the MTA-STS, TLS-RPT and BIMI records.


@dataclass(slots=True)
class TagList:
    """A ``tag=value; tag=value`` record split into its fields."""

    tags: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Syntax faults, each a phrase such as ``field 'x' has no '='``."""

    def first(self, name: str) -> str | None:
        """Return the value of the first tag called ``name``, or None."""
        return next((v for k, v in self.tags if k == name), None)

    def names(self) -> list[str]:
        return [k for k, _ in self.tags]


def split_tag_list(text: str, *, spaces_around_equals: bool = False) -> TagList:
    """Split ``text`` at semicolons into ``(name, value)`` tags.

    White space around each semicolon is allowed and one trailing semicolon
    is too. RFC 8461 and RFC 8460 allow no white space around ``=``; pass
    ``spaces_around_equals=True`` for the looser DKIM-style tag list of BIMI.
    """
    parsed = TagList()
    parts = text.strip(_WSP).split(";")
    if len(parts) > 1 and not parts[-1].strip(_WSP):
        parts.pop()
    for raw in parts:
        part = raw.strip(_WSP)
        name, sep, value = part.partition("=")
        if not sep:
            parsed.problems.append(f"field {part!r} has no '='")
            continue
        if spaces_around_equals:
            name, value = name.strip(_WSP), value.strip(_WSP)
        elif name != name.rstrip(_WSP) or value != value.lstrip(_WSP):
            parsed.problems.append(f"field {part!r} has white space around '='")
            name, value = name.strip(_WSP), value.strip(_WSP)
        parsed.tags.append((name, value))
    return parsed


def check_extension_tags(tags: TagList, known: Sequence[str]) -> None:
    """Add problems for unknown tags whose name or value breaks the grammar."""
    for name, value in tags.tags:
        if name in known:
            continue
        if not _EXT_NAME.fullmatch(name):
            tags.problems.append(f"tag name {name!r} is invalid")
        elif not _EXT_VALUE.fullmatch(value):
            tags.problems.append(f"value of tag {name!r} is empty or invalid")


# The policy file.


@dataclass(slots=True)
class PolicyParse:
    """The outcome of :func:`parse_policy`."""

    policy: dict[str, Any] | None
    """``version``, ``mode``, ``max_age`` (int), ``mx`` (list) and
    ``extensions`` (dict); None when ``problems`` is not empty."""
    problems: list[str] = field(default_factory=list)
    """Faults that make senders treat the policy as invalid."""
    duplicates: list[str] = field(default_factory=list)
    """Fields given more than once; senders use the first."""


def parse_policy(text: str) -> PolicyParse:
    """Parse an MTA-STS policy body (RFC 8461, section 3.2).

    Lines end in LF or CRLF; each is ``key: value``. Unknown keys are kept in
    ``extensions``, repeated keys other than ``mx`` keep their first value.
    """
    fields: dict[str, str] = {}
    mx: list[str] = []
    result = PolicyParse(policy=None)
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r").rstrip(_WSP)
        if not line:
            continue
        key, sep, value = line.partition(":")
        value = value.lstrip(_WSP)
        if not sep or not _EXT_NAME.fullmatch(key):
            result.problems.append(f"line {number} is not 'key: value': {line!r}")
        elif key == "mx":
            mx.append(value)
        elif key in fields:
            result.duplicates.append(key)
        else:
            fields[key] = value
    result.problems.extend(_policy_problems(fields, mx))
    if not result.problems:
        result.policy = {
            "version": fields["version"],
            "mode": fields["mode"],
            "max_age": int(fields["max_age"]),
            "mx": mx,
            "extensions": {
                k: v
                for k, v in fields.items()
                if k not in ("version", "mode", "max_age")
            },
        }
    return result


def _policy_problems(fields: dict[str, str], mx: list[str]) -> list[str]:
    problems = []
    for key in ("version", "mode", "max_age"):
        if key not in fields:
            problems.append(f"the required field '{key}' is missing")
    version = fields.get("version")
    if version is not None and version != "STSv1":
        problems.append(f"version is {version!r}, expected 'STSv1'")
    mode = fields.get("mode")
    if mode is not None and mode not in ("enforce", "testing", "none"):
        problems.append(f"mode is {mode!r}, expected enforce, testing or none")
    max_age = fields.get("max_age")
    if max_age is not None:
        if not _MAX_AGE.fullmatch(max_age):
            problems.append(f"max_age {max_age!r} is not a number of seconds")
        elif int(max_age) > MAX_AGE_LIMIT:
            problems.append(f"max_age {max_age} exceeds {MAX_AGE_LIMIT} (one year)")
    if mode in ("enforce", "testing") and not mx:
        problems.append(f"mode {mode} needs at least one 'mx' line")
    problems.extend(
        f"mx pattern {pattern!r} is not a host name or *.name"
        for pattern in mx
        if not _valid_pattern(pattern)
    )
    return problems


def _valid_pattern(pattern: str) -> bool:
    name = pattern.removeprefix("*.")
    if "*" in name or not name:
        return False
    try:
        normalize_domain(name)
    except InvalidDomainError:
        return False
    return True


def mx_matches(host: str, pattern: str) -> bool:
    """Tell whether MX ``host`` matches policy ``pattern`` (RFC 8461, 4.1).

    A leading ``*.`` matches exactly one label: ``*.example.com`` matches
    ``mx1.example.com`` but neither ``example.com`` nor ``a.b.example.com``.
    """
    host = host.lower().rstrip(".")
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        label, dot, rest = host.partition(".")
        return bool(label) and bool(dot) and rest == pattern[2:]
    return host == pattern


# The HTTPS fetch.


@dataclass(frozen=True, slots=True)
class PolicyResponse:
    """The outcome of a policy fetch: a body, or the rule it broke and why."""

    text: str | None = None
    failed_rule: Rule | None = None
    message: str = ""
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyFetcher:
    """A fetcher of MTA-STS policies over HTTPS that connects to given addresses.

    The URL's host name is sent as SNI and Host header and the certificate
    is checked against it. ``verify`` is passed to httpx: True for the
    system's trusted authorities, or an ``ssl.SSLContext``. Addresses that
    are not globally routable are skipped unless ``allow_private`` is set,
    so a domain cannot point the auditor at an internal service.
    """

    verify: ssl.SSLContext | bool = True
    port: int = 443
    timeout: float = 10.0
    """Seconds for the whole fetch from one address."""
    max_size: int = 65_536
    allow_private: bool = False

    async def fetch(self, host: str, addresses: Sequence[str]) -> PolicyResponse:
        """GET the policy of ``host`` from the first address that responds."""
        usable = [a for a in addresses if self.allow_private or _is_global(a)]
        if not usable:
            return PolicyResponse(
                failed_rule=POLICY_FETCH_FAILED,
                message=f"{host} resolves only to addresses that are not "
                f"publicly routable ({', '.join(addresses)}).",
            )
        # Imported here because most audits never fetch a policy and httpx
        # adds a noticeable share of the command's start-up time.
        import httpx

        failure = PolicyResponse()
        async with httpx.AsyncClient(
            verify=self.verify,
            follow_redirects=False,
            trust_env=False,
            timeout=self.timeout,
        ) as client:
            for address in usable:
                try:
                    return await asyncio.wait_for(
                        self._get(client, host, address), self.timeout
                    )
                except (httpx.HTTPError, TimeoutError, ssl.SSLError) as exc:
                    logger.debug("policy fetch from %s failed: %r", address, exc)
                    failure = PolicyResponse(
                        failed_rule=POLICY_FETCH_FAILED,
                        message=f"Fetching https://{host}{POLICY_PATH} from "
                        f"{address} failed: {_describe_error(exc)}.",
                    )
        return failure

    async def _get(
        self, client: httpx.AsyncClient, host: str, address: str
    ) -> PolicyResponse:
        import httpx

        url = httpx.URL(scheme="https", host=address, port=self.port, path=POLICY_PATH)
        host_header = host if self.port == 443 else f"{host}:{self.port}"
        async with client.stream(
            "GET",
            url,
            # identity: the size cap counts the bytes as served, uncompressed.
            headers={"Host": host_header, "Accept-Encoding": "identity"},
            extensions={"sni_hostname": host},
        ) as response:
            problem = _judge_response(host, response)
            if problem is not None:
                return problem
            body = bytearray()
            async for chunk in response.aiter_raw():
                body.extend(chunk)
                if len(body) > self.max_size:
                    return PolicyResponse(
                        failed_rule=POLICY_TOO_LARGE,
                        message=f"The policy at https://{host}{POLICY_PATH} is "
                        f"larger than {self.max_size} bytes.",
                    )
        try:
            return PolicyResponse(text=body.decode("utf-8"))
        except UnicodeDecodeError:
            return PolicyResponse(
                failed_rule=POLICY_INVALID,
                message=f"The policy at https://{host}{POLICY_PATH} is not UTF-8 text.",
            )


def _judge_response(host: str, response: httpx.Response) -> PolicyResponse | None:
    url = f"https://{host}{POLICY_PATH}"
    if response.status_code != 200:
        location = response.headers.get("location")
        where = f" to {location}" if location else ""
        return PolicyResponse(
            failed_rule=POLICY_HTTP_STATUS,
            message=f"{url} returned HTTP {response.status_code}{where}; "
            "senders accept only 200 and follow no redirects.",
            evidence=f"HTTP {response.status_code}",
        )
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "text/plain":
        return PolicyResponse(
            failed_rule=POLICY_CONTENT_TYPE,
            message=f"{url} is served as {content_type or 'no content type'!r}, "
            "not text/plain.",
            evidence=f"Content-Type: {content_type}",
        )
    return None


def _describe_error(exc: BaseException) -> str:
    import httpx

    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "timed out"
    return str(exc) or type(exc).__name__


def _is_global(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False


# The check.


async def check_mta_sts(
    domain: str,
    *,
    resolver: Resolver,
    fetch_policy: bool,
    mx_hosts: Sequence[str],
    fetcher: PolicyFetcher | None = None,
) -> CheckResult:
    """Check the MTA-STS record of ``domain`` and, if allowed, its policy.

    ``fetch_policy`` False (offline) leaves the policy as an info finding.
    ``fetcher`` sets how the policy is fetched; the default trusts the
    system's certificate authorities and connects to port 443.
    ``details`` contains ``record``, ``id``, ``policy`` (parsed, or None),
    ``policy_checked`` and ``policy_status``.
    """
    result = CheckResult(
        "mta-sts",
        details={
            "record": None,
            "id": None,
            "policy": None,
            "policy_checked": False,
            "policy_status": "no record",
        },
    )
    name = f"_mta-sts.{domain}"
    answer = await resolver.resolve(name, "TXT")
    if answer.failed:
        _fail(result, answer, f"the MTA-STS record of {domain}")
        result.details["policy_status"] = "not checked (lookup failed)"
        return result
    record = _pick_record(domain, answer, result)
    if record is None:
        return result
    result.details["record"] = record
    if not _judge_record(name, record, result):
        result.details["policy_status"] = "not checked (invalid record)"
        return result
    await _check_tlsrpt_present(domain, resolver, result)
    if not fetch_policy:
        result.details["policy_status"] = "not checked (offline)"
        result.findings.append(
            POLICY_NOT_CHECKED.finding(
                f"The MTA-STS policy of {domain} was not fetched, because the "
                "audit checked DNS only.",
                location=f"https://mta-sts.{domain}{POLICY_PATH}",
            )
        )
        return result
    await _check_policy(domain, resolver, fetcher or PolicyFetcher(), mx_hosts, result)
    return result


def _pick_record(domain: str, answer: Answer, result: CheckResult) -> str | None:
    location = f"{answer.name} TXT"
    records = [t for t in answer.texts if t.startswith("v=STSv1")]
    if not records:
        result.findings.append(
            MISSING.finding(
                f"{domain} publishes no MTA-STS record, so senders may deliver "
                "to it without TLS or with an unchecked certificate.",
                location=location,
            )
        )
        return None
    if len(records) > 1:
        result.details["policy_status"] = "not checked (several records)"
        result.findings.append(
            MULTIPLE_RECORDS.finding(
                f"{domain} publishes {len(records)} MTA-STS records; senders "
                "ignore MTA-STS unless there is exactly one.",
                evidence=" | ".join(records),
                location=location,
            )
        )
        return None
    return records[0]


def _judge_record(name: str, record: str, result: CheckResult) -> bool:
    """Check the record's syntax and id; return True when it is valid."""
    tags = split_tag_list(record)
    location = f"{name} TXT"
    if tags.tags[:1] != [("v", "STSv1")]:
        tags.problems.insert(0, "the record must start with exactly v=STSv1;")
    check_extension_tags(tags, known=("v", "id"))
    ids = [v for k, v in tags.tags if k == "id"]
    if len(ids) > 1:
        tags.problems.append("id= is given more than once")
    if tags.problems:
        result.findings.append(
            INVALID_RECORD.finding(
                f"The MTA-STS record is invalid: {'; '.join(tags.problems)}.",
                evidence=record,
                location=location,
            )
        )
    if not ids or not _ID.fullmatch(ids[0]):
        found = f"id={ids[0]!r}" if ids else "no id"
        result.findings.append(
            INVALID_ID.finding(
                f"The MTA-STS record has {found}; id must be 1 to 32 letters "
                "or digits.",
                evidence=record,
                location=location,
            )
        )
        return False
    result.details["id"] = ids[0]
    return not tags.problems


async def _check_tlsrpt_present(
    domain: str, resolver: Resolver, result: CheckResult
) -> None:
    """Note a missing TLS-RPT record; a failed lookup is left to that check."""
    answer = await resolver.resolve(f"_smtp._tls.{domain}", "TXT")
    if answer.failed:
        return
    if not any(t.startswith("v=TLSRPTv1") for t in answer.texts):
        result.findings.append(
            NO_TLSRPT.finding(
                f"{domain} publishes MTA-STS but no TLS-RPT record, so it "
                "hears nothing when senders fail to meet the policy.",
                location=f"_smtp._tls.{domain} TXT",
            )
        )


async def _check_policy(
    domain: str,
    resolver: Resolver,
    fetcher: PolicyFetcher,
    mx_hosts: Sequence[str],
    result: CheckResult,
) -> None:
    host = f"mta-sts.{domain}"
    url = f"https://{host}{POLICY_PATH}"
    answers = await resolve_addresses(host, resolver)
    addresses = [str(r) for a in answers if a.found for r in a.records]
    if not addresses:
        failed = [a for a in answers if a.failed]
        for answer in failed:
            _fail(result, answer, f"the MTA-STS policy host of {domain}")
        if failed:
            result.details["policy_status"] = "not checked (lookup failed)"
            return
        result.details["policy_status"] = "policy host not found"
        result.findings.append(
            POLICY_HOST_MISSING.finding(
                f"{host} has no A or AAAA record, so senders cannot fetch the "
                "MTA-STS policy.",
                location=f"{host} A/AAAA",
            )
        )
        return
    result.details["policy_checked"] = True
    response = await fetcher.fetch(host, addresses)
    if response.text is None:
        result.details["policy_status"] = "fetch failed"
        failed_rule = response.failed_rule or POLICY_FETCH_FAILED
        result.findings.append(
            failed_rule.finding(
                response.message, evidence=response.evidence, location=url
            )
        )
        return
    result.details["policy_status"] = "fetched"
    result.findings.extend(_judge_policy(response.text, url, mx_hosts, result))


def _judge_policy(
    text: str, url: str, mx_hosts: Sequence[str], result: CheckResult
) -> list[Finding]:
    parsed = parse_policy(text)
    evidence = text[:1000]
    findings = [
        POLICY_DUPLICATE_FIELD.finding(
            f"The MTA-STS policy gives '{key}' more than once; senders use the first.",
            evidence=evidence,
            location=url,
        )
        for key in dict.fromkeys(parsed.duplicates)
    ]
    if parsed.policy is None:
        result.details["policy_status"] = "invalid"
        findings.append(
            POLICY_INVALID.finding(
                f"The MTA-STS policy is invalid: {'; '.join(parsed.problems)}.",
                evidence=evidence,
                location=url,
            )
        )
        return findings
    result.details["policy"] = parsed.policy
    findings.extend(_judge_settings(parsed.policy, url, evidence))
    findings.extend(_judge_coverage(parsed.policy, url, mx_hosts))
    return findings


def _judge_settings(policy: dict[str, Any], url: str, evidence: str) -> list[Finding]:
    findings = []
    if policy["mode"] == "testing":
        findings.append(
            MODE_TESTING.finding(
                "The MTA-STS policy is in testing mode: senders report TLS "
                "failures but still deliver without TLS.",
                evidence=evidence,
                location=url,
            )
        )
    elif policy["mode"] == "none":
        findings.append(
            MODE_NONE.finding(
                "The MTA-STS policy has mode none, so senders apply no TLS "
                "requirement.",
                evidence=evidence,
                location=url,
            )
        )
    if policy["max_age"] < MAX_AGE_ADVISED:
        findings.append(
            MAX_AGE_SHORT.finding(
                f"The MTA-STS max_age is {policy['max_age']} seconds, under one "
                f"week ({MAX_AGE_ADVISED}); a short cache lets an attacker who "
                "blocks the policy fetch strip TLS sooner.",
                evidence=evidence,
                location=url,
            )
        )
    return findings


def _judge_coverage(
    policy: dict[str, Any], url: str, mx_hosts: Sequence[str]
) -> list[Finding]:
    if policy["mode"] == "none":
        return []
    patterns: list[str] = policy["mx"]
    severity = Severity.ERROR if policy["mode"] == "enforce" else Severity.WARNING
    return [
        MX_NOT_COVERED.finding(
            f"The MX host {host} matches no mx pattern of the MTA-STS policy "
            f"({', '.join(patterns)}), so senders that enforce it will not "
            "deliver to that host.",
            evidence=", ".join(f"mx: {p}" for p in patterns),
            location=url,
            severity=severity,
        )
        for host in mx_hosts
        if host != "." and not any(mx_matches(host, p) for p in patterns)
    ]


def _fail(result: CheckResult, answer: Answer, purpose: str) -> None:
    result.findings.append(lookup_failed(answer, purpose))
    result.complete = False
