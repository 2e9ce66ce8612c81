"""Checking addresses at sign-up, and the match key the store and the gate use.

Syntax is checked with email-validator. Quoted local parts such as
``" "@example.org`` are valid under RFC 5321 but rare, so they are accepted
with a note that calls them unusual. Reserved names (``.invalid``, ``.test``,
``localhost`` and the other RFC 6761 special-use names) are always rejected.

Deliverability (does the domain accept mail?) is checked through the
product's DNS seam, never through email-validator's own resolver: an MX
lookup, with the address fallback of RFC 5321, section 5.1, and the null MX
of RFC 7505. A failed lookup is reported as unknown, never as undeliverable.

The match key is the normalized address with the local part lower-cased and
the domain as lower-case A-labels. Local parts are case-sensitive in theory
(RFC 5321, section 2.4) but no mailbox provider of note treats them so.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from ..dns import Resolver, Status
from .errors import AddressError

__all__ = [
    "AddressCheck",
    "check_address",
    "check_deliverability",
    "match_key",
    "validate_for_signup",
]

# RFC 6761 special-use names; each is a single label, so the last label decides.
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})

# The common case, plain ASCII dot-atom at a host name, checked without
# email-validator: about 20 times faster, which the gate needs.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# Labels with "--" (A-labels and look-alikes) and TLDs other than plain
# letters go the slow way, through email-validator.
_SIMPLE = re.compile(rf"({_ATOM}(?:\.{_ATOM})*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")


@dataclass(frozen=True, slots=True)
class AddressCheck:
    """The outcome of checking one address."""

    given: str
    """The address as received."""
    normalized: str | None = None
    """The address to store and show; ``None`` when it is invalid."""
    key: str | None = None
    """The match key (see the module docstring); ``None`` when invalid."""
    reason: str | None = None
    """The reason the address is invalid; ``None`` when it is valid."""
    notes: tuple[str, ...] = ()
    """Remarks on a valid but unusual address, in plain sentences."""

    @property
    def valid(self) -> bool:
        """True when the address passed the checks."""
        return self.reason is None


def match_key(address: str) -> str | None:
    """Return the match key of ``address``, or ``None`` if it is invalid.

    The same as ``check_address(address).key``, with a shortcut for plain
    ASCII addresses: for those the key is the address in lower case.
    """
    if len(address) <= 254 and _SIMPLE.fullmatch(address):
        at = address.rindex("@")
        domain = address[at + 1 :]
        if at <= 64 and "--" not in domain and not _is_special_use(domain.lower()):
            return address.lower()
    return check_address(address).key


def check_address(address: str) -> AddressCheck:
    """Check the syntax of ``address``; invalid input gives ``reason``, not an error."""
    simple = _simple_check(address)
    if simple is not None:
        return simple
    return _full_check(address)


def _simple_check(address: str) -> AddressCheck | None:
    found = _SIMPLE.fullmatch(address)
    if found is None or len(address) > 254:
        return None
    local, domain = found.group(1), found.group(2).lower()
    if len(local) > 64 or len(domain) > 253 or "--" in domain:
        return None
    if _is_special_use(domain):
        return None
    normalized = f"{local}@{domain}"
    return AddressCheck(address, normalized, f"{local.lower()}@{domain}")


def _is_special_use(domain: str) -> bool:
    return domain.rpartition(".")[2] in _SPECIAL_USE


@functools.lru_cache(maxsize=4096)
def _full_check(address: str) -> AddressCheck:
    try:
        result = validate_email(
            address,
            check_deliverability=False,
            allow_quoted_local=True,
            allow_smtputf8=True,
            allow_display_name=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as exc:
        return AddressCheck(address, reason=str(exc))
    key = f"{result.local_part.lower()}@{result.ascii_domain.lower()}"
    notes = _notes(result.local_part, bool(result.smtputf8))
    return AddressCheck(address, result.normalized, key, notes=notes)


def _notes(local: str, smtputf8: bool) -> tuple[str, ...]:
    notes: list[str] = []
    if local.startswith('"'):
        notes.append(
            "The local part is quoted: valid under RFC 5321, section 4.1.2, "
            "but unusual, and some mail systems reject it."
        )
        inner = local[1:-1]
        if " " in inner:
            notes.append("The quoted local part contains a space.")
        if ".." in inner:
            notes.append("The quoted local part contains consecutive dots.")
        if "\\" in inner:
            notes.append("The quoted local part contains an escaped character.")
    if smtputf8:
        notes.append(
            "The address contains non-ASCII characters, so mail to it needs "
            "SMTPUTF8 (RFC 6531)."
        )
    return tuple(notes)


async def check_deliverability(check: AddressCheck, resolver: Resolver) -> AddressCheck:
    """Check that the domain of a valid ``check`` accepts mail.

    Returns ``check`` with ``reason`` set when the domain does not exist or
    has a null MX or no MX and no address, and with a note added when a
    lookup failed, because then the domain is neither known good nor known bad.
    """
    if check.key is None:
        return check
    domain = check.key.rsplit("@", 1)[1]
    mx = await resolver.resolve(domain, "MX")
    if mx.status is Status.NXDOMAIN:
        return _invalid(check, f"the domain {domain} does not exist")
    if mx.status is Status.ANSWER:
        if any(record.exchange == "." for record in mx.records):
            return _invalid(
                check, f"the domain {domain} accepts no mail (null MX, RFC 7505)"
            )
        return check
    if mx.status is Status.NODATA:
        return await _check_address_records(check, domain, resolver)
    return _unknown(check, domain)


async def _check_address_records(
    check: AddressCheck, domain: str, resolver: Resolver
) -> AddressCheck:
    failed = False
    for rdtype in ("A", "AAAA"):
        answer = await resolver.resolve(domain, rdtype)
        if answer.status is Status.ANSWER:
            return check
        failed = failed or answer.status is Status.FAILED
    if failed:
        return _unknown(check, domain)
    return _invalid(check, f"the domain {domain} has no MX and no address record")


def _invalid(check: AddressCheck, reason: str) -> AddressCheck:
    return AddressCheck(check.given, reason=reason, notes=check.notes)


def _unknown(check: AddressCheck, domain: str) -> AddressCheck:
    note = (
        f"The mail servers of {domain} could not be looked up, "
        "so delivery is unchecked."
    )
    return AddressCheck(
        check.given, check.normalized, check.key, notes=(*check.notes, note)
    )


async def validate_for_signup(
    address: str, resolver: Resolver | None = None
) -> AddressCheck:
    """Check ``address`` for a sign-up; raise :class:`AddressError` if invalid.

    Syntax is always checked. Deliverability is checked only when
    ``resolver`` is given and online, or is an offline zone resolver given on
    purpose; pass ``None`` to skip it.
    """
    check = check_address(address)
    if check.valid and resolver is not None:
        check = await check_deliverability(check, resolver)
    if not check.valid:
        raise AddressError(address, check.reason or "invalid")
    return check
