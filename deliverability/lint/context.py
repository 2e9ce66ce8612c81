"""The context every lint rule receives: the message, its HTML scans, the options."""

from __future__ import annotations

import email.header
import email.utils
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from ..findings import Rule, Severity
from .htmlscan import HtmlDoc
from .message import HeaderField, ParsedMessage, Part, safe
from .model import LintItem, LintOptions

__all__ = [
    "Address",
    "LintContext",
    "addresses_in",
    "decode_words",
    "domain_of",
    "org_domain",
    "parse_addresses",
]

_ADDRESS = re.compile(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", re.A)


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed mailbox: display name and address."""

    display_name: str
    address: str

    @property
    def domain(self) -> str:
        """The domain after ``@``, in lower case (empty when there is none)."""
        return domain_of(self.address)


def domain_of(address: str) -> str:
    """Return the lower-case domain of ``address`` (empty when there is none)."""
    _, at, domain = address.rpartition("@")
    return domain.strip().strip(">").lower() if at else ""


def _suffix_list() -> object:
    from ..dns.psl import public_suffix_list

    return public_suffix_list()


@lru_cache(maxsize=4096)
def org_domain(domain: str) -> str:
    """Return the organizational domain (public suffix plus one label)."""
    domain = domain.strip(".").lower()
    if not domain:
        return ""
    suffixes = _suffix_list()
    private = suffixes.privatesuffix(domain)  # type: ignore[attr-defined]
    return str(private) if private else domain


COLUMN_SHOWN = 200
"""Locations name the column when it is larger than this."""


@dataclass
class LintContext:
    """The message under lint, its HTML scans and the run's options."""

    message: ParsedMessage
    options: LintOptions
    html: list[tuple[Part, HtmlDoc]] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)
    """Values that several rules share, computed once (such as the URL list)."""

    # -- finding helpers ----------------------------------------------------

    def at_header(
        self,
        rule: Rule,
        message: str,
        header: HeaderField,
        *,
        evidence: str | None = None,
        severity: Severity | None = None,
    ) -> LintItem:
        """Create an item that points at a header field."""
        found = rule.finding(
            message,
            evidence=header.value if evidence is None else evidence,
            location=f"header {header.name}, line {header.line}",
            severity=severity,
        )
        return LintItem(found, "headers", header.line)

    def at_part(
        self,
        rule: Rule,
        message: str,
        part: Part,
        *,
        line: int | None = None,
        element: str | None = None,
        evidence: str | None = None,
        severity: Severity | None = None,
        column: int = 0,
    ) -> LintItem:
        """Create an item that points at a MIME part, a line and an element.

        The location names the column too when it is past
        :data:`COLUMN_SHOWN`, as in minified HTML, where one line contains a
        whole message.
        """
        where = part.label
        if line is not None:
            where = f"{where}, line {line}"
            if column > COLUMN_SHOWN:
                where = f"{where}, column {column}"
        if element is not None:
            where = f"{where}, {element}"
        found = rule.finding(
            message, evidence=evidence, location=where, severity=severity
        )
        return LintItem(found, part.path, line, element, column or None)

    def at_message(
        self,
        rule: Rule,
        message: str,
        *,
        evidence: str | None = None,
        severity: Severity | None = None,
    ) -> LintItem:
        """Create an item about the message as a whole."""
        found = rule.finding(
            message, evidence=evidence, location="message", severity=severity
        )
        return LintItem(found)

    # -- shared lookups -----------------------------------------------------

    @cached_property
    def from_addresses(self) -> list[Address]:
        """The mailboxes of the first From field (empty when unparsable)."""
        field_ = self.message.header("From")
        return parse_addresses("from", field_.value) if field_ else []

    @property
    def from_domain(self) -> str:
        """The domain of the first From mailbox, or an empty string."""
        addresses = self.from_addresses
        return addresses[0].domain if addresses else ""

    @cached_property
    def html_text(self) -> str:
        """The visible text of every HTML part, joined."""
        return " ".join(doc.text for _, doc in self.html)

    @cached_property
    def plain_text(self) -> str:
        """The text of every inline text/plain part, joined."""
        return "\n".join(p.text or "" for p in self.message.text_parts("text/plain"))


def parse_addresses(name: str, value: str) -> list[Address]:
    """Parse an address header value; an unparsable one gives an empty list.

    ``name`` is the field name, kept for messages. RFC 2047 words in display
    names are decoded.
    """
    del name
    nothing: list[tuple[str, str]] = []
    pairs, _ = safe(lambda: email.utils.getaddresses([value]), nothing)
    result = []
    for display_name, address in pairs:
        if not display_name and not address:
            continue
        if "=?" in display_name:
            display_name = decode_words(display_name)
        result.append(Address(display_name, address))
    return result


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words in ``value`` (unchanged when they are invalid)."""
    decoded, _ = safe(
        lambda: str(email.header.make_header(email.header.decode_header(value))), value
    )
    return decoded


def addresses_in(text: str) -> list[str]:
    """Return the domains of e-mail addresses written inside ``text``."""
    return [match.group(1).lower() for match in _ADDRESS.finditer(text)]
