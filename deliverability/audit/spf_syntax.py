"""SPF record syntax (RFC 7208, section 12): a pure parser with no DNS.

:meth:`SPFRecord.from_text` splits a record into terms and checks each against
the ABNF. It never repairs a term: a term that does not parse stays in the
record as an :class:`InvalidTerm` with the reason, so the record round-trips
through :meth:`SPFRecord.to_text` and the audit can name the bad term. Macros
(RFC 7208, section 7) are validated and never expanded.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from ..findings import Finding, Severity, rule

__all__ = [
    "DNS_MECHANISMS",
    "InvalidTerm",
    "Mechanism",
    "Modifier",
    "NotSPFRecordError",
    "SPFRecord",
    "SPF_SYNTAX",
    "Term",
    "is_spf_record",
    "macro_errors",
    "syntax_findings",
]

SPF_SYNTAX = rule(
    "spf.syntax",
    "spf",
    Severity.ERROR,
    "SPF record has a syntax error",
    fix=(
        "Correct the term named in the message so that it matches the SPF "
        "grammar; receivers reject the whole record (permerror) until it does."
    ),
    reference="RFC 7208, section 12",
)

#: Mechanism names (RFC 7208, section 5).
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
#: Mechanisms and modifiers that cost a DNS lookup (RFC 7208, section 4.6.4).
DNS_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
QUALIFIERS = "+-~?"

_VERSION = re.compile(r"v=spf1(?= |\Z)", re.IGNORECASE)
_JOINED_ALL = re.compile(r".[+\-~?]all\Z", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
# A macro-expand, or a single macro-literal character (RFC 7208, section 7.1).
_MACRO_EXPAND = re.compile(
    r"%\{(?P<letter>[A-Za-z])(?P<digits>[0-9]*)(?P<reverse>[rR]?)"
    r"(?P<delimiters>[.\-+,/_=]*)\}|%[%_-]"
)
_MACRO_LETTERS = frozenset("slodiphv")
_EXP_ONLY_LETTERS = frozenset("crt")
_TOPLABEL = re.compile(
    r"(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])"
)
_DOMAIN_END = re.compile(r"\.(?:" + _TOPLABEL.pattern + r")\.?$")
_CIDR_SUFFIX = re.compile(r"(?:/(?P<v4>[0-9]+))?(?://(?P<v6>[0-9]+))?$")


class NotSPFRecordError(ValueError):
    """Raised for text that does not begin with the version ``v=spf1``."""


@dataclass(frozen=True, slots=True)
class Mechanism:
    """A directive: an optional qualifier and a mechanism (RFC 7208, section 4.6.2).

    ``value`` is the domain-spec (``include``, ``a``, ``mx``, ``ptr``,
    ``exists``) or the address (``ip4``, ``ip6``), as written. ``cidr`` is
    the prefix length of ``ip4``/``ip6`` and the IPv4 prefix length of
    ``a``/``mx``; ``cidr6`` is the IPv6 prefix length of ``a``/``mx``.
    """

    qualifier: str
    """The qualifier as written: ``""``, ``+``, ``-``, ``~`` or ``?``."""
    name: str
    """The mechanism name in lower case."""
    value: str | None = None
    cidr: int | None = None
    cidr6: int | None = None

    @property
    def result(self) -> str:
        """The qualifier that applies: ``+`` when none is written."""
        return self.qualifier or "+"

    @property
    def has_macro(self) -> bool:
        """True when the domain-spec contains a macro, so it cannot be followed."""
        return self.value is not None and "%" in self.value

    def to_text(self) -> str:
        """Return the term as record text."""
        text = self.qualifier + self.name
        if self.value is not None:
            text += ":" + self.value
        if self.cidr is not None:
            text += f"/{self.cidr}"
        if self.cidr6 is not None:
            text += f"//{self.cidr6}"
        return text


@dataclass(frozen=True, slots=True)
class Modifier:
    """A ``name=value`` modifier (RFC 7208, section 6); ``name`` in lower case."""

    name: str
    value: str

    def to_text(self) -> str:
        """Return the term as record text."""
        return f"{self.name}={self.value}"


@dataclass(frozen=True, slots=True)
class InvalidTerm:
    """A term that does not match the grammar, kept as written with the reason."""

    text: str
    reason: str

    def to_text(self) -> str:
        """Return the term as it was written."""
        return self.text


Term = Mechanism | Modifier | InvalidTerm


@functools.lru_cache(maxsize=4096)
def _parse_record(text: str) -> SPFRecord:
    # Cached because records are immutable values and a bulk audit meets the
    # same provider records (include targets) once per customer domain.
    terms = tuple(parse_term(token) for token in text[6:].split(" ") if token)
    return SPFRecord(terms, _record_errors(terms))


@dataclass(frozen=True, slots=True)
class SPFRecord:
    """A parsed SPF record: its terms in order, valid or not."""

    terms: tuple[Term, ...]
    errors: tuple[str, ...] = ()
    """Record-level faults that no single term shows, e.g. two ``redirect=``."""

    @classmethod
    def from_text(cls, text: str) -> SPFRecord:
        """Parse the joined text of one SPF record.

        Raises :class:`NotSPFRecordError` when ``text`` does not begin with
        ``v=spf1`` followed by a space or the end. Every other fault is kept
        in the returned record (see :attr:`valid`).
        """
        if not is_spf_record(text):
            raise NotSPFRecordError(
                f"not an SPF record: {text[:40]!r} does not begin with 'v=spf1'"
            )
        return _parse_record(text)

    def to_text(self) -> str:
        """Return the record text: the version and the terms, one space apart."""
        return " ".join(["v=spf1", *(term.to_text() for term in self.terms)])

    @property
    def valid(self) -> bool:
        """True when every term parses and the record-level rules hold."""
        return not self.errors and not self.invalid_terms

    @property
    def invalid_terms(self) -> list[InvalidTerm]:
        """The terms that do not parse, in order."""
        return [t for t in self.terms if isinstance(t, InvalidTerm)]

    @property
    def mechanisms(self) -> list[Mechanism]:
        """The mechanisms in order, those after ``all`` included."""
        return [t for t in self.terms if isinstance(t, Mechanism)]

    @property
    def modifiers(self) -> list[Modifier]:
        """The modifiers in order."""
        return [t for t in self.terms if isinstance(t, Modifier)]

    def modifier(self, name: str) -> Modifier | None:
        """Return the first modifier called ``name``, or ``None``."""
        return next((m for m in self.modifiers if m.name == name), None)

    @property
    def all_index(self) -> int | None:
        """The position of the first ``all`` among the mechanisms, or ``None``."""
        for index, mechanism in enumerate(self.mechanisms):
            if mechanism.name == "all":
                return index
        return None

    @property
    def evaluated_mechanisms(self) -> list[Mechanism]:
        """The mechanisms a receiver can reach: those up to the first ``all``."""
        mechanisms = self.mechanisms
        index = self.all_index
        return mechanisms if index is None else mechanisms[: index + 1]

    @property
    def redirect(self) -> Modifier | None:
        """The ``redirect=`` modifier when it takes effect (no ``all`` present)."""
        if self.all_index is not None:
            return None
        return self.modifier("redirect")


def is_spf_record(text: str) -> bool:
    """Tell whether ``text`` begins with ``v=spf1`` and a space or the end.

    The match ignores case and allows nothing before the version (RFC 7208,
    section 4.5).
    """
    return _VERSION.match(text) is not None


def parse_term(token: str) -> Term:
    """Parse one space-free term of a record."""
    term = _parse_term(token)
    if isinstance(term, InvalidTerm) and _JOINED_ALL.search(token):
        reason = f"{term.reason} (is a space missing before '{token[-4:]}'?)"
        return InvalidTerm(token, reason)
    return term


def _parse_term(token: str) -> Term:
    qualifier = token[0] if token[0] in QUALIFIERS else ""
    body = token[len(qualifier) :]
    match = _NAME.match(body)
    if match is None:
        return InvalidTerm(token, "a term must start with a mechanism or modifier name")
    name, rest = match.group().lower(), body[match.end() :]
    if rest.startswith("="):
        if qualifier:
            return InvalidTerm(token, "a modifier may not have a qualifier")
        return _parse_modifier(token, name, rest[1:])
    if name not in MECHANISMS:
        return InvalidTerm(token, f"{match.group()!r} is not a known mechanism")
    if rest and rest[0] not in ":/":
        return InvalidTerm(token, f"unexpected {rest[0]!r} after {match.group()!r}")
    return _MECHANISM_PARSERS[name](token, qualifier, name, rest)


def _parse_modifier(token: str, name: str, value: str) -> Term:
    if name in ("redirect", "exp"):
        problem = domain_spec_error(value)
        if problem:
            return InvalidTerm(token, f"{name}= needs a domain: {problem}")
        return Modifier(name, value)
    problem = _macro_string_error(value)
    if problem:
        return InvalidTerm(token, problem)
    return Modifier(name, value)


def _parse_all(token: str, qualifier: str, name: str, rest: str) -> Term:
    if rest:
        return InvalidTerm(token, "'all' takes no value")
    return Mechanism(qualifier, name)


def _parse_domain_required(token: str, qualifier: str, name: str, rest: str) -> Term:
    if not rest.startswith(":"):
        return InvalidTerm(
            token, f"'{name}' needs a domain, as in '{name}:example.com'"
        )
    problem = domain_spec_error(rest[1:])
    if problem:
        return InvalidTerm(token, problem)
    return Mechanism(qualifier, name, rest[1:])


def _parse_ptr(token: str, qualifier: str, name: str, rest: str) -> Term:
    if not rest:
        return Mechanism(qualifier, name)
    if not rest.startswith(":"):
        return InvalidTerm(token, "'ptr' takes no prefix length")
    problem = domain_spec_error(rest[1:])
    if problem:
        return InvalidTerm(token, problem)
    return Mechanism(qualifier, name, rest[1:])


def _parse_a_mx(token: str, qualifier: str, name: str, rest: str) -> Term:
    suffix = _CIDR_SUFFIX.search(rest)
    assert suffix is not None  # every part of the pattern is optional
    domain_part = rest[: suffix.start()]
    cidr, cidr6 = suffix.group("v4"), suffix.group("v6")
    problem = _cidr_error(cidr, 32) or _cidr_error(cidr6, 128)
    if problem:
        return InvalidTerm(token, problem)
    value: str | None = None
    if domain_part:
        if not domain_part.startswith(":"):
            return InvalidTerm(token, f"unexpected {domain_part!r} after '{name}'")
        value = domain_part[1:]
        problem = domain_spec_error(value)
        if problem:
            return InvalidTerm(token, problem)
    return Mechanism(qualifier, name, value, _int(cidr), _int(cidr6))


def _parse_ip(token: str, qualifier: str, name: str, rest: str) -> Term:
    if not rest.startswith(":") or len(rest) == 1:
        return InvalidTerm(
            token, f"'{name}' needs an address, as in '{name}:{_EXAMPLE[name]}'"
        )
    address, _, prefix = rest[1:].partition("/")
    bits = 32 if name == "ip4" else 128
    if "/" in rest[1:]:
        problem = _cidr_error(prefix, bits)
        if problem:
            return InvalidTerm(token, problem)
    problem = _address_error(name, address)
    if problem:
        return InvalidTerm(token, problem)
    return Mechanism(qualifier, name, address, _int(prefix or None))


_EXAMPLE = {"ip4": "192.0.2.1", "ip6": "2001:db8::1"}


def _address_error(name: str, address: str) -> str | None:
    """Return why ``address`` is not a valid ``ip4``/``ip6`` address, or ``None``."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        kind = "IPv4" if name == "ip4" else "IPv6"
        return f"{address!r} is not a valid {kind} address"
    if name == "ip4" and parsed.version != 4:
        return f"{address!r} is an IPv6 address; use 'ip6:' for it"
    if name == "ip6" and parsed.version != 6:
        return f"{address!r} is an IPv4 address; use 'ip4:' for it"
    if name == "ip6" and "%" in address:
        return f"{address!r} has a zone index, which SPF does not allow"
    return None


