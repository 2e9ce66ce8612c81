"""MIME rules: alternatives, line lengths, transfer encodings, charsets."""

from __future__ import annotations

from .messages import HEADERS, TEXT, build_message, codes, html_document


def raw_message(body: bytes, content_type: str, encoding: str | None = None) -> bytes:
    head = "".join(f"{name}: {value}\n" for name, value in HEADERS.items())
    head += f"Content-Type: {content_type}\n"
    if encoding:
        head += f"Content-Transfer-Encoding: {encoding}\n"
    return head.encode() + b"\n" + body


def test_html_only(lint):
    assert "lint.mime.no_text_alternative" in codes(lint(build_message(text=None)))


def test_text_stub(lint):
    data = build_message(text="Hi.")
    assert "lint.mime.text_stub" in codes(lint(data))


def test_text_says_something_else(lint):
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 30
    assert "lint.mime.text_differs" in codes(lint(build_message(text=text)))


def test_text_matching_html_passes(lint):
    report = lint(build_message())
    assert "lint.mime.text_differs" not in codes(report)


def test_line_over_998_octets(lint):
    body = ("<p>" + "word " * 300 + "</p>").encode()
    data = raw_message(body, "text/html; charset=us-ascii", "7bit")
    assert "lint.mime.line_too_long" in codes(lint(data))


def test_long_line_location_has_line_number(lint):
    body = b"short\n" + b"x" * 1200 + b"\n"
    report = lint(raw_message(body, "text/plain; charset=us-ascii", "7bit"))
    found = [f for f in report.findings if f.code == "lint.mime.line_too_long"]
    assert found[0].location == f"message, line {len(HEADERS) + 5}"


def test_quoted_printable_line_over_76(lint):
    body = b"=" + b"3D" * 40 + b"\n"
    data = raw_message(body, "text/plain; charset=us-ascii", "quoted-printable")
    assert "lint.mime.encoded_line_long" in codes(lint(data))


def test_base64_line_over_76(lint):
    import base64

    body = base64.b64encode(b"garden " * 40) + b"\n"
    data = raw_message(body, "text/plain; charset=utf-8", "base64")
    assert "lint.mime.encoded_line_long" in codes(lint(data))


def test_eight_bit_in_seven_bit_part(lint):
    data = raw_message(
        "Caf\u00e9 opens at nine.\n".encode(), "text/plain; charset=utf-8"
    )
    assert "lint.mime.eight_bit_undeclared" in codes(lint(data))


def test_eight_bit_declared_passes(lint):
    data = raw_message("Caf\u00e9.\n".encode(), "text/plain; charset=utf-8", "8bit")
    assert "lint.mime.eight_bit_undeclared" not in codes(lint(data))


def test_fake_ascii_charset(lint):
    data = raw_message("Caf\u00e9.\n".encode(), "text/plain; charset=us-ascii", "8bit")
    assert "lint.mime.charset_mismatch" in codes(lint(data))


def test_latin1_bytes_labelled_utf8(lint):
    data = raw_message(
        "Caf\u00e9.\n".encode("latin-1"), "text/plain; charset=utf-8", "8bit"
    )
    assert "lint.mime.charset_mismatch" in codes(lint(data))


def test_unknown_charset(lint):
    data = raw_message(b"Hello.\n", "text/plain; charset=x-martian", "7bit")
    assert "lint.mime.charset_unknown" in codes(lint(data))


def test_base64_ascii_text_is_info(lint):
    import base64

    body = base64.encodebytes(TEXT.encode())
    report = lint(raw_message(body, "text/plain; charset=us-ascii", "base64"))
    found = [f for f in report.findings if f.code == "lint.mime.base64_text"]
    assert found[0].severity == "info"


def test_missing_boundary_is_defect(lint):
    data = raw_message(b"no parts here\n", "multipart/alternative")
    assert "lint.mime.defect" in codes(lint(data))


def test_multipart_without_text(lint):
    body = (
        b"--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\n"
        b"iVBORw0KGgo=\n--b--\n"
    )
    data = raw_message(body, 'multipart/mixed; boundary="b"')
    assert "lint.mime.no_text" in codes(lint(data))


def test_empty_message(lint):
    data = raw_message(b"\n", "text/plain; charset=us-ascii")
    assert "lint.mime.empty" in codes(lint(data))


def test_html_part_location_names_part(lint):
    report = lint(build_message(text=None, html=html_document().replace("<html>", "")))
    found = [f for f in report.findings if f.code == "lint.html.no_html_tag"]
    assert found[0].location == "part 1 text/html"
