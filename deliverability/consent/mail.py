"""The confirmation mail: rendered from Jinja2 templates, in text and HTML.

The templates receive only values the product made: the purpose name (which
must match a stored consent text), the links with our tokens, and dates.
Nothing the person typed into the form is echoed, so the mail cannot carry
injected content to a third party whose address was entered.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from jinja2 import Environment, PackageLoader, select_autoescape

__all__ = [
    "ConfirmationMail",
    "Mailer",
    "OutboxMailer",
    "render_confirmation",
    "templates",
]

_TEMPLATE_VERSION = "confirm-1"

templates = Environment(
    loader=PackageLoader("deliverability.consent", "templates"),
    autoescape=select_autoescape(["html.j2"]),
    keep_trailing_newline=True,
)
"""The Jinja2 environment of the consent pages and mails."""


@dataclass(frozen=True, slots=True)
class ConfirmationMail:
    """A rendered confirmation mail and what the evidence log keeps of it."""

    message: EmailMessage
    message_id: str
    sha256: str
    """SHA-256 of the message bytes as handed to the mailer."""
    redacted_text: str
    """The text part with the links' tokens replaced by ``[token]``."""
    template_version: str = _TEMPLATE_VERSION


class Mailer(Protocol):
    """Something that sends a message: an SMTP client, a queue, a folder."""

    def send(self, message: EmailMessage) -> None:
        """Send ``message`` or raise."""


class OutboxMailer:
    """A mailer that writes each message as a ``.eml`` file into a folder."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        """Write ``message`` to ``<folder>/<message id>.eml``, creating the folder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", str(message["Message-ID"]).strip("<>"))
        (self.folder / f"{name}.eml").write_bytes(bytes(message))


def render_confirmation(
    *,
    sender: str,
    to: str,
    purpose: str,
    confirm_url: str,
    cancel_url: str,
    expires: datetime,
    pending_days: int,
) -> ConfirmationMail:
    """Render the confirmation mail for one sign-up."""
    values = {
        "purpose": purpose,
        "confirm_url": confirm_url,
        "cancel_url": cancel_url,
        "expires": expires.strftime("%Y-%m-%d %H:%M UTC"),
        "pending_days": pending_days,
    }
    text = templates.get_template("confirm_mail.txt.j2").render(values)
    html = templates.get_template("confirm_mail.html.j2").render(values)
    domain = sender.rsplit("@", 1)[-1].strip("> ")
    message_id = make_msgid(domain=domain or None)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Please confirm your subscription"
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    digest = hashlib.sha256(bytes(message)).hexdigest()
    redacted = text.replace(confirm_url, _redact(confirm_url)).replace(
        cancel_url, _redact(cancel_url)
    )
    return ConfirmationMail(message, message_id, digest, redacted)


def _redact(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/[token]"