def _cidr_error(digits: str | None, bits: int) -> str | None:
    """Return why a prefix length is invalid (RFC 7208, section 5.6), or ``None``."""
    if digits is None:
        return None
    if not digits.isdigit() or not digits.isascii():
        return f"prefix length '/{digits}' is not a number"
    if len(digits) > 1 and digits.startswith("0"):
        return f"prefix length '/{digits}' has a leading zero"
    if int(digits) > bits:
        return f"prefix length '/{digits}' is longer than {bits} bits"
    return None


def _int(digits: str | None) -> int | None:
    return None if digits is None else int(digits)


def domain_spec_error(spec: str) -> str | None:
    """Return why ``spec`` is not a valid domain-spec, or ``None``.

    A domain-spec is a macro-string that ends in a macro or in a dot and a
    top label (RFC 7208, section 7.1).
    """
    if not spec:
        return "the domain is empty"
    problem = _macro_string_error(spec)
    if problem:
        return problem
    if _DOMAIN_END.search(spec) or _ends_with_macro(spec):
        return None
    if _is_address(spec):
        return f"{spec!r} is an address, not a domain; use 'ip4:' or 'ip6:' for it"
    return f"{spec!r} must end in a macro or in a dot and a top-level label"


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ends_with_macro(spec: str) -> bool:
    ends = [match.end() for match in _MACRO_EXPAND.finditer(spec)]
    return bool(ends) and ends[-1] == len(spec)


