"""Judgments on one parsed SPF record that need no DNS.

These rules look at the terms of a record that parses: the ``all`` policy,
terms that never take effect, modifiers that look like mistyped mechanisms,
and the address ranges it authorises. Syntax faults are reported by
:mod:`.spf_syntax`; lookups by :mod:`.spf_tree`.
"""

from __future__ import annotations

import ipaddress
from collections import Counter

from ..dns.names import normalize_domain
from ..errors import InvalidDomainError
from ..findings import Finding, Rule, Severity, rule
from .spf_syntax import Mechanism, Modifier, SPFRecord

__all__ = [
    "BROAD_IPV4",
    "BROAD_IPV6",
    "SPF_PLUS_ALL",
    "lint_record",
    "plus_all_term",
    "special_range",
]

SPF_PLUS_ALL = rule(
    "spf.plus_all",
    "spf",
    Severity.ERROR,
    "SPF record authorises every host",
    fix=(
        "End the record with '-all' (or '~all' while testing) so that only the "
        "listed senders pass; 'all' without a qualifier means '+all'."
    ),
    reference="RFC 7208, section 5.1",
)
SPF_NEUTRAL_ALL = rule(
    "spf.neutral_all",
    "spf",
    Severity.WARNING,
    "SPF record ends in ?all",
    fix="Replace '?all' with '-all' (or '~all' while testing).",
    reference="RFC 7208, section 8.2",
)
SPF_NO_ALL = rule(
    "spf.no_all",
    "spf",
    Severity.WARNING,
    "SPF record has neither all nor redirect",
    fix="Add '-all' (or '~all') as the last term, so the record says what fails.",
    reference="RFC 7208, section 4.7",
)
SPF_PTR = rule(
    "spf.ptr",
    "spf",
    Severity.WARNING,
    "SPF record uses the ptr mechanism",
    fix=(
        "Replace 'ptr' with 'ip4:'/'ip6:' or 'a:' terms; ptr is slow, "
        "unreliable and some receivers skip it."
    ),
    reference="RFC 7208, section 5.5",
)
SPF_REDIRECT_IGNORED = rule(
    "spf.redirect_ignored",
    "spf",
    Severity.WARNING,
    "redirect= is ignored because the record has all",
    fix="Remove either the 'all' mechanism or the 'redirect=' modifier.",
    reference="RFC 7208, section 6.1",
)
SPF_AFTER_ALL = rule(
    "spf.after_all",
    "spf",
    Severity.WARNING,
    "Mechanisms after all are never reached",
    fix="Move the mechanisms before 'all', or remove them.",
    reference="RFC 7208, section 5.1",
)
SPF_DUPLICATE = rule(
    "spf.duplicate_mechanism",
    "spf",
    Severity.WARNING,
    "SPF record repeats a mechanism",
    fix=(
        "Remove the repeated term; a repeated include, 'a' or 'mx' costs a "
        "lookup each time."
    ),
    reference="RFC 7208, section 4.6.4",
)
SPF_MISTYPED = rule(
    "spf.mistyped_mechanism",
    "spf",
    Severity.ERROR,
    "Modifier looks like a mistyped mechanism",
    fix=(
        "Write the mechanism with a colon, e.g. 'include:example.org' rather "
        "than 'include=example.org'; receivers ignore unknown modifiers, so "
        "those senders are not authorised."
    ),
    reference="RFC 7208, section 6",
)
SPF_UNKNOWN_MODIFIER = rule(
    "spf.unknown_modifier",
    "spf",
    Severity.INFO,
    "SPF record has an unknown modifier",
    fix=(
        "Remove the modifier unless a receiver you care about uses it; "
        "others ignore it."
    ),
    reference="RFC 7208, section 6",
)
SPF_MACRO_P = rule(
    "spf.macro_p",
    "spf",
    Severity.WARNING,
    "SPF record uses the %{p} macro",
    fix="Replace %{p} with a name that does not depend on a reverse lookup.",
    reference="RFC 7208, section 7.3",
)
SPF_INVALID_DOMAIN = rule(
    "spf.invalid_domain",
    "spf",
    Severity.ERROR,
    "SPF term names an invalid domain",
    fix="Correct the domain: no empty labels, labels of at most 63 octets, 253 in all.",
    reference="RFC 7208, section 4.3",
)
SPF_SPECIAL_RANGE = rule(
    "spf.special_range",
    "spf",
    Severity.WARNING,
    "SPF record lists a private or reserved address range",
    fix=(
        "Remove the term: mail from the Internet never comes from private, "
        "loopback, link-local, documentation or reserved addresses."
    ),
    reference="RFC 6890, section 2.2",
)
SPF_BROAD_RANGE = rule(
    "spf.broad_range",
    "spf",
    Severity.WARNING,
    "SPF record authorises a very large address range",
    fix="List only the addresses or small networks that actually send your mail.",
    reference="RFC 7208, section 5.6",
)

