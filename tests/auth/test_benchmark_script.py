"""The DKIM benchmark script runs and compares both sides (on a few messages)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "dkim_sign_verify.py"


def test_benchmark_small_run() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--messages", "4", "--rounds", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stderr
    assert len(lines) == 5
    assert all("overhead" in line for line in lines[1:])
