"""Offline DNS from zone files: answers as an authoritative server would give.

Files are RFC 1035 master files. A folder is searched for ``*.zone`` files,
nested folders included. Each file's origin is its ``$ORIGIN`` or, failing
that, its file name without ``.zone``. The most specific loaded zone answers a
name; a name that no zone holds is NXDOMAIN. Empty non-terminals answer
NODATA and wildcards are expanded as RFC 4592 describes. CNAMEs are followed
across zones. Nothing here touches the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.exception
import dns.name
import dns.rdatatype
import dns.zone

from ..errors import ZoneFileError
from .answer import Answer, Status
from .convert import convert_rdata, name_text
from .names import normalize_domain
from .resolver import DEFAULT_CACHE_SIZE, Resolver

__all__ = ["ZoneResolver", "load_zone_paths"]

_MAX_CNAME_HOPS = 8


@dataclass(slots=True)
class _Zone:
    origin: str
    source: str
    nodes: dict[str, dict[str, tuple[Any, ...]]] = field(default_factory=dict)
    nonterminals: set[str] = field(default_factory=set)

    def add_parents(self, name: str) -> None:
        """Record every ancestor of ``name`` down to the origin as existing."""
        labels = name.split(".")
        depth = len(self.origin.split(".")) if self.origin != "." else 0
        for start in range(1, len(labels) - depth + 1):
            self.nonterminals.add(".".join(labels[start:]))


def _parse_zone(text: str, source: str, origin_hint: str | None) -> _Zone:
    try:
        try:
            zone = dns.zone.from_text(
                text,
                origin=None,
                relativize=False,
                check_origin=False,
                filename=source,
            )
        except dns.zone.UnknownOrigin:
            if origin_hint is None:
                raise ZoneFileError(
                    source, "no $ORIGIN line and no origin given; add $ORIGIN"
                ) from None
            zone = dns.zone.from_text(
                text,
                origin=origin_hint + ".",
                relativize=False,
                check_origin=False,
                filename=source,
            )
    except dns.exception.SyntaxError as exc:
        raise ZoneFileError(source, str(exc)) from None
    except dns.exception.DNSException as exc:
        raise ZoneFileError(source, str(exc) or type(exc).__name__) from None
    if zone.origin is None:
        # dnspython leaves the origin unset for a zone without records.
        if origin_hint is None:
            raise ZoneFileError(source, "the zone has no origin and no records")
        return _Zone(origin=normalize_domain(origin_hint), source=source)
    origin = name_text(zone.origin)
    parsed = _Zone(origin=origin, source=source)
    for owner, node in zone.nodes.items():
        owner_text = name_text(owner)
        types: dict[str, tuple[Any, ...]] = {}
        for rdataset in node.rdatasets:
            rdtype = dns.rdatatype.to_text(rdataset.rdtype)
            types[rdtype] = convert_rdata(rdtype, rdataset)
        if types:
            parsed.nodes[owner_text] = types
            parsed.add_parents(owner_text)
    return parsed


def load_zone_paths(paths: Iterable[str | Path]) -> list[tuple[str, str]]:
    """Return ``(source, text)`` for each zone file named by ``paths``.

    A path may be a file, or a folder searched recursively for ``*.zone``.
    Raises :class:`ZoneFileError` for a missing path, an unreadable file, a
    folder with no zone file, or text that is not UTF-8.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.zone") if p.is_file())
            if not found:
                raise ZoneFileError(str(path), "the folder contains no *.zone file")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise ZoneFileError(str(path), "no such file or folder")
    loaded = []
    for file in files:
        try:
            loaded.append((str(file), file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise ZoneFileError(str(file), str(exc)) from None
    return loaded


class ZoneResolver(Resolver):
    """A resolver whose answers come from zone files only."""

    online = False

    def __init__(
        self,
        paths: Iterable[str | Path] = (),
        *,
        texts: Mapping[str, str] | None = None,
        concurrency: int = 64,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        """Load zones from ``paths`` and from ``texts`` (origin to zone text).

        Raises :class:`ZoneFileError` when a file is missing or invalid, or
        when two files define the same origin.
        """
        super().__init__(concurrency=concurrency, cache_size=cache_size)
        self._zones: dict[str, _Zone] = {}
        for source, text in load_zone_paths(paths):
            hint = Path(source).name.removesuffix(".zone")
            self._add(_parse_zone(text, source, hint))
        for origin, text in (texts or {}).items():
            self._add(_parse_zone(text, f"<zone {origin}>", origin.rstrip(".")))
        self.sources = [zone.source for zone in self._zones.values()]

    def _add(self, zone: _Zone) -> None:
        previous = self._zones.get(zone.origin)
        if previous is not None:
            raise ZoneFileError(
                zone.source,
                f"zone {zone.origin} is already loaded from {previous.source}",
            )
        self._zones[zone.origin] = zone

    @property
    def origins(self) -> list[str]:
        return sorted(self._zones)

    def describe(self) -> str:
        count = len(self._zones)
        return (
            f"zone files ({count} zone{'' if count == 1 else 's'}, offline; "
            "names outside them read as non-existent)"
        )

    def _find_zone(self, name: str) -> _Zone | None:
        labels = name.split(".")
        for start in range(len(labels)):
            zone = self._zones.get(".".join(labels[start:]))
            if zone is not None:
                return zone
        return self._zones.get(".")

    def _find_node(self, zone: _Zone, name: str) -> dict[str, tuple[Any, ...]] | None:
        """Return the node for ``name``, synthesized from a wildcard if need be."""
        node = zone.nodes.get(name)
        if node is not None or name in zone.nonterminals:
            return node
        labels = name.split(".")
        for start in range(1, len(labels)):
            encloser = ".".join(labels[start:])
            if encloser in zone.nodes or encloser in zone.nonterminals:
                return zone.nodes.get("*." + encloser)
            if encloser == zone.origin:
                break
        return None

    async def _query(self, qname: str, rdtype: str) -> Answer:
        return self.lookup_now(qname, rdtype)

    def lookup_now(self, qname: str, rdtype: str) -> Answer:
        """Look up synchronously, without cache or counters (for sync callers)."""
        name = qname
        cnames: list[str] = []
        for _ in range(_MAX_CNAME_HOPS + 1):
            zone = self._find_zone(name)
            if zone is None:
                return Answer(qname, rdtype, Status.NXDOMAIN, cnames=tuple(cnames))
            node = self._find_node(zone, name)
            if node is None:
                exists = name in zone.nonterminals
                status = Status.NODATA if exists else Status.NXDOMAIN
                return Answer(qname, rdtype, status, cnames=tuple(cnames))
            if rdtype in node:
                return Answer(qname, rdtype, Status.ANSWER, node[rdtype], tuple(cnames))
            target = node.get("CNAME")
            if target and rdtype != "CNAME":
                name = target[0]
                if name in cnames or name == qname:
                    return Answer(
                        qname,
                        rdtype,
                        Status.FAILED,
                        cnames=tuple(cnames),
                        error=f"CNAME loop at {name}",
                    )
                cnames.append(name)
                continue
            return Answer(qname, rdtype, Status.NODATA, cnames=tuple(cnames))
        return Answer(
            qname,
            rdtype,
            Status.FAILED,
            cnames=tuple(cnames),
            error=f"more than {_MAX_CNAME_HOPS} CNAME hops",
        )
