"""Worker processes that each job may hang, exhaust or crash without taking the rest down.

The docs stage's builds run here: each runs a repository's Markdown through MkDocs, its
extensions and the theme, code paths no one has tried on every input.
``concurrent.futures`` cannot stop a job that hangs, and one worker killed by the kernel
breaks its whole pool. Here each worker is a process of its own, given one job at a time:
a job past its time limit has its worker killed, a worker that dies is replaced, and
either way that job alone fails, with a reason, while the others go on. Memory is capped
per worker (``RLIMIT_AS``, counted from what the worker already holds when it starts),
so a runaway build fails with a ``MemoryError`` instead of inviting the kernel's OOM
killer to pick a process. Workers die with their parent, so a killed build leaves none.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, Literal, TypeVar

__all__ = ["Failure", "JobLimits", "die_with_parent", "run_isolated"]

J = TypeVar("J")
R = TypeVar("R")

FailureKind = Literal["timeout", "memory", "crashed"]
_START_GRACE = 60.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class JobLimits:
    seconds: float = 300.0
    memory_bytes: int | None = 2 * 1024**3


@dataclass(frozen=True)
class Failure(Generic[J]):
    """A job that produced no result: why, in words for a user."""

    job: J
    kind: FailureKind
    message: str


@dataclass
class _Worker:
    process: Any
    conn: Connection
    job: Any = None
    deadline: float = 0.0


def run_isolated(
    fn: Callable[[J], R],
    jobs: Sequence[J],
    *,
    workers: int,
    limits: JobLimits,
    initializer: Callable[[], None] | None = None,
) -> Iterator[R | Failure[J]]:
    """``fn(job)`` for every job, in up to ``workers`` processes; results in the order
    they finish. A job that overruns ``limits.seconds``, runs out of memory or kills its
    worker yields a ``Failure`` instead, and its worker is replaced."""
    context = multiprocessing.get_context("fork")
    # Workers are forked from this process: they have ``jobs`` already, and receive only
    # an index (a job need not be picklable: it may hold a client, a lock, a store).
    everything = list(jobs)
    pending = deque(range(len(everything)))
    pool: list[_Worker] = []

    def start() -> _Worker:
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve,
            args=(child, fn, everything, initializer, limits.memory_bytes),
            daemon=True,
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    if not pending:
        return
    try:
        for _ in range(max(1, min(workers, len(pending)))):
            pool.append(start())
        while True:
            for worker in pool:
                if worker.job is None and pending:
                    worker.job = pending.popleft()
                    # Until the worker says it started the job (it may still be importing
                    # what builds need), the clock is generous; then it is the limit.
                    worker.deadline = time.monotonic() + limits.seconds + _START_GRACE
                    with contextlib.suppress(OSError):  # a dead worker shows as crashed below
                        worker.conn.send(worker.job)  # the index
            busy = [w for w in pool if w.job is not None]
            if not busy:
                return
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout))
            finished: list[R | Failure[J]] = []
            kept: list[_Worker] = []
            for worker in pool:
                outcome, replace = _check(worker, ready, limits)
                if outcome is None:
                    kept.append(worker)
                    continue
                if isinstance(outcome, Failure):  # it names the job by its index
                    outcome = Failure(everything[outcome.job], outcome.kind, outcome.message)
                finished.append(outcome)
                worker.job = None
                if not replace:
                    kept.append(worker)
                    continue
                _stop(worker)
                if pending:
                    kept.append(start())
            pool = kept
            yield from finished
    finally:
        for worker in pool:
            _stop(worker, gracefully=True)


def _check(worker: _Worker, ready: set[Any], limits: JobLimits) -> tuple[Any, bool]:
    """A busy worker's outcome if it has one (a result or a Failure), and whether the
    worker must be replaced; (None, False) while its job is still running."""
    if worker.job is None:
        return None, False
    if worker.conn in ready:
        try:
            status, value = worker.conn.recv()
        except (EOFError, OSError):
            status, value = "crashed", None
        if status == "started":
            worker.deadline = time.monotonic() + limits.seconds
            return None, False
        if status == "ok":
            return value, False
        if status == "memory":
            return Failure(worker.job, "memory", _memory_message(limits)), True
        return Failure(worker.job, "crashed", _crash_message(worker.process)), True
    if worker.process.sentinel in ready or not worker.process.is_alive():
        return Failure(worker.job, "crashed", _crash_message(worker.process)), True
    if time.monotonic() >= worker.deadline:
        message = (
            f"the build took longer than {limits.seconds:g} s and was stopped "
            "(docs.timeout_seconds in backlot.yaml)"
        )
        return Failure(worker.job, "timeout", message), True
    return None, False


def _stop(worker: _Worker, gracefully: bool = False) -> None:
    process = worker.process
    if gracefully and process.is_alive() and worker.job is None:
        try:
            worker.conn.send(None)
            process.join(timeout=5)
        except (OSError, ValueError):
            pass
    if process.is_alive():
        process.kill()
    process.join(timeout=5)
    worker.conn.close()


def _memory_message(limits: JobLimits) -> str:
    megabytes = (limits.memory_bytes or 0) // 2**20
    return (
        f"the build needed more than {megabytes:,} MB of memory and was stopped "
        "(docs.max_memory_mb in backlot.yaml)"
    )


def _crash_message(process: Any) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code == signal.SIGKILL:
            return f"the build process was killed ({name}; out of memory?)"
        return f"the build process crashed ({name})"
    return f"the build process exited unexpectedly (exit code {code})"


def die_with_parent() -> None:
    """Ask the kernel to kill this (worker) process when its parent dies: a build killed
    with SIGKILL must not leave workers that go on writing into the output while the next
    build runs. Linux only; elsewhere a no-op."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)


def _serve(
    conn: Connection,
    fn: Callable[[Any], Any],
    jobs: list[Any],
    initializer: Callable[[], None] | None,
    memory_bytes: int | None,
) -> None:
    """A worker: one job at a time from ``conn``, each answered with (status, result)."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory_bytes is not None:
        _limit_memory(memory_bytes)
    try:
        if initializer is not None:
            initializer()
        while True:
            index = conn.recv()
            if index is None:
                return
            job = jobs[index]
            conn.send(("started", None))
            try:
                conn.send(("ok", fn(job)))
            except MemoryError:
                # Whatever was half-built may be inconsistent: report, then let the
                # parent start a fresh worker.
                conn.send(("memory", None))
                return
    except (EOFError, OSError, KeyboardInterrupt):
        return
    finally:
        conn.close()


def _limit_memory(budget: int) -> None:
    """Cap the address space at what the worker already maps plus ``budget``: a fork
    inherits its parent's mappings, which may be large after reading a big catalog."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return
    limit = mapped + budget
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
