"""Batches of pages rendered by the build's process and forked workers together.

Forked workers share the build's memory until they write to it, and reading a Python
object writes to it (its reference count): a worker that reads the whole model, as
rendering pages across the organisation does, soon holds a copy of it. So the build's own
process renders batches too, beside one worker fewer: two processes on two cores hold
two copies of the model, not three (50,000 entities: 1.7 GB in all with two workers and
an idle parent).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TypeVar

from ..workers import die_with_parent

__all__ = ["render_batches"]

B = TypeVar("B")
R = TypeVar("R")

# Batches queued per worker: enough that a worker never waits for the build's process to
# hand it the next one, few enough that the two finish at about the same time.
_QUEUED = 2


def render_batches(job: Callable[[B], R], batches: Sequence[B], workers: int | None) -> Iterator[R]:
    """``job`` of each batch, results in the order they finish. ``job`` runs in this
    process and in ``workers - 1`` forked ones (``workers``: the CPU count when None); it
    must read the build's state from a module global set before the call, as forked
    workers inherit it."""
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count <= 1 or len(batches) <= 1:
        yield from map(job, batches)
        return
    todo = deque(batches)
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=count - 1, mp_context=fork, initializer=die_with_parent
    ) as pool:
        queued: deque[Future[R]] = deque()
        while todo or queued:
            while todo and len(queued) < _QUEUED * (count - 1):
                queued.append(pool.submit(job, todo.popleft()))
            while queued and queued[0].done():
                yield queued.popleft().result()
            if todo:
                yield job(todo.popleft())
            elif queued:
                yield queued.popleft().result()
