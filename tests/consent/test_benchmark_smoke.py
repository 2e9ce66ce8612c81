"""A tiny run of benchmarks/gate.py, so the benchmark keeps working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gate_benchmark_smoke(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gate.py"),
            "--contacts",
            "300",
            "--recipients",
            "400",
            "--backends",
            "sqlite",
            "--work",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    start = done.stdout.index("[")
    end = done.stdout.rindex("]") + 1
    result = json.loads(done.stdout[start:end])[0]
    assert result["ours"]["admitted"] == result["floor"]["admitted"]
