"""The records that cross between the CRM and the campaign manager.

:class:`CrmContact` is a contact as the CRM exports it; :class:`CrmUpdate`
is an event the campaign manager sends back (a confirmation, an
unsubscribe, a bounce, a complaint, a new or linked contact).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..consent.events import canonical_time
from .config import SyncConfig

__all__ = [
    "CrmContact",
    "RowProblem",
    "CrmOptIn",
    "CrmUpdate",
    "UpdateKind",
    "contact_from_row",
    "parse_time",
]


class UpdateKind:
    """The kinds of :class:`CrmUpdate` (plain strings, for JSON and CSV)."""

    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    BLOCKED = "blocked"
    LINK = "link"
    """A confirmed web-form sign-up belongs to this existing CRM contact."""
    CREATE_CONTACT = "create_contact"
    """A confirmed web-form sign-up matched no CRM contact: create one and
    keep ``contact_id`` as its reference to the campaign manager."""
    CONSENT_STATE = "consent_state"
    """A person reviewed a conflict and kept the campaign manager's state."""


@dataclass(frozen=True, slots=True)
class CrmOptIn:
    """The opt-in of one purpose as the CRM shows it."""

    status: str | None = None
    changed_at: datetime | None = None
    source: str | None = None
    evidence: str | None = None

    def as_list(self) -> list[str | None]:
        """Return the JSON form kept as the last value seen."""
        moment = None if self.changed_at is None else canonical_time(self.changed_at)
        return [self.status, moment, self.source, self.evidence]


@dataclass(frozen=True, slots=True)
class CrmContact:
    """One contact as exported by the CRM."""

    crm_id: str
    address: str
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    phone: str | None = None
    customer_number: str | None = None
    groups: tuple[str, ...] = ()
    """The CRM's target groups; membership grants no consent."""
    blocked: bool | None = None
    blocked_at: datetime | None = None
    opt_ins: Mapping[str, CrmOptIn] = field(default_factory=dict)

    def digest(self) -> str:
        """Return a SHA-256 over every field, to skip unchanged contacts."""
        data = [
            self.crm_id,
            self.address,
            self.first_name,
            self.last_name,
            self.company,
            self.phone,
            self.customer_number,
            list(self.groups),
            self.blocked,
            None if self.blocked_at is None else canonical_time(self.blocked_at),
            {p: o.as_list() for p, o in sorted(self.opt_ins.items())},
        ]
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A CRM row that could not be read; ``message`` names no personal data."""

    position: int
    message: str


@dataclass(frozen=True, slots=True)
class CrmUpdate:
    """An event for the CRM. ``id`` increases and identifies it for good.

    Sinks must treat ``id`` as an idempotency key: a sync that is resumed
    after a crash may hand the same update over again.
    """

    id: int
    kind: str
    crm_id: str | None
    contact_id: int
    purpose: str | None
    occurred_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "id": self.id,
            "kind": self.kind,
            "crm_id": self.crm_id,
            "contact_id": self.contact_id,
            "purpose": self.purpose,
            "occurred_at": canonical_time(self.occurred_at),
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CrmUpdate:
        """Build an update from its JSON form."""
        return cls(
            int(data["id"]),
            str(data["kind"]),
            data.get("crm_id"),
            int(data["contact_id"]),
            data.get("purpose"),
            parse_time(str(data["occurred_at"])) or datetime.now(UTC),
            dict(data.get("data") or {}),
        )


def parse_time(value: str | None) -> datetime | None:
    """Parse an ISO 8601 time; a time without a zone is UTC; empty is ``None``."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


_TRUE = frozenset({"1", "true", "yes", "y", "x"})
_FALSE = frozenset({"", "0", "false", "no", "n"})


def contact_from_row(row: Mapping[str, Any], config: SyncConfig) -> CrmContact:
    """Build a :class:`CrmContact` from a CSV or JSON row in CRM column names.

    Raises ``ValueError`` naming the column of a missing id or address, an
    unreadable time or yes/no value.
    """
    columns = config.columns

    def get(name: str) -> str | None:
        column = columns.column(name)
        value = None if column is None else row.get(column)
        if value is None:
            return None
        text = str(value).strip()
        return text or None

    crm_id, address = get("id"), get("email")
    if crm_id is None or address is None:
        raise ValueError(
            f"missing value in column {columns.column('id')!r} "
            f"or {columns.column('email')!r}"
        )
    groups = get("groups")
    return CrmContact(
        crm_id=crm_id,
        address=address,
        first_name=get("first_name"),
        last_name=get("last_name"),
        company=get("company"),
        phone=get("phone"),
        customer_number=get("customer_number"),
        groups=tuple(g.strip() for g in (groups or "").split(";") if g.strip()),
        blocked=_flag(get("blocked"), columns.column("blocked")),
        blocked_at=_time(get("blocked_at"), columns.column("blocked_at")),
        opt_ins={
            purpose: _opt_in(
                row, spec.status, spec.changed_at, spec.source, spec.evidence
            )
            for purpose, spec in columns.purposes.items()
        },
    )


def _opt_in(
    row: Mapping[str, Any],
    status: str,
    changed_at: str | None,
    source: str | None,
    evidence: str | None,
) -> CrmOptIn:
    def text(column: str | None) -> str | None:
        value = None if column is None else row.get(column)
        stripped = "" if value is None else str(value).strip()
        return stripped or None

    return CrmOptIn(
        text(status),
        _time(text(changed_at), changed_at),
        text(source),
        text(evidence),
    )


def _flag(value: str | None, column: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"invalid yes/no value {value!r} in column {column!r}")


def _time(value: str | None, column: str | None) -> datetime | None:
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError(
            f"invalid time {value!r} in column {column!r}: use ISO 8601"
        ) from None
