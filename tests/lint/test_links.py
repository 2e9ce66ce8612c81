"""Link rules: deceptive text, IP hosts, ports, shorteners, http, data: URIs."""

from __future__ import annotations

from .messages import BODY, TEXT, build_message, codes, html_document


def lint_link(lint, anchor: str):
    return lint(build_message(html=html_document(BODY + anchor)))


def test_text_shows_other_domain(lint):
    report = lint_link(
        lint, '<a href="https://evil.example.net/login">https://example.com/login</a>'
    )
    assert "lint.link.mismatch" in codes(report)


def test_text_shows_bare_domain(lint):
    report = lint_link(lint, '<a href="https://evil.example.net/">www.example.com</a>')
    assert "lint.link.mismatch" in codes(report)


def test_same_organization_passes(lint):
    report = lint_link(
        lint, '<a href="https://click.example.com/r/1">www.example.com</a>'
    )
    assert "lint.link.mismatch" not in codes(report)


def test_words_as_link_text_pass(lint):
    report = lint_link(lint, '<a href="https://evil.example.net/">Read more</a>')
    assert "lint.link.mismatch" not in codes(report)


def test_mismatch_location_points_at_anchor(lint):
    report = lint_link(lint, '\n<a href="https://evil.example.net/">example.com</a>')
    found = [f for f in report.findings if f.code == "lint.link.mismatch"]
    assert found[0].location == "part 2 text/html, line 21, <a href>"


def test_ip_host(lint):
    report = lint_link(lint, '<a href="http://192.0.2.7/offer">offer</a>')
    assert "lint.link.ip_host" in codes(report)


def test_decimal_ip_host(lint):
    report = lint_link(lint, '<a href="http://3221225991/offer">offer</a>')
    assert "lint.link.ip_host" in codes(report)


def test_odd_port(lint):
    report = lint_link(lint, '<a href="https://example.com:8443/x">x</a>')
    assert "lint.link.odd_port" in codes(report)


def test_port_8080_allowed(lint):
    report = lint_link(lint, '<a href="https://example.com:8080/x">x</a>')
    assert "lint.link.odd_port" not in codes(report)


def test_shortener(lint):
    report = lint_link(lint, '<a href="https://bit.ly/3abc">x</a>')
    found = [f for f in report.findings if f.code == "lint.link.shortener"]
    assert found[0].severity == "warning"


def test_shortener_in_short_mail_is_error(lint):
    html = html_document(
        '<p>Look: <a href="https://bit.ly/3abc">here</a></p>', preheader=""
    )
    report = lint(build_message(html=html, text="Look: https://bit.ly/3abc"))
    found = [f for f in report.findings if f.code == "lint.link.shortener"]
    assert found[0].severity == "error"


def test_shortener_in_text_part(lint):
    report = lint(build_message(text=TEXT + "\nMore: https://tinyurl.com/abcd\n"))
    assert "lint.link.shortener" in codes(report)


def test_plain_http_is_info(lint):
    report = lint_link(lint, '<a href="http://example.com/x">x</a>')
    found = [f for f in report.findings if f.code == "lint.link.plain_http"]
    assert found[0].severity == "info"


def test_data_uri_link(lint):
    report = lint_link(lint, '<a href="data:text/html;base64,PHA+">x</a>')
    assert "lint.link.data_uri" in codes(report)


def test_redirect_link(lint):
    report = lint_link(
        lint, '<a href="https://x.example.net/redirect.php?u=https://y">x</a>'
    )
    assert "lint.link.redirect" in codes(report)


def test_invalid_url(lint):
    report = lint_link(lint, '<a href="https://exa mple.com/">x</a>')
    assert "lint.link.invalid" in codes(report)


def test_merge_tag_href_ignored(lint):
    report = lint_link(lint, '<a href="*|ARCHIVE|*">www.example.org</a>')
    assert "lint.link.mismatch" not in codes(report)


def test_right_to_left_override_in_text(lint):
    report = lint_link(
        lint, '<a href="https://evil.example.net/">\u202emoc.elpmaxe.www</a>'
    )
    assert "lint.link.mismatch" in codes(report)


def test_zero_width_space_in_shown_domain(lint):
    report = lint_link(
        lint, '<a href="https://evil.example.net/">www.exa\u200bmple.com</a>'
    )
    assert "lint.link.mismatch" in codes(report)


def test_trailing_format_character_in_url_text(lint):
    report = lint_link(
        lint, '<a href="https://evil.example.net/">https://www.example.com\u200e</a>'
    )
    assert "lint.link.mismatch" in codes(report)


def test_data_uri_with_tab_in_scheme(lint):
    report = lint_link(lint, '<a href="da&#9;ta:text/html,hello">open</a>')
    assert "lint.link.data_uri" in codes(report)
