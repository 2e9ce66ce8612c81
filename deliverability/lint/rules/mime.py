"""MIME rules: alternatives, line lengths, transfer encodings and charsets."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any, TypeVar

from ...findings import Severity, rule
from ..context import LintContext
from ..message import Part
from ..model import LintItem

__all__ = ["RULES", "words"]


LINE_TOO_LONG = rule(
    "lint.mime.line_too_long",
    "lint",
    Severity.ERROR,
    "Line longer than 998 octets",
    fix="Encode long HTML lines as quoted-printable or base64, or wrap them.",
    reference="RFC 5322, section 2.1.1",
)
ENCODED_LINE_LONG = rule(
    "lint.mime.encoded_line_long",
    "lint",
    Severity.WARNING,
    "Encoded line longer than 76 characters",
    fix="Wrap quoted-printable and base64 output at 76 characters.",
    reference="RFC 2045, sections 6.7 and 6.8; SpamAssassin rules "
    "MIME_QP_LONG_LINE and BASE64_LENGTH_79_INF",
)
EIGHT_BIT_UNDECLARED = rule(
    "lint.mime.eight_bit_undeclared",
    "lint",
    Severity.ERROR,
    "8-bit bytes in a 7bit part",
    fix="Declare Content-Transfer-Encoding: 8bit, or encode the part as "
    "quoted-printable or base64.",
    reference="RFC 2045, section 2.7; SpamAssassin rule CTE_8BIT_MISMATCH",
)
CHARSET_MISMATCH = rule(
    "lint.mime.charset_mismatch",
    "lint",
    Severity.ERROR,
    "Bytes not valid in the declared charset",
    fix="Declare the charset the text is really encoded in (usually utf-8).",
    reference="RFC 2046, section 4.1.2; SpamAssassin rule PP_MIME_FAKE_ASCII_TEXT",
)
CHARSET_UNKNOWN = rule(
    "lint.mime.charset_unknown",
    "lint",
    Severity.ERROR,
    "Unknown charset",
    fix="Declare a registered charset such as utf-8.",
    reference="RFC 2046, section 4.1.2",
)
BASE64_TEXT = rule(
    "lint.mime.base64_text",
    "lint",
    Severity.INFO,
    "Plain ASCII text encoded as base64",
    fix="Send ASCII text as 7bit or quoted-printable; base64 hides it from "
    "people and looks evasive to filters.",
    reference="SpamAssassin rule MIME_BASE64_TEXT",
)
DEFECT = rule(
    "lint.mime.defect",
    "lint",
    Severity.WARNING,
    "Malformed MIME structure",
    fix="Generate the message with a standard MIME library.",
    reference="RFC 2046, section 5.1",
)
NO_TEXT_ALTERNATIVE = rule(
    "lint.mime.no_text_alternative",
    "lint",
    Severity.WARNING,
    "HTML without a text/plain alternative",
    fix="Send multipart/alternative with a text/plain part that says the same.",
    reference="SpamAssassin rule MIME_HTML_ONLY",
)
NO_TEXT = rule(
    "lint.mime.no_text",
    "lint",
    Severity.WARNING,
    "Multipart message without any text part",
    fix="Add a text/plain (and text/html) body next to the attachments.",
    reference="SpamAssassin rule MIME_NO_TEXT",
)
TEXT_STUB = rule(
    "lint.mime.text_stub",
    "lint",
    Severity.WARNING,
    "text/plain alternative is a stub",
    fix="Write the full message in the text/plain part, not a one-line placeholder.",
    reference="SpamAssassin rule MIME_HTML_MOSTLY",
)
TEXT_DIFFERS = rule(
    "lint.mime.text_differs",
    "lint",
    Severity.WARNING,
    "Text and HTML alternatives say different things",
    fix="Generate the text/plain part from the same copy as the HTML.",
    reference="SpamAssassin rules MPART_ALT_DIFF and MPART_ALT_DIFF_COUNT",
)
EMPTY = rule(
    "lint.mime.empty",
    "lint",
    Severity.ERROR,
    "No visible body and no attachment",
    fix="Put the message content in a text/plain or text/html part.",
    reference="SpamAssassin rule EMPTY_MESSAGE",
)

# RFC 5322, section 2.1.1: at most 998 octets before the CRLF. Anchored at
# line starts so the scan stays linear.
_LONG_LINE = re.compile(rb"^[^\r\n]{999,}", re.M)
# RFC 2045, sections 6.7 and 6.8: encoded lines of at most 76 characters.
_LONG_ENCODED = re.compile(r"^[^\r\n]{77,}", re.M)
_Text = TypeVar("_Text", str, bytes)
_WORD = re.compile(r"[^\W\d_]{3,}")
_STUB_RATIO = 0.01  # MIME_HTML_MOSTLY: text bytes below 1 % of the HTML bytes
_SHARED_MIN = 0.01  # MPART_ALT_DIFF: more than 99 % of HTML words missing
_WORDIER = 3.0  # MPART_ALT_DIFF_COUNT: text more than 3 times the HTML words


def words(text: str) -> list[str]:
    """Return the lower-case words of three letters or more in ``text``."""
    return _WORD.findall(text.lower())


def check_line_length(ctx: LintContext) -> Iterator[LintItem]:
    """Flag lines longer than 998 octets anywhere in the message."""
    raw = ctx.message.raw
    if not _has_line_over(raw, 998):
        return
    matches = list(_LONG_LINE.finditer(raw))
    if not matches:
        return
    first = matches[0]
    line = raw.count(b"\n", 0, first.start()) + 1
    found = LINE_TOO_LONG.finding(
        f"{len(matches)} line(s) exceed 998 octets; the first has "
        f"{len(first.group(0))} and relays may break or reject it.",
        location=f"message, line {line}",
        evidence=first.group(0)[:120].decode("utf-8", "replace") + "...",
    )
    yield LintItem(found)


def _has_line_over(text: _Text, limit: int) -> bool:
    """Return whether a line of ``text`` (split at LF) is longer than ``limit``.

    A multi-line pattern tests every offset for a line start. Here the
    regex engine jumps from LF to LF, and the first line is measured apart;
    the detailed pattern runs only when this is true.
    """
    newline = b"\n" if isinstance(text, bytes) else "\n"
    first = text.find(newline)
    if (len(text) if first < 0 else first) > limit:
        return True
    pattern = _OVER_LIMIT.get((type(text), limit))
    if pattern is None:
        source = f"\n[^\n]{{{limit + 1}}}"
        pattern = _OVER_LIMIT[type(text), limit] = re.compile(
            source.encode("ascii") if isinstance(text, bytes) else source
        )
    return pattern.search(text) is not None


_OVER_LIMIT: dict[tuple[type, int], re.Pattern[Any]] = {}
"""Compiled ``LF, then more than N other characters`` patterns."""


def check_encodings(ctx: LintContext) -> Iterator[LintItem]:
    """Check each leaf's transfer encoding against its bytes."""
    for part in ctx.message.parts:
        encoding = part.transfer_encoding
        if encoding in ("base64", "quoted-printable"):
            yield from _encoded_lines(ctx, part)
        elif encoding in ("7bit", "") and not part.raw_body.isascii():
            yield ctx.at_part(
                EIGHT_BIT_UNDECLARED,
                f"The part is declared {encoding or '7bit'} but has 8-bit bytes.",
                part,
            )
        if encoding == "base64" and part.text is not None and part.text.isascii():
            yield ctx.at_part(
                BASE64_TEXT, "The part is plain ASCII text sent as base64.", part
            )


