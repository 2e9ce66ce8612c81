"""The decision a receiving mail server would make about a message.

:func:`verify_message` runs SPF for the connection, DKIM for every signature,
DMARC for the author domain and iprev, then the sender rules that depend on
them (RFC 8058 one-click headers under a valid signature). The result
contains the findings and the RFC 8601 Authentication-Results field.
"""

from __future__ import annotations

import email.utils
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from ..dns import Resolver, normalize_domain
from ..errors import InputError, InvalidDomainError
from ..findings import Finding
from . import rules
from .dmarc import DMARCResult, evaluate_dmarc
from .iprev import IPRevResult, check_iprev
from .message import (
    AuthorDomains,
    author_domains,
    check_message,
    header_values,
)
from .results import MethodResult, format_header
from .spf import SPFResult, check_host, parse_ip
from .verification import MAX_SIGNATURES, DKIMResult, verify_dkim

__all__ = ["Connection", "Verdict", "dmarc_for_authors", "verify_message"]

log = logging.getLogger(__name__)

_DMARC_RANK = {"pass": 0, "none": 1, "fail": 2, "permerror": 3, "temperror": 4}


@dataclass(frozen=True, slots=True)
class Connection:
    """The SMTP session facts a receiver has besides the message."""

    ip: str | None = None
    helo: str | None = None
    """The EHLO/HELO name; defaults to the MAIL FROM domain."""
    mail_from: str | None = None
    """The envelope sender; defaults to the message's Return-Path. ``""`` or
    ``<>`` is the null sender of bounces, which SPF replaces by the HELO."""


