"""Load the OpenSPF conformance suite (YAML with zone data) into test cases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deliverability.dns import MXRecord, TXTRecord

from .records import RecordResolver

__all__ = ["SuiteCase", "load_suite"]


@dataclass(frozen=True)
class SuiteCase:
    """One test of the suite with the zone data of its scenario."""

    id: str
    host: str
    mailfrom: str
    helo: str
    expected: tuple[str, ...]
    zonedata: dict[str, list[Any]]

    def resolver(self) -> RecordResolver:
        """Return a fresh resolver holding the scenario's zone data."""
        return build_resolver(self.zonedata)


def _text_bytes(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _txt(value: str | list[str]) -> TXTRecord:
    strings = [value] if isinstance(value, str) else value
    return TXTRecord(tuple(_text_bytes(s) for s in strings))


def _convert(rdtype: str, value: Any) -> Any:
    if rdtype in ("TXT", "SPF"):
        return _txt(value)
    if rdtype == "MX":
        return MXRecord(int(value[0]), str(value[1]).rstrip(".").lower())
    if rdtype in ("PTR", "CNAME"):
        return str(value).rstrip(".").lower()
    return str(value)


def build_resolver(zonedata: dict[str, list[Any]]) -> RecordResolver:
    """Build a resolver from one scenario's ``zonedata``.

    The suite's drivers serve SPF-type records as TXT too unless the name has
    a TXT entry of its own (``TXT: NONE`` means none). ``TIMEOUT`` makes every
    query for a type the name does not hold time out.
    """
    records: dict[tuple[str, str], list[Any]] = defaultdict(list)
    failing: set[str] = set()
    names: set[str] = set()
    for raw_name, entries in zonedata.items():
        name = raw_name.rstrip(".").lower()
        names.add(name)
        has_txt = False
        spf_values: list[Any] = []
        for entry in entries or []:
            if entry == "TIMEOUT":
                failing.add(name)
                continue
            for rdtype, value in entry.items():
                if rdtype == "TXT":
                    has_txt = True
                if value == "NONE":
                    continue
                if rdtype == "SPF":
                    spf_values.append(value)
                records[(name, rdtype)].append(_convert(rdtype, value))
        if not has_txt:
            records[(name, "TXT")].extend(_txt(v) for v in spf_values)
    kept = {key: value for key, value in records.items() if value}
    return RecordResolver(kept, failing=failing, extra_names=names)


def load_suite(path: Path) -> list[SuiteCase]:
    """Return every test of the multi-document YAML file at ``path``."""
    cases: list[SuiteCase] = []
    with path.open("rb") as handle:
        for document in yaml.safe_load_all(handle):
            zonedata = document.get("zonedata") or {}
            for name, test in document["tests"].items():
                expected = test["result"]
                if isinstance(expected, str):
                    expected = [expected]
                cases.append(
                    SuiteCase(
                        id=name,
                        host=str(test["host"]),
                        mailfrom=str(test.get("mailfrom", "")),
                        helo=str(test.get("helo", "")),
                        expected=tuple(expected),
                        zonedata=zonedata,
                    )
                )
    return cases
