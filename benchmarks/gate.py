"""Gate a large target group against a large consent store: ours against a bare join.

The store holds ``--contacts`` contacts in mixed states (double opt-in,
stale, suppressed, pending, withdrawn, single opt-in, none) and the target
group holds ``--recipients`` rows: known contacts (some in upper case),
unknown addresses, repeats and invalid addresses. For each backend, two
programs run in separate child processes on the same files:

* **ours**: :func:`deliverability.consent.run_gate`, which streams the CSV,
  decides every row with its reason, and writes the admitted rows and the
  report of exclusions;
* **floor**: a bare SQL join. It reads the CSV with the ``csv`` module,
  loads lower-cased addresses into a temporary table (``COPY`` on
  PostgreSQL), joins it with the same tables for the admitted set
  (double opt-in, confirmed, fresh, not suppressed, first of each address)
  and writes the admitted addresses.

The two admitted counts must agree. Wall time and peak resident memory
(``ru_maxrss`` from ``os.wait4``) are measured per child. The store is
filled by writing its tables directly, which the product's API does not
allow (a double opt-in only comes from a confirmation); that is only for
speed of set-up here.

PostgreSQL: give ``--postgres-url``, or the script starts a throwaway
cluster from ``/usr/lib/postgresql/15/bin`` on a Unix socket in the work
folder (as the ``postgres`` user when run as root). No network is used.

Usage::

    python3 benchmarks/gate.py [--contacts 1000000] [--recipients 1000000]
        [--backends sqlite,postgresql] [--work DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pwd
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deliverability.consent import ConsentStore, GatePolicy, run_gate  # noqa: E402
from deliverability.consent import tables as t  # noqa: E402

PURPOSE = "news"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
NOW = datetime.now(UTC)
FRESH = NOW - timedelta(days=30)
OLD = NOW - timedelta(days=1000)
STALE_DAYS = 730
BATCH = 20_000


# -- data ------------------------------------------------------------------


def contact_address(number: int) -> str:
    """Return the address of contact ``number``."""
    return f"user{number}@host{number % 997}.example.net"


def contact_rows(
    number: int,
) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """Return the contact row, its consent row and any suppression scope."""
    kind = number % 20
    contact = {
        "id": number + 1,
        "address": contact_address(number),
        "address_key": contact_address(number),
        "created_at": OLD,
        "address_confirmed_at": None,
        "head_seq": 0,
        "head_hash": "",
    }
    state, fresh, scope = "doi", FRESH, None
    if kind == 10:
        fresh = OLD
    elif kind == 11:
        scope = "*"
    elif kind == 19:
        scope = "offers"
    elif kind in (12, 13):
        state = "pending"
    elif kind in (14, 15):
        state = "withdrawn"
    elif kind == 16:
        state = "soi_documented"
    elif kind in (17, 18):
        return contact, None, None
    if state == "doi":
        contact["address_confirmed_at"] = fresh
    consent = {
        "contact_id": number + 1,
        "purpose": PURPOSE,
        "state": state,
        "address_key": contact["address_key"],
        "legal_basis": "consent",
        "changed_at": fresh,
        "confirmed_at": fresh if state == "doi" else None,
        "fresh_at": fresh if state == "doi" else None,
        "source": None,
    }
    return contact, consent, scope


def write_group(path: Path, contacts: int, recipients: int, seed: int = 5) -> None:
    """Write the target group CSV."""
    rng = random.Random(seed)
    previous = "user0@host0.example.net"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["email", "first_name", "segment"])
        for row in range(recipients):
            draw = rng.random()
            if draw < 0.80:
                address = contact_address(rng.randrange(contacts))
                if draw < 0.04:
                    address = address.upper()
            elif draw < 0.97:
                address = f"new{row}@other{row % 101}.example.org"
            elif draw < 0.99:
                address = previous
            else:
                address = f"broken{row}@"
            previous = address
            writer.writerow([address, f"Name{row}", "spring"])


# -- filling the store -----------------------------------------------------


def fill(url: str, contacts: int) -> None:
    """Create the tables and write ``contacts`` contacts in mixed states."""
    store = ConsentStore(url)
    store.migrate()
    if store.engine.dialect.name == "postgresql":
        _fill_postgres(store, contacts)
    else:
        _fill_sqlite(store, contacts)
    store.close()


def _batches(contacts: int) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
    for start in range(0, contacts, BATCH):
        people, consents, suppressed = [], [], []
        for number in range(start, min(start + BATCH, contacts)):
            contact, consent, scope = contact_rows(number)
            people.append(contact)
            if consent:
                consents.append(consent)
            if scope:
                suppressed.append(
                    {
                        "address_key": contact["address_key"],
                        "scope": scope,
                        "reason": "hard_bounce",
                        "created_at": OLD,
                        "source": "benchmark",
                    }
                )
        yield people, consents, suppressed


def _fill_sqlite(store: ConsentStore, contacts: int) -> None:
    with store.transaction() as conn:
        for people, consents, suppressed in _batches(contacts):
            conn.execute(t.contacts.insert(), people)
            if consents:
                conn.execute(t.consents.insert(), consents)
            if suppressed:
                conn.execute(t.suppressions.insert(), suppressed)
        conn.exec_driver_sql("ANALYZE")


def _fill_postgres(store: ConsentStore, contacts: int) -> None:
    tables = {
        "contacts": t.contacts,
        "consents": t.consents,
        "suppressions": t.suppressions,
    }
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for batch in _batches(contacts):
            for (name, table), rows in zip(tables.items(), batch, strict=True):
                columns = [c.name for c in table.columns]
                with cursor.copy(
                    f"COPY {name} ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row([row[c] for c in columns])
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


# -- the two programs (run in child processes) ----------------------------


def child_ours(url: str, group: Path, out: Path) -> dict[str, Any]:
    """Run the product's gate; return its counts."""
    store = ConsentStore(url)
    started = time.perf_counter()
    summary = run_gate(
        store,
        group,
        PURPOSE,
        output=out / "ours-admitted.csv",
        report=out / "ours-excluded.csv",
        policy=GatePolicy(stale_after=timedelta(days=STALE_DAYS)),
    )
    seconds = time.perf_counter() - started
    store.close()
    return {
        "seconds": seconds,
        "admitted": summary.admitted,
        "excluded": summary.to_dict()["excluded"],
    }


