"""Reading messages for signing and verification, and their author domain.

Messages stay bytes: DKIM hashes the octets as sent, so nothing here decodes
or rewrites them. The header section is split the way dkimpy splits it.
"""

from __future__ import annotations

import datetime
import email.header
import email.utils
import re
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
    "check_line_ends",
    "check_size",
    "dkimpy_view_problem",
    "header_values",
    "malformed_header_error",
    "no_headers_error",
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
    when it has no header field or a carriage return without a line feed in
    its header section (RFC 5322, section 2.2: lines end in CRLF).
    """
    check_size(data, name)
    headers, _body = split_headers(data)
    if not headers:
        raise no_headers_error(data, name)
    check_line_ends(data, name)
    return headers


def no_headers_error(data: bytes, name: str) -> InputError:
    """Return the error for a message without header fields, showing line 1."""
    first = data.split(b"\n", 1)[0]
    return InputError(NO_HEADERS.format(name=name) + f"; line 1 is {_shown(first)}")


def malformed_header_error(data: bytes, name: str) -> InputError:
    """Return the error for a header line that dkimpy cannot parse.

    dkimpy 1.1.8 accepts a field name of printable ASCII followed directly
    by a colon; white space before the colon or an 8-bit octet fails.
    """
    lines = data[: _header_end(data)].split(b"\n")
    for number, line in enumerate(lines, 1):
        line = line.rstrip(b"\r")
        if not line or line[:1] in (b" ", b"\t") or line.startswith(b"From "):
            continue  # a continuation, or a line dkimpy skips
        if _DKIMPY_FIELD.match(line):
            continue
        if number == 1 and not split_headers(data)[0]:
            return no_headers_error(data, name)
        return InputError(
            f"message {name} has header line {number} {_shown(line)}, which is "
            "not a header field: write NAME: value, with a printable ASCII name "
            "and no space before the colon"
        )
    return InputError(f"message {name} has a malformed header section")


_DKIMPY_FIELD = re.compile(rb"[\x21-\x7e]+?:")


def check_line_ends(data: bytes, name: str) -> None:
    """Raise :class:`InputError` for a CR without LF in the header section."""
    bare_cr = _BARE_CR.search(data, 0, _header_end(data))
    if bare_cr is not None:
        line = data.count(b"\n", 0, bare_cr.start()) + 1
        raise InputError(
            f"message {name} has a carriage return without a line feed in "
            f"header line {line}; end every line with CRLF (or LF)"
        )


_BARE_CR = re.compile(rb"\r(?!\n)")
_LINE = re.compile(rb"[^\n]*\n|[^\n]+\Z")


def _shown(line: bytes, limit: int = 60) -> str:
    """Return a header line for an error message: escaped and shortened."""
    text = repr(line.rstrip(b"\r\n")[:limit])[1:]
    return text + (" (shortened)" if len(line) > limit else "")


def dkimpy_view_problem(
    data: bytes, dkimpy_headers: list[tuple[bytes, bytes]]
) -> str | None:
    """Say where dkimpy reads the header section differently, or return ``None``.

    dkimpy 1.1.8 silently skips header lines that start with ``From `` (an
    mbox separator to it), so ``From : a@example.com`` is a From field to
    RFC 5322 and to other verifiers but not to dkimpy. A signature made or
    checked by dkimpy would then not cover the From field others see.
    """
    # Lines starting "From " are the only ones dkimpy reads differently when
    # it parses the message at all, and most messages have none.
    end = _header_end(data)
    if not data.startswith(b"From ") and data.find(b"\nFrom ", 0, end) < 0:
        return None
    ours = [name.lower() for name, _value in split_headers(data)[0]]
    theirs = [bytes(name).lower() for name, _value in dkimpy_headers]
    if ours == theirs:
        return None
    lines = data[:end].split(b"\n")
    for number, line in enumerate(lines, 1):
        if line.startswith(b"From "):
            return (
                f"header line {number} {_shown(line)} starts with 'From ', which "
                "dkimpy skips as an mbox separator; write 'From:' with no space"
            )
    return "dkimpy splits the header section into other fields than RFC 5322 does"


def split_headers(data: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Split a message into ``(name, value)`` header fields and the body.

    Folded lines are kept in the value. Lines end at LF (CRLF or a bare LF),
    as dkimpy splits them, so a bare CR stays inside a line. Parsing stops at
    the first line that is neither a field nor a continuation. Only the
    header section is split into lines, so a large body costs one search.
    """
    end = _header_end(data)
    lines = _LINE.findall(data, 0, end)
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
    # The LF search stops at the first CRLF CRLF, so a large body is not
    # scanned twice.
    crlf = data.find(b"\r\n\r\n")
    lf = data.find(b"\n\n", 0, crlf if crlf >= 0 else len(data))
    if lf >= 0:
        return lf + 2
    return crlf + 4 if crlf >= 0 else len(data)


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
    whether they are covered. Non-ASCII text in the Subject and display names
    is encoded as RFC 2047 encoded-words. Raises :class:`InputError` for an
    address without a valid domain, a value with a control character (a line
    break would start another header field), or an unsubscribe URL that is
    not a plain https URL.
    """
    for option, value in _header_options(spec):
        _check_header_text(value, option)
    domain = _address_domain(spec.from_address, "--from")
    _address_domain(spec.to_address, "--to")
    url = spec.unsubscribe_url or f"https://{domain}/unsubscribe?list=test"
    _check_unsubscribe_url(url)
    when = spec.date or datetime.datetime.now(datetime.UTC)
    lines = [
        f"From: {_encoded_address(spec.from_address)}",
        f"To: {_encoded_address(spec.to_address)}",
        f"Subject: {_encoded_text(spec.subject)}",
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


def _header_options(spec: TestMessage) -> list[tuple[str, str]]:
    options = [
        ("--from", spec.from_address),
        ("--to", spec.to_address),
        ("--subject", spec.subject),
    ]
    if spec.unsubscribe_url is not None:
        options.append(("--unsubscribe-url", spec.unsubscribe_url))
    return options


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_HEADER_TEXT = 900
"""Maximum option text in one header line (RFC 5322 allows 998 octets)."""


def _check_header_text(value: str, option: str) -> None:
    if _CONTROL.search(value):
        raise InputError(
            f"invalid {option} {value!r}: it contains a line break or another "
            "control character, which would break the header section"
        )
    if len(value) > _MAX_HEADER_TEXT:
        raise InputError(
            f"{option} is {len(value)} characters long; give at most {_MAX_HEADER_TEXT}"
        )


_URL_FORBIDDEN = re.compile(r"[\s<>\"]")


def _check_unsubscribe_url(url: str) -> None:
    if not url.startswith("https://") or len(url) <= len("https://"):
        raise InputError(
            f"invalid unsubscribe URL {url!r}: one-click unsubscription needs an "
            "https:// URL (RFC 8058, section 3.1)"
        )
    if _URL_FORBIDDEN.search(url) or not url.isascii():
        raise InputError(
            f"invalid unsubscribe URL {url!r}: percent-encode spaces, quotes, "
            "angle brackets and non-ASCII characters (RFC 3986)"
        )


def _encoded_text(text: str) -> str:
    if text.isascii():
        return text
    return email.header.Header(text, "utf-8").encode(linesep="\r\n")


def _encoded_address(address: str) -> str:
    if address.isascii():
        return address
    display, parsed = email.utils.parseaddr(address)
    local, _at, domain = parsed.rpartition("@")
    # The domain becomes its A-label; a non-ASCII local part needs SMTPUTF8.
    ascii_address = f"{local}@{normalize_domain(domain)}"
    return email.utils.formataddr((display, ascii_address), charset="utf-8")


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
