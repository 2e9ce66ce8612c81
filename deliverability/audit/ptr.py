"""The PTR check: forward-confirmed reverse DNS of sending and MX addresses.

An address passes when its PTR record names a host whose A or AAAA records
contain that same address: the "iprev" method of RFC 8601, section 3, which
Gmail and Yahoo require of every sending IP. Names that look like those of
dynamic or consumer address pools are flagged too (see
:func:`generic_name_reason` and docs/mx-ptr.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.reversename
from publicsuffixlist import PublicSuffixList

from ..dns.answer import Answer, Status
from ..dns.names import normalize_domain
from ..dns.psl import public_suffix_list
from ..dns.resolver import Resolver
from ..errors import InputError, InvalidDomainError
from ..findings import Finding, Severity, rule
from .common import lookup_failed
from .model import CheckResult
from .mx import resolve_addresses

__all__ = [
    "MAX_SPF_ADDRESSES",
    "PTR_ADDRESSES_SKIPPED",
    "PTR_GENERIC",
    "PTR_MISSING",
    "PTR_MULTIPLE_NAMES",
    "PTR_NOT_CONFIRMED",
    "PTR_NO_SENDING_IPS",
    "check_ptr",
    "generic_name_reason",
    "is_generic_name",
]

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: PTR names checked per address; later names are ignored, as RFC 7208,
#: section 4.6.4 does for the SPF "ptr" mechanism.
MAX_PTR_NAMES = 10

#: SPF-listed addresses checked per domain. A record can list hundreds of
#: single addresses, and each costs at least one PTR query, so the rest are
#: counted and skipped. Addresses given with --ip are always checked.
MAX_SPF_ADDRESSES = 20

#: Sources whose addresses send mail; the rest are MX addresses.
SENDING_SOURCES = ("given", "spf")

PTR_MISSING = rule(
    "ptr.missing",
    "ptr",
    Severity.ERROR,
    "Address has no PTR record",
    fix=(
        "Ask whoever controls the address block (your ISP, cloud or mail "
        "provider) to set a PTR record naming a host whose A/AAAA record "
        "points back to the address."
    ),
    reference="RFC 8601, section 3",
)
PTR_NOT_CONFIRMED = rule(
    "ptr.not_confirmed",
    "ptr",
    Severity.ERROR,
    "Reverse DNS is not forward-confirmed",
    fix=(
        "Publish an A/AAAA record for the PTR name that contains the address, "
        "or change the PTR record to a name that does."
    ),
    reference="RFC 8601, section 3",
)
PTR_GENERIC = rule(
    "ptr.generic",
    "ptr",
    Severity.WARNING,
    "PTR name looks generic or dynamic",
    fix=(
        "Set a PTR name of your own that names the mail host, such as "
        "mail.example.com, instead of the provider's default or pool name."
    ),
    reference="RFC 8601, section 3",
)
PTR_MULTIPLE_NAMES = rule(
    "ptr.multiple_names",
    "ptr",
    Severity.INFO,
    "Address has more than one PTR name",
    fix=(
        "Keep one PTR record per sending address; many receivers look at the "
        "first name only."
    ),
    reference="RFC 8601, section 3",
)
PTR_ADDRESSES_SKIPPED = rule(
    "ptr.addresses_skipped",
    "ptr",
    Severity.INFO,
    "Some SPF-listed addresses were not checked",
    fix=(
        "Pass the addresses your mail actually leaves from with --ip; every "
        "address given that way is checked."
    ),
    reference="RFC 8601, section 3",
)
PTR_NO_SENDING_IPS = rule(
    "ptr.no_sending_ips",
    "ptr",
    Severity.INFO,
    "No sending IP address to check",
    fix=(
        "Pass the addresses your mail leaves from with --ip, so their reverse "
        "DNS can be checked."
    ),
    reference="RFC 8601, section 3",
)


@dataclass(slots=True)
class _Outcome:
    """The verdict on one address: details, findings and failed lookups."""

    entry: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    failures: list[Answer] = field(default_factory=list)


async def check_ptr(
    domain: str,
    *,
    resolver: Resolver,
    ips: Sequence[tuple[str, str]],
    mx_hosts: Sequence[str],
) -> CheckResult:
    """Check forward-confirmed reverse DNS of sending IPs and MX addresses.

    ``ips`` contains ``(address, source)`` pairs with source ``"given"`` or
    ``"spf"``; the addresses of every host in ``mx_hosts`` are checked too,
    with source ``"mx:<host>"``. ``details["addresses"]`` lists one dict per
    address: ``ip``, ``source``, ``ptr_names``, ``forward_confirmed`` (None
    when a lookup failed), ``confirmed_name``, ``generic`` and ``status``.

    Raises :class:`InputError` naming the value when a ``"given"`` address is
    not an IP address; invalid addresses of other sources are skipped.
    """
    result = CheckResult("ptr", details={"addresses": []})
    targets = _limit_spf_targets(domain, _sending_targets(ips), result)
    mx_targets = await _mx_targets(mx_hosts, resolver, result)
    seen = {ip for ip, _ in targets}
    for ip, source in mx_targets:
        if ip not in seen:
            seen.add(ip)
            targets.append((ip, source))
    outcomes = await asyncio.gather(
        *(_check_address(ip, source, resolver) for ip, source in targets)
    )
    for outcome in outcomes:
        result.details["addresses"].append(outcome.entry)
        result.findings.extend(outcome.findings)
        for answer in outcome.failures:
            _fail(result, answer, f"the reverse DNS of {outcome.entry['ip']}")
    if not any(source in SENDING_SOURCES for _, source in targets):
        result.findings.append(
            PTR_NO_SENDING_IPS.finding(
                f"No sending IP address of {domain} is known (none given and "
                "none listed as a single address in its SPF record), so the "
                "reverse DNS of its senders was not checked."
            )
        )
    return result


def _sending_targets(ips: Iterable[tuple[str, str]]) -> list[tuple[IPAddress, str]]:
    """Parse the sending addresses, keeping the first source of each."""
    targets: list[tuple[IPAddress, str]] = []
    seen: set[IPAddress] = set()
    for text, source in ips:
        try:
            ip = ipaddress.ip_address(text.strip())
        except ValueError:
            if source == "given":
                raise InputError(
                    f"invalid IP address {text!r}: give an IPv4 address such as "
                    "192.0.2.1 or an IPv6 address such as 2001:db8::1"
                ) from None
            logger.debug("skipping invalid %s address %r", source, text)
            continue
        if ip not in seen:
            seen.add(ip)
            targets.append((ip, source))
    return targets


def _limit_spf_targets(
    domain: str, targets: list[tuple[IPAddress, str]], result: CheckResult
) -> list[tuple[IPAddress, str]]:
    """Keep every given address and the first SPF-listed ones, up to the limit."""
    spf = [target for target in targets if target[1] == "spf"]
    if len(spf) <= MAX_SPF_ADDRESSES:
        return targets
    skipped = set(spf[MAX_SPF_ADDRESSES:])
    result.details["spf_addresses_skipped"] = len(skipped)
    result.findings.append(
        PTR_ADDRESSES_SKIPPED.finding(
            f"The SPF record of {domain} lists {len(spf)} single addresses; the "
            f"reverse DNS of the first {MAX_SPF_ADDRESSES} was checked and "
            f"{len(skipped)} were skipped.",
            location=f"{domain} TXT",
        )
    )
    return [target for target in targets if target not in skipped]


async def _mx_targets(
    mx_hosts: Sequence[str], resolver: Resolver, result: CheckResult
) -> list[tuple[IPAddress, str]]:
    """Resolve the addresses of each MX host (null MX and bad names skipped)."""
    names: list[str] = []
    for host in mx_hosts:
        try:
            names.append(normalize_domain(host))
        except InvalidDomainError:
            continue  # the MX check reports invalid targets
    answers = await asyncio.gather(*(resolve_addresses(n, resolver) for n in names))
    targets: list[tuple[IPAddress, str]] = []
    for name, pair in zip(names, answers, strict=True):
        for answer in pair:
            if answer.failed:
                _fail(result, answer, f"the address of MX host {name}")
            elif answer.found:
                targets.extend(
                    (ipaddress.ip_address(r), f"mx:{name}") for r in answer.records
                )
    return targets


async def _check_address(ip: IPAddress, source: str, resolver: Resolver) -> _Outcome:
    reverse = dns.reversename.from_address(str(ip)).to_text(omit_final_dot=True)
    outcome = _Outcome(
        {
            "ip": str(ip),
            "source": source,
            "ptr_names": [],
            "forward_confirmed": None,
            "confirmed_name": None,
            "generic": False,
            "status": "unknown",
        }
    )
    answer = await resolver.resolve(reverse, "PTR")
    if answer.failed:
        outcome.failures.append(answer)
        return outcome
    if not answer.found:
        outcome.entry.update(forward_confirmed=False, status="no_ptr")
        outcome.findings.append(_missing(ip, source, reverse, answer))
        return outcome
    names = [str(r) for r in answer.records]
    outcome.entry["ptr_names"] = names
    await _confirm(ip, names[:MAX_PTR_NAMES], resolver, outcome)
    _judge_names(ip, source, reverse, outcome)
    return outcome


def _missing(ip: IPAddress, source: str, reverse: str, answer: Answer) -> Finding:
    return PTR_MISSING.finding(
        f"The {_subject(ip, source)} has no PTR record ({_absence(answer)}), "
        "so receivers cannot confirm its host name.",
        location=f"{reverse} PTR",
        severity=_severity(source),
    )


def _absence(answer: Answer) -> str:
    if answer.status is Status.NXDOMAIN:
        return f"{answer.name} does not exist: NXDOMAIN"
    return f"{answer.name} exists but has none: NODATA"


async def _confirm(
    ip: IPAddress, names: list[str], resolver: Resolver, outcome: _Outcome
) -> None:
    """Set ``forward_confirmed``: does some PTR name resolve back to ``ip``?"""
    rdtype = "A" if ip.version == 4 else "AAAA"
    valid = [n for n in names if _valid_name(n)]
    answers = await asyncio.gather(*(resolver.resolve(n, rdtype) for n in valid))
    for name, answer in zip(valid, answers, strict=True):
        if answer.found and ip in {_parse_ip(r) for r in answer.records}:
            outcome.entry.update(forward_confirmed=True, confirmed_name=name)
            return
    failed = [a for a in answers if a.failed]
    if failed:
        outcome.failures.extend(failed)
        return
    outcome.entry["forward_confirmed"] = False


def _judge_names(ip: IPAddress, source: str, reverse: str, outcome: _Outcome) -> None:
    entry = outcome.entry
    names: list[str] = entry["ptr_names"]
    location = f"{reverse} PTR"
    evidence = ", ".join(names)
    if len(names) > 1:
        outcome.findings.append(
            PTR_MULTIPLE_NAMES.finding(
                f"The {_subject(ip, source)} has {len(names)} PTR names; many "
                "receivers use only the first.",
                evidence=evidence,
                location=location,
            )
        )
    if entry["forward_confirmed"] is False:
        entry["status"] = "not_confirmed"
        outcome.findings.append(
            PTR_NOT_CONFIRMED.finding(
                f"The PTR name of the {_subject(ip, source)} ({evidence}) does not "
                f"resolve back to {ip}, so reverse DNS is not forward-confirmed.",
                evidence=evidence,
                location=location,
                severity=_severity(source),
            )
        )
    elif entry["forward_confirmed"]:
        entry["status"] = "pass"
    name = entry["confirmed_name"] or names[0]
    reason = generic_name_reason(name, str(ip))
    if reason is not None:
        entry["generic"] = True
        if entry["status"] == "pass":
            entry["status"] = "generic"
        outcome.findings.append(
            PTR_GENERIC.finding(
                f"The PTR name {name} of the {_subject(ip, source)} looks generic: "
                f"{reason}. Receivers treat such names as dynamic or "
                "unmanaged senders.",
                evidence=name,
                location=location,
                severity=Severity.WARNING if _sending(source) else Severity.INFO,
            )
        )


def _sending(source: str) -> bool:
    return source in SENDING_SOURCES


def _subject(ip: IPAddress, source: str) -> str:
    """Name the address for a message, e.g. ``sending IP 192.0.2.1``."""
    if source == "given":
        return f"sending IP {ip}"
    if source == "spf":
        return f"SPF-listed sending IP {ip}"
    return f"address {ip} of MX host {source.removeprefix('mx:')}"


def _severity(source: str) -> Severity:
    """Sending addresses must pass; MX addresses only should."""
    return Severity.ERROR if _sending(source) else Severity.WARNING


def _valid_name(name: str) -> bool:
    try:
        normalize_domain(name)
    except InvalidDomainError:
        return False
    return True


def _parse_ip(text: object) -> IPAddress | None:
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


def _fail(result: CheckResult, answer: Answer, purpose: str) -> None:
    result.findings.append(lookup_failed(answer, purpose))
    result.complete = False


# Generic-name heuristic. A name is generic when it embeds its own address,
# any dotted or dashed IPv4 address, a word that ISPs use for dynamic or
# consumer pools, or a cloud provider's default host name. Words are matched
# as whole alphabetic runs of the host labels (the part left of the
# registrable domain), so "pool" matches "pool-1.isp.net" but not
# "carpool.example" or "mail.pool.example".

#: Words that ISPs put into the names of dynamic, consumer or pool addresses.
GENERIC_WORDS = frozenset(
    {
        "adsl", "broadband", "cable", "cablemodem", "client", "clients", "cpe",
        "cust", "customer", "dhcp", "dial", "dialin", "dialup", "dip", "dsl",
        "dyn", "dynamic", "dynip", "ftth", "fttx", "hsd", "nat", "pool", "ppp",
        "pppoe", "residential", "staticip", "unassigned", "vdsl", "xdsl",
    }
)  # fmt: skip

#: Default reverse names of cloud and hosting providers.
PROVIDER_DEFAULT_NAMES = (
    (re.compile(r"\.compute(-1)?\.amazonaws\.com$"), "Amazon EC2"),
    (re.compile(r"\.bc\.googleusercontent\.com$"), "Google Cloud"),
    (re.compile(r"\.cloudapp\.(net|azure\.com)$"), "Microsoft Azure"),
    (re.compile(r"\.your-server\.de$"), "Hetzner"),
    (re.compile(r"\.(members\.linode\.com|ip\.linodeusercontent\.com)$"), "Linode"),
    (re.compile(r"\.vultrusercontent\.com$"), "Vultr"),
    (re.compile(r"\.vps\.ovh\.(net|ca|us)$"), "OVHcloud"),
    (re.compile(r"\.contaboserver\.net$"), "Contabo"),
    (re.compile(r"\.secureserver\.net$"), "GoDaddy"),
)

_DOTTED_QUAD = re.compile(
    r"(?<![0-9])([0-9]{1,3})[-._]([0-9]{1,3})[-._]([0-9]{1,3})[-._]([0-9]{1,3})"
    r"(?![0-9])"
)
_STATIC_IP = re.compile(r"static-?ip")
_WORD = re.compile(r"[a-z]+")


def is_generic_name(name: str, address: str | None = None) -> bool:
    """Return True when ``name`` looks like a generic or dynamic PTR name."""
    return generic_name_reason(name, address) is not None


def generic_name_reason(name: str, address: str | None = None) -> str | None:
    """Return why ``name`` looks like a generic PTR name, or None if it does not.

    ``address`` is the IP the name belongs to. When it is given, the name is
    also searched for that address in decimal octets, hexadecimal or IPv6
    groups.
    """
    text = name.lower().rstrip(".")
    for pattern, provider in PROVIDER_DEFAULT_NAMES:
        if pattern.search(text):
            return f"it is a default {provider} host name"
    if address is not None and _embeds_address(text, address):
        return f"it contains the address {address}"
    for match in _DOTTED_QUAD.finditer(text):
        if all(int(octet) <= 255 for octet in match.groups()):
            return f"it contains the IPv4 address {match.group(0)}"
    host_part = _host_part(text)
    if _STATIC_IP.search(host_part):
        return "it contains the words 'static ip'"
    for word in _WORD.findall(host_part):
        if word in GENERIC_WORDS:
            return f"it contains the word {word!r}, used for address pools"
    return None


def _host_part(name: str) -> str:
    """Return the labels left of the registrable domain."""
    registrable = _suffix_list().privatesuffix(name)
    if registrable is None or registrable == name:
        labels = name.split(".")
        return ".".join(labels[:-2]) if registrable is None else ""
    return name[: -len(registrable) - 1]


def _suffix_list() -> PublicSuffixList:
    return public_suffix_list()


def _embeds_address(name: str, address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv4Address):
        return _embeds_ipv4(name, ip)
    groups = ip.exploded.split(":")
    short = [g.lstrip("0") or "0" for g in groups]
    forms = (
        "".join(groups),
        "-".join(groups),
        "-".join(short),
        ip.compressed.replace(":", "-"),
    )
    return any(form in name for form in forms)


_NUMBER = re.compile(r"[0-9]+")


def _embeds_ipv4(name: str, ip: ipaddress.IPv4Address) -> bool:
    """Find three consecutive octets of ``ip``, in either order, or its hex form."""
    octets = list(ip.packed)
    if f"{int(ip):08x}" in name or "".join(f"{o:03d}" for o in octets) in name:
        return True
    runs = [octets[0:3], octets[1:4], octets[3:0:-1], octets[2::-1]]
    return any(window in runs for window in _octet_windows(name))


def _octet_windows(name: str) -> list[list[int]]:
    """Return each run of three numbers of at most three digits in ``name``
    that are joined by single ``-``, ``.`` or ``_`` characters."""
    windows: list[list[int]] = []
    group: list[int] = []
    previous_end = -2
    for match in _NUMBER.finditer(name):
        digits = match.group()
        joined = match.start() == previous_end + 1 and name[previous_end] in "-._"
        if not joined:
            group = []
        group = [*group, int(digits)] if len(digits) <= 3 else []
        if len(group) >= 3:
            windows.append(group[-3:])
        previous_end = match.end()
    return windows
