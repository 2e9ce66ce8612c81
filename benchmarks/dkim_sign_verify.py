"""Sign and verify N messages with RSA 2048 and Ed25519: ours against dkimpy.

The floor is dkimpy called directly on the same messages, with the same
header list and canonicalization, and its key records served from a dict.
Ours is :func:`deliverability.auth.sign_message` and
:func:`deliverability.auth.verify_dkim` with an offline ZoneResolver, so the
overhead covers our checks, the result values and the resolver seam.

The two sides run in alternating rounds, and each is timed in CPU seconds of
this process, so a busy machine slows neither side's figure much.
No network is used. Usage::

    python3 benchmarks/dkim_sign_verify.py [--messages 10000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import dkim
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deliverability.auth import (  # noqa: E402
    Signer,
    SigningKey,
    TestMessage,
    build_test_message,
    generate_key,
    header_list,
    parse_private_key,
    sign_message,
    verify_dkim,
    zone_line,
)
from deliverability.auth.message import split_headers  # noqa: E402
from deliverability.dns import ZoneResolver  # noqa: E402

DOMAIN = "example.com"
T = TypeVar("T")


@dataclass
class Timings:
    """Seconds spent by each side, summed over rounds."""

    ours_sign: float = 0.0
    floor_sign: float = 0.0
    ours_verify: float = 0.0
    floor_verify: float = 0.0
    failures: list[str] = field(default_factory=list)


def _key(kind: str) -> SigningKey:
    private = generate_key(kind, 2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return parse_private_key(pem, f"generated {kind} key")


def _messages(count: int) -> list[bytes]:
    return [
        build_test_message(
            TestMessage(
                from_address=f"news{i % 50}@example.com",
                to_address=f"reader{i}@example.net",
                subject=f"Weekly letter number {i}",
                body=(
                    "Line of newsletter text with some words in it.\n" * (5 + i % 40)
                ),
            )
        )
        for i in range(count)
    ]


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    """Run ``work``; return its result and the CPU seconds it took.

    CPU time of this process: on a shared machine, time spent waiting for
    the CPU while other processes run does not count against either side.
    """
    start = time.process_time()
    result = work()
    return result, time.process_time() - start


def _floor_sign(
    messages: list[bytes], key: SigningKey, names: list[bytes]
) -> list[bytes]:
    out = []
    for message in messages:
        field_ = dkim.DKIM(message).sign(
            b"sel",
            DOMAIN.encode(),
            key.secret,
            signature_algorithm=key.algorithm.encode(),
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=names,
        )
        out.append(field_ + message)
    return out


def _floor_verify(signed: list[bytes], record: bytes) -> int:
    table = {f"sel._domainkey.{DOMAIN}.".encode(): record}

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        return table.get(name)

    return sum(bool(dkim.DKIM(m).verify(dnsfunc=lookup)) for m in signed)


def _ours_sign(messages: list[bytes], signer: list[Signer]) -> list[bytes]:
    return [sign_message(message, signer) for message in messages]


async def _ours_verify(signed: list[bytes], resolver: ZoneResolver) -> int:
    passed = 0
    for message in signed:
        results = await verify_dkim(message, resolver=resolver)
        passed += results[0].passed
    return passed


@dataclass
class _Setup:
    key: SigningKey
    names: list[bytes]
    resolver: ZoneResolver
    loop: asyncio.AbstractEventLoop


def _run_round(batch: list[bytes], setup: _Setup, timings: Timings) -> None:
    """Sign and verify one batch with dkimpy, then with ours, adding the times."""
    signer = [Signer(setup.key, "sel", DOMAIN)]
    floor, seconds = _timed(partial(_floor_sign, batch, setup.key, setup.names))
    timings.floor_sign += seconds
    ours, seconds = _timed(partial(_ours_sign, batch, signer))
    timings.ours_sign += seconds
    record = setup.key.record.encode()
    floor_passed, seconds = _timed(partial(_floor_verify, floor, record))
    timings.floor_verify += seconds
    verify = _ours_verify(ours, setup.resolver)
    ours_passed, seconds = _timed(partial(setup.loop.run_until_complete, verify))
    timings.ours_verify += seconds
    for side, passed in (("dkimpy", floor_passed), ("ours", ours_passed)):
        if passed != len(batch):
            timings.failures.append(f"{side}: {len(batch) - passed} failed")


def run_kind(kind: str, messages: list[bytes], rounds: int) -> Timings:
    """Time both sides for one key type over ``messages`` in ``rounds`` slices."""
    key = _key(kind)
    zone = (
        f"$ORIGIN {DOMAIN}.\n@ 3600 IN SOA ns.invalid. h.invalid. 1 1 1 1 1\n"
        f"{zone_line('sel', DOMAIN, key.record)}\n"
    )
    names = header_list(split_headers(messages[0])[0])
    timings = Timings()
    size = max(1, len(messages) // rounds)
    loop = asyncio.new_event_loop()
    setup = _Setup(key, names, ZoneResolver(texts={DOMAIN: zone}), loop)
    try:
        for start in range(0, len(messages), size):
            _run_round(messages[start : start + size], setup, timings)
    finally:
        loop.close()
    return timings


def _report(kind: str, count: int, timings: Timings) -> list[str]:
    lines = []
    for step in ("sign", "verify"):
        ours = getattr(timings, f"ours_{step}")
        floor = getattr(timings, f"floor_{step}")
        overhead = (ours / floor - 1) * 100
        lines.append(
            f"{kind:8} {step:6} ours {ours:7.2f} s ({ours / count * 1e6:7.1f} us/msg)  "
            f"dkimpy {floor:7.2f} s ({floor / count * 1e6:7.1f} us/msg)  "
            f"overhead {overhead:+5.1f}%"
        )
    lines.extend(f"{kind:8} FAILED {failure}" for failure in timings.failures)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per key type and step."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--messages",
        type=int,
        default=10_000,
        help="messages per key type (default: 10000)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=20,
        help="alternating slices per side (default: 20)",
    )
    args = parser.parse_args(argv)
    messages = _messages(args.messages)
    version = sys.version.split()[0]
    print(f"{args.messages} messages, {args.rounds} rounds, python {version}")
    failed = False
    for kind in ("rsa", "ed25519"):
        timings = run_kind(kind, messages, args.rounds)
        failed = failed or bool(timings.failures)
        label = "rsa-2048" if kind == "rsa" else kind
        print("\n".join(_report(label, args.messages, timings)), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
