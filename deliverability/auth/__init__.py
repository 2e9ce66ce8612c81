"""Test messages: DKIM keys, signing, verification and a receiver's verdict.

Every DNS lookup goes through a :class:`~deliverability.dns.Resolver`, so the
same calls work live, against given nameservers and offline on zone files.
"""

from __future__ import annotations

from .dmarc import DMARCResult, aligned, evaluate_dmarc
from .iprev import IPRevResult, check_iprev
from .keycheck import KeyCheck, check_key
from .keys import (
    SigningKey,
    generate_key,
    key_record,
    load_private_key,
    parse_private_key,
    rotation_plan,
    split_txt,
    write_private_key,
    zone_line,
)
from .message import (
    MAX_MESSAGE_BYTES,
    TestMessage,
    author_domains,
    build_test_message,
    read_message,
)
from .results import MethodResult, format_header
from .signing import Signer, header_list, sign_message
from .spf import SPFResult, check_host
from .verdict import Connection, Verdict, verify_message
from .verification import MAX_SIGNATURES, DKIMResult, verify_dkim

__all__ = [
    "MAX_MESSAGE_BYTES",
    "MAX_SIGNATURES",
    "Connection",
    "DKIMResult",
    "DMARCResult",
    "IPRevResult",
    "KeyCheck",
    "MethodResult",
    "SPFResult",
    "Signer",
    "SigningKey",
    "TestMessage",
    "Verdict",
    "aligned",
    "author_domains",
    "build_test_message",
    "check_host",
    "check_iprev",
    "check_key",
    "evaluate_dmarc",
    "format_header",
    "generate_key",
    "header_list",
    "key_record",
    "load_private_key",
    "parse_private_key",
    "read_message",
    "rotation_plan",
    "sign_message",
    "split_txt",
    "verify_dkim",
    "verify_message",
    "write_private_key",
    "zone_line",
]
