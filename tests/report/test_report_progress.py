"""The progress line of bulk audits."""

from __future__ import annotations

import io

from deliverability.audit.model import DomainReport
from deliverability.report import Progress

from .samples import build_incomplete_report, build_passing_report, build_report


class FakeClock:
    """A clock that advances only when the test changes ``now``."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TerminalBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


def reports() -> list[DomainReport]:
    return [build_report(), build_incomplete_report(), build_passing_report()]


def test_silent_when_not_terminal() -> None:
    stream = io.StringIO()
    with Progress(total=3, stream=stream) as progress:
        for report in reports():
            progress.update(report)
    assert stream.getvalue() == ""
    assert progress.done == 3


def test_draws_on_terminal() -> None:
    stream = TerminalBuffer()
    clock = FakeClock()
    progress = Progress(total=4, stream=stream, clock=clock)
    for report in reports():
        clock.now += 1.0
        progress.update(report)
    progress.close()
    output = stream.getvalue()
    assert output.startswith("\r\x1b[K1/4 domains, 1 failed, 0 incomplete")
    assert output.endswith("\n")
    final = output.rstrip("\n").rsplit("\r\x1b[K", 1)[-1]
    assert final == "3/4 domains, 1 failed, 1 incomplete, 1.0/s, about 1s left"


def test_silent_when_disabled() -> None:
    stream = TerminalBuffer()
    with Progress(total=1, stream=stream, enabled=False) as progress:
        progress.advance()
    assert stream.getvalue() == ""


def test_enabled_still_needs_terminal() -> None:
    stream = io.StringIO()
    with Progress(total=1, stream=stream, enabled=True) as progress:
        progress.advance()
    assert stream.getvalue() == ""


def test_counts_by_status() -> None:
    progress = Progress(stream=io.StringIO())
    for report in reports():
        progress.update(report)
    assert (progress.done, progress.failed, progress.incomplete) == (3, 1, 1)


def test_redraw_throttled() -> None:
    stream = TerminalBuffer()
    clock = FakeClock()
    progress = Progress(total=1000, stream=stream, clock=clock, interval=0.5)
    for _ in range(100):
        clock.now += 0.01
        progress.advance()
    assert stream.getvalue().count("\r") == 2


def test_unknown_total() -> None:
    clock = FakeClock()
    progress = Progress(stream=io.StringIO(), clock=clock)
    clock.now += 2.0
    progress.advance(failed=True)
    assert progress.line() == "1 domain, 1 failed, 0 incomplete, 0.5/s"


def test_eta_formats() -> None:
    clock = FakeClock()
    progress = Progress(total=100_001, stream=io.StringIO(), clock=clock)
    clock.now += 1.0
    progress.advance()
    assert progress.line().endswith("about 27h 46m left")


def test_close_twice_writes_once() -> None:
    stream = TerminalBuffer()
    progress = Progress(total=1, stream=stream)
    progress.advance()
    progress.close()
    progress.close()
    assert stream.getvalue().count("\n") == 1


def test_nothing_drawn_without_items() -> None:
    stream = TerminalBuffer()
    Progress(total=5, stream=stream).close()
    assert stream.getvalue() == ""


def test_clear_erases_and_redraws() -> None:
    stream = TerminalBuffer()
    clock = FakeClock()
    progress = Progress(total=3, stream=stream, clock=clock, interval=10.0)
    progress.advance()
    progress.clear()
    assert stream.getvalue().endswith("\r\x1b[K")
    clock.now += 4.0
    progress.advance()
    expected = "\r\x1b[K2/3 domains, 0 failed, 0 incomplete, 0.5/s, about 2s left"
    assert stream.getvalue().endswith(expected)


def test_no_rate_before_time_passes() -> None:
    progress = Progress(total=2, stream=io.StringIO(), clock=FakeClock())
    progress.advance()
    assert progress.line() == "1/2 domains, 0 failed, 0 incomplete"
