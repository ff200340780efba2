"""Claim pages rendered by helper processes beside the main one, when a publish into a new folder
renders many of them (a full publish of a large site).

The helpers are forked once the site data is gathered, so they share it copy-on-write and query
nothing; each writes its pages straight into the new folder. Every process takes the next claim
from one shared counter, so the work balances itself, and the main process first renders the
pages that list everything, then takes claims too. A helper reports how many files and pages it
wrote; a helper that fails makes the publish fail with its error, and a publish that fails stops
its helpers before the new folder is removed. Which process rendered a page does not change its
bytes. Without os.fork, for a small site, or with one core, the main process renders every page.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

MIN_CLAIMS = 400  # fewer claim pages than this: a helper costs more than it saves
MAX_HELPERS = 3
REPORT_CHARS = 4000


class PublishHelperError(RuntimeError):
    """A helper process failed while rendering claim pages."""


def helpers_for(claims: int, minimum: int = MIN_CLAIMS) -> int:
    """How many helper processes to fork for `claims` claim pages: one fewer than the cores this
    process may use, at most MAX_HELPERS, none below `minimum` pages or without os.fork."""
    if not hasattr(os, "fork") or claims < minimum:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, min((cores or 1) - 1, MAX_HELPERS))


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
            pid, read = self.children.pop()
            chunks = []
            while chunk := os.read(read, 65536):
                chunks.append(chunk)
            os.close(read)
            _, status = os.waitpid(pid, 0)
            try:
                report = json.loads(b"".join(chunks) or b"{}")
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
