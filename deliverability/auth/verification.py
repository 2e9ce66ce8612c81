"""DKIM verification of every signature of a message (RFC 6376, section 6).

dkimpy checks the hashes and the signature; the key records come from the
product's resolver. The records are looked up before dkimpy runs (the names
follow from each signature's ``s=`` and ``d=``), so dkimpy reads them from a
table and never waits on DNS, and the lookups are cached and counted.

dkimpy returns only true or false, or raises, so the result is refined
here into the RFC 8601 results: a failed key lookup is ``temperror``; a
broken signature or key record is ``permerror``; a hash mismatch is
``fail``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dkim
from dkim.util import (
    DuplicateTag,
    InvalidTagSpec,
    InvalidTagValueList,
    parse_tag_value,
)

from ..dns import Answer, Resolver, TXTRecord
from ..errors import InvalidDomainError
from .message import dkimpy_view_problem, split_headers

__all__ = ["MAX_SIGNATURES", "DKIMResult", "KeyTable", "verify_dkim"]

log = logging.getLogger(__name__)


class _QuietLogger(logging.Logger):
    """dkimpy logs every rejected signature as an error; they are results here."""

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)


_dkimpy_log = _QuietLogger(__name__ + ".dkimpy")
_dkimpy_log.parent = log

MAX_SIGNATURES = 10
"""Signatures verified per message, from the top; later ones are ignored.

RFC 6376, section 6.1 lets verifiers limit the signatures they check.
dkimpy hashes the whole body once per signature, so 500 signatures on a
40 MB message took over 8 minutes on a 2-core machine before this limit.
Mail::DKIM 1.20230212 ignores signatures past 50; senders sign with one to
three keys.
"""

KeyTable = dict[str, bytes | None]
"""Key record text by ``selector._domainkey.domain`` (``None``: no record)."""


@dataclass(frozen=True, slots=True)
class DKIMResult:
    """The verdict on one DKIM-Signature field."""

    result: str
    """``pass``, ``fail``, ``temperror`` or ``permerror``."""
    domain: str = ""
    """The signing domain (``d=``), lower case; empty when unreadable."""
    selector: str = ""
    identity: str = ""
    """The agent or user identifier (``i=``), or ``@domain`` when absent."""
    algorithm: str = ""
    key_bits: int | None = None
    reason: str = ""
    """The reason the result is not ``pass``; empty for a pass."""
    signed_headers: tuple[str, ...] = field(default=())
    """The ``h=`` names, lower case, in order."""
    body_length: int | None = None
    """The ``l=`` value: only this many body octets are covered."""

    @property
    def passed(self) -> bool:
        """True when the signature verified."""
        return self.result == "pass"

    def covers(self, name: str) -> bool:
        """True when the signature's ``h=`` lists the header ``name``."""
        return name.lower() in self.signed_headers

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "result": self.result,
            "domain": self.domain,
            "selector": self.selector,
            "identity": self.identity,
            "algorithm": self.algorithm,
            "key_bits": self.key_bits,
            "reason": self.reason,
            "signed_headers": list(self.signed_headers),
            "body_length": self.body_length,
        }


class _Signature:
    """One DKIM-Signature field: its tags and the result fields read from them."""

    def __init__(
        self,
        index: int,
        tags: dict[bytes, bytes] | None,
        problem: str = "",
        prepared: tuple[list[bytes], tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.index = index
        self.tags = tags
        self.problem = problem
        self.prepared = prepared
        """dkimpy's ``h=`` list and the raw field, when the tags are valid."""
        self.domain = self.text(b"d").lower()
        self.selector = self.text(b"s")
        self.algorithm = self.text(b"a").lower()
        if prepared is not None:
            # dkimpy has split h= already and lowered the names.
            self.signed_headers = _decode_names(prepared[0])
        else:
            self.signed_headers = tuple(
                name.lower() for name in self.text(b"h").split(":") if name
            )

    def text(self, tag: bytes) -> str:
        """Return the tag's value without white space, or "" when absent."""
        if self.tags is None:
            return ""
        value = b"".join(self.tags.get(tag, b"").split())
        return value.decode("ascii", "backslashreplace")

    @property
    def key_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}".lower()

    def result(
        self, result: str, reason: str = "", bits: int | None = None
    ) -> DKIMResult:
        length = self.text(b"l")
        return DKIMResult(
            result=result,
            domain=self.domain,
            selector=self.selector,
            identity=self.text(b"i") or (f"@{self.domain}" if self.domain else ""),
            algorithm=self.algorithm,
            key_bits=bits,
            reason=reason,
            signed_headers=self.signed_headers,
            body_length=int(length) if length.isdigit() else None,
        )


def _decode_names(names: list[bytes]) -> tuple[str, ...]:
    try:
        return tuple(map(bytes.decode, names))
    except UnicodeDecodeError:
        return tuple(name.decode("utf-8", "replace") for name in names)


def _read_signatures(message: dkim.DKIM) -> list[_Signature]:
    count = sum(1 for name, _ in message.headers if name.lower() == b"dkim-signature")
    return [_prepare(message, index) for index in range(min(count, MAX_SIGNATURES))]


def _prepare(message: dkim.DKIM, index: int) -> _Signature:
    """Parse and check the tags of one signature with dkimpy's own first step."""
    message.signature_fields = None
    try:
        sig, include_headers, fields = message.verify_headerprep(index)
    except dkim.MessageFormatError as exc:
        return _Signature(index, None, _tag_list_problem(exc))
    except dkim.ValidationError as exc:
        return _Signature(index, message.signature_fields, _plain_reason(str(exc)))
    except (dkim.DKIMException, ValueError, TypeError, LookupError) as exc:
        # dkimpy 1.1.8 raises IndexError, for one, when i= is shorter than d=.
        reason = _plain_reason(str(exc))
        return _Signature(index, None, f"the signature is malformed ({reason})")
    return _Signature(index, sig, prepared=(include_headers, fields[index]))


def _tag_list_problem(exc: dkim.MessageFormatError) -> str:
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, DuplicateTag):
        return f"the tag {_plain_reason(str(cause))}= appears more than once"
    if isinstance(cause, InvalidTagSpec):
        return f"the tag list has an invalid entry {_plain_reason(str(cause))!r}"
    return f"the tag list is malformed ({_plain_reason(str(exc))})"


