#!/usr/bin/env python3
"""Build the example zone files from a JSON collection of published DNS records.

The input maps owner names to the records that public sources showed for
them, with the source and date of each (the reference corpus's
``real-dns/records.json``). This script writes one RFC 1035 zone file per
registered domain (the public suffix list decides where a domain starts) into
``zones/`` and the sending domains, one per line, into ``domains.txt``.

Only each name's current entry is used, never its ``history``. Records the
sources showed only in parsed form (MTA-STS and TLS-RPT of proton.me) are
written back as record text. Zones get a synthetic SOA and NS naming
``ns.invalid.`` unless the sources give real ones.

usage: build_zones.py [--records PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publicsuffixlist import PublicSuffixList

__all__ = ["ZoneData", "build", "main", "sending_domains", "txt_rdata"]

HERE = Path(__file__).resolve().parent
DEFAULT_TTL = 3600
MAX_STRING = 255
"""Bytes in one TXT character-string (RFC 1035, section 3.3)."""

SYNTHETIC_SOA = "ns.invalid. hostmaster.invalid. 1 3600 600 86400 300"
SYNTHETIC_NS = "ns.invalid."

# Keys of an entry that describe the records rather than hold them.
METADATA_KEYS = frozenset(
    {"source", "snapshot_date", "snapshot_set", "history", "notes", "broken",
     "source_quality", "spf_targets", "spf_targets_missing_here", "dnssec",
     "mta-sts policy (parsed by checkdmarc)"}
)
METADATA_SUFFIXES = (" source", " snapshot_date", " note")


@dataclass
class ZoneData:
    """The records of one zone: owner name -> list of (type, rdata text)."""

    origin: str
    records: dict[str, list[tuple[str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    provenance: dict[str, str] = field(default_factory=dict)
    """Owner name -> snapshot set and date, written as a comment."""

    def add(self, owner: str, rdtype: str, rdata: str) -> None:
        """Add one record unless the same record is already there."""
        entry = (rdtype, rdata)
        if entry not in self.records[owner]:
            self.records[owner].append(entry)


def _quote(chunk: bytes) -> str:
    """Return one character-string in zone-file syntax."""
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def txt_rdata(text: str, strings: Iterable[str] | None = None) -> str:
    """Return TXT rdata for ``text``, using the published split when known.

    Without ``strings`` the text is cut, in order, into character-strings of
    the maximum 255 bytes.
    """
    if strings is not None:
        parts = [s.encode() for s in strings]
        if b"".join(parts) != text.encode():
            raise ValueError(f"TXT_strings do not join to the record {text!r}")
    else:
        data = text.encode()
        parts = [data[i:i + MAX_STRING] for i in range(0, len(data), MAX_STRING)]
    return " ".join(_quote(part) for part in parts or [b""])


def _texts(entry: Mapping[str, Any], key: str) -> Iterator[str]:
    """Yield the TXT rdata of ``entry[key]``, honouring a published split."""
    split = entry.get(key.replace("TXT", "TXT_strings", 1)) or []
    for index, text in enumerate(entry[key]):
        strings = split[index] if index < len(split) else None
        yield txt_rdata(text, strings)


def _is_metadata(key: str) -> bool:
    return key in METADATA_KEYS or key.endswith(METADATA_SUFFIXES)


Record = tuple[str, str, str]
"""Owner name, record type and rdata text."""


def _entry_records(name: str, entry: Mapping[str, Any]) -> Iterator[Record]:
    """Yield (owner, type, rdata) for every record in one entry."""
    for key in sorted(entry):
        value = entry[key]
        if _is_metadata(key) or key.startswith("TXT_strings"):
            continue
        if key == "TXT" or key.startswith("TXT ("):
            yield from ((name, "TXT", r) for r in _texts(entry, key))
        elif key == "selector._domainkey TXT":
            yield from _dkim_records(name, value)
        elif key.endswith(" TXT"):
            owner = f"{key.removesuffix(' TXT')}.{name}"
            yield from ((owner, "TXT", r) for r in _texts(entry, key))
        elif key in ("MX", "NS", "SOA"):
            yield from ((name, key, r) for r in value)
        elif key == "A":
            yield from ((name, "AAAA" if ":" in a else "A", a) for a in value)
        elif key == "MX host addresses":
            for host, addresses in value.items():
                for address in addresses:
                    yield host, "AAAA" if ":" in address else "A", address
        elif key == "MX host TLSA (port 25)":
            for host, rdatas in value.items():
                yield from ((f"_25._tcp.{host}", "TLSA", r) for r in rdatas)
        elif key.startswith("_mta-sts (parsed"):
            yield f"_mta-sts.{name}", "TXT", txt_rdata(f"v=STSv1; id={value['id']}")
        elif key.startswith("_smtp._tls (parsed"):
            rua = ",".join(value["rua"])
            text = f"v={value['v']}; rua={rua}"
            yield f"_smtp._tls.{name}", "TXT", txt_rdata(text)
        else:
            raise ValueError(
                f"{name}: unknown record key {key!r}; add a case for it to "
                "_entry_records so that no record is dropped"
            )


def _dkim_records(name: str, selectors: Any) -> Iterator[Record]:
    for selector, item in sorted(selectors.items()):
        texts = item["TXT"] if isinstance(item, Mapping) else item
        for text in texts:
            yield f"{selector}._domainkey.{name}", "TXT", txt_rdata(text)


def _provenance(entry: Mapping[str, Any]) -> str:
    """Return the snapshot set and date, or the date of each record type."""
    dated = {
        key.removesuffix(" snapshot_date"): value
        for key, value in entry.items()
        if key.endswith(" snapshot_date")
    }
    parts = [entry.get("snapshot_set", "per-record sources")]
    overall = entry.get("snapshot_date", "date unknown")
    if not overall.startswith("see "):
        parts.append(overall)
    selectors = entry.get("selector._domainkey TXT", {})
    for selector, item in sorted(selectors.items()):
        if isinstance(item, Mapping) and "snapshot_date" in item:
            dated[f"{selector}._domainkey"] = item["snapshot_date"]
    parts += [f"{key} {value}" for key, value in sorted(dated.items())]
    return "; ".join(parts)


def zone_origin(name: str, psl: PublicSuffixList) -> str:
    """Return the registered domain of ``name``, or ``name`` if it is a suffix."""
    return psl.privatesuffix(name) or name


def build(records: Mapping[str, Any], psl: PublicSuffixList) -> dict[str, ZoneData]:
    """Return origin -> ZoneData for every owner name in ``records``."""
    zones: dict[str, ZoneData] = {}
    for name, entry in sorted(records.items()):
        if name.startswith("_meta"):
            continue
        home = zone_origin(name.lower(), psl)
        zones.setdefault(home, ZoneData(home)).provenance[name] = _provenance(entry)
        for owner, rdtype, rdata in _entry_records(name, entry):
            owner = owner.lower()
            # Names below the entry's zone stay in it, even when that zone is
            # a public suffix such as gov; others go to their own domain.
            inside = owner == home or owner.endswith("." + home)
            origin = home if inside else zone_origin(owner, psl)
            zones.setdefault(origin, ZoneData(origin)).add(owner, rdtype, rdata)
    return zones


def _relative(owner: str, origin: str) -> str:
    return "@" if owner == origin else owner.removesuffix("." + origin)


def render(zone: ZoneData) -> str:
    """Return the zone as master-file text with SOA and NS first."""
    lines = ["; Built by build_zones.py from published records; do not edit."]
    lines += [f"; {owner}: {text}" for owner, text in sorted(zone.provenance.items())]
    lines += [f"$ORIGIN {zone.origin}.", f"$TTL {DEFAULT_TTL}"]
    apex = zone.records.get(zone.origin, [])
    if not any(rdtype == "SOA" for rdtype, _ in apex):
        lines.append(f"@ IN SOA {SYNTHETIC_SOA}")
    if not any(rdtype == "NS" for rdtype, _ in apex):
        lines.append(f"@ IN NS {SYNTHETIC_NS}")
    order = {"SOA": 0, "NS": 1}
    for owner in sorted(zone.records, key=lambda o: (o != zone.origin, o)):
        entries = sorted(zone.records[owner], key=lambda e: order.get(e[0], 2))
        for rdtype, rdata in entries:
            lines.append(f"{_relative(owner, zone.origin)} IN {rdtype} {rdata}")
    return "\n".join(lines) + "\n"


def _targets(entry: Mapping[str, Any]) -> set[str]:
    """Return the include and redirect targets of an entry and of its history."""
    found = set(entry.get("spf_targets", []))
    for old in entry.get("history", []):
        for text in old.get("TXT", []):
            for term in text.split():
                _, sep, target = term.partition("include:")
                if not sep:
                    _, sep, target = term.partition("redirect=")
                if sep:
                    found.add(target.lower())
    return found


def sending_domains(records: Mapping[str, Any], psl: PublicSuffixList) -> list[str]:
    """Return the names that send or receive mail in their own name.

    Left out: SPF include and redirect targets (in any snapshot), names with
    a leading underscore label, DMARC report authorization records and
    public suffixes.
    """
    entries = {k: v for k, v in records.items() if not k.startswith("_meta")}
    targets = set().union(*(_targets(entry) for entry in entries.values()))
    return sorted(
        name for name in entries
        if name not in targets
        and not name.startswith("_")
        and "._report._dmarc." not in name
        and psl.privatesuffix(name) is not None
    )


def _default_records() -> Path:
    corpus = os.environ.get("DELIVERABILITY_CORPUS")
    base = Path(corpus) if corpus else HERE.parent.parent.parent / "shared" / "corpus"
    return base / "real-dns" / "records.json"


def main(argv: list[str] | None = None) -> int:
    """Write zones/*.zone and domains.txt; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, default=_default_records(),
                        help="records.json to read (default: from the corpus)")
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder for zones/ and domains.txt (default: here)")
    args = parser.parse_args(argv)
    try:
        records = json.loads(args.records.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"Error: cannot read {args.records}: {exc}", file=sys.stderr)
        return 2
    psl = PublicSuffixList()
    zones = build(records, psl)
    zone_dir = args.out / "zones"
    zone_dir.mkdir(parents=True, exist_ok=True)
    for old in zone_dir.glob("*.zone"):
        old.unlink()
    for origin, zone in sorted(zones.items()):
        (zone_dir / f"{origin}.zone").write_text(render(zone), encoding="utf-8")
    domains = sending_domains(records, psl)
    (args.out / "domains.txt").write_text("\n".join(domains) + "\n", encoding="utf-8")
    print(f"{len(zones)} zones in {zone_dir}, {len(domains)} sending domains")
    return 0


if __name__ == "__main__":
    sys.exit(main())
