"""Micro-batching: gather concurrent requests for one model into one generator call.

A generator forward pass on CPU costs nearly the same for 1 row as for 16 (the exported
generator always runs fixed 16-row chunks, see `condgan.generator.CHUNK`, and per-call overhead
dominates small models), so N concurrent single-image requests served one by one do N times the
work of one batched call.  As in TF-Serving's batching scheduler and Clipper (Crankshaw et al.,
NSDI 2017), one worker thread per model takes the first waiting request, waits at most
`max_wait_s` for more (stopping early at `max_images`), runs them as one call, and hands each
request its own rows.  Requests that arrive while a batch runs queue up and form the next batch,
so under load batches fill without waiting.  The wait is adaptive: it is spent only when the
previous batch held more than one request (concurrent clients are about); a lone sequential
client never waits, so micro-batching costs it nothing.

Images depend only on their own (seed, condition) (`generate_for_seeds`), so batching never
changes a request's pixels.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable, Sequence

import numpy as np

from condgan.errors import UserError

RunFn = Callable[[Sequence[Any], Sequence[int]], tuple[np.ndarray, list | None]]


class _Pending:
    __slots__ = ("conditions", "seeds", "done", "result", "error")

    def __init__(self, conditions: Sequence[Any], seeds: Sequence[int]) -> None:
        self.conditions = list(conditions)
        self.seeds = list(seeds)
        self.done = threading.Event()
        self.result: tuple[np.ndarray, list | None] | None = None
        self.error: BaseException | None = None


class MicroBatcher:
    """One worker thread for one model; `submit` blocks until the request's rows are ready."""

    def __init__(self, run: RunFn, *, max_images: int = 64, max_wait_s: float = 0.004,
                 name: str = "model") -> None:
        self._run = run
        self.max_images = max_images
        self.max_wait_s = max_wait_s
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"batcher-{name}", daemon=True)
        self._thread.start()
        self.batches = 0  # counters for tests and the benchmark
        self.requests = 0
        self._last_size = 0

    def submit(self, conditions: Sequence[Any], seeds: Sequence[int]
               ) -> tuple[np.ndarray, list | None]:
        item = _Pending(conditions, seeds)
        self._queue.put(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result

    def close(self) -> None:
        self._queue.put(None)

    def _gather(self, first: _Pending) -> list[_Pending]:
        batch, count = [first], len(first.seeds)
        wait = self.max_wait_s if self._last_size > 1 else 0.0
        deadline = time.monotonic() + wait
        while count < self.max_images:
            try:  # whatever queued while the last batch ran is taken without waiting
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is None:  # close(): finish this batch, then stop
                self._queue.put(None)
                break
            batch.append(item)
            count += len(item.seeds)
        return batch

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = self._gather(first)
            self._last_size = len(batch)
            self.batches += 1
            self.requests += len(batch)
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Pending]) -> None:
        conditions = [c for item in batch for c in item.conditions]
        seeds = [s for item in batch for s in item.seeds]
        try:
            images, extra = self._run(conditions, seeds)
        except UserError as error:
            if len(batch) > 1:  # one request's bad input must not fail its neighbours
                for item in batch:
                    self._run_batch([item])
                return
            batch[0].error = error
            batch[0].done.set()
            return
        except BaseException as error:  # noqa: BLE001  handed to every waiting request
            for item in batch:
                item.error = error
                item.done.set()
            return
        start = 0
        for item in batch:
            stop = start + len(item.seeds)
            item.result = (images[start:stop], extra[start:stop] if extra is not None else None)
            start = stop
            item.done.set()
