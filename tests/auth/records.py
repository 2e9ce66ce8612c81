"""A resolver that reads records from a table, for suites whose zone data
zone-file text cannot express: TXT records with no strings, names whose
queries time out, SERVFAIL.

Unlike :class:`deliverability.testing.TableResolver`, it follows CNAMEs,
treats the ancestors of listed names as existing (NODATA, not NXDOMAIN), and
can fail every type a name has no record of, as the SPF suite's TIMEOUT
entries need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from deliverability.dns import Answer, Resolver, Status

__all__ = ["RecordResolver"]

_MAX_CNAME_HOPS = 8


class RecordResolver(Resolver):
    """Look records up in ``records``, keyed by (name, type), lower case.

    A name in ``failing`` gives FAILED for every type it has no record of,
    as a server that times out on those queries would.
    """

    online = False

    def __init__(
        self,
        records: Mapping[tuple[str, str], Iterable[Any]],
        *,
        failing: Iterable[str] = (),
        extra_names: Iterable[str] = (),
    ) -> None:
        super().__init__()
        self.records = {key: tuple(value) for key, value in records.items()}
        self.failing = set(failing)
        self.names = {name for name, _ in self.records} | set(extra_names)
        for name in list(self.names):
            labels = name.split(".")
            self.names.update(".".join(labels[i:]) for i in range(1, len(labels)))

    async def _query(self, qname: str, rdtype: str) -> Answer:
        name = qname
        cnames: list[str] = []
        for _ in range(_MAX_CNAME_HOPS + 1):
            found = self.records.get((name, rdtype))
            if found:
                return Answer(qname, rdtype, Status.ANSWER, found, tuple(cnames))
            alias = self.records.get((name, "CNAME"))
            if alias and rdtype != "CNAME":
                name = alias[0]
                if name in cnames:
                    break
                cnames.append(name)
                continue
            if name in self.failing:
                return Answer(
                    qname,
                    rdtype,
                    Status.FAILED,
                    cnames=tuple(cnames),
                    error="timed out",
                )
            status = Status.NODATA if name in self.names else Status.NXDOMAIN
            return Answer(qname, rdtype, status, cnames=tuple(cnames))
        return Answer(
            qname, rdtype, Status.FAILED, cnames=tuple(cnames), error="CNAME loop"
        )
