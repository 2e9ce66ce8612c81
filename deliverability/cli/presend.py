"""The ``presend`` command: one verdict on domain, campaign and target group."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import IO, Any

from ..audit.inputs import check_selector, parse_ips
from ..audit.model import AuditOptions
from ..dns.factory import make_resolver
from ..errors import InputError
from ..findings import Finding, Severity
from ..presend import GroupSpec, PresendResult, presend_check
from .common import (
    EXIT_INCOMPLETE,
    add_output_options,
    exit_status_for,
    open_output,
    run_async,
)

__all__ = ["register"]

_DEFAULT_STORE = "sqlite:///consent.sqlite3"


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``presend`` parser."""
    parser = subparsers.add_parser(
        "presend",
        help="check domain, campaign and target group before a send",
        description=(
            "Audit the sending domain, lint the campaign messages and gate the "
            "target group on confirmed consent, then give one verdict. Exit "
            "status: 0 ready, 1 a finding at or above --fail-on, 2 usage or "
            "input error, 3 the audit could not complete."
        ),
    )
    parser.add_argument(
        "--domain", help="sending domain (default: From of the first message)"
    )
    parser.add_argument(
        "--message",
        action="append",
        default=[],
        metavar="PATH",
        type=Path,
        help="campaign message (.eml or .html) to lint (repeatable)",
    )
    parser.add_argument(
        "--profile",
        choices=["marketing", "transactional"],
        default="marketing",
        help="lint rules for marketing mail or relaxed ones for transactional mail",
    )
    parser.add_argument("--group", type=Path, metavar="CSV", help="target group CSV")
    parser.add_argument("--purpose", help="consent purpose the send is for")
    parser.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="consent store URL (default: $DELIVERABILITY_CONSENT_STORE or "
        f"{_DEFAULT_STORE})",
    )
    parser.add_argument("--column", help="e-mail column of the group CSV")
    parser.add_argument(
        "--admitted",
        type=Path,
        metavar="PATH",
        help="write the admitted recipients to this CSV file",
    )
    parser.add_argument(
        "--excluded",
        type=Path,
        metavar="PATH",
        help="write the excluded recipients and reasons to this CSV file",
    )
    _add_dns_options(parser)
    add_output_options(parser, formats=("text", "json"))
    parser.set_defaults(handler=run_presend)


def _add_dns_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--zone",
        action="append",
        default=[],
        metavar="PATH",
        help="zone file or folder; no network at all (repeatable)",
    )
    parser.add_argument(
        "--nameserver",
        action="append",
        default=[],
        metavar="ADDR[:PORT]",
        help="nameserver to ask (repeatable)",
    )
    parser.add_argument(
        "--selector",
        action="append",
        default=[],
        metavar="NAME",
        help="DKIM selector to check (repeatable)",
    )
    parser.add_argument(
        "--ip",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="sending IP address for reverse DNS (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="seconds to wait for one DNS reply (default: 2)",
    )


def _group(args: argparse.Namespace) -> GroupSpec | None:
    if args.group is None:
        if args.purpose or args.admitted or args.excluded:
            raise InputError("--purpose, --admitted and --excluded need --group CSV")
        return None
    if not args.purpose:
        raise InputError("--group needs --purpose: the consent purpose of the send")
    store = args.store or os.environ.get("DELIVERABILITY_CONSENT_STORE", _DEFAULT_STORE)
    return GroupSpec(
        args.group, args.purpose, store, args.admitted, args.excluded, args.column
    )


def run_presend(args: argparse.Namespace) -> int:
    """Handle ``deliverability presend``; return the exit status."""
    from ..lint.model import LintOptions

    for path in args.message:
        if not path.is_file():
            raise InputError(f"message {path} not found: give the path of an .eml file")
    group = _group(args)
    resolver = make_resolver(
        zones=args.zone, nameservers=args.nameserver, timeout=args.timeout
    )
    options = AuditOptions(
        selectors=tuple(check_selector(s, "--selector") for s in args.selector),
        ips=parse_ips(args.ip),
    )
    result = run_async(
        presend_check(
            resolver=resolver,
            domain=args.domain,
            messages=args.message,
            group=group,
            audit_options=options,
            lint_options=LintOptions(profile=args.profile),
        )
    )
    out = open_output(args.output)
    try:
        if args.format == "json":
            out.write(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
        else:
            _write_text(result, out)
    finally:
        if out is not sys.stdout:
            out.close()
    if not result.complete:
        return EXIT_INCOMPLETE
    return exit_status_for(result.all_findings(), args.fail_on)


def _write_text(result: PresendResult, out: IO[str]) -> None:
    from ..report.text import escape_terminal

    out.write(f"Pre-send check: {result.verdict.upper()}\n")
    if result.domain is not None:
        out.write(
            _part_line(f"domain {result.domain.display_name}", result.domain.findings)
        )
    for report in result.messages:
        out.write(_part_line(f"message {report.name}", report.findings))
    if result.gate is not None:
        gate = result.gate
        out.write(
            f"  recipients: {gate.admitted} of {gate.total} may be mailed "
            f"for {gate.purpose!r}\n"
        )
    blocking = [f for f in result.all_findings() if f.severity is Severity.ERROR]
    if blocking:
        out.write(f"\nErrors ({len(blocking)})\n")
    for finding in blocking:
        out.write(f"  {finding.code}  {escape_terminal(finding.message)}\n")
        if finding.location:
            out.write(f"    at:  {escape_terminal(finding.location)}\n")
        if finding.fix:
            out.write(f"    fix: {escape_terminal(finding.fix)}\n")
    for finding in result.findings:
        if finding.severity is not Severity.ERROR:
            out.write(f"\n{finding.code}  {escape_terminal(finding.message)}\n")


def _part_line(label: str, findings: list[Finding]) -> str:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    state = "FAIL" if errors else "ok"
    return f"  {label}: {state} ({errors} errors, {warnings} warnings)\n"
