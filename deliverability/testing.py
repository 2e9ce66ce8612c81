"""Resolvers for tests: answers from a function or from a table of records.

Use :class:`~deliverability.dns.ZoneResolver` when the data fits in zone
text; these cover what zone text cannot express, such as timeouts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .dns.answer import Answer, MXRecord, Status, TXTRecord
from .dns.resolver import Resolver

__all__ = ["FAIL", "FakeResolver", "TableResolver"]

#: Put this in a :class:`TableResolver` table to make that lookup fail.
FAIL = object()


class FakeResolver(Resolver):
    """A resolver whose every answer comes from ``handler(name, rdtype)``."""

    online = False

    def __init__(self, handler: Callable[[str, str], Answer], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handler = handler

    async def _query(self, qname: str, rdtype: str) -> Answer:
        return self._handler(qname, rdtype)


class TableResolver(Resolver):
    """Answers from ``{(name, rdtype): records}``.

    A value is a sequence of records (strings for TXT become one-string TXT
    records, ``(preference, exchange)`` pairs become MX records), an empty
    sequence for NODATA, or :data:`FAIL` for a failed lookup. Names with no
    entry of any type are NXDOMAIN; names with some other type are NODATA.
    """

    online = False

    def __init__(
        self, table: Mapping[tuple[str, str], Sequence[Any] | object], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._table = {
            (n.lower().rstrip("."), t.upper()): v for (n, t), v in table.items()
        }
        self._names = {name for name, _ in self._table}

    async def _query(self, qname: str, rdtype: str) -> Answer:
        value = self._table.get((qname, rdtype))
        if value is FAIL:
            return Answer(qname, rdtype, Status.FAILED, error="timed out (test)")
        if value is None:
            status = Status.NODATA if qname in self._names else Status.NXDOMAIN
            return Answer(qname, rdtype, status)
        assert isinstance(value, Sequence)
        if not value:
            return Answer(qname, rdtype, Status.NODATA)
        return Answer(
            qname, rdtype, Status.ANSWER, tuple(_record(rdtype, v) for v in value)
        )


def _record(rdtype: str, value: Any) -> Any:
    if rdtype in ("TXT", "SPF") and isinstance(value, str):
        return TXTRecord((value.encode("utf-8"),))
    if rdtype in ("TXT", "SPF") and isinstance(value, bytes):
        return TXTRecord((value,))
    if rdtype == "MX" and isinstance(value, tuple):
        return MXRecord(int(value[0]), str(value[1]).lower().rstrip(".") or ".")
    return value
