"""Run a Knot DNS server on a loopback address, serving zones a test gives.

:func:`start_knot` writes the zones and a Knot configuration into a work
folder, starts ``knotd`` in the foreground and returns once every zone
answers a real DNS query. :meth:`KnotServer.stop` ends it.

Knot does not load a zone without an SOA record, so :func:`complete_zone` adds an
SOA and an NS record at the apex when the text lacks them. By default the
server also serves an empty root zone, so a name outside every given zone is
NXDOMAIN, as :class:`deliverability.dns.ZoneResolver` returns it, instead of
Knot's REFUSED.

Run as a module from the repository root, it starts Knot, waits for it, runs
a command and stops Knot again. :func:`run_in_netns` uses that inside
``unshare --net`` to serve zones on 127.0.0.2 port 53 in a network namespace
that has only loopback::

    python3 -m tests.knot --zones DIR --workdir DIR --address 127.0.0.2 \
        --port 53 -- CMD ...
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.zone

__all__ = [
    "KnotServer",
    "ZoneSource",
    "collect_zones",
    "complete_zone",
    "free_port",
    "knot_server",
    "run_in_netns",
    "start_knot",
]

ZoneSource = Path | str | Mapping[str, str]
"""A folder of ``*.zone`` files, one zone file, or a mapping of origin to text."""

_ROOT = Path(__file__).resolve().parent.parent

START_TIMEOUT = 10.0
"""Seconds to wait for knotd to answer before giving up."""

_SYNTHETIC_APEX = (
    "@ 300 IN SOA ns.invalid. hostmaster.invalid. 1 3600 600 86400 300\n",
    "@ 300 IN NS ns.invalid.\n",
)


def _origin_text(origin: str) -> str:
    """Return ``origin`` lower-cased without the final dot (``.`` for the root)."""
    text = origin.strip().lower().rstrip(".")
    return text or "."


def _file_origin(path: Path) -> str:
    """Return a zone file's ``$ORIGIN``, or its file name without ``.zone``."""
    text = "$TTL 300\n" + path.read_text(encoding="utf-8")
    try:
        zone = dns.zone.from_text(
            text, origin=None, relativize=False, check_origin=False
        )
    except dns.zone.UnknownOrigin:
        zone = None
    if zone is None or zone.origin is None:
        return _origin_text(path.name.removesuffix(".zone"))
    return _origin_text(zone.origin.to_text())


def collect_zones(source: ZoneSource) -> dict[str, str]:
    """Return origin -> zone text from a folder, a single file or a mapping.

    A folder is searched recursively for ``*.zone`` files. Raises
    ``ValueError`` when two files define the same origin.
    """
    if isinstance(source, Mapping):
        return {_origin_text(origin): text for origin, text in source.items()}
    path = Path(source)
    files = sorted(path.rglob("*.zone")) if path.is_dir() else [path]
    zones: dict[str, str] = {}
    for file in files:
        origin = _file_origin(file)
        if origin in zones:
            raise ValueError(f"zone {origin} is defined twice (again in {file})")
        zones[origin] = file.read_text(encoding="utf-8")
    return zones


def complete_zone(origin: str, text: str) -> str:
    """Return ``text`` with ``$ORIGIN`` and ``$TTL`` set and apex SOA and NS added.

    SOA and NS are added only when the text lacks them. They name
    ``ns.invalid.``, which RFC 6761 reserves, so they cannot be taken for a
    real nameserver. The default TTL of 300 s applies to the records before
    the text's own ``$TTL`` line, if any.
    """
    name = dns.name.from_text(_origin_text(origin))
    header = [f"$ORIGIN {name.to_text()}\n", "$TTL 300\n"]
    zone = dns.zone.from_text(
        "".join(header) + text, origin=name, relativize=False, check_origin=False
    )
    if zone.get_rdataset(name, dns.rdatatype.SOA) is None:
        header.append(_SYNTHETIC_APEX[0])
    if zone.get_rdataset(name, dns.rdatatype.NS) is None:
        header.append(_SYNTHETIC_APEX[1])
    return "".join(header) + text


