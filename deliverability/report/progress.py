"""A one-line progress display for bulk audits, drawn on standard error."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

from ..audit.model import DomainReport
from .summary import STATUS_FAIL, STATUS_INCOMPLETE, report_status

__all__ = ["Progress"]

# Carriage return, then "erase to end of line", so a shorter line leaves no tail.
_REDRAW = "\r\x1b[K"


class Progress:
    """Show domains done (of the total, when known), failures and the rate.

    The line is redrawn at most every ``interval`` seconds and finished with a
    newline by :meth:`close`. It is drawn only when ``stream`` (standard error
    by default) is a terminal, so piped or logged output never gets carriage
    returns. ``enabled=False`` keeps it silent on a terminal too. Use it as a
    context manager::

        with Progress(total=len(domains)) as progress:
            for report in reports:
                progress.update(report)
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled and _is_terminal(self.stream)
        self.interval = interval
        self.done = 0
        """Domains finished so far."""
        self.failed = 0
        """Domains whose status is ``fail`` (see :func:`report_status`)."""
        self.incomplete = 0
        """Domains whose status is ``incomplete``."""
        self._clock = clock
        self._started = clock()
        self._last_draw: float | None = None
        self._closed = False

    def update(self, report: DomainReport) -> None:
        """Count one finished domain and redraw the line if it is due."""
        status = report_status(report)
        self.advance(
            failed=status == STATUS_FAIL, incomplete=status == STATUS_INCOMPLETE
        )

    def advance(self, *, failed: bool = False, incomplete: bool = False) -> None:
        """Count one finished item without a report, e.g. one that raised."""
        self.done += 1
        self.failed += int(failed)
        self.incomplete += int(incomplete)
        now = self._clock()
        if self._last_draw is None or now - self._last_draw >= self.interval:
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        """Return the progress text, e.g. ``120/500 domains, 3 failed, ...``."""
        now = self._clock() if now is None else now
        elapsed = now - self._started
        done = f"{self.done}/{self.total}" if self.total is not None else str(self.done)
        noun = "domain" if (self.total or self.done) == 1 else "domains"
        parts = [
            f"{done} {noun}",
            f"{self.failed} failed",
            f"{self.incomplete} incomplete",
        ]
        if elapsed > 0:
            rate = self.done / elapsed
            parts.append(f"{rate:.1f}/s")
            remaining = (self.total or 0) - self.done
            if remaining > 0 and rate > 0:
                parts.append(f"about {_duration(remaining / rate)} left")
        return ", ".join(parts)

    def clear(self) -> None:
        """Erase the line, so that text written to the same terminal starts clean.

        The next :meth:`update` or :meth:`advance` draws the line again.
        """
        if self.enabled and self._last_draw is not None and not self._closed:
            self.stream.write(_REDRAW)
            self.stream.flush()
            self._last_draw = None

    def close(self) -> None:
        """Draw the final line and end it with a newline; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        if self.enabled and self.done:
            self._draw(self._clock())
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if not self.enabled:
            return
        self.stream.write(_REDRAW + self.line(now))
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


def _duration(seconds: float) -> str:
    """Format ``seconds`` as ``45s``, ``3m 20s`` or ``2h 05m``."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"
