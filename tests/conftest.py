"""Shared fixtures: the reference corpus and the external programs tests need.

A test that needs a program (knotd, chromium, postgres) or the corpus fails
when it is missing under ``CI=true`` and is skipped on a developer's machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .knot import KnotServer, ZoneSource, start_knot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ZONES = ROOT / "examples" / "real-dns" / "zones"
"""Zone files of the bundled real-data example."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> None:
    """Fail under CI, skip elsewhere."""
    if in_ci():
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def require_program(*names: str) -> str:
    """Return the path of the first program found among ``names``."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    for name in names:
        for folder in ("/usr/sbin", "/usr/lib/postgresql"):
            candidates = sorted(Path(folder).glob(f"**/{name}"))
            if candidates:
                return str(candidates[-1])
    missing(f"program {' or '.join(names)} not found")
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The shared reference corpus (DELIVERABILITY_CORPUS or ../shared/corpus)."""
    configured = os.environ.get("DELIVERABILITY_CORPUS")
    path = Path(configured) if configured else ROOT.parent / "shared" / "corpus"
    if not path.is_dir():
        missing(f"reference corpus not found at {path}; set DELIVERABILITY_CORPUS")
    return path


StartKnot = Callable[..., KnotServer]


@pytest.fixture(scope="session")
def knot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartKnot]:
    """Start Knot DNS servers on loopback; each is stopped at the end of the session.

    ``knot(zones, address="127.0.0.1", port=None, root_zone=True)`` takes a
    folder of ``*.zone`` files, one file, or a mapping of origin to zone text.
    It returns a running :class:`~tests.knot.KnotServer`, whose ``nameserver``
    pair goes to ``LiveResolver([server.nameserver])``. Zones without SOA or
    NS get synthetic ones. An empty root zone makes names outside the zones
    NXDOMAIN, as ZoneResolver returns them.
    """
    knotd = require_program("knotd")
    servers: list[KnotServer] = []

    def start(
        zones: ZoneSource,
        *,
        address: str = "127.0.0.1",
        port: int | None = None,
        root_zone: bool = True,
    ) -> KnotServer:
        workdir = tmp_path_factory.mktemp("knot")
        server = start_knot(
            zones, workdir, address=address, port=port, knotd=knotd,
            root_zone=root_zone,
        )
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def knot_example(knot: StartKnot) -> tuple[str, int]:
    """The ``(address, port)`` of a Knot server holding the bundled example zones."""
    if not any(EXAMPLE_ZONES.glob("*.zone")):
        pytest.fail(f"no zone files in {EXAMPLE_ZONES}; run build_zones.py there")
    return knot(EXAMPLE_ZONES).nameserver
