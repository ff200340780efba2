"""Setting up many workers on a few cores: each worker's cells run one after another, and the
cores take the next cell of whichever idle worker has the most cells left.

A worker's set-up is a sequence of steps (its import comes with the first). Handing whole workers
to the cores left one core idle at the end while the slowest worker (a Keras one: 4 s of imports
and eight model builds) finished alone; taking cells instead keeps every core busy until the last
few cells, and still runs no more steps at once than there are slots. No step waits for another
worker's step: a worker only waits for a free core.

The first failure stops new steps, except each failed job's ``partners``' first step where that
has not run yet (so that the other side of a pair can say whether it is missing something too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

Job = Hashable


class SetupQueue:
    """The jobs of `steps` (each `steps[job]` steps long, in the dict's order) run by `slots`
    threads through `run(job, step)`."""

    def __init__(
        self,
        steps: dict[Job, int],
        run: Callable[[Job, int], Any],
        slots: int,
        partner: Callable[[Job], Job | None] = lambda job: None,
    ) -> None:
        self.jobs, self._steps, self._run, self._partner = list(steps), steps, run, partner
        self.results: dict[Job, list[Any]] = {j: [] for j in self.jobs}
        self.errors: dict[Job, BaseException] = {}  # in the order they happened
        self._next = {j: 0 for j in self.jobs}
        self._busy: set[Job] = set()
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._work, daemon=True)
                         for _ in range(max(1, slots))]  # fmt: skip

    def _left(self, job: Job) -> int:
        return self._steps[job] - self._next[job]

    def _allowed(self, job: Job) -> bool:
        if job in self._busy or job in self.errors or self._left(job) <= 0:
            return False
        if not self.errors:
            return True
        return self._next[job] == 0 and any(self._partner(j) == job for j in self.errors)

    def _pick(self) -> Job | None:
        """The idle job with the most steps left (the first such in job order); None when no
        step can start now."""
        ready = [j for j in self.jobs if self._allowed(j)]
        return max(ready, key=self._left) if ready else None

    def _work(self) -> None:
        while True:
            with self._cond:
                job = self._pick()
                while job is None:
                    if not self._busy:
                        self._cond.notify_all()
                        return
                    self._cond.wait()
                    job = self._pick()
                step = self._next[job]
                self._next[job] += 1
                self._busy.add(job)
            try:
                result = self._run(job, step)
            except BaseException as e:  # noqa: BLE001 - handed to the caller, who raises it
                with self._cond:
                    self.errors.setdefault(job, e)
                    self._busy.discard(job)
                    self._cond.notify_all()
                continue
            with self._cond:
                self.results[job].append(result)
                self._busy.discard(job)
                self._cond.notify_all()

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def wait(self) -> bool:
        """Wait until every step ran or a step failed; True when every step ran."""
        with self._cond:
            while not self.errors and any(self._left(j) or j in self._busy for j in self.jobs):
                self._cond.wait()
            return not self.errors

    def wait_partners(self, timeout: float) -> None:
        """After a failure: wait, at most `timeout` seconds, until each failed job's partner has
        run its first step or failed."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                partners = {self._partner(j) for j in self.errors} - {None}
                if all(self.results.get(p) or p in self.errors or not self._steps.get(p, 0)
                       for p in partners):  # fmt: skip
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._cond.wait(left)

    def join(self) -> None:
        for t in self._threads:
            t.join()
