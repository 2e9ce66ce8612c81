#!/usr/bin/env python3
"""Time ``deliverability audit`` against checkdmarc on the same generated zones.

The script generates N sender zones with the benchmark kit's
``make_zones.py``, then, inside ``in-netns.sh`` (a private network namespace
that has only loopback, with Knot DNS answering on 127.0.0.2 port 53), runs
in one session:

    checkdmarc OUT/domains.txt -n 127.0.0.2 -o peer.json
    deliverability audit --domains-file OUT/domains.txt --nameserver 127.0.0.2 \\
        --format jsonl --output ours.jsonl

Each command's wall time, CPU time (user + system) and peak RSS are measured
from ``os.wait4``. It prints the speed ratio and whether the target (at least
5 times faster than checkdmarc) is met, then checks memory flatness by
auditing a second, larger zone set and comparing the peak RSS of the two.

Nothing can reach a non-loopback address: every command runs inside the
namespace. Needs root (``unshare``), knotd, and checkdmarc on PATH.

usage: audit_vs_checkdmarc.py [--work DIR] [--domains 500] [--large 2000]
                              [--bench-dir DIR] [--no-root-zone] [--skip-peer]
                              [--skip-flatness]
exit status: 0 when the speed target is met, 1 when it is not, 2 on error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["Measurement", "machine_info", "main", "measure"]

ROOT = Path(__file__).resolve().parent.parent
TARGET_SPEEDUP = 5.0
"""Wall-time ratio (checkdmarc / ours) the product promises at least."""


@dataclass
class Measurement:
    """One command's resource use, as ``os.wait4`` reports it."""

    label: str
    command: list[str]
    exit_status: int
    wall_s: float
    cpu_s: float
    """User plus system CPU seconds of the command and the children it waited for."""
    peak_rss_mb: float
    """Largest resident set size of the command or one of its waited children."""


def measure(label: str, command: list[str], *, stdout: Path, stderr: Path,
            cwd: Path | None = None) -> Measurement:
    """Run ``command`` to completion and return its wall, CPU and peak memory."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measurement(
        label=label,
        command=command,
        exit_status=process.returncode,
        wall_s=round(wall, 3),
        cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
        # ru_maxrss is in kilobytes on Linux.
        peak_rss_mb=round(usage.ru_maxrss / 1024, 1),
    )


def run_plan(plan_path: Path, result_path: Path) -> int:
    """Run each step of a plan file in order and write the measurements.

    This is the part that runs inside the network namespace.
    """
    plan = json.loads(plan_path.read_text())
    results = []
    for step in plan:
        result = measure(
            step["label"], step["command"], stdout=Path(step["stdout"]),
            stderr=Path(step["stderr"]), cwd=Path(step["cwd"]),
        )
        results.append(asdict(result))
        print(f"{result.label}: {result.wall_s:.2f} s wall", file=sys.stderr)
    result_path.write_text(json.dumps(results, indent=1))
    return 0


def machine_info() -> dict[str, str]:
    """Return the facts about this machine that a benchmark record needs."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "checkdmarc": _version(["checkdmarc", "--version"]),
        "knotd": _version(["knotd", "--version"]),
        "load average (1 min)": f"{os.getloadavg()[0]:.2f}",
    }


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def make_zone_set(bench_dir: Path, out: Path, domains: int) -> Path:
    """Generate ``domains`` sender zones plus knot.conf in ``out`` (kept if there)."""
    out = out.resolve()
    if (out / "knot.conf").is_file() and (out / "domains.txt").is_file():
        count = len((out / "domains.txt").read_text().split())
        if count == domains:
            return out
    subprocess.run(
        [sys.executable, str(bench_dir / "make_zones.py"), str(out),
         "--domains", str(domains)],
        check=True,
    )
    return out


ROOT_ZONE = (
    "$ORIGIN .\n$TTL 300\n"
    "@ IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300\n"
    "@ IN NS ns.invalid.\n"
)