def _encoded_lines(ctx: LintContext, part: Part) -> Iterator[LintItem]:
    if not _has_line_over(part.raw_body, 76):
        return
    match = _LONG_ENCODED.search(part.raw_body)
    if match is None:
        return
    number = part.raw_body.count("\n", 0, match.start()) + 1
    yield ctx.at_part(
        ENCODED_LINE_LONG,
        f"A {part.transfer_encoding} line is {len(match.group(0))} characters "
        "long; the limit is 76.",
        part,
        evidence=match.group(0)[:100],
        element=f"encoded line {number}",
    )


def check_charsets(ctx: LintContext) -> Iterator[LintItem]:
    """Flag text parts whose declared charset is unknown or wrong for the bytes."""
    for part in ctx.message.parts:
        charset = part.charset or "us-ascii (default)"
        if part.charset_problem == "unknown":
            yield ctx.at_part(
                CHARSET_UNKNOWN, f"The charset {charset!r} is not known.", part
            )
        elif part.charset_problem == "mismatch":
            yield ctx.at_part(
                CHARSET_MISMATCH,
                f"The bytes of this part are not valid {charset}.",
                part,
            )


def check_defects(ctx: LintContext) -> Iterator[LintItem]:
    """Report the structural defects the email parser found, one per kind."""
    seen: Counter[str] = Counter(name for _, name in ctx.message.defects)
    reported: set[str] = set()
    for path, name in ctx.message.defects:
        if name in reported:
            continue
        reported.add(name)
        found = DEFECT.finding(
            f"The MIME parser found {name} ({seen[name]} time(s)).",
            location=f"part {path}",
            evidence=name,
        )
        yield LintItem(found)


