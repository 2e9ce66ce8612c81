"""Bulk audits spread over worker processes.

One event loop saturates one core long before the network does: a lookup
costs tens of microseconds of CPU and each domain takes about 35 of them.
For long domain lists the audit therefore runs in several processes, each
with its own event loop, resolver and cache, fed names in order and
returning reports to the parent, which streams or orders them.

Workers are forked, so they inherit the parent's loaded zone files; where
``fork`` is not available the audit runs in one process.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.process import BaseProcess
from typing import Any

from ..dns.resolver import Resolver
from ..errors import DeliverabilityError
from .model import AuditOptions, DomainReport
from .run import audit_numbered

__all__ = ["audit_in_processes", "default_workers"]

logger = logging.getLogger(__name__)

#: Domain lists shorter than this run in one process: forking costs more.
MIN_DOMAINS_PER_WORKER = 100
_STOP = None
_POLL_SECONDS = 0.5


def default_workers(total: int) -> int:
    """Return how many worker processes suit ``total`` domains on this machine."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else (os.cpu_count() or 1)
    )
    return max(1, min(cores, 8, total // MIN_DOMAINS_PER_WORKER))


def audit_in_processes(
    domains: Iterable[str],
    *,
    make_resolver: Callable[[], Resolver],
    options: AuditOptions | None,
    workers: int,
    concurrency: int,
    ordered: bool,
    run_loop: Callable[[Any], Any] = asyncio.run,
) -> Iterator[DomainReport]:
    """Audit ``domains`` in ``workers`` forked processes and yield the reports.

    Reports come in input order when ``ordered`` is true, otherwise as they
    finish. ``make_resolver`` is called once in each worker. Raises
    :class:`DeliverabilityError` when a worker fails.
    """
    context = multiprocessing.get_context("fork")
    tasks = [context.Queue(maxsize=4 * concurrency) for _ in range(workers)]
    results = context.Queue(maxsize=8 * concurrency)
    processes = [
        context.Process(
            target=_worker,
            args=(tasks[i], results, make_resolver, options, concurrency, run_loop),
            daemon=True,
        )
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        yield from _collect(
            domains, tasks, results, processes, ordered, window=2 * concurrency
        )
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()


def _collect(
    domains: Iterable[str],
    tasks: list[Any],
    results: Any,
    processes: Sequence[BaseProcess],
    ordered: bool,
    window: int,
) -> Iterator[DomainReport]:
    """Feed names to the workers and yield their reports.

    Each worker is kept at most ``window`` names ahead. A worker waits for a
    name only when it has nothing in its queue, and then it has reports on
    their way back, so the parent never waits for a worker that waits for it.
    """
    source = iter(enumerate(domains))
    outstanding = [0] * len(tasks)
    owner: dict[int, int] = {}
    finished: dict[int, DomainReport] = {}
    next_index = 0
    exhausted = False
    while not exhausted or owner:
        while not exhausted and min(outstanding) < window:
            item = next(source, None)
            if item is None:
                exhausted = True
                for task_queue in tasks:
                    task_queue.put(_STOP)
                break
            worker = outstanding.index(min(outstanding))
            tasks[worker].put(item)
            outstanding[worker] += 1
            owner[item[0]] = worker
        if not owner:
            continue
        index, report = _next_result(results, processes)
        outstanding[owner.pop(index)] -= 1
        if not ordered:
            yield report
            continue
        finished[index] = report
        while next_index in finished:
            yield finished.pop(next_index)
            next_index += 1


def _next_result(
    results: Any, processes: Sequence[BaseProcess]
) -> tuple[int, DomainReport]:
    while True:
        try:
            kind, index, payload = results.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise DeliverabilityError(
                    f"an audit worker process exited with status {dead[0].exitcode}"
                ) from None
            continue
        if kind == "error":
            raise DeliverabilityError(f"an audit worker failed:\n{payload}")
        return index, payload


def _worker(
    tasks: Any,
    results: Any,
    make_resolver: Callable[[], Resolver],
    options: AuditOptions | None,
    concurrency: int,
    run_loop: Callable[[Any], Any],
) -> None:
    """Audit the names that arrive on ``tasks`` until the stop marker."""

    def numbered() -> Iterator[tuple[int, str]]:
        # Blocks the event loop only while the parent has sent nothing yet;
        # the parent keeps the queue ahead of the workers.
        while True:
            item = tasks.get()
            if item is _STOP:
                return
            yield item

    async def run() -> None:
        resolver = make_resolver()
        try:
            async for index, report in audit_numbered(
                numbered(),
                resolver=resolver,
                options=options,
                concurrency=concurrency,
            ):
                results.put(("report", index, report))
        finally:
            await resolver.aclose()

    try:
        run_loop(run())
    except BaseException:  # noqa: BLE001 - the parent must hear of any failure
        results.put(("error", -1, traceback.format_exc()))
        raise
