"""Header rules: From, Date, Message-ID, Subject, To, Reply-To, Return-Path."""

from __future__ import annotations

import pytest

from .messages import build_message, codes


def test_clean_message_has_no_header_findings(lint):
    report = lint(build_message())
    assert not [c for c in codes(report) if c.startswith("lint.header.")]


def test_clean_message_has_no_warnings(lint):
    report = lint(build_message())
    assert [f.code for f in report.findings if f.severity != "info"] == []


def test_from_missing(lint):
    assert "lint.header.from_missing" in codes(
        lint(build_message(headers={"From": None}))
    )


def test_from_two_mailboxes(lint):
    data = build_message(headers={"From": "a@example.com, b@example.com"})
    assert "lint.header.from_multiple" in codes(lint(data))


def test_from_unparsable(lint):
    data = build_message(headers={"From": "no address here"})
    assert "lint.header.from_invalid" in codes(lint(data))


def test_from_blank_name(lint):
    data = build_message(headers={"From": '"" <news@example.com>'})
    assert "lint.header.from_blank_name" in codes(lint(data))


def test_from_excess_base64(lint):
    data = build_message(headers={"From": "=?utf-8?B?TmV3cw==?= <news@example.com>"})
    assert "lint.header.from_excess_base64" in codes(lint(data))


def test_from_misspaced(lint):
    data = build_message(headers={"From": '"News"<news@example.com>'})
    assert "lint.header.from_misspaced" in codes(lint(data))


def test_from_trailing_space(lint):
    data = build_message(headers={"From": "News <news@example.com >"})
    assert "lint.header.from_trailing_space" in codes(lint(data))


def test_from_name_shows_other_domain(lint):
    data = build_message(headers={"From": '"service@paypal.com" <x@example.net>'})
    assert "lint.header.from_name_spoof" in codes(lint(data))


def test_from_name_own_domain_allowed(lint):
    data = build_message(headers={"From": '"news@example.com" <news@example.com>'})
    assert "lint.header.from_name_spoof" not in codes(lint(data))


def test_from_location_names_header_line(lint):
    report = lint(build_message(headers={"From": '"" <news@example.com>'}))
    found = [f for f in report.findings if f.code == "lint.header.from_blank_name"]
    assert found[0].location == "header From, line 1"


def test_date_missing(lint):
    assert "lint.header.date_missing" in codes(
        lint(build_message(headers={"Date": None}))
    )


def test_date_invalid(lint):
    data = build_message(headers={"Date": "2026-12-04 15:30"})
    assert "lint.header.date_invalid" in codes(lint(data))


def test_date_absurd_zone(lint):
    data = build_message(headers={"Date": "Fri, 04 Dec 2026 15:30:00 +1900"})
    assert "lint.header.date_zone" in codes(lint(data))


def test_date_odd_minutes_zone(lint):
    data = build_message(headers={"Date": "Fri, 04 Dec 2026 15:30:00 +0517"})
    assert "lint.header.date_zone" in codes(lint(data))


def test_date_far_before_received(lint):
    data = b"Received: from a by b; Sat, 05 Dec 2026 15:30:00 +0000\n" + build_message()
    assert "lint.header.date_skew" in codes(lint(data))


def test_date_near_received_passes(lint):
    data = b"Received: from a by b; Fri, 04 Dec 2026 15:31:00 +0000\n" + build_message()
    assert "lint.header.date_skew" not in codes(lint(data))


def test_message_id_missing(lint):
    data = build_message(headers={"Message-ID": None})
    assert "lint.header.message_id_missing" in codes(lint(data))


def test_message_id_invalid(lint):
    data = build_message(headers={"Message-ID": "no-brackets@example.com"})
    assert "lint.header.message_id_invalid" in codes(lint(data))


def test_message_id_short(lint):
    data = build_message(headers={"Message-ID": "<ab@x.io>"})
    assert "lint.header.message_id_short" in codes(lint(data))


def test_subject_missing(lint):
    data = build_message(headers={"Subject": None})
    assert "lint.header.subject_missing" in codes(lint(data))


def test_subject_raw_utf8(lint):
    data = build_message(headers={"Subject": "Caf\u00e9 workshops this week"})
    assert "lint.header.subject_unencoded" in codes(lint(data))


def test_subject_encoded_word_passes(lint):
    data = build_message(headers={"Subject": "=?utf-8?q?Caf=C3=A9_workshops?="})
    assert "lint.header.subject_unencoded" not in codes(lint(data))


