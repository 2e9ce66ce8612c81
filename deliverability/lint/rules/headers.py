"""Header rules: From, Date, Message-ID, Subject, To, Reply-To, Return-Path.

Thresholds follow SpamAssassin 4.0.1's rules (named in each reference) and
RFC 5322, section 3.6, which requires exactly one From and one Date field.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import re
from collections.abc import Iterator
from datetime import datetime

from ...findings import Severity, rule
from ..context import (
    Address,
    LintContext,
    addresses_in,
    decode_words,
    domain_of,
    org_domain,
    parse_addresses,
)
from ..message import HeaderField, safe
from ..model import LintItem

__all__ = ["FREEMAIL_DOMAINS", "RULES"]


MALFORMED = rule(
    "lint.header.malformed",
    "lint",
    Severity.WARNING,
    "Header line that is not a field",
    fix="Write every header line as 'Name: value'; fold long values with "
    "leading whitespace.",
    reference="RFC 5322, section 2.2",
)
FROM_MISSING = rule(
    "lint.header.from_missing",
    "lint",
    Severity.ERROR,
    "No From field",
    fix="Add one From field with the sender's mailbox.",
    reference="RFC 5322, section 3.6; SpamAssassin rule MISSING_FROM",
)
FROM_INVALID = rule(
    "lint.header.from_invalid",
    "lint",
    Severity.ERROR,
    "From field cannot be parsed",
    fix="Write From as 'Display Name <local@domain>'.",
    reference="RFC 5322, section 3.4",
)
FROM_MULTIPLE = rule(
    "lint.header.from_multiple",
    "lint",
    Severity.ERROR,
    "More than one From field or mailbox",
    fix="Keep exactly one From field with one mailbox; put others in Reply-To.",
    reference="RFC 5322, section 3.6; DMARC (RFC 7489, section 6.6.1)",
)
FROM_BLANK_NAME = rule(
    "lint.header.from_blank_name",
    "lint",
    Severity.WARNING,
    "Empty quoted display name",
    fix="Give the sender a display name or leave the quotes out.",
    reference="SpamAssassin rule FROM_BLANK_NAME",
)
FROM_EXCESS_BASE64 = rule(
    "lint.header.from_excess_base64",
    "lint",
    Severity.WARNING,
    "Plain ASCII display name B-encoded",
    fix="Write an ASCII display name as plain text, without =?...?B?...?=.",
    reference="SpamAssassin rule FROM_EXCESS_BASE64",
)
FROM_MISSPACED = rule(
    "lint.header.from_misspaced",
    "lint",
    Severity.WARNING,
    "No space between display name and address",
    fix="Put a space between the quoted display name and the '<'.",
    reference="SpamAssassin rule FROM_MISSPACED",
)
FROM_TRAILING_SPACE = rule(
    "lint.header.from_trailing_space",
    "lint",
    Severity.WARNING,
    "Whitespace before the closing angle bracket in From",
    fix="Remove the whitespace inside the angle brackets.",
    reference="SpamAssassin rule FROM_WSP_TRAIL",
)
FROM_NAME_SPOOF = rule(
    "lint.header.from_name_spoof",
    "lint",
    Severity.ERROR,
    "Display name shows another domain than the From address",
    fix="Use a display name without an e-mail address or domain, or one of the "
    "sender's own domain.",
    reference="SpamAssassin rule T_FROMNAME_SPOOFED_EMAIL",
)
DATE_MISSING = rule(
    "lint.header.date_missing",
    "lint",
    Severity.ERROR,
    "No Date field",
    fix="Stamp a Date field when the message is sent.",
    reference="RFC 5322, section 3.6; SpamAssassin rule MISSING_DATE",
)
DATE_INVALID = rule(
    "lint.header.date_invalid",
    "lint",
    Severity.ERROR,
    "Date field not in RFC 5322 form",
    fix="Write the date as 'Fri, 04 Dec 2026 15:30:00 +0000'.",
    reference="RFC 5322, section 3.3; SpamAssassin rule INVALID_DATE",
)
DATE_ZONE = rule(
    "lint.header.date_zone",
    "lint",
    Severity.ERROR,
    "Time zone offset that cannot exist",
    fix="Use a real UTC offset: at most 14 hours, minutes 00, 15, 30 or 45.",
    reference="SpamAssassin rule INVALID_DATE_TZ_ABSURD",
)
DATE_SKEW = rule(
    "lint.header.date_skew",
    "lint",
    Severity.WARNING,
    "Date far from the time the mail was received",
    fix="Stamp Date at send time, not when the campaign was written.",
    reference="SpamAssassin rules DATE_IN_PAST_03_06 and DATE_IN_FUTURE_03_06",
)
MESSAGE_ID_MISSING = rule(
    "lint.header.message_id_missing",
    "lint",
    Severity.ERROR,
    "No Message-ID field",
    fix="Add a Message-ID of the form <random-unique@your-domain>.",
    reference="RFC 5322, section 3.6.4; SpamAssassin rule MISSING_MID",
)
MESSAGE_ID_INVALID = rule(
    "lint.header.message_id_invalid",
    "lint",
    Severity.ERROR,
    "Message-ID not of the id@domain form in angle brackets",
    fix="Write Message-ID as <random-unique@your-domain>.",
    reference="RFC 5322, section 3.6.4; SpamAssassin rule INVALID_MSGID",
)
MESSAGE_ID_SHORT = rule(
    "lint.header.message_id_short",
    "lint",
    Severity.WARNING,
    "Suspiciously short Message-ID",
    fix="Use a long random local part (more than 4 characters, more than 15 in all).",
    reference="SpamAssassin rule MSGID_SHORT",
)
SUBJECT_MISSING = rule(
    "lint.header.subject_missing",
    "lint",
    Severity.ERROR,
    "No Subject or an empty one",
    fix="Give the message a Subject that says what it is about.",
    reference="SpamAssassin rule MISSING_SUBJECT",
)
SUBJECT_UNENCODED = rule(
    "lint.header.subject_unencoded",
    "lint",
    Severity.ERROR,
    "Raw 8-bit bytes in Subject",
    fix="Encode non-ASCII text in headers as RFC 2047 encoded words.",
    reference="RFC 2047; SpamAssassin rule SUBJECT_NEEDS_ENCODING",
)
SUBJECT_CAPS = rule(
    "lint.header.subject_all_caps",
    "lint",
    Severity.WARNING,
    "Subject in capitals only",
    fix="Write the subject in normal sentence case.",
    reference="SpamAssassin rule SUBJ_ALL_CAPS",
)
SUBJECT_ADV = rule(
    "lint.header.subject_adv",
    "lint",
    Severity.WARNING,
    "Subject starts with ADV",
    fix="Drop the 'ADV' prefix; say what the message is about.",
    reference="SpamAssassin rule ENGLISH_UCE_SUBJECT",
)
SUBJECT_GAPPY = rule(
    "lint.header.subject_gappy",
    "lint",
    Severity.WARNING,
    "G.a.p.p.y letters in Subject",
    fix="Write words without spaces or dots between their letters.",
    reference="SpamAssassin rule GAPPY_SUBJECT",
)
ADDRESS_UNENCODED = rule(
    "lint.header.address_unencoded",
    "lint",
    Severity.ERROR,
    "Raw 8-bit bytes in an address field",
    fix=(
        "Encode non-ASCII display names as RFC 2047 encoded words; send "
        "non-ASCII addresses only over SMTPUTF8 (RFC 6532)."
    ),
    reference=(
        "RFC 5322, section 2.2; RFC 6532; SpamAssassin rules FROM_ILLEGAL_CHARS "
        "and HEAD_ILLEGAL_CHARS"
    ),
)
TO_MISSING = rule(
    "lint.header.to_missing",
    "lint",
    Severity.WARNING,
    "No To field",
    fix="Address each message to its recipient in a To field.",
    reference="SpamAssassin rule MISSING_HEADERS",
)
REPLY_TO_DOMAIN = rule(
    "lint.header.reply_to_domain",
    "lint",
    Severity.WARNING,
    "Reply-To in another organization than From",
    fix="Use a Reply-To address under the sender's own domain.",
    reference="SpamAssassin rule FREEMAIL_FORGED_REPLYTO",
)
REPLY_TO_FREEMAIL = rule(
    "lint.header.reply_to_freemail",
    "lint",
    Severity.WARNING,
    "Free-mail Reply-To for a corporate sender",
    fix="Route replies to a mailbox under the sender's own domain.",
    reference="SpamAssassin rules FREEMAIL_FORGED_REPLYTO and FREEMAIL_REPLYTO",
)
REPLY_TO_WITHOUT_TO = rule(
    "lint.header.reply_to_without_to",
    "lint",
    Severity.WARNING,
    "Reply-To without To or Cc",
    fix="Add the recipient in To when a Reply-To is set.",
    reference="SpamAssassin rule REPLYTO_WITHOUT_TO_CC",
)
RETURN_PATH_DOMAIN = rule(
    "lint.header.return_path_domain",
    "lint",
    Severity.WARNING,
    "Envelope sender not aligned with From",
    fix="Send with a bounce address under the From domain's organization, so "
    "SPF aligns for DMARC.",
    reference="RFC 7489, section 3.1.2; SpamAssassin rule "
    "HEADER_FROM_DIFFERENT_DOMAINS",
)
RETURN_PATH_UNKNOWN = rule(
    "lint.header.return_path_unknown",
    "lint",
    Severity.INFO,
    "Envelope sender unknown",
    fix="Pass --envelope-from to check SPF alignment with From.",
    reference="RFC 7489, section 3.1.2",
)
MIME_VERSION_MISSING = rule(
    "lint.header.mime_version_missing",
    "lint",
    Severity.WARNING,
    "Content-Type without MIME-Version",
    fix="Add 'MIME-Version: 1.0' to every MIME message.",
    reference="RFC 2045, section 4; SpamAssassin rule MIME_HEADER_CTYPE_ONLY",
)

#: Free-mail providers (the largest of SpamAssassin's 20_freemail_domains.cf).
FREEMAIL_DOMAINS = frozenset(
    """
    gmail.com googlemail.com yahoo.com yahoo.co.uk yahoo.fr yahoo.de ymail.com
    rocketmail.com hotmail.com hotmail.co.uk hotmail.fr outlook.com live.com
    msn.com aol.com icloud.com me.com mac.com gmx.com gmx.de gmx.net web.de
    mail.ru yandex.ru yandex.com proton.me protonmail.com zoho.com mail.com
    qq.com 163.com 126.com libero.it orange.fr free.fr laposte.net t-online.de
    """.split()
)

_DATE = re.compile(
    r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?(\d{1,2})\s+"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{4}|\d{2})\s+"
    r"\d{1,2}:\d{2}(?::\d{2})?\s+([+-]\d{4}|UT|GMT|[A-Z]{1,3}T|Z)"
    r"(?:\s*\([^)]*\))?$",
    re.I,
)
_MESSAGE_ID = re.compile(r"^<([^<>@\s]+)@([^<>@\s]+)>$")
_GAPPY = re.compile(r"(?<!\w)(?:\w[ ._\-*/:]{1,3}){3,}\w(?!\w)")
_ENCODED_B = re.compile(r"=\?[^?]+\?b\?([^?]*)\?=", re.I)
_RECEIVED_DATE = re.compile(r";\s*([^;]+)$")
_SKEW_HOURS = 3


def check_malformed(ctx: LintContext) -> Iterator[LintItem]:
    """Flag header lines that are neither a field nor a continuation."""
    lines = ctx.message.malformed_header_lines
    if lines:
        text = ctx.message.header_lines[lines[0] - 1]
        found = MALFORMED.finding(
            f"{len(lines)} header line(s) are not 'Name: value' fields and "
            "receivers may drop or misread them.",
            evidence=text[:200],
            location=f"headers, line {lines[0]}",
        )
        yield LintItem(found, "headers", lines[0])


def check_from(ctx: LintContext) -> Iterator[LintItem]:
    """Check that From is present, single and parseable (section 3.6)."""
    fields = ctx.message.all_headers("From")
    if not fields:
        yield ctx.at_message(FROM_MISSING, "The message has no From field.")
        return
    first = fields[0]
    if len(fields) > 1:
        yield ctx.at_header(
            FROM_MULTIPLE, f"The message has {len(fields)} From fields.", fields[1]
        )
    addresses = ctx.from_addresses
    if not addresses or not addresses[0].domain:
        yield ctx.at_header(
            FROM_INVALID, "The From field holds no parseable mailbox.", first
        )
    elif len(addresses) > 1:
        yield ctx.at_header(
            FROM_MULTIPLE, f"From lists {len(addresses)} mailboxes.", first
        )
    yield from _from_shape(ctx, first)
    if addresses:
        yield from _from_name_spoof(ctx, first, addresses[0])


def _from_shape(ctx: LintContext, field: HeaderField) -> Iterator[LintItem]:
    value = field.value
    if re.match(r'^\s*""\s*<', value):
        yield ctx.at_header(FROM_BLANK_NAME, "From has an empty display name.", field)
    for encoded in _ENCODED_B.findall(value):
        decoded = _b64(encoded)
        if decoded is not None and decoded.isascii():
            yield ctx.at_header(
                FROM_EXCESS_BASE64,
                f"The display name {decoded!r} is ASCII but base64-encoded.",
                field,
            )
            break
    if re.search(r'"<', value):
        yield ctx.at_header(FROM_MISSPACED, "From has no space before '<'.", field)
    if re.search(r"\s>", value):
        yield ctx.at_header(
            FROM_TRAILING_SPACE, "From has whitespace before '>'.", field
        )


def _b64(text: str) -> str | None:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _from_name_spoof(
    ctx: LintContext, field: HeaderField, address: Address
) -> Iterator[LintItem]:
    own = org_domain(address.domain)
    name = address.display_name
    for domain in addresses_in(name):
        if org_domain(domain) != own:
            yield ctx.at_header(
                FROM_NAME_SPOOF,
                f"The display name shows an address at {domain}, but the mail "
                f"comes from {address.domain}.",
                field,
            )
            return
    # A bare domain is often a brand name ("ASP.NET Weekly", "Booking.com"),
    # so it gives a warning; an address is what spoofing uses, an error.
    for domain in re.findall(
        r"\b((?:[a-z0-9-]+\.)+(?:com|net|org|gov|edu|io|co|de|uk|fr))\b", name.lower()
    ):
        if org_domain(domain) != own:
            yield ctx.at_header(
                FROM_NAME_SPOOF,
                f"The display name shows {domain}, but the mail comes from "
                f"{address.domain}.",
                field,
                severity=Severity.WARNING,
            )
            return


def check_date(ctx: LintContext) -> Iterator[LintItem]:
    """Check Date's presence, shape, zone, and distance from Received."""
    field = ctx.message.header("Date")
    if field is None:
        yield ctx.at_message(DATE_MISSING, "The message has no Date field.")
        return
    match = _DATE.match(field.value)
    parsed, _ = safe(lambda: email.utils.parsedate_to_datetime(field.value), None)
    if match is None or parsed is None or not 1 <= int(match.group(1)) <= 31:
        yield ctx.at_header(DATE_INVALID, "Date is not in RFC 5322 form.", field)
        return
    zone = match.group(3)
    if zone[0] in "+-" and (
        int(zone[1:3]) > 14 or zone[3:] not in ("00", "15", "30", "45")
    ):
        yield ctx.at_header(DATE_ZONE, f"The zone offset {zone} cannot exist.", field)
        return
    yield from _date_skew(ctx, field, parsed)