_JOIN = """
SELECT {distinct} g.email FROM target g
JOIN contacts c ON c.address_key = g.key
JOIN consents k ON k.contact_id = c.id AND k.purpose = :purpose
WHERE k.state = 'doi' AND c.address_confirmed_at IS NOT NULL
  AND k.fresh_at >= :cutoff
  AND NOT EXISTS (SELECT 1 FROM suppressions s
                  WHERE s.address_key = g.key AND s.scope IN ('*', :purpose))
{order}
"""


def child_floor(url: str, group: Path, out: Path) -> dict[str, Any]:
    """Load the group into a temporary table and join; return the counts."""
    from sqlalchemy import text

    store = ConsentStore(url)
    cutoff = NOW - timedelta(days=STALE_DAYS)
    started = time.perf_counter()
    with store.transaction() as conn, group.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        if conn.dialect.name == "postgresql":
            _load_postgres(conn, reader)
            query = _JOIN.format(
                distinct="DISTINCT ON (g.key)", order="ORDER BY g.key, g.line"
            )
        else:
            _load_sqlite(conn, reader)
            query = _JOIN.format(distinct="", order="")
        loaded = time.perf_counter()
        admitted = 0
        with (out / "floor-admitted.csv").open("w", newline="") as stream:
            writer = csv.writer(stream)
            result = conn.execute(text(query), {"purpose": PURPOSE, "cutoff": cutoff})
            for row in result:
                writer.writerow(row)
                admitted += 1
    seconds = time.perf_counter() - started
    store.close()
    return {
        "seconds": seconds,
        "join_seconds": seconds - (loaded - started),
        "admitted": admitted,
    }


def _load_sqlite(conn: Any, reader: Any) -> None:
    # The primary key keeps the first row of each address, as the gate does.
    conn.exec_driver_sql(
        "CREATE TEMP TABLE target (key TEXT PRIMARY KEY, line INTEGER, email TEXT)"
    )
    rows = ((row[0].strip().lower(), line, row[0]) for line, row in enumerate(reader))
    conn.connection.driver_connection.executemany(
        "INSERT OR IGNORE INTO target VALUES (?, ?, ?)", rows
    )


def _load_postgres(conn: Any, reader: Any) -> None:
    conn.exec_driver_sql(
        "CREATE TEMP TABLE target (key TEXT, line INTEGER, email TEXT)"
    )
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy("COPY target (key, line, email) FROM STDIN") as copy:
        for line, row in enumerate(reader):
            copy.write_row((row[0].strip().lower(), line, row[0]))
    conn.exec_driver_sql("CREATE INDEX ON target (key)")
    conn.exec_driver_sql("ANALYZE target")


