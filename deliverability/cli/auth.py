"""The ``keygen``, ``sign``, ``verify`` and ``keycheck`` subcommands."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from ..auth import keys
from ..auth.dmarc import DISCOVERY_METHODS
from ..auth.keycheck import check_key
from ..auth.message import (
    TestMessage,
    author_domains,
    build_test_message,
    read_message,
    split_headers,
)
from ..auth.signing import Signer, sign_message
from ..auth.verdict import Connection, verify_message
from ..dns import Resolver, normalize_domain
from ..dns.factory import make_resolver
from ..errors import InputError
from ..findings import Finding
from .common import (
    EXIT_FINDINGS,
    EXIT_INCOMPLETE,
    EXIT_OK,
    add_output_options,
    exit_status_for,
    open_output,
)

__all__ = ["register"]

T = TypeVar("T")
_FORMATS = ("text", "json")


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``keygen``, ``sign``, ``verify`` and ``keycheck`` parsers."""
    _register_keygen(subparsers)
    _register_sign(subparsers)
    _register_verify(subparsers)
    _register_keycheck(subparsers)


def _add_dns_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar="PATH",
        help="zone file, or folder of *.zone files; records are read from these "
        "files only and nothing is sent to the network (repeatable)",
    )
    parser.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="ADDR[:PORT]",
        help="ask this nameserver instead of the system's resolvers (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=2.0,
        metavar="SECONDS",
        help="seconds to wait for one DNS reply (default: 2)",
    )


def _seconds(text: str) -> float:
    """Parse a positive, finite number of seconds (an argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: give a positive number of seconds, such as 2"
        )
    return value


def _resolver(args: argparse.Namespace) -> Resolver:
    return make_resolver(
        zones=args.zone, nameservers=args.nameserver, timeout=args.timeout
    )


def _run_with_resolver(
    args: argparse.Namespace, work: Callable[[Resolver], Awaitable[T]]
) -> T:
    async def main() -> T:
        resolver = _resolver(args)
        try:
            return await work(resolver)
        finally:
            await resolver.aclose()

    return asyncio.run(main())


def _open_report(path: str | None) -> IO[str]:
    try:
        return open_output(path)
    except OSError as exc:
        raise InputError(
            f"cannot write the report to {path}: {exc.strerror or exc}; give "
            "another --output path"
        ) from None


def _write_text(
    args: argparse.Namespace, text: str, out: IO[str] | None = None
) -> None:
    out = out or _open_report(args.output)
    try:
        out.write(text)
    finally:
        if out is not sys.stdout:
            out.close()


def _terminal_safe(text: str) -> str:
    """Escape control characters, which messages and DNS data may contain."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _findings_text(findings: Iterable[Finding]) -> list[str]:
    lines = []
    for finding in findings:
        message = _terminal_safe(finding.message)
        lines.append(f"{finding.severity} {finding.code}: {message}")
        if finding.fix:
            lines.append(f"  fix: {finding.fix}")
    return lines


# keygen ------------------------------------------------------------------


def _register_keygen(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "keygen",
        help="make a DKIM key pair and print its DNS record",
        description=(
            "Write a new DKIM private key as PEM (mode 0600, never overwriting a "
            "file) and print the key record to publish, as a zone-file line and "
            "as TXT strings of at most 255 bytes."
        ),
    )
    parser.add_argument("--domain", required=True, help="the signing domain (d=)")
    parser.add_argument(
        "--selector", help="selector (s=); default: s plus the year and month"
    )
    parser.add_argument(
        "--type",
        dest="key_type",
        choices=keys.ALGORITHMS,
        default="rsa",
        help="key type (default: rsa)",
    )
    parser.add_argument(
        "--bits",
        type=int,
        help=f"RSA key size in bits, {keys.MIN_RSA_BITS} to {keys.MAX_RSA_BITS} "
        "(default: 2048); not for Ed25519",
    )
    parser.add_argument(
        "--key-file",
        required=True,
        metavar="PATH",
        help="where to write the private key; an existing file is never replaced",
    )
    parser.add_argument(
        "--rotate-from",
        metavar="SELECTOR",
        help="also print a plan that replaces the key of this selector",
    )
    add_output_options(parser, formats=_FORMATS)
    parser.set_defaults(handler=run_keygen)


