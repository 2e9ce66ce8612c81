"""Settings of the CRM sync: the column mapping, match-up weights, re-permission.

The settings live in a TOML or JSON file, because every CRM names its
columns differently. A minimal TOML file::

    purposes = ["newsletter"]

    [columns]
    id = "Contact ID"
    email = "Email"
    last_name = "Last Name"

    [columns.purposes.newsletter]
    status = "Newsletter Status"
    changed_at = "Newsletter Status Changed"
    source = "Consent Source"
    evidence = "Consent Evidence"

    [status_values]
    "Opted out" = "withdrawn"

Any column left out is not read; ``id`` and ``email`` are required.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..consent.model import ConsentState, LegalBasis, check_purpose
from ..errors import InputError

__all__ = [
    "CONTACT_FIELDS",
    "ColumnMapping",
    "MatchSettings",
    "PurposeColumns",
    "SyncConfig",
    "config_from_dict",
    "load_config",
]

CONTACT_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "company",
    "phone",
    "customer_number",
    "groups",
    "blocked",
    "blocked_at",
)
"""The contact fields a CRM column can be mapped to."""


@dataclass(frozen=True, slots=True)
class PurposeColumns:
    """The CRM columns that hold the opt-in of one purpose."""

    status: str
    changed_at: str | None = None
    """The field-level timestamp of ``status`` (ISO 8601)."""
    source: str | None = None
    """The place or channel of a claimed consent (a trade fair, a phone call)."""
    evidence: str | None = None
    """A reference to the proof of a claimed consent (a file, a ticket)."""


@dataclass(frozen=True, slots=True)
class ColumnMapping:
    """CRM column names per contact field, and per purpose."""

    fields: Mapping[str, str] = field(
        default_factory=lambda: {name: name for name in CONTACT_FIELDS}
    )
    purposes: Mapping[str, PurposeColumns] = field(default_factory=dict)

    def column(self, name: str) -> str | None:
        """Return the CRM column of contact field ``name``, or ``None``."""
        return self.fields.get(name)


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Weights and thresholds of the match-up by keys other than the address."""

    weights: Mapping[str, float] = field(
        default_factory=lambda: {
            "customer_number": 0.9,
            "name_company": 0.6,
            "phone": 0.5,
        }
    )
    """The score a matching key adds; the scores of all matching keys add up."""
    threshold: float = 0.8
    """The score from which a match is confident."""
    review_threshold: float = 0.5
    """The score from which a candidate is worth showing to a person."""


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """Everything the sync needs to know about one CRM."""

    purposes: tuple[str, ...] = ("newsletter",)
    columns: ColumnMapping = field(default_factory=ColumnMapping)
    status_values: Mapping[str, ConsentState] = field(default_factory=dict)
    """CRM words for the consent states, e.g. ``"Opted out": withdrawn``;
    the state names themselves are always understood."""
    matching: MatchSettings = field(default_factory=MatchSettings)
    repermission_bases: frozenset[LegalBasis] = frozenset({LegalBasis.CONSENT})
    """Legal bases of a documented single opt-in that may get a
    re-permission mailing."""
    reconfirm_version: Mapping[str, str] = field(default_factory=dict)
    """Per purpose, the consent text version of the sign-up sent to a changed
    address that had a double opt-in. Without one, the new address stays at
    ``none``."""

    def state_of(self, value: str | None) -> ConsentState | None:
        """Return the consent state a CRM status value means, or ``None``.

        An empty value is ``None``; an unknown word raises ``ValueError``.
        """
        if value is None or not value.strip():
            return None
        text = value.strip()
        if text in self.status_values:
            return self.status_values[text]
        return ConsentState(text.lower())


def load_config(path: str | Path) -> SyncConfig:
    """Read a sync configuration from a ``.toml`` or ``.json`` file."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read sync configuration {source}: {exc}") from None
    try:
        if source.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"invalid sync configuration {source}: {exc}; "
            "write TOML (.toml) or JSON (.json)"
        ) from None
    return config_from_dict(data, str(source))


def config_from_dict(data: Mapping[str, Any], name: str = "<config>") -> SyncConfig:
    """Build a :class:`SyncConfig` from parsed TOML or JSON."""
    try:
        return _build(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"invalid sync configuration {name}: {exc}; see docs/sync.md for the format"
        ) from None


def _build(data: Mapping[str, Any]) -> SyncConfig:
    purposes = tuple(check_purpose(p) for p in data.get("purposes", ["newsletter"]))
    columns = dict(data.get("columns", {}))
    per_purpose = columns.pop("purposes", {})
    unknown = set(columns) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown contact fields {sorted(unknown)}")
    if "id" not in columns or "email" not in columns:
        raise ValueError("[columns] must map at least 'id' and 'email'")
    mapping = ColumnMapping(
        {k: str(v) for k, v in columns.items()},
        {check_purpose(p): PurposeColumns(**c) for p, c in per_purpose.items()},
    )
    values = {str(k): ConsentState(v) for k, v in data.get("status_values", {}).items()}
    match = data.get("matching", {})
    settings = MatchSettings(
        weights={str(k): float(v) for k, v in match.get("weights", {}).items()}
        or MatchSettings().weights,
        threshold=float(match.get("threshold", 0.8)),
        review_threshold=float(match.get("review_threshold", 0.5)),
    )
    bases = data.get("repermission", {}).get("legal_bases", ["consent"])
    return SyncConfig(
        purposes=purposes,
        columns=mapping,
        status_values=values,
        matching=settings,
        repermission_bases=frozenset(LegalBasis(b) for b in bases),
        reconfirm_version={
            check_purpose(k): str(v)
            for k, v in data.get("reconfirm_version", {}).items()
        },
    )