def free_port(address: str = "127.0.0.1") -> int:
    """Return a port that is free for both UDP and TCP on ``address``.

    Another process may still take the port before knotd binds it; the
    window is small, and :func:`start_knot` then fails with knotd's log.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((address, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((address, port))
                except OSError:
                    continue
                return port
    raise RuntimeError(f"no free UDP and TCP port found on {address}")


def _zone_file_name(origin: str) -> str:
    return "root.zone" if origin == "." else f"{origin}.zone"


def _config_text(workdir: Path, origins: Sequence[str], listen: str) -> str:
    """Return a Knot configuration that serves ``origins`` from workdir/zones."""
    lines = [
        "server:",
        f"    rundir: {workdir / 'run'}",
        "    user: root:root",
        f"    listen: {listen}",
        "control:",
        f"    listen: {workdir / 'run' / 'knot.sock'}",
        "database:",
        f"    storage: {workdir / 'db'}",
        "log:",
        "  - target: stderr",
        "    any: warning",
        "template:",
        "  - id: default",
        f"    storage: {workdir / 'zones'}",
        "    semantic-checks: off",
        "    zonefile-sync: -1",
        "    zonefile-load: whole",
        "    journal-content: none",
        "zone:",
    ]
    for origin in origins:
        lines.append(f"  - domain: \"{origin}\"")
        lines.append(f"    file: {_zone_file_name(origin)}")
    return "\n".join(lines) + "\n"


def write_config(
    zones: ZoneSource,
    workdir: Path,
    *,
    address: str,
    port: int,
    root_zone: bool = True,
) -> tuple[Path, list[str]]:
    """Write the completed zones and knot.conf under ``workdir``.

    Returns the configuration path and the served origins, the given zones
    first. ``root_zone`` adds an empty root zone unless one is given.
    """
    texts = collect_zones(zones)
    if root_zone and "." not in texts:
        texts["."] = ""
    for folder in ("zones", "run", "db"):
        (workdir / folder).mkdir(parents=True, exist_ok=True)
    for origin, text in texts.items():
        target = workdir / "zones" / _zone_file_name(origin)
        target.write_text(complete_zone(origin, text), encoding="utf-8")
    origins = list(texts)
    config = workdir / "knot.conf"
    config.write_text(_config_text(workdir, origins, f"{address}@{port}"))
    return config, origins


@dataclass
class KnotServer:
    """A running knotd and where it listens."""

    address: str
    port: int
    config: Path
    log: Path
    origins: list[str]
    process: subprocess.Popen[bytes]

    @property
    def nameserver(self) -> tuple[str, int]:
        """The ``(address, port)`` pair a LiveResolver takes."""
        return self.address, self.port

    def unanswered(self, origins: Sequence[str], timeout: float = 0.2) -> list[str]:
        """Return the origins whose SOA query gets no NOERROR reply with an answer.

        Knot replies SERVFAIL for a zone it has not loaded yet, so one
        answer for one zone does not mean that all zones are served.
        """
        pending = []
        for origin in origins:
            query = dns.message.make_query(origin, dns.rdatatype.SOA)
            try:
                reply = dns.query.udp(
                    query, self.address, timeout=timeout, port=self.port
                )
            except (dns.exception.Timeout, OSError):
                pending.append(origin)
                continue
            if reply.rcode() != dns.rcode.NOERROR or not reply.answer:
                pending.append(origin)
        return pending

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Poll with DNS queries until every zone answers; raise RuntimeError if not."""
        deadline = time.monotonic() + timeout
        pending = list(self.origins)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"knotd exited with status {self.process.returncode}:\n"
                    + self.read_log()
                )
            pending = self.unanswered(pending)
            if not pending:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"knotd did not serve {', '.join(pending[:5])} on "
            f"{self.address}@{self.port} within {timeout:g} s:\n" + self.read_log()
        )

    def read_log(self) -> str:
        """Return what knotd wrote to standard error so far."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop knotd with SIGTERM, and kill it if it has not exited in 5 s."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def start_knot(
    zones: ZoneSource,
    workdir: Path,
    *,
    address: str = "127.0.0.1",
    port: int | None = None,
    knotd: str = "knotd",
    root_zone: bool = True,
) -> KnotServer:
    """Start knotd serving ``zones`` on ``address`` and wait until it answers.

    ``port`` defaults to a free port. Raises RuntimeError with knotd's log when
    it exits or does not answer within :data:`START_TIMEOUT` seconds.
    """
    chosen = port if port is not None else free_port(address)
    config, origins = write_config(
        zones, workdir, address=address, port=chosen, root_zone=root_zone
    )
    log = workdir / "knotd.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [knotd, "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    server = KnotServer(address, chosen, config, log, origins, process)
    server.wait_ready()
    return server


@contextlib.contextmanager
def knot_server(
    zones: ZoneSource,
    workdir: Path,
    *,
    address: str = "127.0.0.1",
    port: int | None = None,
    knotd: str = "knotd",
) -> Iterator[KnotServer]:
    """Run knotd for the duration of a ``with`` block (arguments as start_knot)."""
    server = start_knot(zones, workdir, address=address, port=port, knotd=knotd)
    try:
        yield server
    finally:
        server.stop()


def run_in_netns(
    zones: ZoneSource,
    workdir: Path,
    command: Sequence[str],
    *,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in a network namespace with only loopback.

    Inside, knotd serves ``zones`` on 127.0.0.2 port 53 and /etc/resolv.conf
    names only that server, so nothing the command sends can leave loopback.
    Needs root (``unshare --net``). Returns the finished process with its
    output captured as text.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    zone_dir = workdir / "netns-zones"
    zone_dir.mkdir(exist_ok=True)
    for origin, text in collect_zones(zones).items():
        (zone_dir / _zone_file_name(origin)).write_text(text, encoding="utf-8")
    resolv = workdir / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.2\n")
    script = (
        'set -eu\nip link set lo up\n'
        'mount --bind "$1" /etc/resolv.conf 2>/dev/null || true\n'
        'shift\nexec "$@"\n'
    )
    argv = [
        "unshare", "--net", "--mount", "--propagation", "private",
        "sh", "-c", script, "sh", str(resolv),
        sys.executable, "-m", "tests.knot",
        "--zones", str(zone_dir), "--workdir", str(workdir / "knot"),
        "--address", "127.0.0.2", "--port", "53", "--", *command,
    ]
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, check=False,
        cwd=_ROOT,
    )


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Serve zones with knotd while a command runs, then stop it."
    )
    parser.add_argument("--zones", type=Path, required=True,
                        help="folder of *.zone files to serve")
    parser.add_argument("--workdir", type=Path, required=True,
                        help="folder for knot.conf, the database and the log")
    parser.add_argument("--address", default="127.0.0.1",
                        help="loopback address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default: a free port)")
    parser.add_argument("command", nargs="+", help="command to run, after --")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve zones, run the command, stop knotd; return the command's status."""
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    knotd = shutil.which("knotd") or "/usr/sbin/knotd"
    args.workdir.mkdir(parents=True, exist_ok=True)
    with knot_server(
        args.zones, args.workdir, address=args.address, port=args.port, knotd=knotd
    ):
        return subprocess.run(args.command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