def _date_skew(
    ctx: LintContext, field: HeaderField, sent: datetime
) -> Iterator[LintItem]:
    received = ctx.message.all_headers("Received")
    if not received or sent.tzinfo is None:
        return
    match = _RECEIVED_DATE.search(received[-1].value)
    if match is None:
        return
    stamp, _ = safe(lambda: email.utils.parsedate_to_datetime(match.group(1)), None)
    if stamp is None or stamp.tzinfo is None:
        return
    hours = (sent - stamp).total_seconds() / 3600
    if abs(hours) >= _SKEW_HOURS:
        direction = "after" if hours > 0 else "before"
        yield ctx.at_header(
            DATE_SKEW,
            f"Date is {abs(hours):.1f} hours {direction} the first Received stamp.",
            field,
        )


def check_message_id(ctx: LintContext) -> Iterator[LintItem]:
    """Check Message-ID's presence, shape and length."""
    field = ctx.message.header("Message-ID")
    if field is None:
        yield ctx.at_message(MESSAGE_ID_MISSING, "The message has no Message-ID.")
        return
    match = _MESSAGE_ID.match(field.value.strip())
    if match is None:
        yield ctx.at_header(
            MESSAGE_ID_INVALID, "Message-ID is not of the form <id@domain>.", field
        )
        return
    if len(field.value.strip()) <= 15 or len(match.group(1)) <= 4:
        yield ctx.at_header(
            MESSAGE_ID_SHORT, "Message-ID is 15 characters or shorter.", field
        )


