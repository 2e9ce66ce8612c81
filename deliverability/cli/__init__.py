"""The ``deliverability`` command: a thin shell over the library.

Each subcommand lives in its own module with a ``register(subparsers)``
function that adds its parser and sets ``handler`` to a function taking the
parsed arguments and returning the exit status.

Only the module of the command being run is imported: the consent store
alone pulls in SQLAlchemy and Alembic, which would more than double the
start-up time of every other command. ``--help`` and unknown commands load
them all.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import DeliverabilityError
from .common import EXIT_USAGE

__all__ = ["COMMANDS", "build_parser", "main"]

#: Each command name and the module under ``deliverability.cli`` that adds it.
COMMANDS = {
    "audit": "audit",
    "keygen": "auth",
    "sign": "auth",
    "verify": "auth",
    "keycheck": "auth",
    "lint": "lint",
    "consent": "consent",
    "presend": "presend",
    "sync": "sync",
}


def _modules_for(argv: Sequence[str]) -> list[str]:
    """Return the command modules needed to parse ``argv``."""
    for arg in argv:
        if arg.startswith("-"):
            continue
        module = COMMANDS.get(arg)
        return [module] if module else _all_modules()
    return _all_modules()


def _all_modules() -> list[str]:
    return list(dict.fromkeys(COMMANDS.values()))


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Return the parser, with the subcommands ``argv`` needs (all if unsure)."""
    parser = argparse.ArgumentParser(
        prog="deliverability",
        description=(
            "Audit sender domains, test-sign messages, lint campaigns and gate "
            "recipients on confirmed consent."
        ),
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "-v", "--verbose", action="count", default=0,
        help="log progress to standard error (-vv for DNS detail)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _modules_for(argv):
        module = importlib.import_module(f".{name}", __name__)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0, 1, 2 or 3)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:
        # argparse exits with 2 on usage errors and 0 for --help.
        return int(exc.code or 0)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args))
    except DeliverabilityError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        target = f" {exc.filename}" if exc.filename else ""
        reason = exc.strerror or str(exc)
        print(
            f"Error: cannot use{target}: {reason}; check the path and its "
            "permissions",
            file=sys.stderr,
        )
        return EXIT_USAGE


def run() -> None:
    sys.exit(main())
