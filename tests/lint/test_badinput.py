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