def check_alternatives(ctx: LintContext) -> Iterator[LintItem]:
    """Check that a text/plain alternative exists and matches the HTML."""
    html_parts = ctx.message.text_parts("text/html")
    text_parts = ctx.message.text_parts("text/plain")
    if ctx.message.containers and not html_parts and not text_parts:
        yield ctx.at_message(NO_TEXT, "The multipart message has no text part.")
        return
    if not html_parts:
        return
    if not text_parts:
        yield ctx.at_part(
            NO_TEXT_ALTERNATIVE,
            "The message has HTML but no text/plain alternative.",
            html_parts[0],
        )
        return
    yield from _compare_alternatives(ctx, html_parts[0], text_parts[0])


def _compare_alternatives(
    ctx: LintContext, html_part: Part, text_part: Part
) -> Iterator[LintItem]:
    html_size = len(html_part.text or "")
    text_size = len((text_part.text or "").strip())
    if html_size and text_size / html_size < _STUB_RATIO:
        yield ctx.at_part(
            TEXT_STUB,
            f"The text part has {text_size} characters against {html_size} of HTML.",
            text_part,
        )
        return
    html_words = words(ctx.html_text)
    text_words = words(text_part.text or "")
    if not html_words or not text_words:
        return
    vocabulary = set(text_words)
    shared = sum(1 for word in set(html_words) if word in vocabulary)
    if shared / len(set(html_words)) < _SHARED_MIN:
        yield ctx.at_part(
            TEXT_DIFFERS,
            "Almost none of the HTML's words appear in the text part.",
            text_part,
        )
    elif len(text_words) > _WORDIER * len(html_words):
        yield ctx.at_part(
            TEXT_DIFFERS,
            f"The text part has {len(text_words)} words, more than three times "
            f"the HTML's {len(html_words)}.",
            text_part,
        )


def check_empty(ctx: LintContext) -> Iterator[LintItem]:
    """Flag a message with no visible text and no attachment."""
    message = ctx.message
    if any(
        part.attachment or not part.content_type.startswith("text/")
        for part in message.parts
    ):
        return
    if ctx.plain_text.strip() or ctx.html_text.strip():
        return
    if any(doc.images for _, doc in ctx.html):
        return
    yield ctx.at_message(EMPTY, "The message has no visible text and no attachment.")


RULES = (
    check_line_length,
    check_encodings,
    check_charsets,
    check_defects,
    check_alternatives,
    check_empty,
)
"""MIME rules in report order."""