def add_root_zone(zone_set: Path) -> None:
    """Make Knot serve an empty root zone besides the generated zones.

    Knot replies REFUSED for a name outside the zones it serves, and both
    tools ask such names: the DMARC tree walk reaches ``_dmarc.example`` and
    the PTR check asks for the reverse names of the sending addresses. Real
    DNS returns NXDOMAIN for those, and so does the root zone here.
    """
    config = zone_set / "knot.conf"
    text = config.read_text()
    if "domain: ." in text:
        return
    (zone_set / "zones" / "root.zone").write_text(ROOT_ZONE)
    config.write_text(text + "  - domain: .\n    file: root.zone\n")


def peer_command(zone_set: Path, output: Path) -> list[str]:
    """Return the checkdmarc command line."""
    return ["checkdmarc", str(zone_set / "domains.txt"), "-n", "127.0.0.2",
            "-o", str(output)]


def our_command(zone_set: Path, output: Path) -> list[str]:
    """Return the ``deliverability audit`` command line."""
    return [sys.executable, "-m", "deliverability", "audit",
            "--domains-file", str(zone_set / "domains.txt"),
            "--nameserver", "127.0.0.2", "--format", "jsonl",
            "--output", str(output)]


def run_in_namespace(
    bench_dir: Path, zone_set: Path, steps: list[tuple[str, list[str]]], work: Path
) -> dict[str, Measurement]:
    """Run the steps in one in-netns.sh session and return their measurements."""
    plan = [
        {"label": label, "command": command, "cwd": str(ROOT),
         "stdout": str(work / f"{label}.stdout"),
         "stderr": str(work / f"{label}.stderr")}
        for label, command in steps
    ]
    plan_path = work / f"plan-{zone_set.name}.json"
    result_path = work / f"measured-{zone_set.name}.json"
    plan_path.write_text(json.dumps(plan, indent=1))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(
        [str(bench_dir / "in-netns.sh"), str(zone_set), sys.executable,
         str(Path(__file__).resolve()), "_run-plan", str(plan_path),
         str(result_path)],
        check=True, env=env,
    )
    measured = json.loads(result_path.read_text())
    return {item["label"]: Measurement(**item) for item in measured}


def count_outputs(ours: Path, peer: Path | None) -> dict[str, Any]:
    """Return the domains each tool reported, and how many of ours are incomplete."""
    text = ours.read_text() if ours.is_file() else ""
    lines = [json.loads(line) for line in text.splitlines() if line]
    counts: dict[str, Any] = {
        "ours_domains": len(lines),
        "ours_incomplete": sum(1 for item in lines if not item.get("complete")),
        "ours_dns_queries": sum(int(item.get("dns_queries", 0)) for item in lines),
    }
    if peer is not None and peer.is_file():
        data = json.loads(peer.read_text())
        counts["peer_domains"] = len(data) if isinstance(data, list) else 1
    return counts


def _table(rows: list[Measurement]) -> str:
    head = f"{'run':<22} {'exit':>4} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>12}"
    body = [
        f"{m.label:<22} {m.exit_status:>4} {m.wall_s:>8.2f} {m.cpu_s:>8.2f} "
        f"{m.peak_rss_mb:>12.1f}"
        for m in rows
    ]
    return "\n".join([head, *body])


