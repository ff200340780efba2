"""The parent's side of a worker process: start it, talk JSON lines, watch time and memory, kill.

Every request has a deadline and the worker's resident memory (with its children's) is polled while
the parent waits; a worker that crashes, hangs past the deadline or grows past the memory cap is
killed (its whole process group) and the request raises a verify.run.failures error with a reason
a reader understands. An RSS watchdog is used instead of ``RLIMIT_AS`` because torch and TensorFlow reserve
far more address space than they ever touch, and a virtual-memory limit breaks their imports.
"""

from __future__ import annotations

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
        code = self._proc.wait()
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

    def kill(self) -> None:
        """Kill the worker's process group at once."""
        if self._proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()

    def close(self) -> None:
        """Ask the worker to exit; kill it if it does not within a few seconds."""
        if self._proc.poll() is None:
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(b'{"op": "exit"}\n')
                self._proc.stdin.close()
                self._proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired, OSError):
                self.kill()
        self._stderr.close()

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