def check_subject(ctx: LintContext) -> Iterator[LintItem]:
    """Check Subject: present, encoded, not capitals, ADV or gappy text."""
    field = ctx.message.header("Subject")
    if field is None or not field.value.strip():
        yield ctx.at_message(SUBJECT_MISSING, "The message has no Subject.")
        return
    if field.eight_bit:
        yield ctx.at_header(
            SUBJECT_UNENCODED,
            "Subject has raw 8-bit bytes, not RFC 2047 words.",
            field,
        )
    text = decoded_subject(field.value)
    yield from _subject_wording(ctx, field, text)


def decoded_subject(value: str) -> str:
    """Return the Subject with RFC 2047 words decoded (raw on failure)."""
    return decode_words(value) if "=?" in value else value


def _subject_wording(
    ctx: LintContext, field: HeaderField, text: str
) -> Iterator[LintItem]:
    stripped = re.sub(r"^\s*((re|fwd?|aw|wg)\s*:\s*)+", "", text, flags=re.I)
    letters = [c for c in stripped if c.isalpha()]
    if (
        len(stripped) >= 10
        and " " in stripped.strip()
        and len(letters) >= 5
        and stripped.upper() == stripped
        and stripped.lower() != stripped
    ):
        yield ctx.at_header(SUBJECT_CAPS, "Subject is written in capitals.", field)
    if re.match(r"^\s*ADV\b", stripped):
        yield ctx.at_header(SUBJECT_ADV, "Subject starts with 'ADV'.", field)
    gappy = _GAPPY.search(stripped)
    if gappy:
        yield ctx.at_header(
            SUBJECT_GAPPY, f"Subject spaces out letters: {gappy.group(0)!r}.", field
        )


