"""The gate: which recipients of a target group may be mailed for a purpose.

Default deny. A recipient is admitted only when the address is valid, is not
a repeat of an earlier recipient, is not suppressed (globally or for the
purpose), has a double opt-in for the purpose on its confirmed address, and
that opt-in is not stale. Everyone else gets exactly one
:class:`~deliverability.consent.model.ExclusionReason`, checked in this
order: invalid address, duplicate, suppressed, withdrawn, pending, no
consent, stale.

On SQLite the group is read and decided in chunks, with two index queries
per chunk, and repeats are found through a set kept in a temporary SQLite
file. On PostgreSQL the match keys are copied into a temporary table and
decided by one query, while the rows wait in a local spool file. Either way
memory stays flat whatever the size of the group.
"""

from __future__ import annotations

import csv
import logging
import os
import pickle
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy import Connection

from ..errors import InputError
from .addresses import match_key
from .events import to_utc
from .model import ConsentState, ExclusionReason, check_purpose
from .store import ConsentStore

__all__ = [
    "GateDecision",
    "GatePolicy",
    "GateSummary",
    "gate",
    "gate_records",
    "read_group_csv",
    "run_gate",
]

log = logging.getLogger(__name__)

_R = ExclusionReason
_DOI = ConsentState.DOI.value
_STATE_REASON = {
    ConsentState.WITHDRAWN.value: _R.WITHDRAWN,
    ConsentState.PENDING.value: _R.PENDING,
    ConsentState.NONE.value: _R.NO_CONSENT,
    ConsentState.SOI_DOCUMENTED.value: _R.NO_CONSENT,
}
_EMAIL_HEADERS = ("email", "e-mail", "email_address", "emailaddress", "mail", "address")


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """The gate's conditions beyond a double opt-in."""

    stale_after: timedelta | None = timedelta(days=730)
    """A double opt-in with no confirmation or engagement for this long is
    stale; ``None`` turns the check off. German courts have held consent
    unused for about four years to have lapsed, so two years is a margin."""
    chunk_size: int = 5000
    """Recipients decided per query."""


class GateDecision(NamedTuple):
    """The gate's verdict on one recipient (a tuple: one is made per row)."""

    position: int
    """The recipient's place in the group: the CSV line, or the index from 1."""
    address: str
    """The address as given."""
    reason: ExclusionReason | None
    """The reason the recipient is left out; ``None`` when admitted."""
    contact_id: int | None = None
    record: tuple[str, ...] | None = None
    """The CSV row the recipient came from, unchanged."""

    @property
    def admitted(self) -> bool:
        """True when the recipient may be mailed."""
        return self.reason is None


