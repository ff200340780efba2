"""The parent's side of a worker process: start it, talk JSON lines, watch time and memory, kill.

Every request has a deadline and the worker's resident memory (with its children's) is polled while
the parent waits; a worker that crashes, hangs past the deadline or grows past the memory cap is
killed (its whole process group, and every process it started, also in a session of its own) and
the request raises a verify.run.failures error with a reason a reader understands. Closing a
worker also ends whatever it left running. An RSS watchdog is used instead of ``RLIMIT_AS`` because torch and TensorFlow reserve
far more address space than they ever touch, and a virtual-memory limit breaks their imports.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

import psutil

from kg.paths import PACKAGE_ROOT
from verify.run import cleanup
from verify.run.failures import CheckError, NotCheckableHere, OutOfMemory, RunFailure, WorkerTimeout

WORKER_MODULE = "verify.benchmarks.worker"
POLL_S = 0.05
THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "PJRT_NPROC",
)  # fmt: skip


def default_mem_cap_mb() -> int:
    """Per-worker memory cap: 40% of this machine's RAM, at least 2 GiB."""
    return max(2048, int(psutil.virtual_memory().total * 0.4 / 2**20))


# glibc moves its mmap and trim thresholds as blocks are freed, so a process that once held a
# large tensor allocates the next ones faster: the same cell measured 14.1 ms fresh and 10.8 ms
# after a 224 px cell. Fixed thresholds make a cell's time independent of what ran before it in
# the worker; both sides get them, and the record keeps them.
ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(256 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(512 * 2**20)}


def worker_env(threads: int, device: str) -> dict[str, str]:
    """The environment a worker starts with: same thread counts and allocator settings on both
    sides, quiet logs."""
    env = dict(os.environ)
    env.update(ALLOCATOR)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONHASHSEED"] = "0"
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # a CPU run must not quietly use a GPU on either side
    return env


class WorkerProcess:
    """One ``python -m verify.benchmarks.worker`` child and the requests sent to it."""

    def __init__(
        self, label: str, *, threads: int, device: str, mem_cap_mb: int, python: str = ""
    ) -> None:
        self.label = label
        self.mem_cap_mb = mem_cap_mb
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        self._proc = subprocess.Popen(
            [python or sys.executable, "-m", WORKER_MODULE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=worker_env(threads, device),
            start_new_session=True,  # its own process group: killing it takes its children too
        )
        self.pid = self._proc.pid
        self._pending = False  # a request was sent and its answer not yet read
        self._replies: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.peak_rss_mb = 0.0

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._replies.put(line)
        self._replies.put(b"")

    def _rss_mb(self) -> float:
        try:
            proc = psutil.Process(self.pid)
            procs = [proc, *proc.children(recursive=True)]
            total = 0
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
            return total / 2**20
        except psutil.Error:
            return 0.0

    def stderr_tail(self, lines: int = 5) -> str:
        """The last lines the worker wrote to stderr (tracebacks, fatal errors)."""
        self._stderr.flush()
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - 8192))
        text = self._stderr.read().decode("utf-8", "replace")
        return "\n".join([ln for ln in text.splitlines() if ln.strip()][-lines:])

    def _died(self, op: str) -> RunFailure:
        if self._proc.returncode is None:
            self._exited(5)
            self._end([])  # what it started is in its process group or orphaned: end it
        code = self._proc.returncode
        if code < 0:
            how = f"was killed by {signal.Signals(-code).name}"
        else:
            how = f"exited with code {code}"
        tail = self.stderr_tail(40).splitlines()
        fatal = [ln for ln in tail if ln.startswith("Fatal Python error")]
        tail = fatal[-1] if fatal else (tail[-1] if tail else "")
        reason = f"the {self.label} worker crashed ({how}) during '{op}'" + (
            f": {tail}" if tail else ""
        )
        return CheckError(reason, self.stderr_tail(20))

    def send(self, op: str, **args: object) -> None:
        """Send one request without waiting; `receive` collects its result."""
        if self._proc.poll() is not None:
            raise self._died(op)
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write((json.dumps({"op": op, **args}) + "\n").encode())
            self._proc.stdin.flush()
        except BrokenPipeError:
            raise self._died(op) from None
        self._pending = True

    def receive(self, op: str, timeout: float) -> object:
        """Wait for the result of the request sent last, at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._replies.get(timeout=POLL_S)
            except queue.Empty:
                line = None
            if line == b"":
                raise self._died(op)
            if line is not None:
                self._pending = False
                reply = json.loads(line)
                if reply["ok"]:
                    return reply["result"]
                if reply["kind"] == "not-checkable":
                    raise NotCheckableHere(reply["message"])
                raise CheckError(
                    f"the {self.label} worker raised {reply['message']} during '{op}'",
                    reply.get("traceback", ""),
                )
            self._watch(op, deadline, timeout)

    def _watch(self, op: str, deadline: float, timeout: float) -> None:
        rss = self._rss_mb()
        self.peak_rss_mb = max(self.peak_rss_mb, rss)
        if rss > self.mem_cap_mb:
            self.kill()
            raise OutOfMemory(
                f"the {self.label} worker ran out of memory during '{op}' (resident"
                f" {rss:.0f} MB > cap {self.mem_cap_mb} MB) and was stopped",
            )
        if time.monotonic() > deadline:
            self.kill()
            raise WorkerTimeout(
                f"the {self.label} worker hung: no answer to '{op}' within {timeout:g} s,"
                " so it was stopped",
            )

    def call(self, op: str, timeout: float, **args: object) -> object:
        """Send one request and wait for its result, at most `timeout` seconds."""
        self.send(op, **args)
        return self.receive(op, timeout)

    def _descendants(self) -> list[psutil.Process]:
        """Every process the worker started, also those in sessions of their own (a probe's
        fresh processes), found while the parent links still hold."""
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []

    def _end(self, started: list[psutil.Process]) -> None:
        """With the worker exited but not yet reaped (its process group cannot be reused yet),
        kill what is left of its group and of the processes it started, then reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        for p in started:
            with contextlib.suppress(psutil.Error):
                p.kill()  # psutil checks it is the same process, not a reused pid
        self._proc.wait()
        cleanup.remove_stale(pid=self.pid)  # scratch folders a killed worker could not remove

    def _exited(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the worker to exit, leaving it unreaped."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    return True
            except ChildProcessError:
                return True  # already reaped
            time.sleep(POLL_S)
        return False

    def kill(self) -> None:
        """Kill the worker, its process group and everything it started, at once."""
        if self._proc.returncode is None:
            started = self._descendants()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            self._exited(10)
            self._end(started)

    def close(self) -> None:
        """Ask the worker to exit and end what it left running; kill it if it is busy with a
        request or does not exit within a few seconds."""
        if self._proc.returncode is None and self._pending:
            self.kill()
        if self._proc.returncode is None:
            started = self._descendants()
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(b'{"op": "exit"}\n')
                self._proc.stdin.close()
            except OSError:
                pass
            if self._exited(10):
                self._end(started)
            else:
                self.kill()
        self._stderr.close()

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