def check_to(ctx: LintContext) -> Iterator[LintItem]:
    """Warn when no To field names the recipient."""
    if ctx.message.header("To") is None:
        yield ctx.at_message(TO_MISSING, "The message has no To field.")


_ADDRESS_FIELDS = ("From", "Sender", "Reply-To", "To", "Cc")


def check_address_encoding(ctx: LintContext) -> Iterator[LintItem]:
    """Flag raw 8-bit bytes in From, Sender, Reply-To, To and Cc."""
    for name in _ADDRESS_FIELDS:
        for field in ctx.message.all_headers(name):
            if field.eight_bit:
                yield ctx.at_header(
                    ADDRESS_UNENCODED,
                    f"{field.name} has raw 8-bit bytes, not RFC 2047 words.",
                    field,
                )


def check_reply_to(ctx: LintContext) -> Iterator[LintItem]:
    """Compare Reply-To with From's organization and free-mail status."""
    field = ctx.message.header("Reply-To")
    from_domain = ctx.from_domain
    if field is None or not from_domain:
        return
    replies = parse_addresses("reply-to", field.value)
    domains = {a.domain for a in replies if a.domain}
    foreign = sorted(d for d in domains if org_domain(d) != org_domain(from_domain))
    if foreign and from_domain not in FREEMAIL_DOMAINS:
        if any(d in FREEMAIL_DOMAINS for d in foreign):
            yield ctx.at_header(
                REPLY_TO_FREEMAIL,
                f"Replies go to free-mail {foreign[0]} while From is {from_domain}.",
                field,
            )
        else:
            yield ctx.at_header(
                REPLY_TO_DOMAIN,
                f"Replies go to {foreign[0]}, outside {org_domain(from_domain)}.",
                field,
            )
    if ctx.message.header("To") is None and ctx.message.header("Cc") is None:
        yield ctx.at_header(
            REPLY_TO_WITHOUT_TO, "Reply-To is set but there is no To or Cc.", field
        )


