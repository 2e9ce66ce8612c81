"""Conversion of dnspython rdata into the plain values of :class:`Answer`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dns.rdata

from .answer import MXRecord, TXTRecord

__all__ = ["convert_rdata", "name_text", "sort_records"]


def name_text(name: Any) -> str:
    """Return a dnspython name as lower case text without the final dot.

    The root name becomes ``"."``.
    """
    text = str(name.to_text(omit_final_dot=True)).lower()
    return text or "."


def convert_rdata(rdtype: str, rdatas: Iterable[dns.rdata.Rdata]) -> tuple[Any, ...]:
    """Return the records of one rdataset as :class:`Answer` expects them."""
    out: list[Any] = []
    for rdata in rdatas:
        if rdtype in ("TXT", "SPF"):
            out.append(TXTRecord(tuple(rdata.strings)))  # type: ignore[attr-defined]
        elif rdtype == "MX":
            out.append(
                MXRecord(rdata.preference, name_text(rdata.exchange))  # type: ignore[attr-defined]
            )
        elif rdtype in ("A", "AAAA"):
            out.append(rdata.address)  # type: ignore[attr-defined]
        elif rdtype in ("PTR", "CNAME", "NS"):
            out.append(name_text(rdata.target))  # type: ignore[attr-defined]
        else:
            out.append(rdata.to_text())
    return sort_records(rdtype, out)


def sort_records(rdtype: str, records: list[Any]) -> tuple[Any, ...]:
    """Sort records so that answers compare equal whatever order a server sends.

    The order of records in an RRset carries no meaning (RFC 2181, section
    5), so offline zone files and a live server give identical answers.
    """
    if rdtype in ("A", "AAAA", "PTR", "CNAME", "NS"):
        records.sort()
    elif rdtype == "MX":
        records.sort(key=lambda mx: (mx.preference, mx.exchange))
    elif rdtype in ("TXT", "SPF"):
        records.sort(key=lambda txt: txt.strings)
    return tuple(records)