def _parse_args(argv: list[str]) -> argparse.Namespace:
    default_bench = os.environ.get("DELIVERABILITY_BENCH") or str(
        ROOT.parent / "shared" / "bench"
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/deliverability-bench"),
                        help="folder for zone sets and outputs")
    parser.add_argument("--domains", type=int, default=500,
                        help="sending domains in the main zone set (default: 500)")
    parser.add_argument("--large", type=int, default=2000,
                        help="domains in the memory-flatness zone set (default: 2000)")
    parser.add_argument("--bench-dir", type=Path, default=Path(default_bench),
                        help="folder with make_zones.py and in-netns.sh "
                        "(default: $DELIVERABILITY_BENCH)")
    parser.add_argument("--no-root-zone", action="store_true",
                        help="serve only the generated zones, so Knot replies "
                        "REFUSED for other names")
    parser.add_argument("--skip-peer", action="store_true",
                        help="do not run checkdmarc")
    parser.add_argument("--skip-flatness", action="store_true",
                        help="do not run the larger zone set")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the results; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_run-plan"]:
        return run_plan(Path(argv[1]), Path(argv[2]))
    args = _parse_args(argv)
    for tool in ("make_zones.py", "in-netns.sh"):
        if not (args.bench_dir / tool).is_file():
            print(f"Error: {tool} not found in {args.bench_dir}; give --bench-dir",
                  file=sys.stderr)
            return 2
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"machine": machine_info()}
    print("machine:", json.dumps(report["machine"], indent=1))

    zone_set = make_zone_set(args.bench_dir, work / f"zones-{args.domains}",
                             args.domains)
    if not args.no_root_zone:
        add_root_zone(zone_set)
    ours_out = work / "ours.jsonl"
    peer_out = work / "peer.json"
    steps = [("deliverability", our_command(zone_set, ours_out))]
    if not args.skip_peer:
        steps.insert(0, ("checkdmarc", peer_command(zone_set, peer_out)))
    for label, command in steps:
        print(f"command ({label}): in-netns.sh {zone_set} {shlex.join(command)}")
    measured = run_in_namespace(args.bench_dir, zone_set, steps, work)
    report["outputs"] = count_outputs(ours_out, None if args.skip_peer else peer_out)
    rows = list(measured.values())

    if not args.skip_flatness:
        large_set = make_zone_set(args.bench_dir, work / f"zones-{args.large}",
                                  args.large)
        if not args.no_root_zone:
            add_root_zone(large_set)
        large_out = work / f"ours-{args.large}.jsonl"
        label = f"deliverability-{args.large}"
        large = run_in_namespace(
            args.bench_dir, large_set, [(label, our_command(large_set, large_out))],
            work,
        )
        rows += list(large.values())
        report["outputs_large"] = count_outputs(large_out, None)

    print(_table(rows))
    print("outputs:", json.dumps(report["outputs"]))
    if "outputs_large" in report:
        print(f"outputs ({args.large} domains):", json.dumps(report["outputs_large"]))
    status = _verdicts(measured, rows, report, args)
    report["runs"] = [asdict(m) for m in rows]
    (work / "results.json").write_text(json.dumps(report, indent=1))
    print(f"results: {work / 'results.json'}")
    return status


def _verdicts(
    measured: dict[str, Measurement], rows: list[Measurement],
    report: dict[str, Any], args: argparse.Namespace,
) -> int:
    status = 0
    ours = measured["deliverability"]
    outputs = report["outputs"]
    if outputs["ours_domains"] != args.domains:
        print(f"Error: deliverability reported {outputs['ours_domains']} of "
              f"{args.domains} domains (exit {ours.exit_status}); see "
              f"{args.work / 'deliverability.stderr'}", file=sys.stderr)
        status = 2
    if outputs.get("peer_domains", args.domains) != args.domains:
        print(f"Error: checkdmarc reported {outputs['peer_domains']} of "
              f"{args.domains} domains; see {args.work / 'checkdmarc.stderr'}",
              file=sys.stderr)
        status = 2
    if "checkdmarc" in measured:
        peer = measured["checkdmarc"]
        ratio = peer.wall_s / ours.wall_s
        cpu_ratio = peer.cpu_s / ours.cpu_s if ours.cpu_s else float("inf")
        met = ratio >= TARGET_SPEEDUP
        report["speedup_wall"] = round(ratio, 2)
        report["speedup_cpu"] = round(cpu_ratio, 2)
        report["target_met"] = met
        print(f"speed-up (wall): {ratio:.1f}x, CPU: {cpu_ratio:.1f}x; target "
              f">= {TARGET_SPEEDUP:g}x {'met' if met else 'NOT met'}")
        if status == 0 and not met:
            status = 1
    if len(rows) > len(measured):
        large = rows[-1]
        growth = large.peak_rss_mb / ours.peak_rss_mb
        report["rss_growth"] = round(growth, 2)
        print(f"peak RSS: {ours.peak_rss_mb:.1f} MB for {args.domains} domains, "
              f"{large.peak_rss_mb:.1f} MB for {args.large} ({growth:.2f}x for "
              f"{args.large / args.domains:g}x the domains)")
    return status


if __name__ == "__main__":
    sys.exit(main())
