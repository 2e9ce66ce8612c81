"""Build a MIME tree fast when the standard parser would find nothing wrong.

:mod:`email.feedparser` reads a message line by line in Python, which was a
fifth of the linter's time on the benchmark corpus. :func:`parse_clean`
finds header blocks and boundary lines with ``bytes.find`` instead and
builds the same :class:`email.message.Message` tree, under
``email.policy.compat32``: the same header fields, payload strings,
preambles and epilogues. It returns ``None`` whenever the standard parser
would record a defect, so that the caller falls back to it. It does the same
for input the standard parser treats in special ways: ``message/*`` parts,
``multipart/digest``, a ``From`` line among the fields, a bare carriage
return.
The tests compare both parsers on the corpus and on generated messages.

What the standard parser does, and this module repeats:

- Lines end with LF or CRLF (a lone CR is a line break too; such input is
  left to the standard parser). A first line starting ``From `` is the mbox
  separator (the "Unix from"), kept apart. A header block ends at the
  first empty line. Every line before it is a field (a name of printable
  characters other than ``:``, then ``:``) or a continuation starting with
  a space or a tab. A field's value is its text after the colon, leading spaces and
  tabs removed, continuation lines appended, the final line break removed.
- In a multipart body, a boundary line is ``--boundary``, optionally
  ``--`` (the close), then spaces or tabs, then the line break or the end.
  What comes before the first boundary line is the preamble and after the
  close the epilogue. The line break before a boundary line belongs to
  the boundary: it is removed from the end of the part before it, and from
  the preamble and a nested multipart's epilogue (an empty nested
  epilogue becomes ``None``).
"""

from __future__ import annotations

import re
from email.message import Message
from email.policy import compat32

__all__ = ["parse_clean"]

MAX_DEPTH = 50
"""Deeper nesting is left to the standard parser (and its limits)."""

_FIELD_NAME = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_PASSING_ENCODINGS = ("7bit", "8bit", "binary")
"""Transfer encodings a multipart entity may declare without a defect."""


def parse_clean(raw: bytes) -> Message | None:
    """Return the tree :mod:`email` would build for ``raw``, or ``None``
    when the standard parser has to decide."""
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    unixfrom = None
    start = 0
    if raw.startswith(b"From "):  # an mbox separator line
        start = raw.find(b"\n") + 1
        if not start:
            return None
        unixfrom = _chop_line_break(_text(raw, 0, start))
    root = _entity(raw, start, len(raw), 0)
    if root is not None and unixfrom is not None:
        root.set_unixfrom(unixfrom)
    return root


def _entity(data: bytes, start: int, stop: int, depth: int) -> Message | None:
    """Parse the entity at ``data[start:stop]``. A nested one (``depth`` above
    0) ends where its parent's next boundary line starts."""
    parsed = _header_block(data, start, stop)
    if parsed is None:
        return None
    fields, body = parsed
    message = Message(policy=compat32)
    for name, value in fields:
        message.set_raw(name, value)

    maintype = message.get_content_maintype()
    if maintype == "message":
        return None
    if maintype != "multipart":
        payload = _text(data, body, stop)
        message.set_payload(_chop_line_break(payload) if depth else payload)
        return message

    if depth >= MAX_DEPTH or message.get_content_type() == "multipart/digest":
        return None
    boundary = message.get_boundary()
    if boundary is None:
        return None
    encoding = str(message.get("content-transfer-encoding", "8bit")).lower()
    if encoding not in _PASSING_ENCODINGS:
        return None
    try:
        marker = b"--" + boundary.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return None  # an RFC 2231 boundary with characters no line can hold

    lines = _boundary_lines(data, marker, body, stop)
    if not lines or lines[0][2] or not lines[-1][2]:
        return None  # no start, or no close boundary
    first = lines[0][0]
    if first > body:
        message.preamble = _chop_line_break(_text(data, body, first))
    for (_, after, _), (next_start, _, _) in zip(lines, lines[1:], strict=False):
        if after >= next_start:
            return None  # two boundary lines in a row
        part = _entity(data, after, next_start, depth + 1)
        if part is None:
            return None
        message.attach(part)

    epilogue = _text(data, lines[-1][1], stop)
    if depth:
        message.epilogue = _chop_line_break(epilogue) if epilogue else None
    else:
        message.epilogue = epilogue
    return message


def _header_block(
    data: bytes, start: int, stop: int
) -> tuple[list[tuple[str, str]], int] | None:
    """Return the fields of the header block at ``data[start:stop]`` and the
    offset of the body after the empty line, or ``None``."""
    fields: list[tuple[str, str]] = []
    field: list[bytes] = []
    position = start
    while True:
        end = data.find(b"\n", position, stop)
        if end < 0:
            return None  # no empty line ends the block
        line = data[position : end + 1]
        position = end + 1
        if line == b"\n" or line == b"\r\n":
            break
        if line[:1] in (b" ", b"\t"):
            if not field:
                return None  # the block starts with a continuation line
            field.append(line)
            continue
        if _FIELD_NAME.match(line) is None:
            return None
        if field:
            fields.append(_field(field))
        field = [line]
    if field:
        fields.append(_field(field))
    return fields, position


def _field(lines: list[bytes]) -> tuple[str, str]:
    text = b"".join(lines).decode("ascii", "surrogateescape")
    name, value = text.split(":", 1)
    return name, value.lstrip(" \t").rstrip("\r\n")


def _boundary_lines(
    data: bytes, marker: bytes, start: int, stop: int
) -> list[tuple[int, int, bool]]:
    """Return (line start, offset after the line, is the close) for each
    boundary line in ``data[start:stop]``, up to and including the first
    close. Lines after the close belong to the epilogue."""
    found: list[tuple[int, int, bool]] = []
    if data.startswith(marker, start, stop):
        candidate = start
    else:
        candidate = data.find(b"\n" + marker, start, stop)
        candidate = candidate + 1 if candidate >= 0 else -1
    width = len(marker)
    while candidate >= 0:
        end = data.find(b"\n", candidate, stop)
        after = stop if end < 0 else end + 1
        rest = data[candidate + width : stop if end < 0 else end]
        if end >= 0 and rest.endswith(b"\r"):
            rest = rest[:-1]
        close = rest.startswith(b"--")
        if close:
            rest = rest[2:]
        if not rest.strip(b" \t"):
            found.append((candidate, after, close))
            if close:
                break
        candidate = data.find(b"\n" + marker, candidate, stop)
        candidate = candidate + 1 if candidate >= 0 else -1
    return found


def _text(data: bytes, start: int, stop: int) -> str:
    return data[start:stop].decode("ascii", "surrogateescape")


def _chop_line_break(text: str) -> str:
    """Remove one final line break, which belongs to the boundary after it."""
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text
