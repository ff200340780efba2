"""Pages rendered by helper processes beside the main one: claim pages, when a publish into a new
folder renders many of them (a full publish of a large site), and the site-wide downloads and the
changes page, when a publish in place updates a site of many runs (`SideWork`).

The helpers are forked once the site data is gathered, so they share it copy-on-write and query
nothing; each writes its pages straight into the new folder. Every process takes the next claim
from one shared counter, so the work balances itself, and the main process first renders the
pages that list everything, then takes claims too. A helper reports how many files and pages it
wrote; a helper that fails makes the publish fail with its error, and a publish that fails stops
its helpers before the new folder is removed. Which process rendered a page does not change its
bytes. Without os.fork, for a small site, or with one core, the main process renders every page.

An in-place publish stages its files under temporary names that only the main process may put in
place, so its one helper (`SideWork`) hands back what it staged: the main process commits or
removes those files with its own. A helper that fails removes what it staged before it reports.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

MIN_CLAIMS = 400  # fewer claim pages than this: a helper costs more than it saves
MIN_RUNS = 5000  # fewer runs than this: the site-wide files take too little time to share out
MAX_HELPERS = 3
REPORT_CHARS = 4000


class PublishHelperError(RuntimeError):
    """A helper process failed while rendering claim pages."""


def helpers_for(claims: int, minimum: int = MIN_CLAIMS) -> int:
    """How many helper processes to fork for `claims` claim pages: one fewer than the cores this
    process may use, at most MAX_HELPERS, none below `minimum` pages or without os.fork."""
    if not hasattr(os, "fork") or claims < minimum:
        return 0
    return max(0, min(_cores() - 1, MAX_HELPERS))


def _reap(pid: int, read: int) -> tuple[bytes, int]:
    """A helper's whole report from its pipe, then its exit status once it has ended."""
    chunks = []
    while chunk := os.read(read, 1 << 20):
        chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks), status


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def side_helper_for(runs: int, minimum: int = MIN_RUNS) -> bool:
    """Whether an in-place publish of a site with `runs` runs forks a helper for its site-wide
    files: with os.fork, more than one core and at least `minimum` runs."""
    return hasattr(os, "fork") and runs >= minimum and _cores() > 1


class ClaimPages:
    """The claim ids `todo`, shared between this process and `helpers` forked ones, each id
    rendered once by `render` in whichever process takes it; `counts()` gives what a process
    has written so far (files, pages), for the helpers' reports."""

    def __init__(
        self, todo: list[str], render: Callable[[str], None], helpers: int,
        counts: Callable[[], tuple[int, int]],
    ) -> None:  # fmt: skip
        self.todo, self.render, self.helpers, self.counts = todo, render, helpers, counts
        self.children: list[tuple[int, int]] = []  # (pid, read end of its report pipe)
        self.next: Any = None

    def __enter__(self) -> ClaimPages:
        if self.helpers:
            self.next = multiprocessing.get_context("fork").Value("q", 0)
            for _ in range(self.helpers):
                self._fork()
        return self

    def _fork(self) -> None:
        read, write = os.pipe()
        pid = os.fork()
        if pid:
            os.close(write)
            self.children.append((pid, read))
            return
        # the helper: render what it takes, report, and leave without running any exit handler
        # of the main process (its buffers, its temporary folders)
        os.close(read)
        status = 0
        try:
            files, pages = self.counts()
            for cid in self.take():
                self.render(cid)
            done = self.counts()
            report = {"files": done[0] - files, "pages": done[1] - pages}
        except BaseException:  # everything, to be reported: the main process raises it
            report, status = {"error": traceback.format_exc()[-REPORT_CHARS:]}, 1
        try:
            os.write(write, json.dumps(report).encode())
        finally:
            os._exit(status)

    def take(self) -> Iterator[str]:
        """The claim ids no process has taken yet, each taken by this one."""
        if self.next is None:
            yield from self.todo
            self.todo = []
            return
        while True:
            with self.next.get_lock():
                i = self.next.value
                self.next.value = i + 1
            if i >= len(self.todo):
                return
            yield self.todo[i]

    def join(self) -> tuple[int, int]:
        """Wait for the helpers; the files and pages they wrote. PublishHelperError for one that
        failed."""
        files = pages = 0
        errors = []
        while self.children:
            body, status = _reap(*self.children.pop())
            try:
                report = json.loads(body or b"{}")
            except ValueError:
                report = {}
            if status or "error" in report or "files" not in report:
                errors.append(str(report.get("error") or f"exit status {status}"))
                continue
            files, pages = files + report["files"], pages + report["pages"]
        if errors:
            raise PublishHelperError("a process rendering claim pages failed:\n" + errors[0])
        return files, pages

    def stop(self) -> None:
        """Stop and reap every helper still running."""
        while self.children:
            pid, read = self.children.pop()
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            os.close(read)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        if kind is not None:
            self.stop()


def _stopped(signum: int, frame: Any) -> None:
    raise SystemExit("stopped by the main process")


class SideWork:
    """`tasks` done in one forked helper while this process goes on (or here, as the block
    starts, when `fork` is off). In the helper, `state()` after the tasks is what comes back,
    and `merge` takes it in here; `undo()` runs in the helper when a task fails, before the
    error is reported. `join` waits for the helper and raises PublishHelperError where it failed; a
    block that fails stops the helper and still takes in what it had finished, so that the
    caller can remove it."""

    def __init__(
        self, tasks: list[Callable[[], None]], fork: bool, state: Callable[[], Any],
        merge: Callable[[Any], None], undo: Callable[[], None],
    ) -> None:  # fmt: skip
        self.tasks, self.fork, self.state, self.merge, self.undo = tasks, fork, state, merge, undo
        self.child: tuple[int, int] | None = None

    def __enter__(self) -> SideWork:
        if not self.fork:
            for task in self.tasks:
                task()
            return self
        read, write = os.pipe()
        pid = os.fork()
        if pid:
            os.close(write)
            self.child = (pid, read)
            return self
        os.close(read)
        signal.signal(signal.SIGTERM, _stopped)  # stopped by the main process: undo, then report
        status = 0
        try:
            for task in self.tasks:
                task()
            report: dict[str, Any] = {"state": self.state()}
        except BaseException:  # everything, to be reported: the main process raises it
            status = 1
            report = {"error": traceback.format_exc()[-REPORT_CHARS:]}
            try:
                self.undo()
            except BaseException:
                pass
        try:
            body = pickle.dumps(report, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(body)
            while view:
                view = view[os.write(write, view) :]
        finally:
            os._exit(status)

    def join(self) -> None:
        """The tasks done and their state taken in (PublishHelperError where the helper failed)."""
        if self.child is None:
            return
        report, status = self._collect()
        if status or "state" not in report:
            raise PublishHelperError(
                "a process rendering the site-wide files failed:\n"
                + str(report.get("error") or f"exit status {status}")
            )
        self.merge(report["state"])

    def _collect(self) -> tuple[dict[str, Any], int]:
        assert self.child is not None
        body, status = _reap(*self.child)
        self.child = None
        try:  # the helper is a fork of this process: its report is as trusted as this process
            report = pickle.loads(body)
        except Exception:
            report = {}
        return (report if isinstance(report, dict) else {}), status

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        if kind is None or self.child is None:
            return
        try:
            os.kill(self.child[0], signal.SIGTERM)
        except ProcessLookupError:
            pass
        report, _ = self._collect()
        if "state" in report:  # it had finished: what it staged is the caller's to remove
            self.merge(report["state"])
