"""Image rules: image-only and image-heavy mail, alt text, sizes, pixels."""

from __future__ import annotations

from .messages import BODY, build_message, codes, html_document

IMG = '<img src="https://example.com/a.jpg" alt="A" width="600" height="400">'


def lint_html(lint, body: str, text: str | None = None):
    return lint(
        build_message(html=html_document(body, preheader=""), text=text or "Hello.")
    )


def test_image_only(lint):
    report = lint_html(lint, IMG + "<p>Hi</p>")
    assert "lint.image.image_only" in codes(report)


def test_image_with_no_text_is_error(lint):
    html = "<html><body>" + IMG + "</body></html>"
    report = lint(build_message(html=html, text="x"))
    found = [f for f in report.findings if f.code == "lint.image.image_only"]
    assert found[0].severity == "error"


def test_image_heavy(lint):
    report = lint_html(lint, BODY + IMG * 4)
    assert "lint.image.image_heavy" in codes(report)


def test_balanced_mail_passes(lint):
    report = lint(build_message())
    assert not {"lint.image.image_only", "lint.image.image_heavy"} & codes(report)


def test_short_linked_image(lint):
    body = '<a href="https://example.com/">' + IMG + "</a><p>" + "word " * 100 + "</p>"
    assert "lint.image.short_linked" in codes(lint_html(lint, body))


def test_alt_missing(lint):
    body = BODY + '<img src="https://example.com/b.jpg" width="10" height="10">'
    report = lint_html(lint, body)
    found = [f for f in report.findings if f.code == "lint.image.alt_missing"]
    assert found[0].location.endswith("line 20, <img>")


def test_empty_alt_allowed(lint):
    body = BODY + '<img src="https://example.com/b.jpg" alt="" width="10" height="10">'
    assert "lint.image.alt_missing" not in codes(lint_html(lint, body))


def test_missing_dimensions_is_info(lint):
    report = lint_html(lint, BODY + '<img src="https://example.com/c.jpg" alt="C">')
    found = [f for f in report.findings if f.code == "lint.image.no_dimensions"]
    assert found[0].severity == "info"


def test_tracking_pixel(lint):
    body = BODY + '<img src="https://t.example.com/o.gif" width="1" height="1">'
    assert "lint.image.tracking_pixel" in codes(lint_html(lint, body))


def test_pixel_needs_no_alt(lint):
    body = BODY + '<img src="https://t.example.com/o.gif" width="1" height="1">'
    assert "lint.image.alt_missing" not in codes(lint_html(lint, body))
