"""The ``lint`` subcommand: campaign content rules over messages or HTML files."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..lint import DEFAULT_CLIENTS, PROFILES, LintOptions, LintReport, lint_path
from ..lint.caniemail import KEPT_CLIENTS
from ..lint.report import render
from ..lint.spamassassin import run_spamassassin, score_item
from .common import EXIT_USAGE, add_output_options, exit_status_for, open_output

__all__ = ["register"]

log = logging.getLogger(__name__)

# Largest --max-size accepted, in MB; it also rejects inf and nan.
_MAX_SIZE_LIMIT = 1024 * 1024


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add the ``lint`` subcommand to ``subparsers``."""
    parser = subparsers.add_parser(
        "lint",
        help="lint campaign messages for delivery and rendering problems",
        description=(
            "Read .eml messages, or HTML files with optional --text and --header, "
            "and report what would hurt delivery or rendering. Every finding "
            "names the MIME part, the line and the element."
        ),
    )
    _add_input_options(parser)
    _add_rule_options(parser)
    add_output_options(parser)
    parser.set_defaults(handler=run)


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    """Add the MESSAGE, --text and --header arguments."""
    parser.add_argument(
        "messages",
        nargs="+",
        metavar="MESSAGE",
        help=".eml file, or an HTML file (by .html suffix or content)",
    )
    parser.add_argument(
        "--text",
        metavar="PATH",
        help="text/plain alternative for a single HTML MESSAGE",
    )
    parser.add_argument(
        "--header",
        metavar="PATH",
        help="file of header fields (From, Subject, ...) for HTML "
        "messages; without it the header rules are skipped",
    )


def _add_rule_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that select and tune the rules, size cap and SpamAssassin."""
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="marketing",
        help="marketing (default) applies every rule; "
        "transactional relaxes unsubscribe, address and preheader "
        "rules",
    )
    parser.add_argument(
        "--envelope-from",
        metavar="ADDRESS",
        help="envelope sender (Return-Path) to check alignment with From",
    )
    parser.add_argument(
        "--clients",
        metavar="LIST",
        default=",".join(DEFAULT_CLIENTS),
        help="comma-separated caniemail clients (family.platform) "
        "to check HTML and CSS support for; default: %(default)s",
    )
    parser.add_argument(
        "--max-size",
        metavar="MB",
        type=float,
        default=30.0,
        help="largest message to read, in megabytes (default: 30)",
    )
    parser.add_argument(
        "--spamassassin",
        action="store_true",
        help="also score each message with a local SpamAssassin "
        "(spamc when spamd listens on --spamd-port, else "
        "spamassassin -L); network tests stay off",
    )
    parser.add_argument(
        "--spamd-port",
        metavar="PORT",
        type=int,
        default=783,
        help="loopback port of a running spamd (default: 783)",
    )


def _options(args: argparse.Namespace) -> LintOptions:
    clients = tuple(c.strip() for c in args.clients.split(",") if c.strip())
    unknown = [c for c in clients if c not in KEPT_CLIENTS]
    if unknown or not clients:
        raise InputError(
            f"unknown client {', '.join(unknown) or '(none given)'} in --clients; "
            f"choose from {', '.join(KEPT_CLIENTS)}"
        )
    if not 0 < args.max_size < _MAX_SIZE_LIMIT:
        raise InputError(
            f"--max-size must be a number of MB above 0 and below "
            f"{_MAX_SIZE_LIMIT:,}, not {args.max_size:g}"
        )
    if not 1 <= args.spamd_port <= 65535:
        raise InputError(
            f"--spamd-port must be a TCP port from 1 to 65535, not {args.spamd_port}"
        )
    if args.text and len(args.messages) > 1:
        raise InputError(
            f"--text applies to one HTML message, but {len(args.messages)} were "
            "given; lint them one at a time"
        )
    return LintOptions(
        profile=args.profile,
        clients=clients,
        max_size=max(1, round(args.max_size * 1024 * 1024)),
        envelope_from=args.envelope_from,
    )


def _lint_one(path: Path, args: argparse.Namespace, options: LintOptions) -> LintReport:
    report = lint_path(
        path,
        text_path=Path(args.text) if args.text else None,
        header_path=Path(args.header) if args.header else None,
        options=options,
    )
    if args.spamassassin:
        result = run_spamassassin(report.raw, port=args.spamd_port)
        report.spamassassin = result
        report.items.append(score_item(result))
        report.sort()
    return report


def run(args: argparse.Namespace) -> int:
    """Lint every MESSAGE, write the report, return the exit status.

    A message that cannot be linted (unreadable, too large, nested too
    deep) is named on standard error and skipped. The others are still
    linted and reported, and the exit status is then 2.
    """
    options = _options(args)
    reports = []
    failed = 0
    for name in args.messages:
        log.info("linting %s", name)
        try:
            reports.append(_lint_one(Path(name), args, options))
        except InputError as exc:
            if len(args.messages) == 1:
                raise
            print(f"Error: {exc}; skipped", file=sys.stderr)
            failed += 1
    if not reports:
        return EXIT_USAGE
    text = render(reports, args.format, several=len(args.messages) > 1)
    output = open_output(args.output)
    try:
        output.write(text)
    finally:
        if args.output not in (None, "-"):
            output.close()
    if failed:
        print(
            f"Error: {failed} of {len(args.messages)} messages could not be "
            "linted (see above)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    findings = [f for r in reports for f in r.findings]
    return exit_status_for(findings, args.fail_on)
