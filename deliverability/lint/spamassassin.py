"""Run a local SpamAssassin on a message and read its score and rules.

``spamc`` is used when a spamd accepts connections on the given loopback
port. Otherwise ``spamassassin -L -t`` runs once per message, which is slower
because it loads the rules each time. Network tests stay off either way:
``-L`` for the command, and spamd must itself be started with ``-L``.
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import subprocess

from ..errors import IncompleteError
from ..findings import Severity, rule
from .model import LintItem, SpamAssassinResult, SpamAssassinRule

__all__ = ["parse_report", "run_spamassassin", "score_item", "spamd_listening"]

log = logging.getLogger(__name__)

SCORE = rule(
    "lint.spamassassin.score",
    "lint",
    Severity.INFO,
    "SpamAssassin score",
    fix="Fix the rules listed with the highest points first.",
    reference="SpamAssassin 4.0 (local tests only)",
)

_SUMMARY = re.compile(r"\(\s*(-?[\d.]+) points?, (-?[\d.]+) required\)")
_RULE_LINE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")
_WARN_SCORE = 2.5


def spamd_listening(host: str = "127.0.0.1", port: int = 783) -> bool:
    """Return whether a spamd accepts connections on ``host``:``port`` (loopback)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def run_spamassassin(
    data: bytes,
    *,
    host: str = "127.0.0.1",
    port: int = 783,
    timeout: float = 120.0,
) -> SpamAssassinResult:
    """Score ``data`` with spamc (when spamd listens) or ``spamassassin -L -t``.

    Raises ``IncompleteError`` when neither program is installed or the run
    fails, so a missing score never reads as a clean one.
    """
    spamc = shutil.which("spamc")
    if spamc and spamd_listening(host, port):
        size = str(max(len(data) + 1024, 512_000))
        command = [spamc, "-d", host, "-p", str(port), "-R", "-x", "-s", size]
        return _run(command, data, timeout, "spamc")
    program = shutil.which("spamassassin")
    if program is None:
        raise IncompleteError(
            "SpamAssassin is not installed (no spamc with a running spamd, no "
            "spamassassin); install it or drop --spamassassin"
        )
    return _run([program, "-L", "-t"], data, timeout, "spamassassin")


def _run(
    command: list[str], data: bytes, timeout: float, name: str
) -> SpamAssassinResult:
    log.debug("running %s", command[0])
    try:
        done = subprocess.run(
            command, input=data, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise IncompleteError(f"{name} did not finish in {timeout:.0f} s") from None
    except OSError as exc:
        raise IncompleteError(f"{name} could not start: {exc.strerror}") from None
    output = done.stdout.decode("utf-8", "replace")
    result = parse_report(output, name)
    if result is None:
        error = done.stderr.decode("utf-8", "replace").strip()[:200]
        raise IncompleteError(
            f"{name} exited with status {done.returncode} and no report: {error}"
        )
    return result


def parse_report(output: str, program: str) -> SpamAssassinResult | None:
    """Parse the 'Content analysis details' report of spamc -R or spamassassin -t."""
    summary = _SUMMARY.search(output)
    if summary is None:
        return None
    rules: list[SpamAssassinRule] = []
    table = output[summary.end() :]
    started = False
    for line in table.splitlines():
        if line.startswith("----"):
            started = True
            continue
        if not started:
            continue
        match = _RULE_LINE.match(line)
        if match:
            rules.append(
                SpamAssassinRule(match.group(2), float(match.group(1)), match.group(3))
            )
        elif line.startswith("      ") and rules and line.strip():
            last = rules[-1]
            text = f"{last.description} {line.strip()}"
            rules[-1] = SpamAssassinRule(last.name, last.points, text)
        elif not line.strip() and rules:
            break
    return SpamAssassinResult(
        float(summary.group(1)), float(summary.group(2)), tuple(rules), program
    )


def score_item(result: SpamAssassinResult) -> LintItem:
    """Turn a SpamAssassin result into a finding: error at the threshold,
    warning from 2.5 points, info below."""
    if result.score >= result.threshold:
        severity = Severity.ERROR
    elif result.score >= _WARN_SCORE:
        severity = Severity.WARNING
    else:
        severity = Severity.INFO
    top = sorted(result.rules, key=lambda r: -r.points)[:5]
    listed = ", ".join(f"{r.name} ({r.points:g})" for r in top) or "no rule"
    found = SCORE.finding(
        f"SpamAssassin scores the message {result.score:g} of "
        f"{result.threshold:g} required for spam; highest: {listed}.",
        location="message",
        evidence=" ".join(r.name for r in result.rules),
        severity=severity,
    )
    return LintItem(found)
