"""DKIM signing with one or more keys (RFC 6376, RFC 8463), through dkimpy."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import dkim

from ..dns import normalize_domain
from ..errors import InputError, InvalidDomainError
from .keys import SigningKey, check_selector
from .message import (
    check_line_ends,
    check_size,
    dkimpy_view_problem,
    malformed_header_error,
    no_headers_error,
)

__all__ = [
    "CANONICALIZATIONS",
    "OPTIONAL_HEADERS",
    "REQUIRED_HEADERS",
    "Signer",
    "header_list",
    "sign_message",
]

log = logging.getLogger(__name__)

#: Header fields every signature covers, present or not. Each is signed once
#: more than it occurs ("oversigned"), so a copy added later breaks the
#: signature instead of slipping in unsigned.
REQUIRED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
)
#: Header fields also covered, and oversigned, when the message has them.
OPTIONAL_HEADERS = (
    "cc",
    "reply-to",
    "sender",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "list-id",
    "feedback-id",
)
CANONICALIZATIONS = ("relaxed", "simple")


@dataclass(frozen=True, slots=True)
class Signer:
    """One key with the selector and domain its record is published under."""

    key: SigningKey
    selector: str
    domain: str


_REQUIRED = tuple(name.encode("ascii") for name in REQUIRED_HEADERS)
_OPTIONAL = tuple(name.encode("ascii") for name in OPTIONAL_HEADERS)


def header_list(headers: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
    """Return the ``h=`` list for a message: each name once more than it occurs."""
    counts = Counter(name.lower() for name, _value in headers)
    names: list[bytes] = []
    for name in _REQUIRED:
        names.extend([name] * (counts[name] + 1))
    for name in _OPTIONAL:
        if name in counts:
            names.extend([name] * (counts[name] + 1))
    return names


def _check_signer(signer: Signer) -> tuple[bytes, bytes]:
    check_selector(signer.selector)
    try:
        domain = normalize_domain(signer.domain)
    except InvalidDomainError as exc:
        raise InputError(f"invalid signing domain: {exc}") from None
    return signer.selector.encode("ascii"), domain.encode("ascii")


def _check_algorithm(algorithm: str | None, key: SigningKey) -> bytes:
    if algorithm is None:
        return key.algorithm.encode("ascii")
    algorithm = algorithm.lower()
    if "sha1" in algorithm:
        raise InputError(
            f"signing algorithm {algorithm!r} is not allowed: rsa-sha1 must not "
            "be used for signing (RFC 8301, section 3.1); use rsa-sha256"
        )
    if algorithm != key.algorithm:
        raise InputError(
            f"signing algorithm {algorithm!r} does not fit the {key.key_type} key "
            f"in {key.source}; that key signs with {key.algorithm}"
        )
    return algorithm.encode("ascii")


def _canonicalization(value: str) -> tuple[bytes, bytes]:
    header, _slash, body = value.partition("/")
    body = body or "simple"
    if header not in CANONICALIZATIONS or body not in CANONICALIZATIONS:
        raise InputError(
            f"invalid canonicalization {value!r}: give HEADER/BODY with each "
            "relaxed or simple, such as relaxed/relaxed"
        )
    return header.encode("ascii"), body.encode("ascii")


def sign_message(
    message: bytes,
    signers: Sequence[Signer],
    *,
    canonicalization: str = "relaxed/relaxed",
    algorithm: str | None = None,
) -> bytes:
    """Return ``message`` with one DKIM-Signature field per signer added on top.

    All signatures cover the same header list (see :func:`header_list`).
    Raises :class:`InputError` for no signer, a bad selector or domain, an
    rsa-sha1 request, or a message dkimpy cannot sign or would read
    differently from other verifiers.
    """
    if not signers:
        raise InputError("no signing key given; add --key SELECTOR:PATH")
    check_size(message, "to sign")
    check_line_ends(message, "to sign")
    canon = _canonicalization(canonicalization)
    linesep = b"\r\n" if b"\r\n" in message[:4096] else b"\n"
    try:
        signer_state = dkim.DKIM(message, logger=log, linesep=linesep)
    except dkim.MessageFormatError:
        raise malformed_header_error(message, "to sign") from None
    if not signer_state.headers:
        raise no_headers_error(message, "to sign")
    problem = dkimpy_view_problem(message, signer_state.headers)
    if problem:
        raise InputError(f"cannot sign the message: {problem}")
    names = header_list(signer_state.headers)
    fields: list[bytes] = []
    for signer in signers:
        selector, domain = _check_signer(signer)
        signed_with = _check_algorithm(algorithm, signer.key)
        try:
            fields.append(
                signer_state.sign(
                    selector,
                    domain,
                    signer.key.secret,
                    signature_algorithm=signed_with,
                    canonicalize=canon,
                    include_headers=names,
                )
            )
        except dkim.DKIMException as exc:
            raise InputError(f"cannot sign the message: {exc}") from None
    log.info("signed a message with %d key(s)", len(fields))
    return b"".join(fields) + message
