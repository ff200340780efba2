"""The on-disk copy of the store that SPARQL workers open read-only: one folder per server
process, named `fwclaims-sparql-<pid>-<start time>` in the temporary directory, removed when the
server stops; a server that was killed cannot remove its own, so each start removes the folders
of servers that are no longer running (the start time tells a reused pid from the original)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import psutil
import pyoxigraph as ox

PREFIX = "fwclaims-sparql-"
_NAME = re.compile(rf"{PREFIX}(\d+)-(\d+)-")


def create(store: ox.Store, parent: Path | None = None) -> Path:
    """A fresh folder holding a copy of `store` in `store/`; stale folders are removed first."""
    parent = Path(parent or tempfile.gettempdir())
    remove_stale(parent)
    pid = os.getpid()
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{pid}-{_started(pid)}-", dir=parent))
    copy = ox.Store(str(folder / "store"))
    copy.bulk_extend(store.quads_for_pattern(None, None, None, None))
    copy.flush()
    del copy  # closes it; workers open it read-only
    return folder


def remove_stale(parent: Path) -> list[Path]:
    """Remove the copies whose server is gone; returns them."""
    removed = []
    for folder in parent.glob(PREFIX + "*"):
        m = _NAME.match(folder.name)
        if not m or not folder.is_dir():
            continue  # not named by a server of this kind: not ours to judge
        if not _running(int(m.group(1)), int(m.group(2))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _started(pid: int) -> int:
    """The process's start time, in centiseconds."""
    return round(psutil.Process(pid).create_time() * 100)


def _running(pid: int, started: int) -> bool:
    """Whether the process that made a folder still runs; when that cannot be told, it does."""
    try:
        return _started(pid) == started
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True
