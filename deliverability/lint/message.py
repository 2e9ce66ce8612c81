"""Parse a raw message into the pieces the rules read.

The header block is split by this module itself, so every field keeps its
raw bytes and its line number. Rules interpret fields (addresses, dates,
encoded words) with :mod:`email.utils` and :mod:`email.header` inside
:func:`safe`, which catches what they raise on malformed input. The MIME tree
is that of the standard :mod:`email` package under ``email.policy.compat32``:
its header access returns plain strings and cannot raise, and parsing the
test corpus took 0.04 s of CPU against 0.13 s under ``email.policy.default``.
:func:`mimetree.parse_clean` builds the same tree faster for messages the
standard parser would find nothing wrong with; the others go to the standard
parser. Only text parts are decoded: an attachment is never base64-decoded,
so memory stays a small multiple of the message size.
"""

from __future__ import annotations

import codecs
import email.errors
import email.parser
import email.policy
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import TypeVar

from ..errors import InputError
from .mimetree import parse_clean

__all__ = [
    "HEADER_ERRORS",
    "MAX_LINES",
    "HeaderField",
    "ParsedMessage",
    "Part",
    "parse_message",
    "safe",
]

HEADER_ERRORS: tuple[type[Exception], ...] = (
    email.errors.HeaderParseError,
    ValueError,
    IndexError,
    TypeError,
    AttributeError,
    LookupError,
)
"""Exceptions :mod:`email` raises on some malformed headers (CPython 3.11)."""

MAX_TEXT_PART = 16 * 1024 * 1024
"""Text parts larger than this (encoded) are not decoded."""

MAX_LINES = 2_000_000
"""Maximum number of lines in a message. The standard parser keeps each line
as a separate string of about 60 bytes, so a file of millions of two-byte
lines took 30 to 45 times its size in memory. At this limit the lines add
about 120 MB (an estimate from that per-line cost). A 30 MB message of
76-character encoded lines has about 400,000 lines."""

_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_BLANK_LINE = re.compile(rb"\n\r?\n")
_PARSER = email.parser.BytesParser(policy=email.policy.compat32)
_T = TypeVar("_T")


def safe(call: Callable[[], _T], default: _T) -> tuple[_T, str | None]:
    """Run ``call``; on a header parsing error return ``default`` and the error."""
    try:
        return call(), None
    except HEADER_ERRORS as exc:
        return default, f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True, slots=True)
class HeaderField:
    """One top-level header field, unchanged from the message."""

    name: str
    value: str
    """The unfolded value, decoded as UTF-8 (invalid bytes replaced)."""
    line: int
    """1-based line of the field name in the message."""
    raw: bytes
    """The value's bytes, folding included."""

    @property
    def eight_bit(self) -> bool:
        """Whether the raw value has bytes above 127 (not RFC 2047 encoded)."""
        return any(byte > 127 for byte in self.raw)


@dataclass(slots=True)
class Part:
    """One leaf of the MIME tree."""

    path: str
    """IMAP-style part number: ``1``, ``1.2``, ``2.1.1``."""
    content_type: str
    charset: str | None
    transfer_encoding: str
    """Lower case; ``7bit`` when the header is absent."""
    attachment: bool
    raw_body: str
    """The payload as found in the message (still encoded)."""
    text: str | None = None
    """Decoded text of a text/plain or text/html part; ``None`` otherwise."""
    charset_problem: str | None = None
    """``unknown`` or ``mismatch`` when the declared charset did not decode."""
    decoded_size: int = 0

    @property
    def label(self) -> str:
        """``part 1.2 text/html``: how locations name this part."""
        return f"part {self.path} {self.content_type}"