def run_keygen(args: argparse.Namespace) -> int:
    """Generate and write the key, then print its record; return the exit status."""
    # Check every input, and open the report, before a key file is written.
    selector = _keygen_selectors(args)
    normalize_domain(args.domain)
    bits = _keygen_bits(args)
    _check_new_key_file(args.key_file)
    out = _open_report(args.output)

    try:
        key = keys.generate_key(args.key_type, bits)
        path = keys.write_private_key(args.key_file, key)
    except BaseException:
        if out is not sys.stdout:
            out.close()
        raise

    data = _keygen_data(args, selector, key, path)
    if args.format == "json":
        _write_text(args, json.dumps(data, indent=2) + "\n", out)
    else:
        _write_text(args, _keygen_text(data), out)
    return EXIT_OK


def _check_new_key_file(path: str) -> None:
    if path == "-":
        raise InputError(
            "invalid --key-file -: give a file path; the private key is never "
            "written to standard output"
        )
    if os.path.lexists(path):
        # write_private_key checks again, without a race, when it creates it.
        raise InputError(
            f"key file {path} already exists; choose another path or move the "
            "old key away first (keys are never overwritten)"
        )


def _keygen_selectors(args: argparse.Namespace) -> str:
    """Return the new selector after checking it and ``--rotate-from``."""
    selector = keys.default_selector() if args.selector is None else args.selector
    keys.check_selector(selector)
    if args.rotate_from is None:
        return str(selector)
    keys.check_selector(args.rotate_from)
    # DNS names are case-insensitive, so S1 and s1 are the same record.
    if args.rotate_from.lower() == selector.lower():
        raise InputError(
            f"--rotate-from {args.rotate_from} is the new selector too; give "
            "--selector a new name"
        )
    return str(selector)


def _keygen_bits(args: argparse.Namespace) -> int:
    if args.bits is None:
        return 2048
    if args.key_type != "rsa":
        raise InputError(
            f"--bits {args.bits} applies to RSA keys only; Ed25519 keys have a "
            "fixed size, so leave --bits out"
        )
    return int(args.bits)


def _keygen_data(
    args: argparse.Namespace, selector: str, key: keys.PrivateKey, path: Path
) -> dict[str, Any]:
    record = keys.key_record(key)
    line = keys.zone_line(selector, args.domain, record)
    return {
        "key_file": str(path),
        "selector": selector,
        "domain": args.domain,
        "type": args.key_type,
        "bits": key.key_size if isinstance(key, rsa.RSAPrivateKey) else 256,
        "name": line.split(" ", 1)[0].rstrip("."),
        "record": record,
        "txt_strings": keys.split_txt(record),
        "zone_line": line,
        "rotation_plan": (
            keys.rotation_plan(args.domain, args.rotate_from, selector)
            if args.rotate_from
            else []
        ),
    }


def _keygen_text(data: dict[str, Any]) -> str:
    lines = [
        f"Private key written to {data['key_file']} (mode 0600).",
        f"Publish this TXT record at {data['name']}:",
        "",
        data["zone_line"],
        "",
        f"As TXT strings ({len(data['txt_strings'])}, at most 255 bytes each):",
        *(f'"{part}"' for part in data["txt_strings"]),
    ]
    if data["rotation_plan"]:
        lines += ["", "Rotation plan:"]
        lines += [f"{n}. {step}" for n, step in enumerate(data["rotation_plan"], 1)]
    return "\n".join(lines) + "\n"


# sign --------------------------------------------------------------------


def _register_sign(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "sign",
        help="DKIM-sign a message, or a test message built from options",
        description=(
            "Sign MESSAGE (or standard input with -) with one or more DKIM keys, "
            "relaxed/relaxed by default, covering and oversigning From, To, "
            "Subject, Date, Message-ID, List-Unsubscribe and List-Unsubscribe-Post. "
            "Without MESSAGE, sign a minimal test message built from --from."
        ),
    )
    parser.add_argument(
        "message",
        nargs="?",
        metavar="MESSAGE",
        help="message file, or - for standard input",
    )
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="SELECTOR:PATH",
        required=True,
        help="selector and PEM private key file; repeat to sign with several "
        "keys (RSA and Ed25519 side by side)",
    )
    parser.add_argument(
        "--domain", help="signing domain (d=); default: the From domain"
    )
    parser.add_argument(
        "--canonicalization",
        default="relaxed/relaxed",
        metavar="HEADER/BODY",
        help="relaxed or simple for each part (default: relaxed/relaxed)",
    )
    parser.add_argument(
        "--algorithm",
        help="signing algorithm; default: the key's own "
        "(rsa-sha256 or ed25519-sha256); rsa-sha1 is rejected",
    )
    _add_test_message_options(parser)
    add_output_options(parser, formats=_FORMATS)
    parser.set_defaults(handler=run_sign)