#: IPv4 prefix lengths below the first value are errors, below the second warnings.
BROAD_IPV4 = (8, 16)
#: IPv6 prefix lengths below the first value are errors, below the second warnings.
BROAD_IPV6 = (16, 32)

# Modifier names that are valid SPF but probably meant as a mechanism.
_MECHANISM_LIKE = frozenset(
    {"include", "a", "mx", "ip4", "ip6", "exists", "ptr", "all"}
)
# Modifiers with a meaning: RFC 7208 (redirect, exp) and RFC 6652 (ra, rp, rr).
_KNOWN_MODIFIERS = frozenset({"redirect", "exp", "ra", "rp", "rr"})
_DOMAIN_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})

_IPV4_SPECIAL = [
    ("0.0.0.0/8", "'this network' (reserved)"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "shared carrier-grade NAT space (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation (RFC 5737)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("198.18.0.0/15", "benchmarking (RFC 2544)"),
    ("198.51.100.0/24", "documentation (RFC 5737)"),
    ("203.0.113.0/24", "documentation (RFC 5737)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
]
_IPV6_SPECIAL = [
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped (list the address with ip4: instead)"),
    ("100::/64", "discard-only"),
    ("2001:db8::/32", "documentation (RFC 3849)"),
    ("3fff::/20", "documentation (RFC 9637)"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("ff00::/8", "multicast"),
]
_SPECIAL = [
    (ipaddress.ip_network(network), label)
    for network, label in _IPV4_SPECIAL + _IPV6_SPECIAL
]


def lint_record(
    record: SPFRecord, *, evidence: str | None = None, location: str | None = None
) -> list[Finding]:
    """Return the DNS-free findings for one parsed record."""
    context = _Context(evidence or record.to_text(), location)
    findings: list[Finding] = []
    findings += _all_findings(record, context)
    findings += _unreached_findings(record, context)
    findings += _duplicate_findings(record, context)
    findings += _modifier_findings(record, context)
    for mechanism in record.mechanisms:
        findings += _mechanism_findings(mechanism, context)
    return findings


class _Context:
    """The evidence and location every finding of one record carries."""

    def __init__(self, evidence: str, location: str | None) -> None:
        self.evidence = evidence
        self.location = location

    def make(
        self,
        declared: Rule,
        message: str,
        *,
        fix: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return declared.finding(
            message,
            evidence=self.evidence,
            location=self.location,
            fix=fix,
            severity=severity,
        )


def plus_all_term(record: SPFRecord) -> Mechanism | None:
    """Return the reached ``all`` mechanism when it passes every host."""
    index = record.all_index
    if index is None:
        return None
    mechanism = record.mechanisms[index]
    return mechanism if mechanism.result == "+" else None


def _all_findings(record: SPFRecord, context: _Context) -> list[Finding]:
    index = record.all_index
    if index is None:
        if record.modifier("redirect") is not None:
            return []
        return [
            context.make(
                SPF_NO_ALL,
                "The SPF record has no 'all' mechanism and no 'redirect=', so "
                "hosts it does not list get the neutral result, as with '?all'.",
            )
        ]
    term = record.mechanisms[index]
    if term.result == "+":
        return [
            context.make(
                SPF_PLUS_ALL,
                f"The SPF term {term.to_text()!r} authorises every host on the "
                "Internet to send mail as this domain.",
            )
        ]
    if term.result == "?":
        return [
            context.make(
                SPF_NEUTRAL_ALL,
                "The SPF record ends in '?all', which says nothing about other "
                "hosts, so it gives receivers no protection against forgery.",
            )
        ]
    return []


def _unreached_findings(record: SPFRecord, context: _Context) -> list[Finding]:
    findings = []
    index = record.all_index
    if index is None:
        return []
    unreached = record.mechanisms[index + 1 :]
    if unreached:
        terms = " ".join(m.to_text() for m in unreached)
        findings.append(
            context.make(
                SPF_AFTER_ALL,
                f"The SPF terms after 'all' are never evaluated: {terms}.",
            )
        )
    redirect = record.modifier("redirect")
    if redirect is not None:
        findings.append(
            context.make(
                SPF_REDIRECT_IGNORED,
                f"The SPF modifier {redirect.to_text()!r} has no effect because "
                "the record contains an 'all' mechanism.",
            )
        )
    return findings


def _duplicate_findings(record: SPFRecord, context: _Context) -> list[Finding]:
    counts = Counter(
        (m.name, (m.value or "").lower(), m.cidr, m.cidr6)
        for m in record.evaluated_mechanisms
        if m.name != "all"
    )
    findings = []
    for mechanism in record.evaluated_mechanisms:
        key = (
            mechanism.name,
            (mechanism.value or "").lower(),
            mechanism.cidr,
            mechanism.cidr6,
        )
        if counts.get(key, 0) > 1:
            findings.append(
                context.make(
                    SPF_DUPLICATE,
                    f"The SPF term {mechanism.to_text()!r} appears "
                    f"{counts[key]} times.",
                )
            )
            del counts[key]
    return findings


def _modifier_findings(record: SPFRecord, context: _Context) -> list[Finding]:
    findings = []
    for modifier in record.modifiers:
        if modifier.name in _MECHANISM_LIKE:
            findings.append(_mistyped(modifier, context))
        elif modifier.name not in _KNOWN_MODIFIERS:
            findings.append(
                context.make(
                    SPF_UNKNOWN_MODIFIER,
                    f"The SPF modifier {modifier.to_text()!r} is not defined by "
                    "RFC 7208; receivers ignore it.",
                )
            )
        elif modifier.name in ("redirect", "exp"):
            findings += _value_findings(modifier.to_text(), modifier.value, context)
    return findings


def _mistyped(modifier: Modifier, context: _Context) -> Finding:
    intended = f"{modifier.name}:{modifier.value}"
    return context.make(
        SPF_MISTYPED,
        f"The SPF term {modifier.to_text()!r} is an unknown modifier, which "
        f"receivers silently ignore; it was almost certainly meant as "
        f"{intended!r}, so the senders it names are not authorised.",
        fix=f"Replace {modifier.to_text()!r} with {intended!r}.",
    )


def _mechanism_findings(mechanism: Mechanism, context: _Context) -> list[Finding]:
    findings = []
    text = mechanism.to_text()
    if mechanism.name == "ptr":
        findings.append(
            context.make(
                SPF_PTR,
                f"The SPF term {text!r} uses the ptr mechanism, which RFC 7208 "
                "says should not be used: it is slow and often unreliable.",
            )
        )
    if mechanism.name in _DOMAIN_MECHANISMS and mechanism.value is not None:
        findings += _value_findings(text, mechanism.value, context)
    if mechanism.name in ("ip4", "ip6"):
        findings += _address_findings(mechanism, context)
    else:
        findings += _dual_cidr_findings(mechanism, context)
    return findings


def _value_findings(text: str, value: str, context: _Context) -> list[Finding]:
    findings = []
    if "%{p" in value.lower():
        findings.append(
            context.make(
                SPF_MACRO_P,
                f"The SPF term {text!r} uses the %{{p}} macro, which needs a "
                "reverse lookup per message and which RFC 7208 says should not "
                "be used.",
            )
        )
    if "%" not in value:
        problem = domain_name_error(value)
        if problem:
            findings.append(
                context.make(
                    SPF_INVALID_DOMAIN,
                    f"The SPF term {text!r} names an invalid domain: {problem}.",
                )
            )
    return findings


def domain_name_error(value: str) -> str | None:
    """Return why a macro-free domain-spec cannot be looked up, or ``None``."""
    try:
        normalize_domain(value)
    except InvalidDomainError as exc:
        return exc.reason
    return None


def _address_findings(mechanism: Mechanism, context: _Context) -> list[Finding]:
    assert mechanism.value is not None
    network = ipaddress.ip_network(
        f"{mechanism.value}/{mechanism.cidr}"
        if mechanism.cidr is not None
        else mechanism.value,
        strict=False,
    )
    text = mechanism.to_text()
    findings = []
    label = special_range(network)
    if label is not None:
        findings.append(
            context.make(
                SPF_SPECIAL_RANGE,
                f"The SPF term {text!r} lists a {label} range, which never "
                "sends mail over the Internet.",
            )
        )
    broad = _broad_finding(text, network.version, network.prefixlen, context)
    if broad is not None:
        findings.append(broad)
    return findings


def _dual_cidr_findings(mechanism: Mechanism, context: _Context) -> list[Finding]:
    findings = []
    text = mechanism.to_text()
    for version, prefix in ((4, mechanism.cidr), (6, mechanism.cidr6)):
        if prefix is not None:
            broad = _broad_finding(text, version, prefix, context, around=True)
            if broad is not None:
                findings.append(broad)
    return findings


def special_range(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str | None:
    """Return the kind of special-purpose range ``network`` lies in, or ``None``."""
    for special, label in _SPECIAL:
        if special.version == network.version and network.subnet_of(special):  # type: ignore[arg-type]
            return label
    return None


def _broad_finding(
    text: str, version: int, prefix: int, context: _Context, *, around: bool = False
) -> Finding | None:
    error_below, warn_below = BROAD_IPV4 if version == 4 else BROAD_IPV6
    if prefix >= warn_below:
        return None
    bits = 32 if version == 4 else 128
    size = f"2^{bits - prefix}"
    where = " around each address the name resolves to" if around else ""
    severity = Severity.ERROR if prefix < error_below else Severity.WARNING
    return context.make(
        SPF_BROAD_RANGE,
        f"The SPF term {text!r} authorises a /{prefix} IPv{version} network "
        f"({size} addresses){where}, far more than any sender needs.",
        severity=severity,
    )
