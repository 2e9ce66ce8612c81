"""Helpers shared by the consent tests."""

from __future__ import annotations

import re
from email.message import EmailMessage

from deliverability.consent import ConsentStore, DoubleOptIn, RequestContext

CONTEXT = RequestContext(
    "198.51.100.7", "Mozilla/5.0 (test)", "https://example.com/join"
)
CONSENT_TEXT = "Yes, send me the newsletter. I can unsubscribe at any time."


def mail_text(message: object) -> str:
    """Return the text part of a sent message."""
    assert isinstance(message, EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def link_token(message: object, action: str) -> str:
    """Return the token of the ``action`` link (confirm or unsubscribe)."""
    found = re.search(rf"/{action}/([A-Za-z0-9_-]+)", mail_text(message))
    assert found is not None
    return found.group(1)


async def signed_up(flow: DoubleOptIn, address: str, purpose: str = "news") -> None:
    """Sign ``address`` up for ``purpose`` with the standard context."""
    await flow.sign_up(address, purpose, "v1", CONTEXT)


def prepare(store: ConsentStore) -> None:
    """Store the consent text every test signs up with."""
    store.add_consent_text("news", "v1", CONSENT_TEXT)
    store.add_consent_text("offers", "v1", CONSENT_TEXT)