def _add_test_message_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="from_address",
        metavar="ADDRESS",
        help="From of the test message built without MESSAGE",
    )
    parser.add_argument(
        "--to",
        default="check@example.net",
        metavar="ADDRESS",
        help="To of the test message (default: check@example.net)",
    )
    parser.add_argument(
        "--subject",
        default="Deliverability test message",
        help="Subject of the test message",
    )
    parser.add_argument("--body", help="body text of the test message")
    parser.add_argument(
        "--unsubscribe-url",
        metavar="URL",
        help="https URL for List-Unsubscribe of the test message "
        "(default: https://FROM-DOMAIN/unsubscribe?list=test)",
    )


def _parse_key_option(text: str) -> tuple[str, str]:
    selector, colon, path = text.partition(":")
    if not colon or not selector or not path:
        raise InputError(
            f"invalid --key {text!r}: give SELECTOR:PATH, such as s202612:dkim.pem"
        )
    return selector, path


def _message_for_signing(args: argparse.Namespace) -> bytes:
    if args.message is not None:
        return read_message(args.message)
    if not args.from_address:
        raise InputError("give a MESSAGE to sign, or --from to build a test message")
    spec = TestMessage(
        from_address=args.from_address,
        to_address=args.to,
        subject=args.subject,
        unsubscribe_url=args.unsubscribe_url,
        **({"body": args.body} if args.body is not None else {}),
    )
    return build_test_message(spec)


def _signing_domain(args: argparse.Namespace, message: bytes) -> str:
    if args.domain:
        return str(args.domain)
    author = author_domains(split_headers(message)[0])
    if not author.domains:
        raise InputError(
            f"cannot take the signing domain from the message: {author.problem}; "
            "give --domain"
        )
    return author.domains[0]


def run_sign(args: argparse.Namespace) -> int:
    """Sign the message and write it out; return the exit status."""
    message = _message_for_signing(args)
    domain = _signing_domain(args, message)
    signers = []
    for option in args.key:
        selector, path = _parse_key_option(option)
        signers.append(Signer(keys.load_private_key(path), selector, domain))
    signed = sign_message(
        message,
        signers,
        canonicalization=args.canonicalization,
        algorithm=args.algorithm,
    )
    if args.format == "json":
        data = {
            "domain": domain,
            "signatures": [
                {
                    "selector": s.selector,
                    "algorithm": s.key.algorithm,
                    "bits": s.key.bits,
                    "key_file": s.key.source,
                }
                for s in signers
            ],
            # "message" is null for a message that is not UTF-8; the base64
            # form always carries the exact octets.
            "message": _utf8_or_none(signed),
            "message_base64": base64.b64encode(signed).decode("ascii"),
        }
        _write_text(args, json.dumps(data, indent=2, ensure_ascii=True) + "\n")
    elif args.output in (None, "-"):
        sys.stdout.buffer.write(signed)
        sys.stdout.buffer.flush()
    else:
        _write_bytes(Path(args.output), signed)
    return EXIT_OK