@dataclass(slots=True)
class ParsedMessage:
    """A message split into header fields and MIME leaves."""

    raw: bytes
    headers: list[HeaderField]
    header_lines: list[str]
    malformed_header_lines: list[int]
    parts: list[Part]
    containers: list[str]
    """Content types of the multipart containers, outermost first."""
    defects: list[tuple[str, str]]
    """(part path, defect class name) as the email package reported them."""
    root: Message
    has_headers: bool = True
    """False for HTML linted without a header file."""
    by_name: dict[str, list[HeaderField]] = field(default_factory=dict)
    """The fields by lower-case name, in order; built on the first lookup
    (rules look fields up a dozen times per message)."""

    def header(self, name: str) -> HeaderField | None:
        """Return the first field called ``name`` (case-insensitive), if any."""
        found = self.all_headers(name)
        return found[0] if found else None

    def all_headers(self, name: str) -> list[HeaderField]:
        """Return every field called ``name``, in order."""
        if not self.by_name and self.headers:
            for item in self.headers:
                self.by_name.setdefault(item.name.lower(), []).append(item)
        return self.by_name.get(name.lower(), [])

    def text_parts(self, content_type: str) -> list[Part]:
        """Return the decoded inline parts of ``content_type``."""
        return [
            part
            for part in self.parts
            if part.content_type == content_type
            and not part.attachment
            and part.text is not None
        ]


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` message bytes; malformed content gives defects, not errors.

    Raises ``InputError`` for a message of more than :data:`MAX_LINES` lines
    or with MIME parts nested deeper than the standard parser can recurse.
    """
    line_count = raw.count(b"\n") + 1
    if line_count > MAX_LINES:
        raise InputError(
            f"the message has {line_count:,} lines, over the {MAX_LINES:,} the linter "
            "reads; mail encodes its body in lines of up to 76 characters, so "
            "check that the file is a message"
        )
    block = _header_block(raw)
    headers, lines, malformed = _split_headers(block)
    try:
        root = parse_clean(raw) or _PARSER.parsebytes(raw)
    except RecursionError:
        raise InputError(
            "the message nests its MIME parts too deeply for the parser "
            f"(Python's recursion limit is {sys.getrecursionlimit()}); "
            "check how the message was generated"
        ) from None
    parts: list[Part] = []
    containers: list[str] = []
    defects: list[tuple[str, str]] = []
    _walk(root, parts, containers, defects)
    return ParsedMessage(
        raw=raw,
        headers=headers,
        header_lines=lines,
        malformed_header_lines=malformed,
        parts=parts,
        containers=containers,
        defects=defects,
        root=root,
    )


def _header_block(raw: bytes) -> bytes:
    """Return the header lines: up to the first empty line, whether the lines
    end in LF or CRLF (mixed endings included)."""
    if raw.startswith((b"\n", b"\r\n")):
        return b""
    end = _BLANK_LINE.search(raw)
    return raw[: end.start()] if end else raw


def _split_headers(block: bytes) -> tuple[list[HeaderField], list[str], list[int]]:
    lines = block.split(b"\n")
    text_lines = [line.rstrip(b"\r").decode("utf-8", "replace") for line in lines]
    fields: list[HeaderField] = []
    malformed: list[int] = []
    start = 0
    if lines and lines[0].startswith(b"From "):
        start = 1  # an mbox separator line, not a header field
    current: tuple[str, int, list[bytes]] | None = None
    for index in range(start, len(lines)):
        line = lines[index].rstrip(b"\r")
        if line[:1] in (b" ", b"\t") and current is not None:
            current[2].append(line)
            continue
        if current is not None:
            fields.append(_field(*current))
            current = None
        match = _FIELD.match(line)
        if match is None:
            if line.strip():
                # The body starts here, as for receivers and the standard
                # parser: later lines such as "Cc: ..." are no fields.
                malformed.append(index + 1)
                del text_lines[index + 1 :]
                break
            continue
        name = match.group(1).decode("ascii")
        current = (name, index + 1, [line[match.end() :]])
    if current is not None:
        fields.append(_field(*current))
    return fields, text_lines, malformed


def _field(name: str, line: int, chunks: list[bytes]) -> HeaderField:
    raw = b"\r\n".join(chunks)
    unfolded = b" ".join(chunk.strip() for chunk in chunks).strip()
    return HeaderField(name, unfolded.decode("utf-8", "replace"), line, raw)


def _walk(
    root: Message,
    parts: list[Part],
    containers: list[str],
    defects: list[tuple[str, str]],
) -> None:
    """Collect the leaves in document order, with a stack instead of recursion
    so that deep nesting cannot exhaust Python's recursion limit."""
    stack: list[tuple[Message, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        where = path or "1"
        for defect in node.defects:
            defects.append((where, type(defect).__name__))
        children = node.get_payload() if node.is_multipart() else None
        if not isinstance(children, list):
            parts.append(_leaf(node, where))
            continue
        content_type, _ = safe(node.get_content_type, "multipart/mixed")
        containers.append(content_type)
        nested = [
            (child, f"{path}.{index}" if path else str(index))
            for index, child in enumerate(children, start=1)
            if isinstance(child, Message)
        ]
        stack.extend(reversed(nested))


def _leaf(node: Message, path: str) -> Part:
    content_type, _ = safe(node.get_content_type, "text/plain")
    charset, _ = safe(node.get_content_charset, None)
    encoding = str(node.get("content-transfer-encoding", "7bit") or "7bit")
    disposition, _ = safe(node.get_content_disposition, None)
    payload = node.get_payload()
    raw_body = payload if isinstance(payload, str) else ""
    part = Part(
        path=path,
        content_type=content_type,
        charset=charset,
        transfer_encoding=encoding.strip().lower(),
        attachment=disposition == "attachment",
        raw_body=raw_body,
    )
    if content_type in ("text/plain", "text/html") and not part.attachment:
        _decode_text(node, part)
    return part


def _decode_text(node: Message, part: Part) -> None:
    if len(part.raw_body) > MAX_TEXT_PART:
        return
    data = node.get_payload(decode=True)
    if not isinstance(data, bytes):
        return
    part.decoded_size = len(data)
    charset = part.charset or "us-ascii"
    if not _is_mail_charset(charset):
        part.charset_problem = "unknown"
        part.text = data.decode("utf-8", "replace")
        return
    try:
        part.text = data.decode(charset)
    except (UnicodeError, ValueError):
        part.charset_problem = "mismatch"
        try:
            part.text = data.decode(charset, "replace")
        except (UnicodeError, ValueError):
            part.text = data.decode("utf-8", "replace")


# Python codecs that decode bytes to text but are no MIME charset: punycode
# and idna treat the body as domain labels (punycode decoding takes quadratic
# time), the escape codecs read Python string literals.
_NOT_CHARSETS = frozenset(
    ("punycode", "idna", "unicode-escape", "raw-unicode-escape", "undefined")
)


def _is_mail_charset(charset: str) -> bool:
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        return False
    text_codec = getattr(info, "_is_text_encoding", True)
    return bool(text_codec) and info.name not in _NOT_CHARSETS