@dataclass(slots=True)
class GateSummary:
    """Counts of one gate run."""

    purpose: str
    total: int = 0
    admitted: int = 0
    excluded: Counter[str] = field(default_factory=Counter)

    def add(self, decision: GateDecision) -> None:
        """Count ``decision``."""
        self.total += 1
        if decision.reason is None:
            self.admitted += 1
        else:
            self.excluded[decision.reason.value] += 1

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON summary: counts per reason, every reason present."""
        return {
            "purpose": self.purpose,
            "total": self.total,
            "admitted": self.admitted,
            "excluded": {reason.value: self.excluded[reason.value] for reason in _R},
        }


def gate(
    store: ConsentStore,
    recipients: Iterable[str],
    purpose: str,
    *,
    policy: GatePolicy | None = None,
) -> Iterator[GateDecision]:
    """Decide each address of ``recipients`` for ``purpose``, in order."""
    records = ((i, address, None) for i, address in enumerate(recipients, start=1))
    return gate_records(store, records, purpose, policy=policy)


def gate_records(
    store: ConsentStore,
    records: Iterable[tuple[int, str, tuple[str, ...] | None]],
    purpose: str,
    *,
    policy: GatePolicy | None = None,
) -> Generator[GateDecision, None, None]:
    """Decide ``(position, address, record)`` items for ``purpose``, in order."""
    check_purpose(purpose)
    policy = policy or GatePolicy()
    now = store.clock()
    cutoff = None if policy.stale_after is None else now - policy.stale_after
    iterator = iter(records)
    if store.engine.dialect.name == "postgresql":
        yield from _gate_postgres(store, iterator, purpose, cutoff, policy.chunk_size)
        return
    # NOTE: a worker thread that queried the next chunk while this one was
    # handled made the gate slower (GIL hand-offs per fetched row), so the
    # loop stays serial.
    with _SeenSet() as seen, store.reading() as conn:
        lookup = _Lookup(conn, purpose, cutoff)
        while chunk := list(islice(iterator, policy.chunk_size)):
            keys = [match_key(address.strip()) for _, address, _ in chunk]
            repeats = seen.add_chunk(keys)
            facts = lookup.fetch({key for key in keys if key is not None})
            yield from _decide_chunk(chunk, keys, repeats, facts)


# On PostgreSQL the match keys go into a temporary table by COPY, and one
# query decides each distinct key at its first position with hash joins,
# which beat an index probe per recipient. The server returns one narrow row
# per distinct key (position, reason code, contact id), in group order
# through a server-side cursor. Addresses and records never go to the server:
# they wait in a local spool file, pickled one chunk at a time, and are read
# back in step with those rows. A valid key at any later position is a
# repeat. Client memory stays flat, and the server sorts only narrow rows.
# NOTE: the spool takes local disk of about 1.4 times the group's CSV
# (measured at a million recipients), in the folder tempfile chooses.
_REASONS: tuple[ExclusionReason | None, ...] = (None, *_R)
_CODE = {reason: code for code, reason in enumerate(_REASONS)}
_POSTGRES_GATE = """
SELECT f.first_seq,
       CASE
         WHEN s.address_key IS NOT NULL THEN {suppressed}
         {states}
         WHEN k.state IS DISTINCT FROM '{doi}' THEN {no_consent}
         WHEN {fresh} THEN 0
         ELSE {stale}
       END,
       k.contact_id
FROM (SELECT key, min(seq) AS first_seq FROM gate_target
      WHERE key IS NOT NULL GROUP BY key) f
LEFT JOIN consents k ON k.address_key = f.key AND k.purpose = %(purpose)s
LEFT JOIN (SELECT DISTINCT address_key FROM suppressions
           WHERE scope IN ('*', %(purpose)s)) s ON s.address_key = f.key
ORDER BY f.first_seq
"""
# The table numbers its rows from 1, so this end marker matches no row.
_NO_MORE = (0, 0, None)


def _postgres_query(cutoff: datetime | None) -> str:
    states = " ".join(
        f"WHEN k.state = '{state}' THEN {_CODE[reason]}"
        for state, reason in _STATE_REASON.items()
    )
    return _POSTGRES_GATE.format(
        suppressed=_CODE[_R.SUPPRESSED],
        states=states,
        doi=_DOI,
        no_consent=_CODE[_R.NO_CONSENT],
        fresh="TRUE" if cutoff is None else "k.fresh_at >= %(cutoff)s",
        stale=_CODE[_R.STALE],
    )


def _gate_postgres(
    store: ConsentStore,
    records: Iterator[tuple[int, str, tuple[str, ...] | None]],
    purpose: str,
    cutoff: datetime | None,
    chunk_size: int,
) -> Iterator[GateDecision]:
    with tempfile.TemporaryFile(prefix="gate-spool-") as spool, store.reading() as conn:
        raw: Any = conn.connection.driver_connection
        chunks = _load_target(raw, records, spool, chunk_size)
        spool.seek(0)
        with raw.cursor(name="gate_decisions") as cursor:
            cursor.execute(
                _postgres_query(cutoff), {"purpose": purpose, "cutoff": cutoff}
            )
            batches = iter(partial(cursor.fetchmany, chunk_size), [])
            firsts: Iterator[tuple[int, int, int | None]] = chain.from_iterable(batches)
            yield from _merge(spool, chunks, firsts)


def _merge(
    spool: IO[bytes], chunks: int, firsts: Iterator[tuple[int, int, int | None]]
) -> Iterator[GateDecision]:
    """Decide the spooled records from the server's rows for first positions."""
    # tuple.__new__ is what GateDecision._make calls, without its frame.
    new, cls = tuple.__new__, GateDecision
    reasons, invalid, duplicate = _REASONS, _R.INVALID_ADDRESS, _R.DUPLICATE
    seq = 0
    first, code, contact_id = next(firsts, _NO_MORE)
    for _ in range(chunks):
        chunk, valid = pickle.load(spool)
        for (position, address, record), ok in zip(chunk, valid, strict=True):
            seq += 1
            if not ok:
                yield new(cls, (position, address, invalid, None, record))
            elif seq == first:
                yield new(cls, (position, address, reasons[code], contact_id, record))
                first, code, contact_id = next(firsts, _NO_MORE)
            else:
                yield new(cls, (position, address, duplicate, None, record))


