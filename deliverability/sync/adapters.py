"""Adapters: CSV and JSON Lines files in the CRM's shape, and the protocols.

A real CRM plugs in by implementing :class:`CrmSource` (an iterable of
:class:`~.records.CrmContact`) and :class:`~.engine.CrmSink` (``write``,
idempotent by update id). The file sinks below read the ids already in
their file when opened and skip those, so a resumed sync does not write a
line twice.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from ..errors import InputError
from .config import SyncConfig
from .records import CrmContact, CrmUpdate, RowProblem, contact_from_row

__all__ = [
    "CrmSource",
    "CsvSink",
    "CsvSource",
    "JsonlSink",
    "JsonlSource",
    "MemorySink",
]


class CrmSource(Protocol):
    """Contacts as the CRM exports them; a bad row is a :class:`RowProblem`."""

    def __iter__(self) -> Iterator[CrmContact | RowProblem]:
        """Yield the CRM's contacts."""
        ...


class CsvSource:
    """Read a CSV export of the CRM with the configured column names."""

    def __init__(self, path: str | Path, config: SyncConfig) -> None:
        self.path = Path(path)
        self.config = config

    def __iter__(self) -> Iterator[CrmContact | RowProblem]:
        try:
            handle = self.path.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise InputError(f"cannot read CRM export {self.path}: {exc}") from None
        with handle:
            reader = csv.DictReader(handle)
            try:
                yield from self._rows(reader)
            except UnicodeDecodeError as exc:
                raise _not_utf8(self.path, exc) from None

    def _rows(self, reader: csv.DictReader[str]) -> Iterator[CrmContact | RowProblem]:
        missing = self._missing_columns(reader.fieldnames or [])
        if missing:
            raise InputError(
                f"CRM export {self.path} lacks the columns {missing}; "
                "fix the [columns] mapping of the sync configuration"
            )
        try:
            for row in reader:
                yield _parse(row, reader.line_num, self.config)
        except csv.Error as exc:
            raise InputError(
                f"malformed CSV in {self.path} at line {reader.line_num}: {exc}"
            ) from None

    def _missing_columns(self, header: Sequence[str]) -> list[str]:
        wanted = [self.config.columns.column("id"), self.config.columns.column("email")]
        return [c for c in wanted if c is not None and c not in header]


class JsonlSource:
    """Read CRM contacts from JSON Lines, one object per line in CRM column names."""

    def __init__(self, path: str | Path, config: SyncConfig) -> None:
        self.path = Path(path)
        self.config = config

    def __iter__(self) -> Iterator[CrmContact | RowProblem]:
        try:
            handle = self.path.open(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read CRM export {self.path}: {exc}") from None
        with handle:
            try:
                for number, line in enumerate(handle, start=1):
                    yield from _jsonl_row(line, number, self.config)
            except UnicodeDecodeError as exc:
                raise _not_utf8(self.path, exc) from None


def _not_utf8(path: Path, exc: UnicodeDecodeError) -> InputError:
    # Text is decoded in blocks, so the line of the bad byte is not known.
    return InputError(
        f"CRM export {path} is not UTF-8 text ({exc.reason}); export it again as UTF-8"
    )


def _jsonl_row(
    line: str, number: int, config: SyncConfig
) -> Iterator[CrmContact | RowProblem]:
    if not line.strip():
        return
    try:
        row = json.loads(line)
    except ValueError:
        yield RowProblem(number, "not a JSON object")
        return
    if not isinstance(row, dict):
        yield RowProblem(number, "not a JSON object")
        return
    yield _parse(row, number, config)


def _parse(
    row: dict[str, object], position: int, config: SyncConfig
) -> CrmContact | RowProblem:
    try:
        return contact_from_row(row, config)
    except ValueError as exc:
        return RowProblem(position, str(exc))


class JsonlSink:
    """Append updates to a JSON Lines file, each id at most once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _drop_partial_line(self.path)
        self.written = _ids_in_jsonl(self.path)

    def write(self, updates: Sequence[CrmUpdate]) -> None:
        """Append the updates not yet in the file, and flush them to disk."""
        new = [u for u in updates if u.id not in self.written]
        with self.path.open("a", encoding="utf-8") as handle:
            for item in new:
                handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
            handle.flush()
        self.written.update(u.id for u in new)


class CsvSink:
    """Append updates to a CSV file a CRM can import, each id at most once.

    The columns are the CRM's id and email columns from the mapping, then
    ``Update ID``, ``Update``, ``Purpose``, ``Occurred At`` and
    ``Campaign Manager ID``.
    """

    def __init__(self, path: str | Path, config: SyncConfig) -> None:
        self.path = Path(path)
        columns = config.columns
        self.header = [
            columns.column("id") or "id",
            columns.column("email") or "email",
            "Update ID",
            "Update",
            "Purpose",
            "Occurred At",
            "Campaign Manager ID",
        ]
        self.written = self._existing_ids()

    def _existing_ids(self) -> set[int]:
        if not self.path.exists():
            return set()
        with self.path.open(newline="", encoding="utf-8") as handle:
            return {
                int(row["Update ID"])
                for row in csv.DictReader(handle)
                if (row.get("Update ID") or "").isdigit()
            }

    def write(self, updates: Sequence[CrmUpdate]) -> None:
        """Append the updates not yet in the file."""
        new = [u for u in updates if u.id not in self.written]
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if fresh:
                writer.writerow(self.header)
            for item in new:
                writer.writerow(
                    [
                        item.crm_id or "",
                        item.data.get("address", ""),
                        item.id,
                        item.kind,
                        item.purpose or "",
                        item.to_dict()["occurred_at"],
                        item.contact_id,
                    ]
                )
        self.written.update(u.id for u in new)


class MemorySink:
    """Keep updates in a list, by id; for tests and for embedding."""

    def __init__(self) -> None:
        self.updates: dict[int, CrmUpdate] = {}

    def write(self, updates: Sequence[CrmUpdate]) -> None:
        """Store each update under its id."""
        for item in updates:
            self.updates[item.id] = item

    def kinds(self) -> list[tuple[str, str | None, str | None]]:
        """Return ``(kind, crm_id, purpose)`` of every update, in id order."""
        return [(u.kind, u.crm_id, u.purpose) for _, u in sorted(self.updates.items())]


def _ids_in_jsonl(path: Path) -> set[int]:
    if not path.exists():
        return set()
    ids: set[int] = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                ids.add(int(json.loads(line)["id"]))
            except (ValueError, KeyError, TypeError):
                # A line cut short by a crash; the update is written again.
                continue
    return ids


def _drop_partial_line(path: Path) -> None:
    # A crash during a write can leave a last line without its newline.
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])
