"""Domain-name normalization: user input to the A-label form DNS uses."""

from __future__ import annotations

import functools
import re

import idna

from ..errors import InvalidDomainError

__all__ = ["normalize_any_name", "normalize_domain", "to_unicode"]

_SPACE = re.compile(r"\s")
_LDH_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")


@functools.lru_cache(maxsize=16_384)
def normalize_domain(name: str, *, allow_underscore: bool = True) -> str:
    """Return ``name`` as lower-case A-labels without the trailing dot.

    Internationalized names are converted with IDNA 2008 (UTS #46 mapping).
    Raises :class:`InvalidDomainError` naming the fault when a label is empty,
    longer than 63 octets, the whole name is longer than 253 octets, or a label
    contains characters a host name may not contain.
    """
    # Cached: a bulk audit normalizes the same provider names thousands of
    # times. Invalid names raise, and exceptions are not cached.
    original = name
    text = name.strip()
    if text.endswith("."):
        text = text[:-1]
    if not text:
        raise InvalidDomainError(original, "the name is empty")
    if _SPACE.search(text):
        raise InvalidDomainError(original, "the name contains white space")
    if not text.isascii():
        try:
            text = idna.encode(text, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise InvalidDomainError(
                original, f"not a valid internationalized name ({exc})"
            ) from None
    text = text.lower()
    if len(text) > 253:
        raise InvalidDomainError(
            original, f"{len(text)} octets long, the maximum is 253"
        )
    for label in text.split("."):
        if not label:
            raise InvalidDomainError(original, "the name has an empty label (..)")
        if len(label) > 63:
            raise InvalidDomainError(
                original, f"label {label[:20]!r}... is {len(label)} octets, max 63"
            )
        if not _LDH_LABEL.match(label) or (not allow_underscore and "_" in label):
            raise InvalidDomainError(
                original,
                f"label {label!r} may hold only letters, digits and inner hyphens",
            )
    return text


def to_unicode(name: str) -> str:
    """Return the U-label form of an A-label name, or ``name`` if not an IDN."""
    if "xn--" not in name:
        return name
    try:
        return idna.decode(name)
    except idna.IDNAError:
        return name


def normalize_any_name(name: str) -> str:
    """Return ``name`` lower-cased for lookup, allowing any printable ASCII label.

    Host names go through :func:`normalize_domain`; other names, such as
    those SPF macros build from a local-part, keep their characters. Raises
    :class:`InvalidDomainError` for non-printable text or bad label lengths.
    """
    try:
        return normalize_domain(name)
    except InvalidDomainError:
        pass
    text = name[:-1] if name.endswith(".") else name
    if not text.isascii() or not text.isprintable():
        raise InvalidDomainError(name, "the name contains non-printable characters")
    if len(text) > 253 or not all(0 < len(label) <= 63 for label in text.split(".")):
        raise InvalidDomainError(name, "a label is empty or longer than 63 octets")
    return text.lower()