def _load_target(
    raw: Any,
    records: Iterator[tuple[int, str, tuple[str, ...] | None]],
    spool: IO[bytes],
    chunk_size: int,
) -> int:
    """COPY the match keys to the server and spool the records; return the chunks."""
    chunks = 0
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE gate_target (seq integer GENERATED ALWAYS AS IDENTITY,"
            " key text) ON COMMIT DROP"
        )
        # An empty line is NULL, the key of an invalid address: no valid
        # address has an empty key.
        with cursor.copy("COPY gate_target (key) FROM STDIN (NULL '')") as copy:
            while chunk := list(islice(records, chunk_size)):
                keys = [match_key(address.strip()) or "" for _, address, _ in chunk]
                valid = bytes([key != "" for key in keys])
                pickle.dump((chunk, valid), spool, pickle.HIGHEST_PROTOCOL)
                chunks += 1
                copy.write(_copy_lines(keys))
        cursor.execute("ANALYZE gate_target")
    return chunks


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_lines(keys: list[str]) -> str:
    """Return ``keys`` as lines of COPY text, escaped where they need it."""
    text = "\n".join(keys) + "\n"
    if "\\" in text or "\t" in text or "\r" in text or text.count("\n") > len(keys):
        text = "\n".join([key.translate(_COPY_ESCAPES) for key in keys]) + "\n"
    return text


def _decide_chunk(
    chunk: list[tuple[int, str, tuple[str, ...] | None]],
    keys: list[str | None],
    repeats: list[bool],
    facts: dict[str, tuple[Any, ...]],
) -> Iterator[GateDecision]:
    make = GateDecision._make
    for (position, address, record), key, repeat in zip(
        chunk, keys, repeats, strict=True
    ):
        if key is None:
            yield make((position, address, _R.INVALID_ADDRESS, None, record))
        elif repeat:
            yield make((position, address, _R.DUPLICATE, None, record))
        else:
            reason, contact_id = _classify(facts.get(key))
            yield make((position, address, reason, contact_id, record))


def _classify(row: tuple[Any, ...] | None) -> tuple[ExclusionReason | None, int | None]:
    if row is None:
        return _R.NO_CONSENT, None
    contact_id, state, fresh, suppressed = row
    if suppressed:
        return _R.SUPPRESSED, contact_id
    if state is None:
        return _R.NO_CONSENT, contact_id
    if state != _DOI:
        return _STATE_REASON.get(state, _R.NO_CONSENT), contact_id
    if not fresh:
        return _R.STALE, contact_id
    return None, contact_id


# SQLite: two queries per chunk, each answered from one covering index and
# sent through the driver itself, because SQLAlchemy's row handling would
# double the time of this loop. A double opt-in implies that the contact's
# current address was confirmed, since only a confirmation of that address
# produces one.
_CONSENTS = """
SELECT address_key, contact_id, state, {fresh}
FROM consents WHERE purpose = ? AND address_key IN ({marks})
"""
_SUPPRESSIONS = """
SELECT address_key, scope FROM suppressions WHERE address_key IN ({marks})
"""
_FRESH = "CASE WHEN fresh_at >= {mark} THEN 1 ELSE 0 END"


