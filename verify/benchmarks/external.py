"""Tools outside Python that some probes drive: Node.js, Java, a C compiler, packages kept in the
project's cache.

Nothing here installs or downloads anything. A probe asks whether a tool is here (``tool``,
``npm_module``, ``cache_path``) and raises NotCheckable with what it found missing; what a fresh
machine must do first is in the README (``make probe-tools``). Every command runs in its own
process group with a timeout, and the whole group is killed afterwards, so nothing it started
outlives the probe.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from verify.benchmarks.context import NotCheckable

# The folder holding verify/ (a checkout's root); the cache lives beside it.
ROOT = Path(__file__).resolve().parents[2]
RESULT_MARK = "FWCLAIMS-RESULT "
TAIL_CHARS = 400


def cache_dir() -> Path:
    """The project's cache folder (FWCLAIMS_CACHE, else .fwclaims-cache in the checkout)."""
    return Path(os.environ.get("FWCLAIMS_CACHE") or ROOT / ".fwclaims-cache")


def tool(name: str, why: str) -> str:
    """The path of program ``name`` on PATH; NotCheckable saying so when it is absent."""
    found = shutil.which(name)
    if found is None:
        raise NotCheckable(f"{name} is not on PATH here; {why}")
    return found


def cache_path(*parts: str, why: str, install: str = "make probe-tools") -> Path:
    """A path under the cache that a setup step fills; NotCheckable when it is not there."""
    path = cache_dir().joinpath(*parts)
    if not path.exists():
        raise NotCheckable(f"{path} is not there; {why} (`{install}` installs it)")
    return path


def npm_module(name: str, why: str) -> Path:
    """The folder of npm package ``name`` in the cache's node_modules, or NotCheckable."""
    return cache_path("npm", "node_modules", *name.split("/"), why=why)


def npm_version(folder: Path) -> str:
    """The version an installed npm package declares."""
    return str(json.loads((folder / "package.json").read_text(encoding="utf-8"))["version"])


@dataclass(frozen=True)
class Finished:
    """How a command ended: exit status (None on timeout), its output, and how long it took."""

    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        """Whether the command was killed at its timeout."""
        return self.returncode is None

    def tail(self) -> str:
        """The end of stderr (else stdout), one line, for an error message."""
        text = self.stderr.strip() or self.stdout.strip()
        return " ".join(text.splitlines()[-4:])[-TAIL_CHARS:]

    def result(self) -> dict:
        """The dict a helper printed after RESULT_MARK; RuntimeError saying why there is none."""
        for line in reversed(self.stdout.splitlines()):
            if line.startswith(RESULT_MARK):
                return dict(json.loads(line[len(RESULT_MARK) :]))
        if self.timed_out:
            raise RuntimeError(f"timed out after {self.seconds:.0f} s")
        raise RuntimeError(f"exited with status {self.returncode} and no result: {self.tail()}")


def run(
    argv: list[str],
    timeout: float,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
) -> Finished:
    """Run ``argv`` in a new process group; kill the group at ``timeout`` and after it ends."""
    start = time.monotonic()
    child = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        start_new_session=True,
        text=True,
    )
    try:
        out, err = child.communicate(timeout=timeout)
        code: int | None = child.returncode
    except subprocess.TimeoutExpired:
        kill_group(child)
        out, err = child.communicate()
        code = None
    kill_group(child)  # helpers it left behind go too
    return Finished(code, out or "", err or "", time.monotonic() - start)


def start(
    argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: str | Path | None = None
) -> subprocess.Popen:
    """Start a server in a new process group, its output to ``log``; stop it with kill_group."""
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )


def kill_group(child: subprocess.Popen) -> None:
    """SIGKILL the child's whole process group (its own: only what it started) and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=10)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports on 127.0.0.1 that were free a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()