def _macro_string_error(text: str) -> str | None:
    # The letters c, r and t belong to explanation text only (RFC 7208,
    # section 7.3), which is fetched from the exp= target; the exp= value
    # itself is a domain-spec like any other, so they are faults in a record.
    errors = macro_errors(text)
    return errors[0] if errors else None


def macro_errors(text: str, *, exp: bool = False) -> list[str]:
    """Return every fault of the macros in ``text`` (RFC 7208, section 7).

    A ``%`` must start ``%{letter...}``, ``%%``, ``%_`` or ``%-``. The letter
    is one of ``s l o d i p h v`` in either case, or also ``c r t`` when
    ``exp`` is true, for explanation text. The digit transformer may not be
    zero. Characters outside visible ASCII are faults too.
    """
    errors: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char != "%":
            if not "\x21" <= char <= "\x7e":
                errors.append(f"character {char!r} is not allowed in a record")
            position += 1
            continue
        match = _MACRO_EXPAND.match(text, position)
        if match is None:
            errors.append(f"invalid macro at {text[position : position + 8]!r}")
            position += 1
            continue
        errors.extend(_macro_letter_errors(match, exp=exp))
        position = match.end()
    return errors


def _macro_letter_errors(match: re.Match[str], *, exp: bool) -> list[str]:
    letter = match.group("letter")
    if letter is None:
        return []
    lower = letter.lower()
    errors = []
    if lower in _EXP_ONLY_LETTERS and not exp:
        errors.append(
            f"macro letter {letter!r} in {match.group()!r} is only allowed in "
            "explanation text"
        )
    elif lower not in _MACRO_LETTERS and lower not in _EXP_ONLY_LETTERS:
        errors.append(f"{letter!r} in {match.group()!r} is not a macro letter")
    digits = match.group("digits")
    if digits and int(digits) == 0:
        errors.append(f"the digit transformer in {match.group()!r} may not be zero")
    return errors


