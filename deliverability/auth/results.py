"""The Authentication-Results header field (RFC 8601) of a verdict."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MethodResult", "format_header", "printable", "pvalue"]

_TOKEN = re.compile(r"^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$")
_ADDRESS = re.compile(r"^[!#$%&'*+\-/=?^_`{|}~.0-9A-Za-z]*@[A-Za-z0-9_.-]+$")


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One ``method=result`` entry with its reason comment and properties."""

    method: str
    result: str
    comment: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    """``(ptype.property, value)`` pairs such as ``("header.d", "example.com")``."""

    def to_text(self) -> str:
        """Return the entry as RFC 8601 ``resinfo`` text."""
        parts = [f"{self.method}={self.result}"]
        if self.comment:
            parts.append(f"({_comment(self.comment)})")
        parts.extend(f"{name}={pvalue(value)}" for name, value in self.properties)
        return " ".join(parts)


def printable(text: str) -> str:
    """Return ``text`` in printable ASCII: other characters become escapes.

    Values in the field come from strangers' messages and DNS; a control
    character or line break must not reach a header field or a terminal.
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        char if char.isascii() and char.isprintable() else _escape(char)
        for char in text
    )


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def pvalue(value: str) -> str:
    """Return ``value`` as a token or address if it is one, else as a quoted string."""
    value = printable(value)
    if _TOKEN.match(value) or _ADDRESS.match(value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _comment(text: str) -> str:
    """Return ``text`` as comment content: nested parentheses stay when balanced."""
    cleaned = printable(" ".join(text.split())).replace("\\", "\\\\")
    depth = 0
    for char in cleaned:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if depth == 0:
        return cleaned
    return cleaned.replace("(", "\\(").replace(")", "\\)")


def format_header(
    authserv_id: str, results: Sequence[MethodResult], *, fold: bool = False
) -> str:
    """Return the whole field, ``Authentication-Results: id; method=result ...``.

    With no results the field reads ``none`` (RFC 8601, section 2.2). With
    ``fold`` each entry starts on a continuation line.
    """
    entries = [entry.to_text() for entry in results] or ["none"]
    separator = ";\r\n\t" if fold else "; "
    server = authserv_id if _TOKEN.match(authserv_id) else pvalue(authserv_id)
    return f"Authentication-Results: {server}{separator}" + separator.join(entries)