@pytest.mark.parametrize(
    "field",
    [
        ("From", "Caf\u00e9 Gardens <news@example.com>"),
        ("To", "J\u00fcrgen <reader@example.org>"),
        ("Reply-To", "help@ex\u00e4mple.com"),
    ],
)
def test_address_raw_utf8(lint, field):
    name, value = field
    report = lint(build_message(headers={name: value}))
    found = [f for f in report.findings if f.code == "lint.header.address_unencoded"]
    assert len(found) == 1
    assert found[0].location.startswith(f"header {name}, line ")


def test_address_encoded_word_passes(lint):
    value = "=?utf-8?q?Caf=C3=A9_Gardens?= <news@example.com>"
    report = lint(build_message(headers={"From": value}))
    assert "lint.header.address_unencoded" not in codes(report)


def test_subject_all_caps(lint):
    data = build_message(headers={"Subject": "FREE GARDEN TOOLS TODAY"})
    assert "lint.header.subject_all_caps" in codes(lint(data))


def test_subject_short_caps_allowed(lint):
    data = build_message(headers={"Subject": "NEWS"})
    assert "lint.header.subject_all_caps" not in codes(lint(data))


def test_subject_adv(lint):
    data = build_message(headers={"Subject": "ADV: garden tools"})
    assert "lint.header.subject_adv" in codes(lint(data))


def test_subject_gappy(lint):
    data = build_message(headers={"Subject": "Get F.R.E.E seeds now"})
    assert "lint.header.subject_gappy" in codes(lint(data))


def test_to_missing(lint):
    assert "lint.header.to_missing" in codes(lint(build_message(headers={"To": None})))


def test_reply_to_other_organization(lint):
    data = build_message(headers={"Reply-To": "replies@other.example.net"})
    assert "lint.header.reply_to_domain" in codes(lint(data))


def test_reply_to_subdomain_allowed(lint):
    data = build_message(headers={"Reply-To": "help@support.example.com"})
    assert "lint.header.reply_to_domain" not in codes(lint(data))


def test_reply_to_freemail(lint):
    data = build_message(headers={"Reply-To": "example.news@gmail.com"})
    assert "lint.header.reply_to_freemail" in codes(lint(data))


def test_reply_to_without_to(lint):
    data = build_message(headers={"Reply-To": "news@example.com", "To": None})
    assert "lint.header.reply_to_without_to" in codes(lint(data))


def test_return_path_misaligned(lint):
    data = build_message(headers={"Return-Path": "<b@bounces.esp.example.net>"})
    assert "lint.header.return_path_domain" in codes(lint(data))


def test_envelope_option_overrides_header(lint):
    data = build_message()
    report = lint(data, envelope_from="x@elsewhere.example.net")
    assert "lint.header.return_path_domain" in codes(report)


def test_return_path_unknown_is_info(lint):
    report = lint(build_message(headers={"Return-Path": None}))
    found = [f for f in report.findings if f.code == "lint.header.return_path_unknown"]
    assert found[0].severity == "info"


def test_mime_version_missing(lint):
    data = build_message(headers={"MIME-Version": None})
    assert "lint.header.mime_version_missing" in codes(lint(data))


def test_malformed_header_line(lint):
    data = b"this line is no header\n" + build_message()
    assert "lint.header.malformed" in codes(lint(data))


def severity_of(report, code):
    return [str(f.severity) for f in report.findings if f.code == code]


def test_brand_domain_in_name_is_warning(lint):
    data = build_message(headers={"From": "ASP.NET Weekly <news@example.com>"})
    report = lint(data)
    assert severity_of(report, "lint.header.from_name_spoof") == ["warning"]


def test_other_address_in_name_is_error(lint):
    data = build_message(headers={"From": '"service@paypal.com" <news@example.com>'})
    report = lint(data)
    assert severity_of(report, "lint.header.from_name_spoof") == ["error"]


def test_mixed_line_endings_end_headers(lint):
    # LF header lines, then a CRLF empty line: the "Cc" below is body text.
    data = (
        b"From: news@example.com\nTo: reader@example.org\nSubject: Hi\n\r\n"
        b"Cc: J\xc3\xa9r\xc3\xb4me <j@example.com>\n"
    )
    report = lint(data)
    assert "lint.header.address_unencoded" not in codes(report)
    assert "lint.header.malformed" not in codes(report)


def test_header_block_ends_at_a_non_field_line(lint):
    data = (
        b"From: news@example.com\nTo: reader@example.org\nHi there\n"
        b"Cc: J\xc3\xa9r\xc3\xb4me <j@example.com>\n\nbody\n"
    )
    report = lint(data)
    malformed = [f for f in report.findings if f.code == "lint.header.malformed"]
    assert [f.location for f in malformed] == ["headers, line 3"]
    assert "lint.header.address_unencoded" not in codes(report)
