"""Check a private key against the key record DNS publishes for its selector.

The check signs a test message with the key and verifies it against the
published record, the way a receiver would, so a key and record that do not
belong together show up before a campaign goes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..dns import Resolver, normalize_domain
from ..errors import InputError, InvalidDomainError
from ..findings import Finding
from . import rules
from .keys import SigningKey, check_selector
from .message import TestMessage, build_test_message
from .signing import Signer, sign_message
from .verification import DKIMResult, verify_dkim

__all__ = ["KeyCheck", "check_key"]

_EMPTY_P = re.compile(r"(^|;)\s*p\s*=\s*(;|$)")
_P_TAG = re.compile(r"(?:^|;)\s*p\s*=([^;]*)")


def _public_key(record: str) -> str:
    """Return the ``p=`` value of a key record without white space."""
    match = _P_TAG.search(record)
    return "".join(match.group(1).split()) if match else ""


@dataclass(slots=True)
class KeyCheck:
    """The outcome of checking one key against one selector's record."""

    name: str
    """The key record's name, ``selector._domainkey.domain``."""
    result: str
    """``match``, ``mismatch``, ``missing``, ``revoked`` or ``failed``."""
    algorithm: str
    records: list[str] = field(default_factory=list)
    """The TXT records published at the name."""
    expected_record: str = ""
    """The key record that belongs to the private key, to publish at the name."""
    dkim: DKIMResult | None = None
    """The verification of the test signature, when one was made."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """False when the record lookup failed."""
        return self.result != "failed"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "name": self.name,
            "result": self.result,
            "algorithm": self.algorithm,
            "records": self.records,
            "expected_record": self.expected_record,
            "dkim": self.dkim.to_dict() if self.dkim else None,
            "findings": [finding.to_dict() for finding in self.findings],
            "complete": self.complete,
        }


async def check_key(
    key: SigningKey, *, selector: str, domain: str, resolver: Resolver
) -> KeyCheck:
    """Sign a test message with ``key`` and verify it against the published record.

    Raises :class:`InputError` for an invalid selector or domain.
    """
    check_selector(selector)
    try:
        domain = normalize_domain(domain)
    except InvalidDomainError as exc:
        raise InputError(f"invalid domain for the key check: {exc}") from None
    name = f"{selector}._domainkey.{domain}"
    answer = await resolver.resolve(name, "TXT")
    check = KeyCheck(name, "match", key.algorithm, answer.texts, key.record)
    if answer.failed:
        check.result = "failed"
        check.findings.append(
            rules.KEY_LOOKUP_FAILED.finding(
                f"The lookup of TXT {name} failed ({answer.error}).", location=name
            )
        )
        return check
    if not answer.texts:
        check.result = "missing"
        check.findings.append(
            rules.KEY_RECORD_MISSING.finding(
                f"No key record is published at {name} ({answer.describe()}).",
                location=name,
            )
        )
        return check
    if all(_EMPTY_P.search(text) for text in answer.texts):
        check.result = "revoked"
        check.findings.append(
            rules.KEY_REVOKED.finding(
                f"The key record at {name} has an empty p=, so the key is revoked.",
                evidence=answer.texts[0],
                location=name,
            )
        )
        return check
    await _verify_test_signature(check, key, selector, domain, resolver)
    return check


async def _verify_test_signature(
    check: KeyCheck, key: SigningKey, selector: str, domain: str, resolver: Resolver
) -> None:
    message = build_test_message(TestMessage(from_address=f"keycheck@{domain}"))
    signed = sign_message(message, [Signer(key, selector, domain)])
    results = await verify_dkim(signed, resolver=resolver)
    check.dkim = results[0] if results else None
    if check.dkim is not None and check.dkim.passed:
        return
    check.result = "mismatch"
    reason = check.dkim.reason if check.dkim else "no signature was made"
    # A "fail" (not a permerror for an unusable record) with another p= means
    # the record belongs to another key.
    published = _public_key(check.records[0])
    failed = check.dkim is not None and check.dkim.result == "fail"
    if failed and published != _public_key(key.record):
        reason = (
            "the record publishes another public key, not the public half of "
            f"{key.source}"
        )
    check.findings.append(
        rules.KEY_MISMATCH.finding(
            f"A test message signed with {key.source} does not verify against the "
            f"record at {check.name}: {reason}.",
            evidence=check.records[0],
            location=check.name,
        )
    )
