"""The DKIM check: find the domain's public keys and judge each one.

DKIM keys sit at ``<selector>._domainkey.<domain>`` and nothing in the DNS
lists the selectors, so the check looks up the selectors it is given and
then guesses from :data:`COMMON_SELECTORS`. One lookup of
``_domainkey.<domain>`` first shows whether guessing can find anything: an
NXDOMAIN there means no name below it exists (RFC 8020), so the guesses are
skipped. Each key record is parsed by :mod:`.dkim_record`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..dns.answer import Answer, Status, TXTRecord
from ..dns.names import normalize_domain
from ..dns.resolver import Resolver
from ..errors import InputError, InvalidDomainError
from ..findings import Finding, Severity, rule
from .common import DNS_LOOKUP_FAILED, lookup_failed
from .dkim_record import DKIMKeyRecord
from .model import CheckResult

__all__ = [
    "COMMON_SELECTORS",
    "DKIMKeyRecord",
    "DKIM_DANGLING_CNAME",
    "DKIM_ED25519_ONLY",
    "DKIM_MULTIPLE_RECORDS",
    "DKIM_NOT_FOUND",
    "DKIM_ONLY_REVOKED",
    "DKIM_REVOKED",
    "DKIM_SELECTOR_NOT_FOUND",
    "check_dkim",
    "normalize_selector",
]

logger = logging.getLogger(__name__)

#: Selectors that mail services commonly use, probed when none is known.
#: docs/dkim.md lists which service each comes from. Services that generate
#: random selectors (Amazon SES, Postmark) cannot be guessed.
COMMON_SELECTORS: tuple[str, ...] = (
    "google",
    "selector1",
    "selector2",
    "k1",
    "k2",
    "k3",
    "s1",
    "s2",
    "default",
    "dkim",
    "mail",
    "smtp",
    "mxvault",
    "s1024",
    "s2048",
    "mandrill",
    "protonmail",
    "fm1",
    "zendesk1",
    "mailjet",
)

_REF_LOOKUP = "RFC 6376, section 3.6.2.2"

DKIM_NOT_FOUND = rule(
    "dkim.not_found",
    "dkim",
    Severity.WARNING,
    "No DKIM key found",
    fix=(
        "Pass the selector with --selector NAME: it is the s= tag of the "
        "DKIM-Signature header in a message the domain sent. If there is none, "
        "set up DKIM signing at every service that sends as the domain."
    ),
    reference=_REF_LOOKUP,
)
DKIM_SELECTOR_NOT_FOUND = rule(
    "dkim.selector_not_found",
    "dkim",
    Severity.WARNING,
    "No DKIM key at a given selector",
    fix="Check the selector's spelling, or publish its key record.",
    reference=_REF_LOOKUP,
)
DKIM_MULTIPLE_RECORDS = rule(
    "dkim.multiple_records",
    "dkim",
    Severity.ERROR,
    "More than one TXT record at a DKIM selector",
    fix="Keep exactly one key record at the selector; verifiers may pick either.",
    reference=_REF_LOOKUP,
)
DKIM_DANGLING_CNAME = rule(
    "dkim.dangling_cname",
    "dkim",
    Severity.WARNING,
    "DKIM selector is an alias of a name without a key",
    fix=(
        "Remove the CNAME if the service no longer signs for the domain, or "
        "fix its target as the service's setup page says."
    ),
    reference=_REF_LOOKUP,
)
DKIM_REVOKED = rule(
    "dkim.revoked",
    "dkim",
    Severity.INFO,
    "DKIM key is revoked (empty p=)",
    fix="Nothing to do if the selector is retired; remove it once no mail uses it.",
    reference="RFC 6376, section 3.6.1",
)
DKIM_ONLY_REVOKED = rule(
    "dkim.only_revoked",
    "dkim",
    Severity.WARNING,
    "Every DKIM key found is revoked",
    fix="Publish a current key under a new selector and sign with it.",
    reference="RFC 6376, section 3.6.1",
)
DKIM_ED25519_ONLY = rule(
    "dkim.ed25519_only",
    "dkim",
    Severity.INFO,
    "Only Ed25519 DKIM keys found",
    fix=(
        "Sign with an RSA key as well, because not every verifier supports Ed25519 yet."
    ),
    reference="RFC 8463, section 3",
)


def normalize_selector(text: str) -> str:
    """Return a DKIM selector as lower-case A-labels.

    A selector is one or more DNS labels (RFC 6376, section 3.1). Raises
    :class:`InputError` naming the value when it is not.
    """
    try:
        selector = normalize_domain(text)
    except InvalidDomainError as exc:
        raise InputError(
            f"invalid DKIM selector {text!r}: {exc.reason}; give the s= value of "
            "a DKIM-Signature header, such as google or s1"
        ) from None
    if selector == "." or selector.endswith("._domainkey"):
        raise InputError(
            f"invalid DKIM selector {text!r}: give only the selector, such as "
            "google, not the name under _domainkey"
        )
    return selector


@dataclass(frozen=True, slots=True)
class _Probe:
    selector: str
    name: str
    given: bool
    answer: Answer


async def check_dkim(
    domain: str,
    *,
    resolver: Resolver,
    selectors: Sequence[str] = (),
    common_selectors: bool = True,
) -> CheckResult:
    """Look up and judge the DKIM keys of ``domain`` (lower-case A-labels).

    ``selectors`` are always looked up; :data:`COMMON_SELECTORS` follow when
    ``common_selectors`` is true and ``_domainkey.<domain>`` exists. Raises
    :class:`InputError` for a malformed selector. DNS failures do not raise:
    they make the result incomplete.
    """
    given = list(dict.fromkeys(normalize_selector(s) for s in selectors))
    for selector in given:
        _key_name(selector, domain, strict=True)
    node_lookup = asyncio.ensure_future(resolver.resolve(f"_domainkey.{domain}", "TXT"))
    given_probes = await asyncio.gather(
        *(_probe(selector, domain, True, resolver) for selector in given)
    )
    node = await node_lookup
    guesses: list[str] = []
    if common_selectors and node.status is not Status.NXDOMAIN:
        guesses = [s for s in COMMON_SELECTORS if s not in given]
    guessed = await asyncio.gather(
        *(_probe(selector, domain, False, resolver) for selector in guesses)
    )
    probes = [p for p in (*given_probes, *guessed) if p is not None]
    return _result(domain, node, probes, [*given, *guesses])


def _key_name(selector: str, domain: str, *, strict: bool) -> str | None:
    name = f"{selector}._domainkey.{domain}"
    try:
        return normalize_domain(name)
    except InvalidDomainError as exc:
        if strict:
            raise InputError(
                f"invalid DKIM selector {selector!r} for {domain}: {exc.reason}"
            ) from None
        return None


async def _probe(
    selector: str, domain: str, given: bool, resolver: Resolver
) -> _Probe | None:
    name = _key_name(selector, domain, strict=False)
    if name is None:
        return None
    answer = await resolver.resolve(name, "TXT")
    return _Probe(selector, name, given, answer)


def _result(
    domain: str, node: Answer, probes: list[_Probe], probed: list[str]
) -> CheckResult:
    findings: list[Finding] = []
    keys: list[dict[str, Any]] = []
    failed = [p for p in probes if p.answer.failed]
    if node.failed:
        findings.append(lookup_failed(node, "the _domainkey node"))
    findings += _failure_findings(failed)
    for probe in probes:
        if probe.answer.found:
            entry, found = _key_entry(probe)
            if entry is not None:
                keys.append(entry)
            findings += found
        elif not probe.answer.failed:
            findings += _missing_key_findings(probe)
    complete = not failed and not node.failed
    findings += _summary_findings(domain, node, keys, len(probed), complete)
    details = {
        "selectors_probed": probed,
        "keys": keys,
        "domainkey_node": _node_state(node),
    }
    logger.debug("dkim %s: %d selectors, %d keys", domain, len(probed), len(keys))
    return CheckResult("dkim", findings, details, complete=complete)


def _node_state(node: Answer) -> str:
    if node.status is Status.NXDOMAIN:
        return "nxdomain"
    return "failed" if node.failed else "exists"


def _failure_findings(failed: list[_Probe]) -> list[Finding]:
    """Return one finding per failed given selector and one for all failed guesses."""
    findings = [
        lookup_failed(p.answer, f"the DKIM key of selector {p.selector}")
        for p in failed
        if p.given
    ]
    guesses = [p for p in failed if not p.given]
    if guesses:
        names = ", ".join(p.selector for p in guesses)
        error = guesses[0].answer.error or "unknown error"
        findings.append(
            DNS_LOOKUP_FAILED.finding(
                f"The TXT lookups of {len(guesses)} commonly used DKIM selectors "
                f"({names}) failed ({error}), so their keys could not be checked.",
                location=guesses[0].name,
            )
        )
    return findings


def _key_entry(probe: _Probe) -> tuple[dict[str, Any] | None, list[Finding]]:
    """Parse the key record of a selector whose lookup found TXT records."""
    records = [r for r in probe.answer.records if isinstance(r, TXTRecord)]
    parsed = DKIMKeyRecord.from_text(records[0].text, location=probe.name)
    if not probe.given and parsed.get("p") is None and len(records) == 1:
        # A guessed name that contains some other TXT record (often a wildcard)
        # is not a DKIM key, so it is not reported as a broken one.
        return None, []
    findings = list(parsed.findings)
    entry = _describe_key(probe, parsed, records[0])
    if len(records) > 1:
        entry["status"] = "invalid"
        entry["records"] = [r.text for r in records]
        findings.append(
            DKIM_MULTIPLE_RECORDS.finding(
                f"{probe.name} has {len(records)} TXT records; verifiers may use "
                "any of them, so signatures verify only some of the time.",
                evidence=" | ".join(r.text for r in records),
                location=probe.name,
            )
        )
    if parsed.revoked and entry["status"] == "revoked":
        findings.append(
            DKIM_REVOKED.finding(
                f"The key at selector {probe.selector} is revoked (empty p=), so "
                "signatures made with it fail.",
                evidence=parsed.text,
                location=probe.name,
            )
        )
    return entry, findings


def _describe_key(
    probe: _Probe, parsed: DKIMKeyRecord, record: TXTRecord
) -> dict[str, Any]:
    entry: dict[str, Any] = {"selector": probe.selector, "name": probe.name}
    entry.update(parsed.to_dict())
    entry["cname_target"] = probe.answer.canonical_name if probe.answer.cnames else None
    entry["strings"] = [s.decode("utf-8", errors="replace") for s in record.strings]
    entry["record"] = record.text
    entry["given"] = probe.given
    return entry


def _missing_key_findings(probe: _Probe) -> list[Finding]:
    answer = probe.answer
    if answer.cnames:
        return [
            DKIM_DANGLING_CNAME.finding(
                f"Selector {probe.selector} is an alias (CNAME) of "
                f"{answer.canonical_name}, which has no key record "
                f"({answer.describe()}).",
                location=probe.name,
            )
        ]
    if probe.given:
        return [
            DKIM_SELECTOR_NOT_FOUND.finding(
                f"No DKIM key record at {probe.name} ({answer.describe()}), so "
                f"signatures with s={probe.selector} fail.",
                location=probe.name,
            )
        ]
    return []


def _summary_findings(
    domain: str,
    node: Answer,
    keys: list[dict[str, Any]],
    probed: int,
    complete: bool,
) -> list[Finding]:
    if not keys:
        if not complete:
            return []  # a failed lookup may hide the key
        return [_not_found(domain, node, probed)]
    usable = [k for k in keys if k["status"] == "valid"]
    if all(k["status"] == "revoked" for k in keys):
        return [
            DKIM_ONLY_REVOKED.finding(
                f"Every DKIM key found for {domain} is revoked, so no signature "
                "of the domain verifies.",
                location=f"_domainkey.{domain}",
            )
        ]
    if usable and all(k["key_type"] == "ed25519" for k in usable):
        return [
            DKIM_ED25519_ONLY.finding(
                f"The only valid DKIM keys of {domain} are Ed25519 keys, which some "
                "verifiers do not support yet.",
                location=f"_domainkey.{domain}",
            )
        ]
    return []


def _not_found(domain: str, node: Answer, probed: int) -> Finding:
    if node.status is Status.NXDOMAIN:
        return DKIM_NOT_FOUND.finding(
            f"DKIM could not be found for {domain}: _domainkey.{domain} does not "
            "exist (NXDOMAIN), so no selector exists below it (RFC 8020). If the "
            "domain does sign its mail, check the selector with --selector NAME.",
            location=f"_domainkey.{domain}",
        )
    if probed:
        reason = f"none of the {probed} selectors probed has a key record"
    else:
        reason = "no selector was given and common selectors were not probed"
    return DKIM_NOT_FOUND.finding(
        f"DKIM could not be found for {domain}: {reason}. The domain may use a "
        "selector that cannot be guessed: pass it with --selector NAME.",
        location=f"_domainkey.{domain}",
    )