def _record_errors(terms: tuple[Term, ...]) -> tuple[str, ...]:
    errors = []
    for name in ("redirect", "exp"):
        count = sum(1 for t in terms if isinstance(t, Modifier) and t.name == name)
        if count > 1:
            errors.append(f"'{name}=' appears {count} times; it may appear only once")
    return tuple(errors)


_MECHANISM_PARSERS = {
    "all": _parse_all,
    "include": _parse_domain_required,
    "exists": _parse_domain_required,
    "a": _parse_a_mx,
    "mx": _parse_a_mx,
    "ptr": _parse_ptr,
    "ip4": _parse_ip,
    "ip6": _parse_ip,
}


def syntax_findings(
    record: SPFRecord, *, evidence: str | None = None, location: str | None = None
) -> list[Finding]:
    """Return one ``spf.syntax`` finding per invalid term and record-level fault."""
    evidence = evidence if evidence is not None else record.to_text()
    findings = [
        SPF_SYNTAX.finding(
            f"The SPF term {_excerpt(term.text, 80)!r} is invalid: "
            f"{_excerpt(term.reason, 160)}. Receivers "
            "treat the whole record as a permanent error.",
            evidence=evidence,
            location=location,
        )
        for term in record.invalid_terms
    ]
    findings.extend(
        SPF_SYNTAX.finding(
            f"The SPF record is invalid: {error}. Receivers treat the whole "
            "record as a permanent error.",
            evidence=evidence,
            location=location,
        )
        for error in record.errors
    )
    return findings


def _excerpt(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending in "..." when it was longer.

    A term of a hostile or broken record can be kilobytes long; the evidence
    keeps the whole record, so the message needs only its start.
    """
    return text if len(text) <= limit else text[: limit - 3] + "..."