@dataclass(slots=True)
class Verdict:
    """The authentication results of one message and the findings they raise."""

    authserv_id: str
    author: AuthorDomains
    dkim: list[DKIMResult]
    dmarc: DMARCResult
    spf: SPFResult | None = None
    iprev: IPRevResult | None = None
    findings: list[Finding] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when DMARC passes: the receiver accepts the mail as authentic."""
        return self.dmarc.passed

    @property
    def complete(self) -> bool:
        """False when a lookup failed, so the verdict may change on retry."""
        return not any(f.code == rules.INCOMPLETE.code for f in self.findings)

    def method_results(self) -> list[MethodResult]:
        """Return the Authentication-Results entries, in SPF, DKIM, DMARC order."""
        entries: list[MethodResult] = []
        if self.spf is not None:
            entries.append(_spf_entry(self.spf))
        entries.extend(_dkim_entry(result) for result in self.dkim)
        entries.append(_dmarc_entry(self.dmarc))
        if self.iprev is not None:
            entries.append(_iprev_entry(self.iprev))
        return entries

    def header(self, *, fold: bool = False) -> str:
        """Return the RFC 8601 Authentication-Results field of the verdict."""
        return format_header(self.authserv_id, self.method_results(), fold=fold)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "authentication_results": self.header(),
            "dmarc": self.dmarc.to_dict(),
            "dkim": [result.to_dict() for result in self.dkim],
            "spf": self.spf.to_dict() if self.spf else None,
            "iprev": self.iprev.to_dict() if self.iprev else None,
            "from": self.author.header,
            "findings": [finding.to_dict() for finding in self.findings],
            "complete": self.complete,
        }


def _spf_entry(spf: SPFResult) -> MethodResult:
    ptype = "smtp.mailfrom" if spf.identity == "mailfrom" else "smtp.helo"
    value = spf.sender if spf.identity == "mailfrom" else spf.domain
    comment = spf.explanation if spf.result != "pass" else ""
    return MethodResult("spf", spf.result, comment, ((ptype, value),))


def _dkim_entry(result: DKIMResult) -> MethodResult:
    properties = []
    if result.domain:
        properties.append(("header.d", result.domain))
    if result.identity:
        properties.append(("header.i", result.identity))
    if result.selector:
        properties.append(("header.s", result.selector))
    if result.algorithm:
        properties.append(("header.a", result.algorithm))
    comment = f"{result.key_bits}-bit key" if result.passed and result.key_bits else ""
    return MethodResult(
        "dkim", result.result, comment or result.reason, tuple(properties)
    )


def _dmarc_entry(dmarc: DMARCResult) -> MethodResult:
    properties = [("header.from", dmarc.from_domain or "none")]
    if dmarc.policy:
        properties.append(("policy.dmarc", dmarc.policy))
    comment = (
        f"record at {dmarc.policy_source}" if dmarc.policy_source else dmarc.reason
    )
    return MethodResult("dmarc", dmarc.result, comment, tuple(properties))


def _iprev_entry(iprev: IPRevResult) -> MethodResult:
    comment = iprev.confirmed or iprev.reason
    return MethodResult("iprev", iprev.result, comment, (("policy.iprev", iprev.ip),))


def _envelope(connection: Connection, headers: list[tuple[bytes, bytes]]) -> Connection:
    """Fill in MAIL FROM and HELO, and check them; raise :class:`InputError`.

    SPF needs an identity when the connection has an IP: the MAIL FROM, or
    the HELO name for the null sender (RFC 7208, section 2.4).
    """
    if not connection.ip:
        return connection  # SPF does not run, so MAIL FROM and HELO are unused
    ip = parse_ip(connection.ip)
    mail_from = connection.mail_from
    if mail_from is None:
        paths = header_values(headers, "return-path")
        # parseaddr drops comments; "<>" gives "", the null sender.
        mail_from = email.utils.parseaddr(paths[0])[1] if paths else None
    if mail_from is not None:
        mail_from = _checked_mail_from(mail_from)
    helo = connection.helo
    if helo:
        helo = _checked_name(helo, "HELO name", "--helo", "mail.example.com")
    elif mail_from:
        helo = mail_from.rpartition("@")[2]
    if not mail_from and not helo:
        raise InputError(
            "SPF for the sending IP needs an identity to check: give --mail-from "
            "ADDRESS (the bounce address) or --helo NAME, or verify a message "
            "with a Return-Path field"
        )
    return Connection(ip, helo or None, mail_from or None)


def _checked_mail_from(text: str) -> str:
    """Return the MAIL FROM address with its domain as an A-label; "" for ``<>``."""
    address = text.strip()
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1].strip()
    if not address:
        return ""
    local, at, domain = address.rpartition("@")
    if _CONTROL.search(local) or (at and not local):
        raise InputError(
            f"invalid MAIL FROM {text!r} (--mail-from or Return-Path): give an "
            "address such as bounce@example.com, or <> for the null sender"
        )
    try:
        name = normalize_domain(domain)
    except InvalidDomainError as exc:
        raise InputError(
            f"invalid MAIL FROM {text!r} (--mail-from or Return-Path): "
            f"{exc.reason}; give an address such as bounce@example.com, or <> "
            "for the null sender"
        ) from None
    return f"{local}@{name}" if at else name


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _checked_name(text: str, what: str, option: str, example: str) -> str:
    try:
        return normalize_domain(text)
    except InvalidDomainError as exc:
        raise InputError(
            f"invalid {what} {text!r} ({option}): {exc.reason}; give a name such "
            f"as {example}"
        ) from None


async def dmarc_for_authors(
    author: AuthorDomains,
    spf: SPFResult | None,
    dkim: list[DKIMResult],
    resolver: Resolver,
    method: str,
) -> DMARCResult:
    """Evaluate each author domain; the worst result stands for the message."""
    if not author.domains:
        return DMARCResult(
            "permerror", None, reason=author.problem or "no author domain"
        )
    results = [
        await evaluate_dmarc(
            domain, spf=spf, dkim_results=dkim, resolver=resolver, method=method
        )
        for domain in author.domains
    ]
    return max(results, key=lambda r: _DMARC_RANK.get(r.result, 0))


async def verify_message(
    message: bytes,
    *,
    resolver: Resolver,
    connection: Connection | None = None,
    authserv_id: str = "deliverability.invalid",
    dmarc_method: str = "psl",
    allow_sha1: bool = False,
) -> Verdict:
    """Decide what a receiver would about ``message`` arriving over ``connection``.

    SPF and iprev run only when the connection has an IP. rsa-sha1 signatures
    give permerror (RFC 8301) unless ``allow_sha1``. Raises
    :class:`~deliverability.errors.InputError` for a message that is too
    large or has no header section, and for an invalid IP address. Malformed
    signatures, From fields and records become results and findings.
    """
    headers = check_message(message, "to verify")
    envelope = _envelope(connection or Connection(), headers)
    spf = iprev = None
    if envelope.ip:
        ip = parse_ip(envelope.ip)
        spf = await check_host(
            ip,
            mail_from=envelope.mail_from,
            helo=envelope.helo or "",
            resolver=resolver,
        )
        iprev = await check_iprev(ip, resolver=resolver)
    dkim = await verify_dkim(message, resolver=resolver, allow_sha1=allow_sha1)
    author = author_domains(headers)
    dmarc = await dmarc_for_authors(author, spf, dkim, resolver, dmarc_method)
    verdict = Verdict(authserv_id, author, dkim, dmarc, spf, iprev)
    verdict.findings = _findings(verdict, headers)
    log.info("verdict: DMARC %s for %s", dmarc.result, dmarc.from_domain)
    return verdict


def _findings(verdict: Verdict, headers: list[tuple[bytes, bytes]]) -> list[Finding]:
    found: list[Finding] = []
    found.extend(_author_findings(verdict.author))
    found.extend(_dkim_findings(verdict))
    found.extend(_spf_findings(verdict.spf))
    found.extend(_dmarc_findings(verdict.dmarc))
    if verdict.iprev is not None and verdict.iprev.result == "fail":
        found.append(
            rules.IPREV_FAILED.finding(
                f"The sending IP {verdict.iprev.ip} fails iprev: "
                f"{verdict.iprev.reason}.",
                location=verdict.iprev.ip,
            )
        )
    found.extend(_one_click_findings(verdict.dkim, headers))
    found.extend(_ignored_signature_findings(headers))
    found.extend(_incomplete_findings(verdict))
    return found


def _ignored_signature_findings(headers: list[tuple[bytes, bytes]]) -> list[Finding]:
    count = sum(1 for name, _value in headers if name.lower() == b"dkim-signature")
    if count <= MAX_SIGNATURES:
        return []
    return [
        rules.DKIM_IGNORED.finding(
            f"The message carries {count} DKIM-Signature fields; only the first "
            f"{MAX_SIGNATURES} were verified and the others ignored.",
            location="DKIM-Signature",
        )
    ]


def _author_findings(author: AuthorDomains) -> list[Finding]:
    if author.domains:
        return []
    return [
        rules.FROM_INVALID.finding(
            f"No author domain can be read: {author.problem}.",
            evidence=author.header,
            location="From",
        )
    ]


def _dkim_findings(verdict: Verdict) -> list[Finding]:
    if not verdict.dkim:
        return [
            rules.DKIM_MISSING.finding("The message carries no DKIM-Signature field.")
        ]
    found = []
    for result in verdict.dkim:
        if result.result in ("fail", "permerror"):
            found.append(
                rules.DKIM_FAILED.finding(
                    f"The DKIM signature of {result.domain or 'an unknown domain'} "
                    f"(selector {result.selector or '?'}) gives {result.result}: "
                    f"{result.reason}.",
                    location=f"DKIM-Signature d={result.domain} s={result.selector}",
                )
            )
    passing = [result for result in verdict.dkim if result.passed]
    if passing and verdict.author.domains and not verdict.dmarc.dkim_aligned:
        domains = ", ".join(sorted({result.domain for result in passing}))
        found.append(
            rules.DKIM_UNALIGNED.finding(
                f"DKIM passes for {domains}, which does not align with the From "
                f"domain {verdict.author.domains[0]}.",
                location="DKIM-Signature",
            )
        )
    return found


def _spf_findings(spf: SPFResult | None) -> list[Finding]:
    if spf is None:
        return []
    found = []
    if spf.result not in ("pass", "temperror"):
        found.append(
            rules.SPF_FAILED.finding(
                f"SPF gives {spf.result} for {spf.ip} sending as {spf.sender}"
                + (f": {spf.explanation}." if spf.explanation else "."),
                location=spf.domain,
            )
        )
    aaaa_voids = [name for name in spf.void_names if name.endswith(" AAAA")]
    if ":" in spf.ip and aaaa_voids:
        hosts = ", ".join(name.rsplit(" ", 1)[0] for name in aaaa_voids)
        found.append(
            rules.SPF_IPV6_FRAGILE.finding(
                f"For the IPv6 sender {spf.ip}, the SPF record of {spf.domain} names "
                f"hosts without AAAA records ({hosts}); each counted as a void "
                f"lookup ({spf.void_lookups} of at most 2).",
                location=spf.domain,
            )
        )
    return found


def _dmarc_findings(dmarc: DMARCResult) -> list[Finding]:
    if dmarc.result == "none":
        return [
            rules.DMARC_MISSING.finding(
                f"No DMARC policy applies to {dmarc.from_domain}: {dmarc.reason}.",
                location=f"_dmarc.{dmarc.from_domain}",
            )
        ]
    if dmarc.result in ("fail", "permerror"):
        policy = f" (policy {dmarc.policy})" if dmarc.policy else ""
        return [
            rules.DMARC_FAILED.finding(
                f"DMARC gives {dmarc.result} for {dmarc.from_domain or 'the message'}"
                f"{policy}: {dmarc.reason}.",
                evidence=dmarc.record,
                location=dmarc.policy_source,
            )
        ]
    return []


def _one_click_findings(
    dkim: list[DKIMResult], headers: list[tuple[bytes, bytes]]
) -> list[Finding]:
    unsubscribe = header_values(headers, "list-unsubscribe")
    post = header_values(headers, "list-unsubscribe-post")
    has_https = any("<https://" in value.lower() for value in unsubscribe)
    one_click = any(
        value.replace(" ", "").lower() == "list-unsubscribe=one-click" for value in post
    )
    if not (has_https and one_click):
        missing = [] if has_https else ["List-Unsubscribe with an https URI"]
        missing += (
            [] if one_click else ["List-Unsubscribe-Post: List-Unsubscribe=One-Click"]
        )
        return [
            rules.ONE_CLICK_MISSING.finding(
                f"The message lacks {' and '.join(missing)}.",
                evidence="; ".join(unsubscribe + post) or None,
                location="List-Unsubscribe",
            )
        ]
    if any(_covers_one_click(r, headers) for r in dkim if r.passed):
        return []
    if any(_covers_one_click(r, headers) for r in dkim if r.result == "temperror"):
        return []  # unknown until the key lookup works; auth.incomplete reports it
    return [
        rules.ONE_CLICK_UNSIGNED.finding(
            "No valid DKIM signature covers every List-Unsubscribe and "
            "List-Unsubscribe-Post field.",
            location="DKIM-Signature h=",
        )
    ]


def _covers_one_click(result: DKIMResult, headers: list[tuple[bytes, bytes]]) -> bool:
    """True when ``h=`` lists each one-click field as often as the message has it.

    DKIM signs fields from the bottom up, so a copy above the signed ones,
    as a forwarder or attacker could add, would stay unsigned.
    """
    for name in ("list-unsubscribe", "list-unsubscribe-post"):
        present = sum(
            1 for field_name, _ in headers if field_name.lower() == name.encode()
        )
        if present == 0 or result.signed_headers.count(name) < present:
            return False
    return True


def _incomplete_findings(verdict: Verdict) -> list[Finding]:
    failed = [f"DKIM ({r.reason})" for r in verdict.dkim if r.result == "temperror"]
    if verdict.spf is not None and verdict.spf.result == "temperror":
        failed.append(f"SPF ({verdict.spf.explanation})")
    if verdict.dmarc.result == "temperror":
        failed.append(f"DMARC ({verdict.dmarc.reason})")
    if verdict.iprev is not None and verdict.iprev.result == "temperror":
        failed.append(f"iprev ({verdict.iprev.reason})")
    if not failed:
        return []
    return [
        rules.INCOMPLETE.finding(
            f"These checks failed temporarily: {'; '.join(failed)}.",
        )
    ]
