"""Run the lint rules over a message, an HTML file or a file on disk."""

from __future__ import annotations

import binascii
import logging
import re
import stat
from pathlib import Path

from ..errors import InputError
from . import css, htmlscan
from .context import LintContext, org_domain
from .htmlscan import scan_html
from .message import ParsedMessage, parse_message
from .model import LintOptions, LintReport
from .rules import FAMILIES, HEADER_RULES, clients, links

__all__ = [
    "clear_caches",
    "decode_html",
    "lint_bytes",
    "lint_html",
    "lint_path",
    "wrap_html",
]

log = logging.getLogger(__name__)

_CONTENT_FIELDS = re.compile(
    rb"^(?:content-type|content-transfer-encoding|mime-version)\s*:", re.I
)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?([\w-]+)", re.I)
_HTML_SUFFIXES = (".html", ".htm")
_MEGABYTE = 1024 * 1024
_LONG_QP_LINE = re.compile(rb"^[^\n]{77,}", re.M)


def lint_bytes(
    data: bytes, *, name: str = "message", options: LintOptions | None = None
) -> LintReport:
    """Lint one raw RFC 5322 message. Raises ``InputError`` past the size cap."""
    options = options or LintOptions()
    _check_size(len(data), name, options)
    return _run(_parse(data, name), name, options)


def lint_html(
    html: bytes,
    *,
    text: bytes | None = None,
    headers: bytes | None = None,
    name: str = "message.html",
    options: LintOptions | None = None,
) -> LintReport:
    """Lint an HTML body, with an optional text alternative and header block.

    Without ``headers`` the header rules (From, Date, List-Unsubscribe, ...)
    are skipped, and ``checks.lint.headers`` in the report is false.
    """
    options = options or LintOptions()
    size = len(html) + len(text or b"") + len(headers or b"")
    _check_size(size, name, options)
    message = _parse(wrap_html(html, text=text, headers=headers), name)
    message.has_headers = headers is not None
    return _run(message, name, options)


def lint_path(
    path: Path,
    *,
    text_path: Path | None = None,
    header_path: Path | None = None,
    options: LintOptions | None = None,
) -> LintReport:
    """Lint a file: an ``.eml`` message, or HTML (by suffix or content)."""
    options = options or LintOptions()
    data = _read(path, options)
    if not _looks_like_html(path, data):
        if text_path is not None:
            raise InputError(
                f"--text applies to HTML input, but {path} is a message; "
                "drop --text or pass the HTML file"
            )
        return lint_bytes(data, name=str(path), options=options)
    text = _read(text_path, options) if text_path else None
    headers = _read(header_path, options) if header_path else None
    return lint_html(data, text=text, headers=headers, name=str(path), options=options)


def clear_caches() -> None:
    """Forget what the linter keeps between messages.

    Parsed attributes, element styles, CSS declarations, colours, contrast
    ratios, URL hosts, organizational domains and client-support verdicts are kept
    for the next message, because a campaign's messages share their markup.
    Benchmarks call this before each pass, so that no pass gains from an
    earlier one.
    """
    htmlscan.clear_caches()
    css.clear_caches()
    clients.clear_caches()
    links.clear_caches()
    org_domain.cache_clear()


def _read(path: Path, options: LintOptions) -> bytes:
    """Read a message file, never more than the size cap allows.

    Devices, pipes and sockets are rejected before they are opened,
    because their size is meaningless and a pipe would block.
    """
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                f"{path} is not a regular file (a device, pipe or socket); "
                "pass message files"
            )
        _check_size(info.st_size, str(path), options)
        with path.open("rb") as handle:
            data = handle.read(options.max_size + 1)
        _check_size(len(data), str(path), options)  # it grew while being read
        return data
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; pass message files") from None
    except FileNotFoundError:
        raise InputError(f"{path} not found; check the path") from None
    except PermissionError:
        raise InputError(f"{path} is not readable; check its permissions") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot read {path}: {reason}; check the path") from None


def _parse(data: bytes, name: str) -> ParsedMessage:
    try:
        return parse_message(data)
    except InputError as exc:
        raise InputError(f"{name}: {exc}") from None


def _check_size(size: int, name: str, options: LintOptions) -> None:
    if size > options.max_size:
        raise InputError(
            f"{name} is {_megabytes(size)} MB, over the "
            f"{_megabytes(options.max_size)} MB limit; raise --max-size (in MB) "
            "to lint it anyway"
        )


def _megabytes(size: int) -> str:
    """Format ``size`` in the MB of --max-size (1,048,576 bytes)."""
    return f"{size / _MEGABYTE:.3g}" if size < _MEGABYTE else f"{size / _MEGABYTE:.1f}"


