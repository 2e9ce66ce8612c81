"""The fast MIME tree builder against the standard parser it replaces."""

from __future__ import annotations

import email.parser
import email.policy
from email.message import Message
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from deliverability.lint.mimetree import parse_clean

_STANDARD = email.parser.BytesParser(policy=email.policy.compat32)


def assert_same_tree(fast: Message, standard: Message, path: str = "1") -> None:
    """Compare two trees field by field, payloads and defects included."""
    assert fast._headers == standard._headers, path  # type: ignore[attr-defined]
    assert fast.get_unixfrom() == standard.get_unixfrom(), path
    assert fast.preamble == standard.preamble, path
    assert fast.epilogue == standard.epilogue, path
    assert fast.get_default_type() == standard.get_default_type(), path
    assert [type(d) for d in fast.defects] == [type(d) for d in standard.defects], path
    ours, theirs = fast.get_payload(), standard.get_payload()
    if isinstance(theirs, list):
        assert isinstance(ours, list), path
        assert len(ours) == len(theirs), path
        for index, (mine, other) in enumerate(zip(ours, theirs, strict=True), 1):
            assert_same_tree(mine, other, f"{path}.{index}")
    else:
        assert ours == theirs, path


def check(raw: bytes) -> Message | None:
    """Parse ``raw`` both ways and compare the trees when the fast parser
    returns one."""
    fast = parse_clean(raw)
    if fast is not None:
        assert_same_tree(fast, _STANDARD.parsebytes(raw))
    return fast


def test_corpus_trees_match(corpus_dir: Path) -> None:
    answered = 0
    for path in sorted(corpus_dir.rglob("*")):
        if path.is_file() and check(path.read_bytes()) is not None:
            answered += 1
    # Most real messages are clean enough for the fast way.
    assert answered >= 150


NESTED = (
    b"From sender@example.com Fri Dec  4 10:00:00 2026\n"
    b"From: a@example.com\nSubject: nested\n  folded\n"
    b'Content-Type: multipart/mixed; boundary="outer"\n\n'
    b"preamble line\n\n"
    b"--outer\n"
    b'Content-Type: multipart/alternative; boundary="inner"\n\n'
    b"--inner\nContent-Type: text/plain\n\nplain\n\n"
    b"--inner \t\nContent-Type: text/html\n\n<p>html</p>\n"
    b"--inner--\ninner epilogue\n"
    b"--outer\nContent-Type: application/pdf\n\n--outer-not-a-boundary\n"
    b"--outer--\nouter epilogue\n--outer\n"
)


def test_nested_multipart_keeps_epilogues() -> None:
    root = check(NESTED)
    assert root is not None
    assert root.get_unixfrom() == "From sender@example.com Fri Dec  4 10:00:00 2026"
    alternative, attachment = root.get_payload()
    assert alternative.epilogue == "inner epilogue"
    assert attachment.get_payload() == "--outer-not-a-boundary"
    assert root.epilogue == "outer epilogue\n--outer\n"


def test_crlf_line_endings() -> None:
    assert check(NESTED.replace(b"\n", b"\r\n")) is not None


def test_empty_nested_epilogue_is_none() -> None:
    raw = (
        b'Content-Type: multipart/mixed; boundary="o"\n\n--o\n'
        b'Content-Type: multipart/alternative; boundary="i"\n\n'
        b"--i\n\nno headers\n--i--\n--o--"
    )
    root = check(raw)
    assert root is not None
    assert root.get_payload()[0].epilogue is None
    assert root.epilogue == ""


def test_cases_left_to_the_standard_parser() -> None:
    multipart = b'Content-Type: multipart/mixed; boundary="b"\n\n'
    left = [
        b"Subject: lone\rcarriage return\n\nbody",
        b"Subject: no blank line ends these headers",
        b" continuation first\nSubject: x\n\nbody",
        b"Subject: x\nnot a header line\n\nbody",
        b": no name\n\nbody",
        b"Content-Type: message/rfc822\n\nSubject: inner\n\nbody",
        b'Content-Type: multipart/digest; boundary="b"\n\n--b\n\nx\n--b--\n',
        b"Content-Type: multipart/mixed\n\nno boundary parameter",
        b'Content-Type: multipart/mixed; boundary="b"\n'
        b"Content-Transfer-Encoding: base64\n\n--b\n\nx\n--b--\n",
        multipart + b"no start boundary\n--b--\n",
        multipart + b"--b\n\nno close boundary\n",
        multipart + b"--b\n--b\n\ntwo in a row\n--b--\n",
        multipart + b"--b--\n",
    ]
    for raw in left:
        assert check(raw) is None, raw


_LINE = st.text(alphabet="ab -:\t", max_size=12).map(lambda s: s.encode("ascii"))
_LINE_BREAK = st.sampled_from([b"\n", b"\r\n"])


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """Multipart messages, well formed or nearly so, with noise around the
    boundary lines."""
    eol = draw(_LINE_BREAK)

    def text() -> bytes:
        return b"".join(line + eol for line in draw(st.lists(_LINE, max_size=3)))

    boundary = draw(st.sampled_from([b"b", b"=_x", b"a b"]))
    pieces = [b'Content-Type: multipart/mixed; boundary="' + boundary + b'"' + eol]
    if draw(st.booleans()):
        pieces.append(b"X-Note: first" + eol + b" folded" + eol)
    pieces.append(eol)
    pieces.append(text())
    for _ in range(draw(st.integers(0, 3))):
        tail = draw(st.sampled_from([b"", b"", b" ", b"\t", b"x", b"-- "]))
        pieces.append(b"--" + boundary + tail + eol)
        if draw(st.booleans()):
            pieces.append(b"Content-Type: text/plain" + eol)
        pieces.append(draw(st.sampled_from([eol, eol, b""])))
        pieces.append(text())
    if draw(st.integers(0, 3)):
        pieces.append(b"--" + boundary + b"--" + draw(st.sampled_from([eol, b""])))
    pieces.append(text())
    return b"".join(pieces)


@settings(max_examples=600, deadline=None)
@given(messages())
def test_generated_messages_match(raw: bytes) -> None:
    check(raw)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_match_or_fall_back(raw: bytes) -> None:
    check(b"Content-Type: multipart/mixed; boundary=b\n\n" + raw)
    check(raw)
