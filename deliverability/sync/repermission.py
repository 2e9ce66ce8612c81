"""Re-permission: ask documented single opt-ins to confirm by double opt-in.

A mail asking for consent is itself marketing, so it goes only to contacts
whose single opt-in is documented (``soi_documented``) with a legal basis
the configuration allows. Contacts at ``none``, ``pending``, ``withdrawn``
or ``doi``, and suppressed addresses, are never asked. Each mail is logged
with the contact, the time, the campaign and who started it. The
confirmation goes through the flow, which moves the contact to ``doi``, and
the next push sends the event to the CRM.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select

from ..consent import tables as ct
from ..consent.addresses import check_address
from ..consent.errors import ThrottledError
from ..consent.flow import DoubleOptIn, RequestContext, SignupStatus
from ..consent.model import ConsentState, check_purpose
from . import tables as st
from .config import SyncConfig

__all__ = ["Repermission", "RepermissionReport"]

log = logging.getLogger(__name__)


@dataclass
class RepermissionReport:
    """Counts of one re-permission mailing."""

    purpose: str
    campaign: str
    eligible: int = 0
    sent: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    contact_ids: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "purpose": self.purpose,
            "campaign": self.campaign,
            "eligible": self.eligible,
            "sent": self.sent,
            "skipped": self.skipped,
        }


class Repermission:
    """Select and mail the contacts that may be asked for a double opt-in."""

    def __init__(self, flow: DoubleOptIn, config: SyncConfig | None = None) -> None:
        self.flow = flow
        self.config = config or SyncConfig()

    def eligible(self, purpose: str) -> list[tuple[int, str]]:
        """Return ``(contact id, address)`` of everyone who may be asked."""
        check_purpose(purpose)
        c, k, s = ct.consents, ct.contacts, ct.suppressions
        suppressed = exists().where(
            and_(
                s.c.address_key == c.c.address_key,
                or_(s.c.scope == "*", s.c.scope == purpose),
            )
        )
        query = (
            select(k.c.id, k.c.address)
            .join(c, c.c.contact_id == k.c.id)
            .where(
                c.c.purpose == purpose,
                c.c.state == ConsentState.SOI_DOCUMENTED.value,
                c.c.legal_basis.in_([b.value for b in self.config.repermission_bases]),
                ~suppressed,
            )
            .order_by(k.c.id)
        )
        with self.flow.store.reading() as conn:
            return [(int(r.id), r.address) for r in conn.execute(query).all()]

    def send(
        self, purpose: str, consent_version: str, *, campaign: str, actor: str
    ) -> RepermissionReport:
        """Send the confirmation mail to every eligible contact; log each one."""
        report = RepermissionReport(purpose, campaign)
        store = self.flow.store
        context = RequestContext(form=f"re-permission:{campaign}")
        for contact_id, address in self.eligible(purpose):
            report.eligible += 1
            try:
                result = self.flow.register(
                    check_address(address), purpose, consent_version, context
                )
            except ThrottledError:
                report.skipped["throttled"] = report.skipped.get("throttled", 0) + 1
                continue
            if result.status != SignupStatus.MAIL_SENT:
                report.skipped[result.status] = report.skipped.get(result.status, 0) + 1
                continue
            with store.transaction() as conn:
                conn.execute(
                    insert(st.repermission).values(
                        contact_id=contact_id,
                        purpose=purpose,
                        campaign=campaign,
                        actor=actor,
                        asked_at=store.clock(),
                        message_id=result.message_id,
                    )
                )
            report.sent += 1
            report.contact_ids.append(contact_id)
        log.info(
            "re-permission %s: %d of %d asked", purpose, report.sent, report.eligible
        )
        return report

    def asked(self, contact_id: int) -> list[dict[str, Any]]:
        """Return the log of re-permission mails to one contact."""
        r = st.repermission
        with self.flow.store.reading() as conn:
            rows = conn.execute(
                select(r).where(r.c.contact_id == contact_id).order_by(r.c.id)
            ).all()
        return [
            {
                "purpose": row.purpose,
                "campaign": row.campaign,
                "actor": row.actor,
                "asked_at": row.asked_at.isoformat(),
                "message_id": row.message_id,
            }
            for row in rows
        ]
