"""Bad input: broken MIME, charsets, junk, huge parts, unclosed HTML, size cap."""

from __future__ import annotations

import base64
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.errors import InputError
from deliverability.lint import LintOptions, lint_bytes, lint_html
from deliverability.lint.message import parse_message

from .messages import HEADERS, build_message


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_binary_junk_never_raises(data):
    report = lint_bytes(data)
    assert isinstance(report.findings, list)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="<>/!-=\"' abcdefhilmnoprstvxy[]&;#\n", max_size=400))
def test_markup_junk_never_raises(text):
    report = lint_html(text.encode())
    assert isinstance(report.findings, list)


@pytest.mark.parametrize(
    "html",
    [
        b"<![ foo bar",
        b"<html><body><table><tr><td>never closed",
        b"<!--unclosed comment",
        b'<a href="http://[::1',
        b'<a href="https://example.com:99999/">x</a>',
        b"<p style='color:rgb(300,;font-size:-x'>x</p>",
        b"<style>@media { { { p{color:red</style>",
        b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>",
    ],
)
def test_hostile_html_gives_report(html):
    assert isinstance(lint_html(html).findings, list)


def test_header_that_email_package_rejects():
    data = b"From: =?utf-8?q?broken <a@\nSubject: =?x-unknown?b?????=\n\nbody\n"
    assert isinstance(lint_bytes(data).findings, list)


def test_size_cap_error_names_value_and_fix():
    with pytest.raises(InputError, match="raise --max-size"):
        lint_bytes(b"x" * 2000, options=LintOptions(max_size=1000))


def huge_attachment_message(size: int) -> bytes:
    head = "".join(f"{name}: {value}\n" for name, value in HEADERS.items())
    blob = base64.encodebytes(b"\x00" * size)
    return (
        head.encode()
        + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
        + b"Content-Type: text/plain; charset=us-ascii\n\nSee the attachment.\n--b\n"
        + b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n"
        + b'Content-Disposition: attachment; filename="big.bin"\n\n'
        + blob
        + b"--b--\n"
    )


def test_memory_bounded_by_message_size():
    # The stdlib parser alone peaks near 8 times the message (its line buffers).
    data = huge_attachment_message(6_000_000)
    tracemalloc.start()
    lint_bytes(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10 * len(data)


def test_attachment_is_not_decoded():
    parts = parse_message(huge_attachment_message(100_000)).parts
    assert parts[1].decoded_size == 0


def test_unknown_charset_in_html_part():
    data = build_message().replace(b'charset="utf-8"', b'charset="x-nothing"')
    assert isinstance(lint_bytes(data).findings, list)


def nested_multipart(depth: int) -> bytes:
    head = "".join(f"{name}: {value}\n" for name, value in HEADERS.items())
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (level, level)
        for level in range(depth)
    )
    closing = b"".join(b"\n--b%d--\n" % level for level in reversed(range(depth)))
    leaf = b"Content-Type: text/plain\n\nInside every container.\n"
    return head.encode() + opening + leaf + closing


def test_fifty_nested_multiparts_reach_the_leaf():
    report = lint_bytes(nested_multipart(50))
    assert report.details["parts"][0]["path"] == ".".join(["1"] * 50)


def test_too_deep_nesting_is_input_error():
    with pytest.raises(InputError, match="deep.eml: the message nests"):
        lint_bytes(nested_multipart(3000), name="deep.eml")


def test_millions_of_lines_are_input_error():
    data = b"Subject: x\n\n" + b"=\n" * 2_100_000
    with pytest.raises(InputError, match="lines.eml: the message has 2,100,003"):
        lint_bytes(data, name="lines.eml")


def test_html_of_newlines_wraps_in_bounded_memory():
    # The email package's quoted-printable encoder took 90 times this size.
    html = b"<html><body>" + b"\n" * 1_000_000 + b"</body></html>"
    tracemalloc.start()
    lint_html(html)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 40 * len(html)


@pytest.mark.parametrize("charset", ["punycode", "idna", "unicode_escape", "hex"])
def test_codec_that_is_no_charset_is_unknown(charset):
    body = b"abc-" + b"9" * 2000 + b"\n"
    data = build_message(text=None).split(b"\n\n", 1)[0]
    data = data.replace(
        b'text/html; charset="utf-8"', f"text/plain; charset={charset}".encode()
    )
    data = data.replace(b"quoted-printable", b"7bit") + b"\n\n" + body
    codes = {f.code for f in lint_bytes(data).findings}
    assert "lint.mime.charset_unknown" in codes


def test_invalid_utf7_is_mismatch():
    data = build_message(text=None).split(b"\n\n", 1)[0]
    data = data.replace(b'text/html; charset="utf-8"', b"text/plain; charset=utf-7")
    data = data.replace(b"quoted-printable", b"7bit") + b"\n\nbroken +AAA-+\n"
    codes = {f.code for f in lint_bytes(data).findings}
    assert "lint.mime.charset_mismatch" in codes
