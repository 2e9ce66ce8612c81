"""The review queue: what the sync rules could not decide, for a person.

Two kinds of review:

* ``match``: a confirmed sign-up matched several CRM contacts, or a CRM
  contact shares its address with another. Resolve with a CRM id or
  ``new``.
* ``conflict``: a consent field the rules could not order. Resolve with
  ``keep`` (the campaign manager's state stays and is sent to the CRM) or
  ``apply`` (the CRM's value goes through the state machine).

Every resolution records who chose what and when; nothing is merged
without one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..consent.events import to_utc
from ..consent.model import ConsentState, IllegalTransition, SuppressionReason
from ..consent.store import ConsentStore
from ..errors import InputError
from . import tables as st
from .config import SyncConfig
from .engine import (
    apply_crm_value,
    get_cursor,
    link_rows,
    outbox_row,
    suppress,
)
from .records import CrmOptIn, UpdateKind, parse_time

__all__ = ["Review", "ReviewQueue"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Review:
    """One entry of the review queue."""

    id: int
    kind: str
    status: str
    reason: str
    contact_id: int | None
    crm_id: str | None
    field: str | None
    details: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    actor: str | None

    def choices(self) -> list[str]:
        """Return the values :meth:`ReviewQueue.resolve` accepts."""
        if self.kind == "conflict":
            # An address taken by another CRM contact has no value to apply.
            return ["keep"] if self.field == "email" else ["keep", "apply"]
        candidates = self.details.get("candidates", [])
        ids = [c["crm_id"] if isinstance(c, dict) else c for c in candidates]
        return [*ids, "new"] if self.crm_id is None else ids

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "contact_id": self.contact_id,
            "crm_id": self.crm_id,
            "field": self.field,
            "details": self.details,
            "choices": self.choices(),
            "created_at": to_utc(self.created_at).isoformat(),
            "resolved_at": None
            if self.resolved_at is None
            else to_utc(self.resolved_at).isoformat(),
            "resolution": self.resolution,
            "actor": self.actor,
        }


class ReviewQueue:
    """List, show and resolve reviews in one store."""

    def __init__(self, store: ConsentStore, config: SyncConfig | None = None) -> None:
        self.store = store
        self.config = config or SyncConfig()

    def list(self, status: str | None = "open") -> list[Review]:
        """Return the reviews with ``status`` (``None``: all), oldest first."""
        query = select(st.reviews).order_by(st.reviews.c.id)
        if status is not None:
            query = query.where(st.reviews.c.status == status)
        with self.store.reading() as conn:
            return [_review(r._mapping) for r in conn.execute(query).all()]

    def show(self, review_id: int) -> Review:
        """Return one review; raise ``InputError`` for an unknown id."""
        with self.store.reading() as conn:
            return _get(conn, review_id)

    def resolve(self, review_id: int, choice: str, *, actor: str) -> Review:
        """Apply a person's choice and record who chose what and when."""
        if not actor.strip():
            raise InputError("a resolution needs the name of the person who chose")
        with self.store.transaction() as conn:
            review = _get(conn, review_id)
            if review.status != "open":
                raise InputError(f"review {review_id} is already {review.status}")
            if choice not in review.choices():
                raise InputError(
                    f"invalid choice {choice!r} for review {review_id}: "
                    f"use one of {review.choices()}"
                )
            if review.kind == "match":
                self._resolve_match(conn, review, choice)
            else:
                self._resolve_conflict(conn, review, choice)
            conn.execute(
                update(st.reviews)
                .where(st.reviews.c.id == review_id)
                .values(
                    status="resolved",
                    resolved_at=self.store.clock(),
                    resolution=choice,
                    actor=actor,
                )
            )
            resolved = _get(conn, review_id)
        log.info("review %d (%s) resolved", review_id, review.kind)
        return resolved

    def _resolve_match(self, conn: Connection, review: Review, choice: str) -> None:
        assert review.contact_id is not None
        if review.crm_id is not None:
            # Two CRM contacts share one address: the chosen one keeps the link.
            conn.execute(
                update(st.crm)
                .where(st.crm.c.contact_id == review.contact_id)
                .values(contact_id=None)
            )
            conn.execute(
                update(st.crm)
                .where(st.crm.c.crm_id == choice)
                .values(contact_id=review.contact_id, digest="")
            )
            return
        target = None if choice == "new" else choice
        # Replay the events the push already read; later ones follow the link.
        upto = get_cursor(conn, "events")
        events = [
            e
            for e in self.store.events(review.contact_id, conn)
            if e.id is not None and e.id <= upto
        ]
        rows = link_rows(self.store, conn, review.contact_id, target, events)
        conn.execute(insert(st.outbox), rows)

    def _resolve_conflict(self, conn: Connection, review: Review, choice: str) -> None:
        assert review.contact_id is not None and review.field is not None
        if choice == "apply" and review.field == "blocked":
            # The CRM's opt-out flag: the person decided that it wins.
            suppress(self.store, conn, review.contact_id, SuppressionReason.BLOCKLIST)
            return
        if choice == "keep":
            state = review.details.get("store_state")
            conn.execute(
                insert(st.outbox).values(
                    outbox_row(
                        UpdateKind.CONSENT_STATE,
                        review.crm_id,
                        review.contact_id,
                        review.field,
                        self.store.clock(),
                        {"state": state, "review_id": review.id},
                    )
                )
            )
            return
        status, moment, source, evidence = review.details["crm_value"]
        wanted = self._state_of(review, status)
        if wanted is not ConsentState.SOI_DOCUMENTED:
            wanted = ConsentState.WITHDRAWN
        elif not (source and evidence):
            raise InputError(
                f"review {review.id}: the CRM claims consent without a source and "
                "an evidence reference; fill both in the CRM and sync again, "
                "or choose 'keep'"
            )
        opt_in = CrmOptIn(status, parse_time(moment), source, evidence)
        try:
            apply_crm_value(
                self.store,
                conn,
                review.contact_id,
                review.field,
                wanted,
                opt_in,
                review.crm_id,
            )
        except IllegalTransition as exc:
            raise InputError(
                f"cannot apply the CRM value of review {review.id}: {exc}; "
                "only a new sign-up can follow a withdrawal, so choose 'keep'"
            ) from None

    def _state_of(self, review: Review, status: str | None) -> ConsentState:
        try:
            return self.config.state_of(status) or ConsentState.NONE
        except ValueError:
            raise InputError(
                f"review {review.id}: the CRM value {status!r} names no consent "
                "state in this configuration; pass the sync's --config, add the "
                "word to [status_values], or choose 'keep'"
            ) from None


def _get(conn: Connection, review_id: int) -> Review:
    row = conn.execute(select(st.reviews).where(st.reviews.c.id == review_id)).first()
    if row is None:
        raise InputError(f"no review with id {review_id}; list them with 'review list'")
    return _review(row._mapping)


def _review(row: Any) -> Review:
    return Review(
        int(row["id"]),
        row["kind"],
        row["status"],
        row["reason"],
        None if row["contact_id"] is None else int(row["contact_id"]),
        row["crm_id"],
        row["field"],
        json.loads(row["details"]),
        row["created_at"],
        row["resolved_at"],
        row["resolution"],
        row["actor"],
    )