_BYTES_REPR = re.compile(r"""\bb(['"])(.*?)\1""")


def _plain_reason(text: str) -> str:
    """Return a dkimpy message without Python's ``b'...'`` quoting of bytes."""
    return _BYTES_REPR.sub(lambda match: match.group(2), text).strip()


async def _lookup_key(name: str, resolver: Resolver) -> Answer | str:
    """Return the key record lookup, or the reason the name cannot be looked up."""
    try:
        return await resolver.resolve(name, "TXT")
    except InvalidDomainError as exc:
        return f"the key name {name!r} is invalid ({exc.reason})"


def _key_text(answer: Answer) -> bytes | None:
    records = [r for r in answer.records if isinstance(r, TXTRecord)]
    return _cached_service(records[0].data) if records else None


@functools.lru_cache(maxsize=1024)
def _cached_service(record: bytes) -> bytes:
    return _normalize_service(record)


_SERVICE_TAG = re.compile(rb"(^|;)(\s*s\s*=)([^;]*)")


def _normalize_service(record: bytes) -> bytes:
    """Reduce a key record's ``s=`` list to one value dkimpy understands.

    ``s=`` is a colon-separated list (RFC 6376, section 3.6.1), but dkimpy
    1.1.8 accepts only a single ``*``, ``email`` or ``tlsrpt``, and rejects a
    valid ``s=email:web``.
    """
    match = _SERVICE_TAG.search(record)
    if match is None or b":" not in match.group(3):
        return record
    services = {part.strip().lower() for part in match.group(3).split(b":")}
    for service in (b"*", b"email", b"tlsrpt"):
        if service in services:
            start, end = match.span(3)
            return record[:start] + service + record[end:]
    return record


@dataclass(frozen=True, slots=True)
class _KeyPolicy:
    """The key record tags that restrict which signatures a key verifies."""

    hashes: tuple[str, ...]
    flags: tuple[str, ...]
    kind: str


@functools.lru_cache(maxsize=1024)
def _key_policy(record: bytes) -> _KeyPolicy | None:
    """Parse a key record's h=, t= and k= once per distinct record."""
    try:
        tags = parse_tag_value(record)
    except InvalidTagValueList:
        return None
    kinds = _tag_list(tags.get(b"k"))
    return _KeyPolicy(
        tuple(_tag_list(tags.get(b"h"))),
        tuple(_tag_list(tags.get(b"t"))),
        kinds[0] if kinds else "rsa",
    )


def _key_constraint_problem(signature: _Signature, record: bytes) -> str:
    """Check the key record tags that dkimpy 1.1.8 ignores (RFC 6376, 3.6.1).

    The ``h=`` list limits the hash algorithms, ``t=s`` forbids an ``i=`` in
    a subdomain of ``d=``, and ``k=`` must match the signature algorithm.
    """
    policy = _key_policy(record)
    if policy is None:
        return ""  # dkimpy reports the malformed record
    algorithm = signature.algorithm
    key_type, _dash, hash_name = algorithm.partition("-")
    if policy.hashes and hash_name not in policy.hashes:
        allowed = ":".join(policy.hashes)
        return f"the key record allows only h={allowed}, not {hash_name}"
    identity = signature.text(b"i")
    if (
        "s" in policy.flags
        and identity
        and (identity.rpartition("@")[2].lower() != signature.domain)
    ):
        return "the key record has t=s, so i= must be in the d= domain itself"
    known = ("rsa", "ed25519")
    if key_type in known and policy.kind in known and policy.kind != key_type:
        return f"the key record has k={policy.kind} but the signature uses {algorithm}"
    return ""