def run_child(program: str, url: str, group: Path, out: Path) -> dict[str, Any]:
    """Run ``program`` in a child process; add its wall time and peak memory."""
    command = [
        sys.executable,
        __file__,
        "--child",
        program,
        "--url",
        url,
        "--group",
        str(group),
        "--work",
        str(out),
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{program} failed with status {status}")
    result: dict[str, Any] = json.loads(output)
    result["wall_seconds"] = time.perf_counter() - started
    result["peak_mb"] = usage.ru_maxrss / 1024
    return result


# -- PostgreSQL --------------------------------------------------------------


def _as_server_user(command: list[str]) -> list[str]:
    return (
        ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command
    )


@contextmanager
def postgres_cluster(folder: Path) -> Iterator[str]:
    """Start a throwaway cluster in ``folder``; yield a URL of its database."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
    data = folder / "data"
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(
        _as_server_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        _as_server_user(
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(data),
                "-k",
                str(folder),
                "-p",
                "5499",
                "-c",
                "listen_addresses=",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "shared_buffers=256MB",
                "-c",
                "work_mem=64MB",
            ]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not (folder / ".s.PGSQL.5499").exists():
            if time.monotonic() > deadline:
                raise SystemExit("PostgreSQL did not start")
            time.sleep(0.1)
        time.sleep(0.5)
        yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port=5499"
    finally:
        server.terminate()
        server.wait(timeout=60)


# -- main ------------------------------------------------------------------


def bench_backend(
    name: str, url: str, args: argparse.Namespace, group: Path, work: Path
) -> dict[str, Any]:
    """Fill one backend and run both programs on it."""
    started = time.perf_counter()
    fill(url, args.contacts)
    print(f"{name}: store filled in {time.perf_counter() - started:.1f} s", flush=True)
    ours = run_child("ours", url, group, work)
    floor = run_child("floor", url, group, work)
    if ours["admitted"] != floor["admitted"]:
        raise SystemExit(
            f"{name}: admitted counts differ: ours {ours['admitted']}, "
            f"floor {floor['admitted']}"
        )
    ratio = ours["wall_seconds"] / floor["wall_seconds"]
    print(
        f"{name}: ours {ours['wall_seconds']:.1f} s, {ours['peak_mb']:.0f} MB peak; "
        f"floor {floor['wall_seconds']:.1f} s (join and write "
        f"{floor['join_seconds']:.1f} s), {floor['peak_mb']:.0f} MB peak; "
        f"ratio {ratio:.2f}; admitted {ours['admitted']}",
        flush=True,
    )
    return {"backend": name, "ours": ours, "floor": floor, "ratio": ratio}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 0 when every backend meets both targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url", help="use this database instead of a new cluster"
    )
    parser.add_argument(
        "--work", help="folder for the files (default: a temporary one)"
    )
    parser.add_argument("--child", choices=["ours", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        program = child_ours if args.child == "ours" else child_floor
        print(json.dumps(program(args.url, Path(args.group), Path(args.work))))
        return 0
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    temporary = args.work is None
    work = Path(args.work or tempfile.mkdtemp(prefix="gate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # the PostgreSQL server user must reach its folder inside
    results = []
    try:
        group = work / "group.csv"
        write_group(group, args.contacts, args.recipients)
        print(
            f"group of {args.recipients} written; store of {args.contacts}", flush=True
        )
        for backend in args.backends.split(","):
            results.append(_one(backend.strip(), args, group, work))
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    met = all(r["ratio"] <= 2.0 and r["ours"]["peak_mb"] < 200 for r in results)
    print(json.dumps(results, indent=2))
    print(
        "targets (within 2x of the floor, under 200 MB):", "met" if met else "NOT met"
    )
    return 0 if met else 1


def _one(
    backend: str, args: argparse.Namespace, group: Path, work: Path
) -> dict[str, Any]:
    if backend == "sqlite":
        path = work / "store.sqlite3"
        for leftover in work.glob("store.sqlite3*"):
            leftover.unlink()
        return bench_backend("sqlite", f"sqlite:///{path}", args, group, work)
    if args.postgres_url:
        return bench_backend("postgresql", args.postgres_url, args, group, work)
    with postgres_cluster(work / "pg") as url:
        return bench_backend("postgresql", url, args, group, work)


if __name__ == "__main__":
    sys.exit(main())
