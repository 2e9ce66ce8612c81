"""Reading messages for signing and verification, and their author domain.

Messages stay bytes: DKIM hashes the octets as sent, so nothing here decodes
or rewrites them. The header section is split the way dkimpy splits it.
"""

from __future__ import annotations

import datetime
import email.utils
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ..dns import normalize_domain
from ..errors import InputError, InvalidDomainError

__all__ = [
    "MAX_MESSAGE_BYTES",
    "NO_HEADERS",
    "AuthorDomains",
    "TestMessage",
    "author_domains",
    "build_test_message",
    "check_message",
    "check_size",
    "header_values",
    "read_message",
    "split_headers",
]

MAX_MESSAGE_BYTES = 50 * 1024 * 1024
"""The largest message read: 50 MiB, above what mail systems accept."""


def read_message(path: str | None) -> bytes:
    """Read a message from ``path``, or from standard input for ``None`` or ``-``.

    Raises :class:`InputError` when the file is missing or unreadable, larger
    than :data:`MAX_MESSAGE_BYTES`, or has no header section.
    """
    limit = MAX_MESSAGE_BYTES
    if path is None or path == "-":
        data = sys.stdin.buffer.read(limit + 1)
        name = "standard input"
    else:
        name = path
        try:
            with Path(path).open("rb") as handle:
                data = handle.read(limit + 1)
        except FileNotFoundError:
            raise InputError(f"message file {path} not found") from None
        except IsADirectoryError:
            raise InputError(f"message file {path} is a folder") from None
        except PermissionError:
            raise InputError(
                f"cannot read message file {path}: permission denied"
            ) from None
    check_message(data, name)
    return data


NO_HEADERS = (
    "message {name} has no header fields; give an RFC 5322 message "
    "(header lines, an empty line, then the body)"
)


def check_size(data: bytes, name: str) -> None:
    """Raise :class:`InputError` when ``data`` exceeds :data:`MAX_MESSAGE_BYTES`."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise InputError(
            f"message {name} is larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB; "
            "mail systems reject messages this large, so test a smaller one"
        )


def check_message(data: bytes, name: str) -> list[tuple[bytes, bytes]]:
    """Return the header fields; raise :class:`InputError` for a non-message.

    A message is too large above :data:`MAX_MESSAGE_BYTES`, and not a message
    when it has no header field.
    """
    check_size(data, name)
    headers, _body = split_headers(data)
    if not headers:
        raise InputError(NO_HEADERS.format(name=name))
    return headers


def split_headers(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Split a message into ``(name, value)`` header fields and the body.

    Folded lines are kept in the value. Parsing stops at the first line that
    is neither a field nor a continuation, as dkimpy does. Only the header
    section is split into lines, so a large body costs one search.
    """
    end = _header_end(data)
    lines = data[:end].splitlines(keepends=True)
    headers: list[tuple[bytes, bytes]] = []
    for index, line in enumerate(lines):
        if line in (b"\r\n", b"\n"):
            return headers, b"".join(lines[index + 1 :]) + data[end:]
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + line)
            continue
        name, colon, value = line.partition(b":")
        name = name.rstrip(b" \t")
        if not colon or not name or b" " in name or b"\t" in name:
            return headers, b"".join(lines[index:]) + data[end:]
        headers.append((name, value))
    return headers, data[end:]


def _header_end(data: bytes) -> int:
    """Return the offset just past the empty line that ends the header section."""
    if data.startswith((b"\r\n", b"\n")):
        return data.index(b"\n") + 1
    ends = [i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0]
    if not ends:
        return len(data)
    first = min(ends)
    return first + (4 if data.startswith(b"\r\n\r\n", first) else 2)


def header_values(headers: list[tuple[bytes, bytes]], name: str) -> list[str]:
    """Return the unfolded values of every field called ``name``, in order."""
    target = name.lower().encode("ascii")
    values = []
    for field_name, raw in headers:
        if field_name.lower() == target:
            text = raw.decode("utf-8", errors="replace")
            values.append(" ".join(text.split()))
    return values


@dataclass(frozen=True, slots=True)
class AuthorDomains:
    """The domains of the From header's addresses (RFC 7489, section 3.1)."""

    domains: tuple[str, ...]
    """Distinct author domains, lower-case A-labels, in header order."""
    problem: str | None = None
    """The reason no author domain could be read, or ``None``."""
    header: str | None = None
    """The From value as found (unfolded)."""


def author_domains(headers: list[tuple[bytes, bytes]]) -> AuthorDomains:
    """Read the author domains from the From header.

    A display name that contains a comma inside quotes, such as
    ``"Doe, Jane" <jane@example.org>``, is one address. Never raises: a
    missing From, a From with several fields, or an address without a
    domain comes back as ``problem``.
    """
    values = header_values(headers, "from")
    if not values:
        return AuthorDomains((), "the message has no From header field")
    if len(values) > 1:
        return AuthorDomains((), "the message has more than one From field", values[0])
    value = values[0]
    domains: list[str] = []
    for _display, address in email.utils.getaddresses([value]):
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain:
            return AuthorDomains(
                (), f"the From field {value!r} holds no address with a domain", value
            )
        try:
            name = normalize_domain(domain)
        except InvalidDomainError as exc:
            return AuthorDomains((), f"the From domain is invalid: {exc.reason}", value)
        if name not in domains:
            domains.append(name)
    if not domains:
        return AuthorDomains((), f"the From field {value!r} holds no address", value)
    return AuthorDomains(tuple(domains), None, value)


@dataclass(frozen=True, slots=True)
class TestMessage:
    """The content of a generated test message; every field has a default."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name
    from_address: str
    to_address: str = "check@example.net"
    subject: str = "Deliverability test message"
    body: str = "This message tests DKIM signing. It needs no reply.\n"
    unsubscribe_url: str | None = None
    """The https URL of one-click unsubscription; ``None`` builds one."""
    date: datetime.datetime | None = None


def build_test_message(spec: TestMessage) -> bytes:
    """Return a minimal, well-formed RFC 5322 message with CRLF line ends.

    It carries the RFC 8058 one-click headers, so a signature over it shows
    whether they are covered. Raises :class:`InputError` for an address
    without a valid domain.
    """
    domain = _address_domain(spec.from_address, "--from")
    _address_domain(spec.to_address, "--to")
    url = spec.unsubscribe_url or f"https://{domain}/unsubscribe?list=test"
    if not url.startswith("https://"):
        raise InputError(
            f"invalid unsubscribe URL {url!r}: one-click unsubscription needs an "
            "https:// URL (RFC 8058, section 3.1)"
        )
    when = spec.date or datetime.datetime.now(datetime.UTC)
    lines = [
        f"From: {spec.from_address}",
        f"To: {spec.to_address}",
        f"Subject: {spec.subject}",
        f"Date: {email.utils.format_datetime(when)}",
        f"Message-ID: {email.utils.make_msgid(domain=domain)}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        f"List-Unsubscribe: <{url}>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "",
    ]
    body = spec.body.replace("\r\n", "\n").replace("\n", "\r\n")
    return ("\r\n".join(lines) + "\r\n" + body).encode("utf-8")


def _address_domain(address: str, option: str) -> str:
    _name, parsed = email.utils.parseaddr(address)
    local, at, domain = parsed.rpartition("@")
    if not at or not local or not domain:
        raise InputError(
            f"invalid address {address!r} for {option}: give an address such as "
            "news@example.com"
        )
    try:
        return normalize_domain(domain)
    except InvalidDomainError as exc:
        raise InputError(
            f"invalid address {address!r} for {option}: {exc.reason}"
        ) from None
