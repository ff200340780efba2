"""Progress for a log: one line per finished check with the time it took, the time since the
start and an estimate of what remains (the mean time per check so far, times the checks left).
`verify run` uses it when its output is not a terminal (piped to a file, in CI), where a progress
bar would print nothing until the end."""

from __future__ import annotations

import time
from collections.abc import Callable


def _duration(seconds: float) -> str:
    """'41 s', '3m05s', '1h02m'."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class LineProgress:
    """Call `start(claim_id)` as each check starts and `close()` after the last; every check
    that finishes prints one line through `write`."""

    def __init__(self, total: int, write: Callable[[str], None],
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.total, self.write, self.clock = total, write, clock
        self.began = clock()
        self.done = 0
        self.current: tuple[str, float] | None = None

    def start(self, claim_id: str) -> None:
        """A check starts: the one before it (if any) has finished."""
        self._finish()
        self.current = (claim_id, self.clock())

    def close(self) -> None:
        """The last check has finished."""
        self._finish()

    def line(self, claim_id: str, took: float, now: float) -> str:
        """'[3/28] inference-latency-3x done in 41 s; 2m10s so far, about 13m left'."""
        elapsed = now - self.began
        left = self.total - self.done
        tail = f"about {_duration(elapsed / self.done * left)} left" if left > 0 else "all done"
        return (f"[{self.done}/{self.total}] {claim_id} done in {_duration(took)};"
                f" {_duration(elapsed)} so far, {tail}")  # fmt: skip

    def _finish(self) -> None:
        if self.current is None:
            return
        claim_id, since = self.current
        self.current = None
        self.done += 1
        now = self.clock()
        self.write(self.line(claim_id, now - since, now))
