"""The read-only SPARQL endpoint's worker pool: each query runs in a worker process (see
verify.serve.worker) on a read-only copy of the store, is cut off after a time limit, and is
stopped when it needs more memory than a worker may take.

Admission comes first: at most `workers + queue` requests are inside at once, and the next is
answered 503 at once, so slow queries cannot pile up threads or starve the JSON API. The waits
run in threads of the endpoint's own limiter, never the shared pool that other routes use. A
worker that runs past the limit is killed (a thread could not be stopped) and a fresh one takes
its place on the next query.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import weakref
from multiprocessing.connection import Connection
from pathlib import Path

import anyio
import pyoxigraph as ox

from verify.serve import storecopy
from verify.serve import worker as w
from verify.serve.errors import (
    EndpointBusy,
    NotAnswered,
    QueryRefused,
    QueryTimeout,
    QueryTooLarge,
)
from verify.serve.limits import Admission, Limits
from verify.serve.query import pick_format, query_form
from verify.serve.sandbox import SandboxUnavailable

WORKER_CODE = (
    "import sys; from verify.serve.worker import serve_worker; "
    "serve_worker(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == '1')"
)


class _Worker:
    """One worker process and the socket to it. A plain subprocess rather than multiprocessing:
    it needs nothing from the parent's main module and starts the same way under any launcher."""

    def __init__(self, store_path: str, limits: Limits, require_guard: bool,
                 start_timeout: float) -> None:  # fmt: skip
        ours, theirs = socket.socketpair()
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [package_root, os.environ.get("PYTHONPATH")]))}  # fmt: skip
        args = [store_path, str(theirs.fileno()), str(limits.query_memory_mib),
                "1" if require_guard else "0"]  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_CODE, *args],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        theirs.close()
        self.conn = Connection(ours.detach())
        try:
            status, payload = self._first_message(start_timeout)
        except BaseException:
            self.kill()
            raise
        if status == w.UNGUARDED:
            self.kill()
            raise SandboxUnavailable(
                f"{payload}. The SPARQL endpoint will not run where its workers could reach the"
                " network; pass --allow-unsandboxed-sparql to run it anyway."
            )
        self.unguarded_because = payload

    def _first_message(self, timeout: float) -> tuple[str, object]:
        if not self.conn.poll(timeout):
            raise EndpointBusy("the SPARQL worker did not start")
        try:
            return self.conn.recv()
        except EOFError:
            raise EndpointBusy("the SPARQL worker failed to start") from None

    def kill(self) -> None:
        """Stop the process (if it still runs) and close the socket."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.conn.close()


class SparqlEndpoint:
    """Runs read-only queries with a time limit, a memory cap and a row cap in a small pool of
    sandboxed processes, admitting at most `workers + queue` requests at once."""

    def __init__(self, store: ox.Store, limits: Limits = Limits(), *, require_guard: bool = True,
                 start_timeout: float = 60.0, scratch: Path | None = None) -> None:  # fmt: skip
        self.limits, self.start_timeout, self.require_guard = limits, start_timeout, require_guard
        self.admission = Admission(limits.workers + limits.queue)
        self._limiter = anyio.CapacityLimiter(limits.workers + limits.queue)
        self._dir = storecopy.create(store, scratch)
        self._all: set[_Worker] = set()
        self._finalizer = weakref.finalize(self, _cleanup, self._all, self._dir)
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        # The first worker starts now, so a platform without the network guard fails at start-up.
        first = self._start()
        self.unguarded_because: str | None = first.unguarded_because
        self._idle.put(first)
        for _ in range(max(1, limits.workers) - 1):
            self._idle.put(None)  # a slot: its worker starts on first use

    @property
    def folder(self) -> Path:
        """The folder holding the store copy."""
        return self._dir

    async def answer(self, query: str, fmt: str | None = None,
                     accept: str | None = None) -> w.QueryResult:  # fmt: skip
        """Check, admit, run and serialise one query; raises a SparqlError."""
        kind = query_form(query, self.limits.max_query_chars)
        name = pick_format(kind, fmt, accept)
        with self.admission.slot():
            return await anyio.to_thread.run_sync(
                self.run, query, kind, name, limiter=self._limiter
            )

    def run(self, query: str, kind: str, fmt: str) -> w.QueryResult:
        """Run one checked query in a worker, waiting for one to be free (blocking)."""
        try:
            worker = self._idle.get(timeout=self.limits.query_timeout)
        except queue.Empty:
            raise EndpointBusy("every SPARQL worker is busy; try again shortly") from None
        try:
            worker = worker or self._start()
            status, payload = self._ask(worker, (query, kind, fmt, self.limits.max_rows))
        except NotAnswered:
            self._retire(worker)
            worker = None
            raise
        finally:
            self._idle.put(worker)
        if status == w.OUT_OF_MEMORY:
            self._retire(worker)
            raise self._too_large()
        if status != w.OK:
            raise QueryRefused(payload)
        return payload

    def _start(self) -> _Worker:
        worker = _Worker(str(self._dir / "store"), self.limits, self.require_guard,
                         self.start_timeout)  # fmt: skip
        self._all.add(worker)
        return worker

    def _ask(self, worker: _Worker, request: tuple) -> tuple[str, object]:
        """Send a query and wait for its answer; raises NotAnswered when there is none."""
        timeout = self.limits.query_timeout
        try:
            worker.conn.send(request)
            if not worker.conn.poll(timeout):
                raise QueryTimeout(
                    f"the query ran longer than {timeout:g} s and was stopped;"
                    " add a LIMIT or narrow its patterns"
                )
            return worker.conn.recv()
        except (EOFError, OSError):
            code = _exit_code(worker.proc)
            if code == -signal.SIGABRT:  # Oxigraph aborts when an allocation fails
                raise self._too_large() from None
            raise NotAnswered(
                f"the query worker stopped (exit status {code}); try a smaller query"
            ) from None

    def _too_large(self) -> QueryTooLarge:
        return QueryTooLarge(
            f"the query needed more than {self.limits.query_memory_mib} MiB and was stopped;"
            " add a LIMIT, avoid ORDER BY over large joins, or narrow its patterns"
        )

    def _retire(self, worker: _Worker | None) -> None:
        if worker is not None:
            worker.kill()
            self._all.discard(worker)

    def close(self) -> None:
        """Stop the workers and remove the store copy."""
        self._finalizer()


def _exit_code(proc: subprocess.Popen) -> int | None:
    try:
        return proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None


def _cleanup(workers: set, folder: Path) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()
    shutil.rmtree(folder, ignore_errors=True)
