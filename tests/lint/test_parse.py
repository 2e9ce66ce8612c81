"""Message parsing: the single-part shortcut builds the tree the email parser builds."""

from __future__ import annotations

import email.parser
import email.policy
from email.message import Message

import pytest

from deliverability.lint.message import parse_message

MESSAGES = {
    "plain": b"Subject: hi\nContent-Type: text/plain\n\nline one\nline two\n",
    "crlf body": b"Subject: hi\n\nbody\r\nmore\r\n",
    "eight-bit body": b"Subject: hi\n\n\xff\xfe body\n",
    "folded field": b"Subject: a\n  folded\nX-A: b\n\nbody\n",
    "mbox line": b"From someone\nSubject: hi\n\nbody\n",
    "last line from": b"Subject: hi\nFrom someone\n\nbody\n",
    "line without colon": b"Subject: hi\nno colon here\n\nbody\n",
    "leading blank line": b"\nSubject: hi\n\nbody\n",
    "crlf header": b"Subject: hi\r\n\r\nbody\n",
    "message type": b"Content-Type: message/rfc822\n\nSubject: inner\n\nbody\n",
    "multipart": (
        b"Content-Type: multipart/alternative; boundary=b\n\n--b\n\nx\n--b--\n"
    ),
    "only headers": b"Subject: hi\n\n",
}


def shape(root: Message) -> list[tuple[object, ...]]:
    """What lint reads of a tree: fields, payloads and defects of every node."""
    return [
        (
            node.items(),
            node.get_unixfrom(),
            None if node.is_multipart() else node.get_payload(),
            [type(defect).__name__ for defect in node.defects],
        )
        for node in root.walk()
    ]


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_same_tree(name):
    raw = MESSAGES[name]
    full = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    assert shape(parse_message(raw).root) == shape(full)