class _Lookup:
    """Fetches the gate's facts for a set of match keys from SQLite."""

    def __init__(self, conn: Connection, purpose: str, cutoff: datetime | None) -> None:
        self._cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._purpose = purpose
        # SQLite keeps times as text in SQLAlchemy's format, which sorts like
        # the times themselves.
        self._cutoff = None if cutoff is None else _sqlite_time(cutoff)
        fresh = "1" if cutoff is None else _FRESH.format(mark="?")
        self._consents_sql = _CONSENTS.format(fresh=fresh, marks="{marks}")

    def fetch(self, keys: set[str]) -> dict[str, tuple[Any, ...]]:
        """Return ``key -> (contact id, state, fresh, suppressed)`` for known keys."""
        if not keys:
            return {}
        wanted = list(keys)
        head = (
            [self._purpose] if self._cutoff is None else [self._cutoff, self._purpose]
        )
        facts: dict[str, tuple[Any, ...]] = {}
        for row in self._run(self._consents_sql, head, wanted):
            facts[row[0]] = (row[1], row[2], row[3], False)
        scopes = ("*", self._purpose)
        for key, scope in self._run(_SUPPRESSIONS, [], wanted):
            if scope in scopes:
                contact_id, state, fresh, _ = facts.get(key, (None, None, 0, True))
                facts[key] = (contact_id, state, fresh, True)
        return facts

    def _run(self, sql: str, head: list[Any], keys: list[str]) -> list[tuple[Any, ...]]:
        # Pad to a multiple of 500 so that few statement texts exist: sqlite3
        # caches up to 128 prepared statements, and one this size is large.
        padded = keys + [""] * (-len(keys) % 500)
        marks = ",".join("?" * len(padded))
        self._cursor.execute(sql.format(marks=marks), [*head, *padded])
        return list(self._cursor.fetchall())


def _sqlite_time(moment: datetime) -> str:
    return to_utc(moment).strftime("%Y-%m-%d %H:%M:%S.%f")


class _SeenSet:
    """The set of match keys already met, in a temporary SQLite file.

    Keys are stored as Python's 64-bit string hash, which is stable within
    one process. NOTE: two different keys with the same hash make the second
    read as a duplicate, so it is excluded but never wrongly admitted. At a
    million recipients the chance of any such pair is about 3 in 100 million.
    """

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="gate-seen-")
        self._db = sqlite3.connect(os.path.join(self._folder.name, "seen.db"))
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-32000;"
            "CREATE TABLE seen (h INTEGER PRIMARY KEY);"
        )

    def __enter__(self) -> _SeenSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self._db.close()
        self._folder.cleanup()

    def add_chunk(self, keys: list[str | None]) -> list[bool]:
        """Add the keys; return for each whether it was met before."""
        hashes = [None if key is None else hash(key) for key in keys]
        # Sorted, so the inserts walk the B-tree in order.
        wanted = sorted({h for h in hashes if h is not None})
        added: set[int] = set()
        # INSERT OR IGNORE ... RETURNING returns only the rows it inserted,
        # so one statement both records the keys and returns the new ones.
        for start in range(0, len(wanted), 5000):
            part = wanted[start : start + 5000]
            values = ",".join(["(?)"] * len(part))
            added.update(
                h
                for (h,) in self._db.execute(
                    f"INSERT OR IGNORE INTO seen VALUES {values} RETURNING h", part
                )
            )
        repeats: list[bool] = []
        for h in hashes:
            if h is None:
                repeats.append(False)
            elif h in added:
                repeats.append(False)
                added.discard(h)
            else:
                repeats.append(True)
        return repeats


# -- CSV -------------------------------------------------------------------


def read_group_csv(
    stream: IO[str], *, column: str | None = None, name: str = "group"
) -> Iterator[tuple[int, str, tuple[str, ...]]]:
    """Yield ``(line, address, row)`` from a target-group CSV with a header.

    The address column is ``column`` or the first header named ``email``,
    ``e-mail``, ``email_address``, ``mail`` or ``address`` (any case). Raises
    :class:`~deliverability.errors.InputError`, naming the line, for a
    missing header or column, a row whose field count differs from the
    header's, bad quoting, a NUL byte, or text that is not UTF-8.
    """
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(
                f"{name} is empty: it needs a header row with an email column"
            )
        index = _email_column(header, column, name)
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise InputError(
                    f"{name}, line {reader.line_num}: {len(row)} fields, but the "
                    f"header has {len(header)}; fix the quoting or the row"
                )
            if "\x00" in "".join(row):
                raise InputError(f"{name}, line {reader.line_num}: contains a NUL byte")
            yield reader.line_num, row[index], tuple(row)
    except csv.Error as exc:
        raise InputError(
            f"{name}, line {reader.line_num}: malformed CSV ({exc})"
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}, near line {reader.line_num + 1}: not UTF-8 text ({exc.reason}); "
            "save the file as UTF-8"
        ) from None


