"""The append-only event log and its hash chain.

Each contact has its own chain: event ``n`` stores the SHA-256 of event
``n - 1`` (``prev_hash``) and its own hash over that value and a canonical JSON
form of its fields. The contact row keeps the newest sequence number and hash
(the head), so removing the newest event shows as well as changing or
removing one in the middle. Chains of different contacts are independent, so on
PostgreSQL writers for different contacts do not wait for each other (SQLite
has one writer at a time anyway).

NOTE: a chain shows tampering by someone who edits rows; someone who can
rewrite every hash and the head as well can forge it. Export the heads to a
separate place to guard against that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..findings import Finding, Severity, rule
from .model import EventKind

__all__ = [
    "CHAIN_BROKEN",
    "GENESIS",
    "Event",
    "canonical_time",
    "event_hash",
    "to_utc",
    "verify_chain",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of a contact's first event."""

CHAIN_BROKEN = rule(
    "consent.chain_broken",
    "consent",
    Severity.ERROR,
    "Event log of a contact was changed",
    fix=(
        "Restore the store from a backup taken before the change and find out "
        "who had write access; the consent of this contact cannot be proved."
    ),
    reference="GDPR Art. 7(1) (the controller must demonstrate consent)",
)


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the event log."""

    contact_id: int
    seq: int
    """Position in the contact's chain, from 1."""
    kind: EventKind
    purpose: str | None
    occurred_at: datetime
    source: str
    """The origin of the event: ``web``, ``cli``, ``api``, ``import``, ``purge``."""
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str
    id: int | None = None
    """The global, increasing log position; ``None`` before it is stored."""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form used in exports."""
        return {
            "id": self.id,
            "seq": self.seq,
            "kind": self.kind.value,
            "purpose": self.purpose,
            "occurred_at": canonical_time(self.occurred_at),
            "source": self.source,
            "payload": dict(self.payload),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def to_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; a naive value (as SQLite returns) is UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def canonical_time(moment: datetime) -> str:
    """Return ``moment`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC."""
    return to_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_payload(payload: Mapping[str, Any]) -> str:
    """Return the canonical JSON text of a payload (sorted keys, no spaces)."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def event_hash(
    prev_hash: str,
    *,
    contact_id: int,
    seq: int,
    kind: str,
    purpose: str | None,
    occurred_at: datetime,
    source: str,
    payload_text: str,
) -> str:
    """Return the SHA-256 (hex) that chains an event to ``prev_hash``."""
    fields = [
        prev_hash,
        str(contact_id),
        str(seq),
        kind,
        purpose or "",
        canonical_time(occurred_at),
        source,
        payload_text,
    ]
    return hashlib.sha256("\n".join(fields).encode("utf-8")).hexdigest()


def verify_chain(
    contact_id: int,
    rows: Iterable[Mapping[Any, Any]],
    head: tuple[int, str],
) -> list[Finding]:
    """Check a contact's stored event rows (in ``seq`` order) against ``head``.

    ``rows`` carry the columns of the ``events`` table, with ``payload`` as
    stored text. Returns one finding per break; an empty list means intact.
    """
    findings: list[Finding] = []
    prev, expected_seq = GENESIS, 1
    for row in rows:
        problem = _row_problem(row, prev, expected_seq)
        if problem:
            findings.append(_broken(contact_id, row["seq"], problem))
        prev, expected_seq = row["hash"], row["seq"] + 1
    if (expected_seq - 1, prev if expected_seq > 1 else "") != head:
        findings.append(
            _broken(
                contact_id,
                expected_seq - 1,
                "the newest event does not match "
                "the head recorded on the contact (an event was removed or added)",
            )
        )
    return findings


def _row_problem(row: Mapping[Any, Any], prev: str, expected_seq: int) -> str | None:
    if row["seq"] != expected_seq:
        return f"expected event {expected_seq}, found {row['seq']} (a gap)"
    if row["prev_hash"] != prev:
        return "prev_hash does not match the hash of the event before"
    computed = event_hash(
        prev,
        contact_id=row["contact_id"],
        seq=row["seq"],
        kind=row["kind"],
        purpose=row["purpose"],
        occurred_at=row["occurred_at"],
        source=row["source"],
        payload_text=row["payload"],
    )
    if computed != row["hash"]:
        return "the stored hash does not match the event's content"
    return None


def _broken(contact_id: int, seq: int, problem: str) -> Finding:
    return CHAIN_BROKEN.finding(
        f"The event log of contact {contact_id} is broken at event {seq}: {problem}.",
        location=f"contact {contact_id}, event {seq}",
    )
