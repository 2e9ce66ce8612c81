"""Settings of the double opt-in flow, with the defaults and their reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = ["ConsentConfig"]


@dataclass(frozen=True, slots=True)
class ConsentConfig:
    """Limits and lifetimes of the double opt-in flow."""

    base_url: str = "http://127.0.0.1:8025"
    """The URL the confirm and unsubscribe links point to, without a final ``/``."""
    sender: str = "Newsletter <newsletter@example.com>"
    """The ``From`` of the confirmation mail."""
    confirm_token_ttl: timedelta = timedelta(days=7)
    """How long a confirmation link works."""
    unsubscribe_token_ttl: timedelta = timedelta(days=400)
    """How long an unsubscribe link works; CAN-SPAM requires at least 30 days
    after each mailing, so links in mail sent up to a year ago keep working."""
    resend_cooldown: timedelta = timedelta(minutes=10)
    """The minimum time between two confirmation mails to one address and purpose."""
    max_signups_per_address: int = 5
    address_window: timedelta = timedelta(days=1)
    """The window in which ``max_signups_per_address`` sign-ups are allowed."""
    max_signups_per_ip: int = 20
    ip_window: timedelta = timedelta(hours=1)
    """The window in which ``max_signups_per_ip`` sign-ups are allowed."""
    pending_ttl: timedelta = timedelta(days=14)
    """Unconfirmed sign-ups older than this are purged (German practice: 7 to
    14 days, so that data kept without consent is deleted)."""
    fast_confirmation: timedelta = timedelta(seconds=10)
    """A confirmation sooner than this after the mail was sent is flagged as a
    possible link scanner (it still needs the POST of a visible button)."""
    record_ip: bool = True
    """Whether to store the IP address of sign-up and confirmation requests."""
