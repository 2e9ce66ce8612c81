"""Sync 100,000 contacts each way between a CRM export and a SQLite store.

Four timed steps on one fresh SQLite store:

1. **pull**: a CSV export of ``--contacts`` CRM contacts (a third with a
   documented consent claim, one in twenty opted out, one in fifty
   blocked, the rest with a CRM "doi" that must arrive as ``none``) goes
   into the store;
2. **pull again**: the same export, unchanged;
3. **push**: ``--contacts`` new events in the campaign manager (half
   unsubscribes, the rest split between hard bounces and complaints) go to
   a JSON Lines file of updates for the CRM;
4. **push again**: nothing new;
5. **pull changed**: the export again with one row in ten changed (the
   opt-in status set to "Opted out" with a later timestamp). Changed rows
   take the per-contact path through the store's methods, not the bulk
   path of new contacts.

The events of step 3 are made through the store's API in large
transactions before the timer starts. Wall time, CPU time and peak
resident memory of this process are printed as JSON.

Usage::

    python3 benchmarks/sync.py [--contacts 100000] [--work DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from deliverability.consent import ConsentStore, EventKind  # noqa: E402
from deliverability.consent import tables as ct  # noqa: E402
from deliverability.consent.model import SuppressionReason  # noqa: E402
from deliverability.sync import (  # noqa: E402
    CrmSync,
    CsvSource,
    JsonlSink,
    SyncConfig,
    config_from_dict,
)

CONFIG = {
    "purposes": ["news"],
    "columns": {
        "id": "Contact ID",
        "email": "Email",
        "first_name": "First Name",
        "last_name": "Last Name",
        "company": "Account Name",
        "phone": "Phone",
        "blocked": "Email Opt Out",
        "purposes": {
            "news": {
                "status": "Newsletter",
                "changed_at": "Newsletter Changed",
                "source": "Consent Source",
                "evidence": "Consent Evidence",
            }
        },
    },
    "status_values": {"Opted out": "withdrawn", "Consent claimed": "soi_documented"},
}


def write_export(path: Path, count: int, changed_every: int = 0) -> None:
    """Write a CRM export of ``count`` contacts.

    With ``changed_every`` n, every n-th contact is opted out at a later time.
    """
    header = [
        "Contact ID",
        "Email",
        "First Name",
        "Last Name",
        "Account Name",
        "Phone",
        "Email Opt Out",
        "Newsletter",
        "Newsletter Changed",
        "Consent Source",
        "Consent Evidence",
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(count):
            status, source, evidence = "doi", "", ""
            if n % 3 == 0:
                status, source, evidence = "Consent claimed", "Trade fair", f"card-{n}"
            elif n % 20 == 1:
                status = "Opted out"
            changed_at = "2026-02-01T10:00:00Z"
            if changed_every and n % changed_every == 0:
                status, changed_at = "Opted out", "2026-03-01T10:00:00Z"
            blocked = "yes" if n % 50 == 2 else ""
            writer.writerow(
                [
                    f"0031{n:08d}",
                    f"person{n}@example{n % 97}.com",
                    f"First{n}",
                    f"Last{n}",
                    f"Company {n % 5000}",
                    f"+49 30 {n:07d}",
                    blocked,
                    status,
                    changed_at,
                    source,
                    evidence,
                ]
            )


def make_events(store: ConsentStore, count: int) -> None:
    """Make ``count`` unsubscribes, bounces and complaints in the store."""
    with store.reading() as conn:
        ids = [
            int(i)
            for i in conn.scalars(
                ct.contacts.select()
                .with_only_columns(ct.contacts.c.id)
                .order_by(ct.contacts.c.id)
                .limit(count)
            )
        ]
    for start in range(0, len(ids), 10_000):
        with store.transaction() as conn:
            for contact_id in ids[start : start + 10_000]:
                if contact_id % 2:
                    store.apply(
                        conn,
                        contact_id,
                        "news",
                        EventKind.WITHDRAWN,
                        source="web",
                        payload={"method": "link"},
                    )
                else:
                    reason = (
                        SuppressionReason.HARD_BOUNCE
                        if contact_id % 4
                        else SuppressionReason.COMPLAINT
                    )
                    store.append(
                        conn,
                        contact_id,
                        EventKind.SUPPRESSED,
                        None,
                        "bounce",
                        {"reason": reason.value},
                    )


def timed(step: Callable[[], Any]) -> tuple[Any, dict[str, float]]:
    """Run ``step``; return its result with wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument(
        "--work", type=Path, help="work folder (default: a temporary one)"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="sync-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(json.dumps(run(work, args.contacts), indent=2))
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, count: int) -> dict[str, Any]:
    """Run the four steps in ``work``; return the measurements."""
    export, updates = work / "crm.csv", work / "updates.jsonl"
    database = work / "consent.sqlite3"
    for stale in (export, updates, database):
        stale.unlink(missing_ok=True)
    write_export(export, count)
    store = ConsentStore(f"sqlite:///{database}")
    store.migrate()
    config: SyncConfig = config_from_dict(CONFIG)
    sync = CrmSync(store, config, batch_size=2000)
    results: dict[str, Any] = {"contacts": count}
    pulled, results["pull"] = timed(lambda: sync.pull(CsvSource(export, config)))
    again, results["pull_unchanged"] = timed(
        lambda: sync.pull(CsvSource(export, config))
    )
    make_events(store, count)
    pushed, results["push"] = timed(lambda: sync.push(JsonlSink(updates)))
    quiet, results["push_unchanged"] = timed(lambda: sync.push(JsonlSink(updates)))

    write_export(export, count, changed_every=10)
    changed, results["pull_changed"] = timed(
        lambda: sync.pull(CsvSource(export, config))
    )
    results["counts"] = {
        "created": pulled.created,
        "unchanged_second_pull": again.unchanged,
        "updates_pushed": pushed.updates,
        "updates_second_push": quiet.updates,
        "changed_rows_pulled": changed.changed,
        "decisions": dict(pulled.decisions),
    }
    results["peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    store.close()
    return results


if __name__ == "__main__":
    main()
