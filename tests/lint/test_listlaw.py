"""List and law rules: List-Unsubscribe, one-click, body link, postal address."""

from __future__ import annotations

import pytest

from .messages import BODY, FOOTER, build_message, codes, html_document


def test_list_unsubscribe_missing_is_error(lint):
    report = lint(build_message(headers={"List-Unsubscribe": None}))
    found = [
        f for f in report.findings if f.code == "lint.list.unsubscribe_header_missing"
    ]
    assert found[0].severity == "error"


def test_transactional_profile_relaxes_header(lint):
    data = build_message(headers={"List-Unsubscribe": None})
    report = lint(data, profile="transactional")
    found = [
        f for f in report.findings if f.code == "lint.list.unsubscribe_header_missing"
    ]
    assert found[0].severity == "info"


def test_mailto_only(lint):
    data = build_message(headers={"List-Unsubscribe": "<mailto:u@example.com>"})
    assert "lint.list.unsubscribe_no_https" in codes(lint(data))


def test_http_uri_is_not_enough(lint):
    data = build_message(headers={"List-Unsubscribe": "<http://example.com/u>"})
    assert "lint.list.unsubscribe_no_https" in codes(lint(data))


def test_folded_inside_uri(lint):
    data = build_message(headers={"List-Unsubscribe": "<https://example.com/\n u?x=1>"})
    assert "lint.list.unsubscribe_folded" in codes(lint(data))


def test_post_missing(lint):
    data = build_message(headers={"List-Unsubscribe-Post": None})
    assert "lint.list.unsubscribe_post_missing" in codes(lint(data))


def test_post_wrong_value(lint):
    data = build_message(headers={"List-Unsubscribe-Post": "One-Click"})
    assert "lint.list.unsubscribe_post_invalid" in codes(lint(data))


def test_dkim_not_covering_unsubscribe(lint):
    signature = (
        "v=1; a=rsa-sha256; d=example.com; s=s1; h=from:to:subject:date; bh=x; b=y"
    )
    data = build_message(headers={"DKIM-Signature": signature})
    assert "lint.list.dkim_coverage" in codes(lint(data))


def test_dkim_covering_both_passes(lint):
    signature = (
        "v=1; a=rsa-sha256; d=example.com; s=s1; "
        "h=from:to:subject:list-unsubscribe:list-unsubscribe-post; bh=x; b=y"
    )
    data = build_message(headers={"DKIM-Signature": signature})
    assert "lint.list.dkim_coverage" not in codes(lint(data))


def html_without_footer(footer: str) -> str:
    return html_document(BODY).replace(FOOTER, footer)


def test_body_unsubscribe_missing(lint):
    html = html_without_footer(
        "<p>Example Gardens, 1200 Market Street, Springfield</p>"
    )
    report = lint(build_message(html=html, text="Hello garden friends."))
    assert "lint.list.body_unsubscribe_missing" in codes(report)


def test_merge_tag_counts_as_unsubscribe(lint):
    html = html_without_footer(
        '<p>1200 Market Street <a href="*|UNSUB|*">Leave this list</a></p>'
    )
    report = lint(build_message(html=html, text="Hello garden friends."))
    assert "lint.list.body_unsubscribe_missing" not in codes(report)


def test_unsubscribe_by_mail_only(lint):
    html = html_without_footer(
        '<p>1200 Market Street <a href="mailto:leave@example.com">Unsubscribe</a></p>'
    )
    report = lint(build_message(html=html, text="Hello garden friends."))
    assert "lint.list.body_unsubscribe_mailto" in codes(report)


def test_unsubscribe_on_ip_host(lint):
    html = html_without_footer(
        '<p>1200 Market Street <a href="http://192.0.2.5/unsubscribe">Unsubscribe</a></p>'
    )
    report = lint(build_message(html=html, text="Hello garden friends."))
    assert "lint.list.body_unsubscribe_suspect" in codes(report)


def test_postal_address_missing(lint):
    html = html_without_footer(
        '<p><a href="https://example.com/unsubscribe">Unsubscribe</a></p>'
    )
    report = lint(build_message(html=html, text="Hello garden friends."))
    assert "lint.list.postal_address_missing" in codes(report)


def test_address_merge_tag_counts(lint):
    html = html_without_footer(
        '<p>*|HTML:LIST_ADDRESS_HTML|* <a href="https://example.com/unsubscribe">Unsubscribe</a></p>'
    )
    report = lint(build_message(html=html, text="Hello garden friends."))
    assert "lint.list.postal_address_missing" not in codes(report)


def test_german_street_address_counts(lint):
    html = html_without_footer(
        "<p>Gartenfreunde, Lindenstra\u00dfe 12, 10969 Berlin "
        '<a href="https://example.com/abmelden">Abmelden</a></p>'
    )
    report = lint(build_message(html=html, text="Hallo."))
    assert "lint.list.postal_address_missing" not in codes(report)


def test_transactional_skips_address(lint):
    html = html_without_footer("<p>Your receipt.</p>")
    report = lint(
        build_message(html=html, text="Your receipt."), profile="transactional"
    )
    assert "lint.list.postal_address_missing" not in codes(report)


@pytest.mark.parametrize(
    "words",
    [
        "Se désabonner",
        "Manage your subscription",
        "Stop receiving these emails",
        "Disiscriviti",
        "Darse de baja",
        "Email settings",
    ],
)
def test_unsubscribe_wordings_count(lint, words):
    link = f'<a href="https://example.com/settings?u=4f2a">{words}</a>'
    html = html_without_footer(f"<p>1200 Market Street {link}</p>")
    report = lint(build_message(html=html, text="Hello garden friends."))
    assert "lint.list.body_unsubscribe_missing" not in codes(report)


@pytest.mark.parametrize(
    "text",
    [
        "Musterstraße 5, 10115 Berlin",
        "MUSTERSTRASSE 12",
        "Hauptstr. 3",
        "Feldweg 7",
        "Rosengasse 4",
        "Marktplatz 1",
        "Lindenallee 22",
        "Suite 400",
        "STE. 12",
        "3rd Floor 2",
        "PO Box 17",
    ],
)
def test_address_forms_found(text):
    from deliverability.lint.rules.listlaw import has_postal_address

    assert has_postal_address(f"Example Gardens, {text}")


@pytest.mark.parametrize("text", ["Call us on 5", "Nothing here 5", "Am Weg"])
def test_text_without_address(text):
    from deliverability.lint.rules.listlaw import has_postal_address

    assert not has_postal_address(text)


@pytest.mark.parametrize(
    ("url", "found"),
    [
        ("https://example.com/UNSUBSCRIBE?u=1", True),
        ("https://example.com/Opt-Out", True),
        ("https://example.com/abmelden", True),
        ("https://example.com/news", False),
        # Case-blind matching equates the long s with s; non-ASCII text
        # keeps that behaviour.
        ("https://example.com/un\u017fubscribe", True),
        ("https://example.com/D\u00c9SINSCRIPTION", True),
    ],
)
def test_unsubscribe_words_in_urls(url, found):
    from deliverability.lint.rules.listlaw import _offers_unsubscribe

    assert _offers_unsubscribe(url) is found


def test_address_tag_after_other_merge_tags():
    from deliverability.lint.rules.listlaw import _has_address_tag

    html = "*|MC:SUBJECT|* *|FNAME|* <p>*|HTML:LIST_ADDRESS_HTML|*</p>"
    assert _has_address_tag(html)
    assert _has_address_tag("{{ Address }}")
    assert not _has_address_tag("*|FNAME|* {{ name }}")