def _email_column(header: list[str], column: str | None, name: str) -> int:
    names = [cell.strip().lower() for cell in header]
    wanted = [column.strip().lower()] if column else list(_EMAIL_HEADERS)
    for candidate in wanted:
        if candidate in names:
            return names.index(candidate)
    found = ", ".join(repr(cell) for cell in header)
    raise InputError(
        f"{name} has no column {' or '.join(repr(w) for w in wanted)} "
        f"(columns: {found}); name the address column with --column"
    )


def run_gate(
    store: ConsentStore,
    group: Path,
    purpose: str,
    *,
    output: Path | None = None,
    report: Path | None = None,
    column: str | None = None,
    policy: GatePolicy | None = None,
) -> GateSummary:
    """Gate a CSV file; write admitted rows to ``output``, exclusions to ``report``.

    Both files are written next to their final names and moved into place
    only when the whole group has been decided, so an error leaves neither
    a partial admitted list nor a partial report.
    """
    summary = GateSummary(purpose)
    try:
        stream = group.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read target group {group}: {exc.strerror}") from None
    with stream, _AtomicCSV(output) as admitted, _AtomicCSV(report) as excluded:
        records = read_group_csv(stream, column=column, name=str(group))
        admitted.writerow(_header(group))
        excluded.writerow(["line", "email", "reason"])
        decisions = closing(gate_records(store, records, purpose, policy=policy))
        with decisions as stream_of_decisions:
            _write_decisions(stream_of_decisions, summary, admitted, excluded)
    log.info("gate %s: %d of %d admitted", purpose, summary.admitted, summary.total)
    return summary


def _write_decisions(
    decisions: Iterable[GateDecision],
    summary: GateSummary,
    admitted: _AtomicCSV,
    excluded: _AtomicCSV,
) -> None:
    # The gate's innermost loop: counts are kept in locals for speed.
    counts: Counter[str] = Counter()
    total = 0
    write_admitted, write_excluded = admitted.row_writer(), excluded.row_writer()
    for position, address, reason, _, record in decisions:
        total += 1
        if reason is None:
            write_admitted(record or (address,))
        else:
            counts[reason] += 1
            if address.lstrip(" \u00a0")[:1] in _FORMULA_STARTS:
                address = "'" + address  # shown as text, never run as a formula
            write_excluded((position, address, reason))
    summary.total += total
    summary.excluded.update({str(reason): count for reason, count in counts.items()})
    summary.admitted += total - sum(counts.values())


_FORMULA_STARTS = frozenset("=+-@\t\r")
"""First characters (after spaces) that make a spreadsheet read a CSV cell
as a formula. The excluded report is for people, so such addresses get a
leading apostrophe there; the admitted rows stay as read, for import."""


def _header(group: Path) -> list[str]:
    # Read apart from the record stream, which stays simple. A file that
    # cannot be read gets its error from read_group_csv, naming the line.
    try:
        with group.open(encoding="utf-8-sig", newline="") as stream:
            return next(csv.reader(stream), [])
    except (UnicodeDecodeError, csv.Error):
        return []


class _AtomicCSV:
    """A CSV writer into a temporary file that replaces ``path`` on success."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._writer: Any = None

    def __enter__(self) -> _AtomicCSV:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(
                prefix=f".{self.path.name}.", dir=self.path.parent
            )
            self._file = os.fdopen(handle, "w", encoding="utf-8", newline="")
            self._temp = temp
            self._writer = csv.writer(self._file)
        return self

    def writerow(self, row: Iterable[Any]) -> None:
        """Write one row (nothing when no path was given)."""
        if self._writer is not None:
            self._writer.writerow(row)

    def row_writer(self) -> Callable[[Iterable[Any]], object]:
        """Return the function that writes one row, for loops that write many."""
        if self._writer is None:
            return _ignore
        writerow: Callable[[Iterable[Any]], object] = self._writer.writerow
        return writerow

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self._file is None or self.path is None:
            return
        self._file.close()
        if exc_type is None:
            os.replace(self._temp, self.path)
        else:
            os.unlink(self._temp)


def _ignore(row: Iterable[Any]) -> None:
    """Write nothing: the stand-in writer when no path was given."""
