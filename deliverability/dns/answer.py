"""The outcome of one DNS lookup, as every check sees it.

Four outcomes stay distinct all the way into the report: records were found,
the name exists without records of the type (NODATA), the name does not exist
(NXDOMAIN), and the lookup failed (timeout, SERVFAIL, refused). Checks must
never read a failure as "no record".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["Answer", "MXRecord", "Status", "TXTRecord"]


class Status(enum.StrEnum):
    """How a lookup ended."""

    ANSWER = "answer"
    NODATA = "nodata"
    NXDOMAIN = "nxdomain"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TXTRecord:
    """One TXT record: its character-strings as published, each at most 255 bytes."""

    strings: tuple[bytes, ...]

    @property
    def data(self) -> bytes:
        """The strings joined with nothing between them (RFC 7208, section 3.3)."""
        return b"".join(self.strings)

    @property
    def text(self) -> str:
        """The joined strings as text; bytes that are not UTF-8 become U+FFFD."""
        return self.data.decode("utf-8", errors="replace")

    def to_zone_text(self) -> str:
        """Return the record as zone-file rdata: quoted strings, escaped."""
        return " ".join(_quote(s) for s in self.strings)


def _quote(raw: bytes) -> str:
    out = ['"']
    for byte in raw:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    out.append('"')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class MXRecord:
    """One MX record; ``exchange`` is ``"."`` for a null MX (RFC 7505)."""

    preference: int
    exchange: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The result of looking up one name and type.

    ``records`` holds, by type: :class:`TXTRecord` for TXT and SPF,
    :class:`MXRecord` for MX, address strings for A and AAAA, host names
    (lower case, no trailing dot) for PTR, CNAME and NS, and the
    presentation text of the rdata for every other type.
    """

    name: str
    """The name asked for: lower case A-labels, no trailing dot."""
    rdtype: str
    status: Status
    records: tuple[Any, ...] = ()
    cnames: tuple[str, ...] = ()
    """Aliases followed, in order, from ``name`` to the final owner name."""
    error: str | None = None
    """For ``FAILED``: what went wrong, e.g. ``timed out after 2 tries``."""

    @property
    def found(self) -> bool:
        return self.status is Status.ANSWER

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    @property
    def void(self) -> bool:
        """True for NODATA and NXDOMAIN: a "void lookup" in RFC 7208 terms."""
        return self.status in (Status.NODATA, Status.NXDOMAIN)

    @property
    def texts(self) -> list[str]:
        """The joined text of each TXT record (empty for other types)."""
        return [r.text for r in self.records if isinstance(r, TXTRecord)]

    @property
    def canonical_name(self) -> str:
        return self.cnames[-1] if self.cnames else self.name

    def describe(self) -> str:
        """Return a short phrase such as ``NXDOMAIN`` or ``lookup failed: ...``."""
        if self.status is Status.ANSWER:
            return f"{len(self.records)} {self.rdtype} record(s)"
        if self.status is Status.NODATA:
            return f"no {self.rdtype} record"
        if self.status is Status.NXDOMAIN:
            return "no such domain (NXDOMAIN)"
        return f"lookup failed: {self.error or 'unknown error'}"