def check_return_path(ctx: LintContext) -> Iterator[LintItem]:
    """Compare the envelope sender's organization with From's (DMARC SPF alignment)."""
    field = ctx.message.header("Return-Path")
    envelope = ctx.options.envelope_from or (field.value if field else None)
    from_domain = ctx.from_domain
    if not from_domain:
        return
    if envelope is None:
        yield ctx.at_message(
            RETURN_PATH_UNKNOWN,
            "The envelope sender is unknown, so SPF alignment was not checked.",
        )
        return
    domain = domain_of(envelope.strip().strip("<>"))
    if not domain or org_domain(domain) == org_domain(from_domain):
        return
    message = (
        f"The envelope sender's domain {domain} is not in the organization of "
        f"From's {from_domain}."
    )
    if field is not None and ctx.options.envelope_from is None:
        yield ctx.at_header(RETURN_PATH_DOMAIN, message, field)
    else:
        yield ctx.at_message(RETURN_PATH_DOMAIN, message, evidence=envelope)


def check_mime_version(ctx: LintContext) -> Iterator[LintItem]:
    """Warn when Content-Type is present but MIME-Version is not."""
    content_type = ctx.message.header("Content-Type")
    if content_type is not None and ctx.message.header("MIME-Version") is None:
        yield ctx.at_header(
            MIME_VERSION_MISSING,
            "The message has a Content-Type but no MIME-Version field.",
            content_type,
        )


RULES = (
    check_malformed,
    check_from,
    check_date,
    check_message_id,
    check_subject,
    check_to,
    check_address_encoding,
    check_reply_to,
    check_return_path,
    check_mime_version,
)
"""Header rules in report order; they run only when the input has headers."""