def _utf8_or_none(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None


# verify ------------------------------------------------------------------


def _register_verify(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="decide what a receiver would: SPF, DKIM, DMARC, iprev",
        description=(
            "Run SPF for --ip, DKIM for every signature, DMARC for the From "
            "domain and iprev, and print an RFC 8601 Authentication-Results "
            "field. Exit status: 0 only when DMARC passes and no finding "
            "reaches --fail-on, 1 otherwise, 2 input error, 3 DNS failed."
        ),
    )
    parser.add_argument(
        "message", metavar="MESSAGE", help="message file, or - for standard input"
    )
    parser.add_argument(
        "--ip", metavar="ADDRESS", help="the sending IP; SPF and iprev run only with it"
    )
    parser.add_argument(
        "--helo",
        metavar="NAME",
        help="the HELO/EHLO name (default: the MAIL FROM domain); SPF checks "
        "it for the null sender",
    )
    parser.add_argument(
        "--mail-from",
        metavar="ADDRESS",
        help="the envelope sender, or <> for the null sender of bounces "
        "(default: the message's Return-Path)",
    )
    parser.add_argument(
        "--authserv-id",
        default="deliverability.invalid",
        metavar="NAME",
        help="the authserv-id of the Authentication-Results field",
    )
    parser.add_argument(
        "--dmarc-discovery",
        choices=DISCOVERY_METHODS,
        default="psl",
        help="DMARC policy discovery: psl (RFC 7489, the default) or tree-walk "
        "(RFC 9989)",
    )
    parser.add_argument(
        "--allow-rsa-sha1",
        action="store_true",
        help="verify rsa-sha1 signatures instead of rejecting them as RFC 8301 "
        "requires (some receivers still accept them)",
    )
    _add_dns_options(parser)
    add_output_options(parser, formats=_FORMATS)
    parser.set_defaults(handler=run_verify)


def _check_authserv_id(text: str) -> str:
    if not text or not text.isascii() or not text.isprintable() or " " in text:
        raise InputError(
            f"invalid --authserv-id {text!r}: give the receiving server's host "
            "name, such as mx.example.com"
        )
    return text


def run_verify(args: argparse.Namespace) -> int:
    """Verify the message and print the verdict; return the exit status."""
    _check_authserv_id(args.authserv_id)
    message = read_message(args.message)
    connection = Connection(args.ip, args.helo, args.mail_from)
    verdict = _run_with_resolver(
        args,
        lambda resolver: verify_message(
            message,
            resolver=resolver,
            connection=connection,
            authserv_id=args.authserv_id,
            dmarc_method=args.dmarc_discovery,
            allow_sha1=args.allow_rsa_sha1,
        ),
    )
    if args.format == "json":
        _write_text(args, json.dumps(verdict.to_dict(), indent=2) + "\n")
    else:
        lines = [verdict.header(), "", *_findings_text(verdict.findings)]
        _write_text(args, "\n".join(lines).rstrip("\n") + "\n")
    if not verdict.complete:
        return EXIT_INCOMPLETE
    if not verdict.passed:
        return EXIT_FINDINGS
    return exit_status_for(verdict.findings, args.fail_on)


# keycheck ----------------------------------------------------------------


def _register_keycheck(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "keycheck",
        help="check a private key against the key record DNS publishes",
        description=(
            "Sign a test message with the private key and verify it against the "
            "record published at SELECTOR._domainkey.DOMAIN, so a key that does "
            "not match its record shows before mail goes out."
        ),
    )
    parser.add_argument(
        "--key", required=True, metavar="PATH", help="PEM private key file"
    )
    parser.add_argument("--selector", required=True, help="selector (s=)")
    parser.add_argument("--domain", required=True, help="signing domain (d=)")
    _add_dns_options(parser)
    add_output_options(parser, formats=_FORMATS)
    parser.set_defaults(handler=run_keycheck)


def run_keycheck(args: argparse.Namespace) -> int:
    """Check the key against its record and print the outcome; return the status."""
    key = keys.load_private_key(args.key)
    check = _run_with_resolver(
        args,
        lambda resolver: check_key(
            key, selector=args.selector, domain=args.domain, resolver=resolver
        ),
    )
    if args.format == "json":
        _write_text(args, json.dumps(check.to_dict(), indent=2) + "\n")
    else:
        lines = [f"{check.name}: {check.result} ({key.algorithm}, {key.bits} bits)"]
        if check.result in ("missing", "mismatch", "revoked"):
            line = keys.zone_line(args.selector, args.domain, check.expected_record)
            lines.append(f"The record of this key is: {line}")
        _write_text(args, "\n".join(lines + _findings_text(check.findings)) + "\n")
    if not check.complete:
        return EXIT_INCOMPLETE
    return exit_status_for(check.findings, args.fail_on)
