"""A small DNS wire-format codec for the record types audits ask for most.

dnspython builds a full object tree for every message, which costs about a
quarter of a millisecond of CPU per query; a bulk audit sends tens of
thousands of queries. This codec encodes a query and decodes the answer
section of a reply for A, AAAA, TXT, SPF, MX, PTR, CNAME and NS directly from
the bytes (RFC 1035, section 4). Replies with any other type in the answer
section are handed to dnspython, so the result is the same either way.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Any

import dns.message
import dns.name
import dns.rdatatype

from .answer import MXRecord, TXTRecord
from .convert import convert_rdata, name_text

__all__ = ["Reply", "WireError", "encode_query", "decode_reply"]

TYPE_CODES = {
    "A": 1,
    "NS": 2,
    "CNAME": 5,
    "SOA": 6,
    "PTR": 12,
    "MX": 15,
    "TXT": 16,
    "AAAA": 28,
    "DS": 43,
    "DNSKEY": 48,
    "TLSA": 52,
    "SPF": 99,
    "CAA": 257,
}
_FAST_TYPES = {1, 2, 5, 12, 15, 16, 28, 99}
_CNAME = 5
_HEADER = struct.Struct("!HHHHHH")
_RR_FIXED = struct.Struct("!HHIH")
_SAFE_LABEL = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_*"
)
# OPT pseudo-record: root owner, type 41, UDP payload 1232, no flags, no options.
_OPT = b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)

FLAG_TC = 0x0200
RCODE_NOERROR = 0
RCODE_NXDOMAIN = 3


class WireError(ValueError):
    """A reply that does not parse as a DNS message."""


@dataclass(frozen=True, slots=True)
class Reply:
    """The parts of a reply a lookup needs."""

    id: int
    truncated: bool
    rcode: int
    question: tuple[str, int] | None
    answers: list[tuple[str, int, Any]]
    """``(owner, type code, value)`` in the order sent; values as in Answer."""


def encode_query(query_id: int, name: str, rdtype: str) -> bytes:
    """Return the wire form of a recursive query with EDNS (payload 1232)."""
    parts = [_HEADER.pack(query_id, 0x0100, 1, 0, 0, 1)]
    for label in name.split("."):
        raw = label.encode("latin-1")
        parts.append(bytes((len(raw),)) + raw)
    parts.append(b"\x00" + struct.pack("!HH", TYPE_CODES[rdtype], 1))
    parts.append(_OPT)
    return b"".join(parts)


def _read_name(data: bytes, offset: int) -> tuple[list[bytes], int]:
    """Return the labels at ``offset`` and the offset after the name."""
    labels: list[bytes] = []
    end = -1
    jumps = 0
    while True:
        if offset >= len(data):
            raise WireError("name runs past the end of the message")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise WireError("truncated compression pointer")
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            jumps += 1
            if jumps > 64:
                raise WireError("compression pointer loop")
            continue
        if length & 0xC0:
            raise WireError(f"unsupported label type {length:#x}")
        offset += 1
        if length == 0:
            return labels, (end if end >= 0 else offset)
        labels.append(data[offset : offset + length])
        offset += length


def _labels_text(labels: list[bytes]) -> str:
    if not labels:
        return "."
    if all(_SAFE_LABEL.issuperset(label) for label in labels):
        return b".".join(labels).decode("ascii").lower()
    return name_text(dns.name.Name([*labels, b""]))


def _owner_text(labels: list[bytes]) -> str:
    """Return an owner name as plain lower-case text, for matching the question.

    Unlike :func:`_labels_text` nothing is escaped, so a name built from an
    SPF macro with spaces or other odd characters matches as it was asked.
    """
    return b".".join(labels).decode("latin-1").lower() if labels else "."


def _decode_rdata(data: bytes, offset: int, length: int, rtype: int) -> Any:
    end = offset + length
    if rtype == 1:
        return socket.inet_ntop(socket.AF_INET, data[offset:end])
    if rtype == 28:
        return socket.inet_ntop(socket.AF_INET6, data[offset:end])
    if rtype in (16, 99):
        strings = []
        while offset < end:
            size = data[offset]
            strings.append(data[offset + 1 : offset + 1 + size])
            offset += 1 + size
        if offset != end:
            raise WireError("TXT string runs past its record")
        return TXTRecord(tuple(strings))
    if rtype == 15:
        (preference,) = struct.unpack_from("!H", data, offset)
        labels, _ = _read_name(data, offset + 2)
        return MXRecord(preference, _labels_text(labels))
    labels, _ = _read_name(data, offset)
    return _labels_text(labels)


def decode_reply(data: bytes) -> Reply:
    """Decode a reply; raises :class:`WireError` when it is malformed."""
    try:
        return _decode(data)
    except (struct.error, IndexError, OSError, ValueError) as exc:
        if isinstance(exc, WireError):
            raise
        raise WireError(str(exc)) from None


def _decode(data: bytes) -> Reply:
    if len(data) < _HEADER.size:
        raise WireError("reply shorter than a DNS header")
    query_id, flags, qdcount, ancount, _, _ = _HEADER.unpack_from(data)
    offset = _HEADER.size
    question = None
    for _ in range(qdcount):
        labels, offset = _read_name(data, offset)
        (qtype,) = struct.unpack_from("!H", data, offset)
        offset += 4
        question = (_owner_text(labels), qtype)
    answers: list[tuple[str, int, Any]] = []
    for _ in range(ancount):
        labels, offset = _read_name(data, offset)
        rtype, _rclass, _ttl, rdlength = _RR_FIXED.unpack_from(data, offset)
        offset += _RR_FIXED.size
        if offset + rdlength > len(data):
            raise WireError("record data runs past the end of the message")
        if rtype not in _FAST_TYPES:
            return _decode_with_dnspython(data)
        value = _decode_rdata(data, offset, rdlength, rtype)
        answers.append((_owner_text(labels), rtype, value))
        offset += rdlength
    return Reply(query_id, bool(flags & FLAG_TC), flags & 0x000F, question, answers)


def _decode_with_dnspython(data: bytes) -> Reply:
    try:
        message = dns.message.from_wire(data)
    except Exception as exc:  # dnspython raises many unrelated types here
        raise WireError(f"malformed reply: {exc}") from None
    answers: list[tuple[str, int, Any]] = []
    for rrset in message.answer:
        rdtype = dns.rdatatype.to_text(rrset.rdtype)
        owner = name_text(rrset.name)
        for value in convert_rdata(rdtype, rrset):
            answers.append((owner, int(rrset.rdtype), value))
    question = None
    if message.question:
        q = message.question[0]
        question = (name_text(q.name), int(q.rdtype))
    return Reply(
        message.id, bool(message.flags & FLAG_TC), message.rcode(), question, answers
    )