def _looks_like_html(path: Path, data: bytes) -> bool:
    if path.suffix.lower() in _HTML_SUFFIXES:
        return True
    head = data[:512].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<!--", b"<head", b"<body"))


def decode_html(data: bytes) -> str:
    """Decode an HTML file: UTF-8, else its <meta> charset, else Windows-1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _META_CHARSET.search(data[:4096])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            pass
    return data.decode("cp1252", "replace")


def wrap_html(
    html: bytes, *, text: bytes | None = None, headers: bytes | None = None
) -> bytes:
    """Build a message around an HTML body, as a sending platform would.

    The body is UTF-8 and quoted-printable; with ``text``, the message is
    multipart/alternative. Content fields in ``headers`` are replaced.
    """
    html_entity = _qp_entity("html", decode_html(html))
    if text is None:
        entity = b"MIME-Version: 1.0\n" + html_entity
    else:
        text_entity = _qp_entity("plain", decode_html(text))
        # Quoted-printable output never has "=_", so the boundary cannot
        # occur inside either part.
        boundary = b"=_alternative"
        entity = (
            b"MIME-Version: 1.0\nContent-Type: multipart/alternative; "
            b'boundary="'
            + boundary
            + b'"\n\n--'
            + boundary
            + b"\n"
            + text_entity
            + b"\n--"
            + boundary
            + b"\n"
            + html_entity
            + b"\n--"
            + boundary
            + b"--\n"
        )
    if headers is None:
        return entity
    fields = [
        line for line in _header_fields(headers) if not _CONTENT_FIELDS.match(line)
    ]
    return b"\n".join(fields) + b"\n" + entity


def _qp_entity(subtype: str, text: str) -> bytes:
    """Return a UTF-8 quoted-printable text entity, headers and body.

    ``binascii.b2a_qp`` keeps the line breaks and wraps longer lines at 76
    characters (RFC 2045, section 6.7), in C and in one pass: the email
    package's encoder took 90 times the input's size in memory on a file of
    newlines.
    """
    body = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    if _LONG_QP_LINE.search(body):
        body = b"\n".join(_rewrap(line) for line in body.split(b"\n"))
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        "Content-Transfer-Encoding: quoted-printable\n\n"
    ).encode("ascii") + body


def _rewrap(line: bytes) -> bytes:
    """Wrap a quoted-printable line at 76 characters with soft line breaks.

    CPython 3.11's ``b2a_qp`` can leave a line of 77 or 78 characters when
    it encodes trailing whitespace as ``=20``.
    """
    pieces = []
    while len(line) > 76:
        cut = 75
        if line[cut - 1 : cut] == b"=":
            cut -= 1
        elif line[cut - 2 : cut - 1] == b"=":
            cut -= 2
        pieces.append(line[:cut] + b"=")
        line = line[cut:]
    pieces.append(line)
    return b"\n".join(pieces)


def _header_fields(headers: bytes) -> list[bytes]:
    """Return the header block's fields, folded lines joined to their field."""
    block = headers.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].strip(b"\n")
    fields: list[bytes] = []
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += b"\n" + line
        elif line.strip():
            fields.append(line)
    return fields


def _run(message: ParsedMessage, name: str, options: LintOptions) -> LintReport:
    ctx = LintContext(message, options)
    for part in message.text_parts("text/html"):
        ctx.html.append((part, scan_html(part.text or "")))
    report = LintReport(name=name, raw=message.raw)
    for _, checks in FAMILIES:
        for check in checks:
            if not message.has_headers and check in HEADER_RULES:
                continue
            report.items.extend(check(ctx))
    report.sort()
    report.sources = _sources(message)
    report.details = _details(ctx)
    log.debug("linted %s: %d findings", name, len(report.items))
    return report


def _sources(message: ParsedMessage) -> dict[str, str | list[str]]:
    sources: dict[str, str | list[str]] = {"headers": message.header_lines}
    for part in message.parts:
        if part.text is not None:
            sources[part.path] = part.text
    return sources


def _details(ctx: LintContext) -> dict[str, object]:
    message = ctx.message
    return {
        "size": len(message.raw),
        "headers": message.has_headers,
        "profile": ctx.options.profile,
        "parts": [
            {
                "path": part.path,
                "content_type": part.content_type,
                "charset": part.charset,
                "transfer_encoding": part.transfer_encoding,
                "size": len(part.raw_body),
            }
            for part in message.parts
        ],
        "links": sum(len(doc.links) for _, doc in ctx.html),
        "images": sum(len(doc.images) for _, doc in ctx.html),
    }
