"""What a run leaves behind, and how none of it outlives the run.

Scratch folders in the system temp directory are named ``fwclaims-[ROLE-]PID-MS-*``: the process
that made them and when (milliseconds since the epoch). A run removes its own on every way out
(return, error, Ctrl+C, SIGTERM, SIGHUP: signals are raised as kg.errors.Interrupted so every
``finally`` runs); a run killed with SIGKILL cannot, so the next run removes the folders whose
process is gone (or whose pid now belongs to a process started after the folder was made), as
verify.serve.storecopy does for store copies. Workers and everything they start are killed by
verify.run.spawn; workers also exit by themselves when their parent dies.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import psutil

from kg.errors import Interrupted

PREFIX = "fwclaims-"
# the folders this module judges: a run's scratch folder and those named like it (probe, child
# and claim scratch folders); a server's store copy (fwclaims-sparql-<pid>-<start time>) has a
# time of another kind in its name and is judged by verify.serve.storecopy, never here
ROLES = ("probe", "child", "claim")
_NAME = re.compile(rf"^fwclaims-(?:(?:{'|'.join(ROLES)})-)?(\d+)-(\d+)-")
SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def scratch_prefix(role: str = "") -> str:
    """The name prefix of a scratch folder this process makes now."""
    return f"{PREFIX}{role + '-' if role else ''}{os.getpid()}-{int(time.time() * 1000)}-"


@contextlib.contextmanager
def scratch_dir() -> Iterator[str]:
    """A private scratch folder for one check, removed on every way out of the block."""
    with tempfile.TemporaryDirectory(prefix=scratch_prefix()) as folder:
        yield folder


def _owner_gone(pid: int, made_ms: int) -> bool:
    """Whether the process that made a folder at `made_ms` has ended."""
    try:
        started = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False  # cannot tell: leave it
    return started > made_ms / 1000 + 1.0  # the pid was reused by a later process


def remove_stale(folder: Path | None = None, pid: int | None = None) -> list[Path]:
    """Remove the scratch folders of runs and workers that have ended (only those of `pid` when
    given); the folders removed."""
    base = Path(folder or tempfile.gettempdir())
    removed = []
    try:
        entries = list(base.glob(PREFIX + "*"))
    except OSError:
        return []
    for path in entries:
        m = _NAME.match(path.name)
        if m is None or (pid is not None and int(m.group(1)) != pid):
            continue
        try:
            st = path.lstat()
        except OSError:
            continue
        if not path.is_dir() or path.is_symlink() or st.st_uid != os.getuid():
            continue
        if _owner_gone(int(m.group(1)), int(m.group(2))):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM, SIGHUP and SIGINT (Ctrl+C) raise Interrupted in the main thread,
    so workers are killed and scratch folders removed on the way out, and the command says it was
    stopped. A second signal while that clean-up runs is ignored. Off the main thread, nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        for s in SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, stop) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
