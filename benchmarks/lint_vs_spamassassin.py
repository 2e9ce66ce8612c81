"""Lint the whole corpus and score the same messages with SpamAssassin, in one run.

SpamAssassin runs as spamd on a loopback port, started here with network
tests off (-L) and stopped at the end; each message goes through spamc, one
after another. The linter runs in this process over the same bytes, one
message after another, and the best of --passes passes counts. The script
prints both throughputs and their ratio.

Usage::

    python benchmarks/lint_vs_spamassassin.py [--corpus DIR] [--passes 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from deliverability.lint import clear_caches, lint_bytes, wrap_html
from deliverability.lint.spamassassin import parse_report

FOLDERS = (
    "mailchimp-email-blueprints",
    "sunlight-newsletters",
    "spamassassin-testdata",
    "mailparser-samples",
)
HEADERS = b"""\
From: Example Newsletter <news@example.com>
To: reader@example.org
Subject: This week's news from the Example Foundation
Date: Fri, 04 Dec 2026 15:30:00 +0000
Message-ID: <20261204153000.4f2a9c1e7b@example.com>
Return-Path: <bounce-4f2a9c@mail.example.com>
List-Unsubscribe: <https://example.com/unsubscribe?u=4f2a>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
"""


def load_messages(corpus: Path) -> list[tuple[str, bytes]]:
    """Return (name, message bytes) for every message and wrapped template."""
    messages = []
    for folder in FOLDERS:
        for path in sorted((corpus / folder).rglob("*")):
            if not path.is_file() or path.name == "SOURCE.md":
                continue
            data = path.read_bytes()
            if path.suffix == ".html":
                data = wrap_html(data, headers=HEADERS)
            messages.append((str(path.relative_to(corpus)), data))
    return messages


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_spamd(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    """Start spamd on 127.0.0.1:port with network tests off; wait until it responds."""
    command = [
        "spamd",
        "-L",
        f"--listen=127.0.0.1:{port}",
        "--max-children=2",
        "--min-children=1",
        "-x",
        f"--pidfile={workdir / 'spamd.pid'}",
        "--syslog=stderr",
    ]
    if os.geteuid() == 0:
        command.append("--username=nobody")
    log = (workdir / "spamd.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"spamd exited with {process.returncode}; see {log.name}"
            )
        ping = subprocess.run(
            ["spamc", "-d", "127.0.0.1", "-p", str(port), "-K"],
            capture_output=True,
            check=False,
        )
        if ping.returncode == 0:
            return process
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError("spamd did not respond within 60 s; see spamd.log")


def time_spamassassin(
    messages: list[tuple[str, bytes]], port: int
) -> tuple[float, list[str]]:
    """Score every message with spamc; return the wall time and the reports."""
    command = ["spamc", "-d", "127.0.0.1", "-p", str(port), "-R", "-s", "10000000"]
    reports = []
    started = time.perf_counter()
    for _, data in messages:
        done = subprocess.run(command, input=data, capture_output=True, check=False)
        reports.append(done.stdout.decode("utf-8", "replace"))
    return time.perf_counter() - started, reports


def rule_counts(
    messages: list[tuple[str, bytes]], reports: list[str]
) -> dict[str, dict[str, int]]:
    """Count, per corpus folder, the messages each SpamAssassin rule fired on."""
    counts: dict[str, Counter[str]] = {}
    for (name, _), output in zip(messages, reports, strict=True):
        folder = name.rsplit("/", 1)[0]
        result = parse_report(output, "spamc")
        rules = [r.name for r in result.rules] if result else ["(no report)"]
        counts.setdefault(folder, Counter()).update(set(rules))
    return {folder: dict(c.most_common(12)) for folder, c in counts.items()}


def time_lint(messages: list[tuple[str, bytes]]) -> tuple[float, int]:
    """Lint every message; return the wall time and the number of findings.

    The linter's caches start empty, so a pass gains nothing from the one
    before it, only from messages earlier in the same pass.
    """
    clear_caches()
    findings = 0
    started = time.perf_counter()
    for name, data in messages:
        findings += len(lint_bytes(data, name=name).items)
    return time.perf_counter() - started, findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(__file__).resolve().parents[2] / "shared" / "corpus",
    )
    parser.add_argument(
        "--passes",
        type=int,
        default=3,
        help="lint passes; the fastest counts (default: 3)",
    )
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()
    for program in ("spamd", "spamc"):
        if shutil.which(program) is None:
            print(
                f"Error: {program} not found; install spamassassin and spamc",
                file=sys.stderr,
            )
            return 2
    messages = load_messages(args.corpus)
    size = sum(len(data) for _, data in messages)
    lint_bytes(messages[0][1])  # load the caniemail data and the suffix list
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        spamd = start_spamd(port, Path(folder))
        try:
            sa_seconds, sa_reports = time_spamassassin(messages, port)
            passes = [time_lint(messages) for _ in range(args.passes)]
        finally:
            spamd.terminate()
            spamd.wait(timeout=30)
    lint_seconds = min(seconds for seconds, _ in passes)
    result = {
        "messages": len(messages),
        "bytes": size,
        "spamassassin_seconds": round(sa_seconds, 3),
        "lint_seconds": round(lint_seconds, 3),
        "lint_seconds_median": round(statistics.median(s for s, _ in passes), 3),
        "spamassassin_per_second": round(len(messages) / sa_seconds, 1),
        "lint_per_second": round(len(messages) / lint_seconds, 1),
        "ratio": round(sa_seconds / lint_seconds, 1),
        "findings": passes[0][1],
        "python": platform.python_version(),
        "interpreter": sys.executable,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    for key, value in result.items():
        print(f"{key:26} {value}")
    if args.json:
        result["spamassassin_rules"] = rule_counts(messages, sa_reports)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