def _tag_list(value: bytes | None) -> list[str]:
    if value is None:
        return []
    text = value.decode("ascii", errors="replace")
    return [part.strip().lower() for part in text.split(":") if part.strip()]


def _table_lookup(table: KeyTable) -> Callable[..., bytes | None]:
    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        del timeout
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        return table.get(text.rstrip(".").lower())

    return lookup


def _classify_false(name: str, record: bytes | None) -> tuple[str, str]:
    """Say why dkimpy returned false: a bad key record, or a bad signature."""
    try:
        dkim.evaluate_pk(name.encode("ascii"), record)
    except (dkim.DKIMException, ValueError, TypeError) as exc:
        if record is not None and re.search(rb"(^|;)\s*p\s*=\s*(;|$)", record):
            return "permerror", "the key is revoked (empty p= in the key record)"
        return "permerror", f"the key record is unusable: {_plain_reason(str(exc))}"
    return "fail", "the signature does not match the signed header fields"


def _run_dkimpy(
    message: dkim.DKIM, signature: _Signature, table: KeyTable
) -> DKIMResult:
    assert signature.tags is not None and signature.prepared is not None
    include_headers, raw_field = signature.prepared
    name = signature.key_name
    try:
        verified = message.verify_sig(
            signature.tags, list(include_headers), raw_field, _table_lookup(table)
        )
    except dkim.ValidationError as exc:
        reason = str(exc)
        if reason.startswith("body hash mismatch"):
            return signature.result("fail", "the body hash does not match the body")
        return signature.result("permerror", _plain_reason(reason))
    except (dkim.DKIMException, ValueError, TypeError, LookupError) as exc:
        reason = _plain_reason(str(exc)) or type(exc).__name__
        return signature.result("permerror", reason)
    if verified:
        return signature.result("pass", bits=message.keysize)
    result, reason = _classify_false(name, table.get(name))
    return signature.result(result, reason)


def _policy_problem(
    signature: _Signature, record: bytes | None, allow_sha1: bool
) -> str:
    """Return why the signature is permerror before any hashing, or ""."""
    if record is None:
        return f"no key record at {signature.key_name}"
    problem = _key_constraint_problem(signature, record)
    if problem:
        return problem
    if signature.algorithm == "rsa-sha1" and not allow_sha1:
        return "rsa-sha1 signatures are not accepted (RFC 8301, section 3.1)"
    if "from" not in signature.signed_headers:
        return "h= does not list From, which must be signed"
    return ""


async def _verify_one(
    message: dkim.DKIM,
    signature: _Signature,
    table: KeyTable,
    resolver: Resolver,
    allow_sha1: bool,
) -> DKIMResult:
    if signature.prepared is None:
        return signature.result("permerror", signature.problem)
    name = signature.key_name
    if name not in table:
        answer = await _lookup_key(name, resolver)
        if isinstance(answer, str):
            return signature.result("permerror", answer)
        if answer.failed:
            return signature.result(
                "temperror", f"the key lookup of {name} failed: {answer.error}"
            )
        table[name] = _key_text(answer)
    problem = _policy_problem(signature, table[name], allow_sha1)
    if problem:
        return signature.result("permerror", problem)
    return _run_dkimpy(message, signature, table)


async def verify_dkim(
    message: bytes,
    *,
    resolver: Resolver,
    min_key_bits: int = 1024,
    allow_sha1: bool = False,
) -> list[DKIMResult]:
    """Verify every DKIM-Signature field of ``message``, top to bottom.

    Following RFC 8301, RSA keys under ``min_key_bits`` and rsa-sha1
    signatures (unless ``allow_sha1``) give ``permerror``.

    Returns one result for each of the first :data:`MAX_SIGNATURES`
    signatures (later ones are ignored), and an empty list when there is
    none.
    Never raises for a malformed signature, key record or message: those
    come back as ``permerror`` results.
    """
    try:
        parsed = dkim.DKIM(message, logger=_dkimpy_log, minkey=min_key_bits)
    except dkim.DKIMException as exc:
        if not _has_signature(message):
            return []
        reason = f"the message is malformed: {_plain_reason(str(exc))}"
        return [DKIMResult("permerror", reason=reason)]
    signatures = _read_signatures(parsed)
    view_problem = dkimpy_view_problem(message, parsed.headers)
    if view_problem:
        return [signature.result("permerror", view_problem) for signature in signatures]
    table: KeyTable = {}
    results = [
        await _verify_one(parsed, signature, table, resolver, allow_sha1)
        for signature in signatures
    ]
    log.debug("verified %d DKIM signature(s)", len(results))
    return results


def _has_signature(message: bytes) -> bool:
    headers, _body = split_headers(message)
    return any(name.lower() == b"dkim-signature" for name, _value in headers)
