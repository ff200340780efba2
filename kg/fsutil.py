"""Writing files so that no reader (and no crash) ever sees them half-written."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomic(path: Path | str, data: bytes | str, *, durable: bool = False) -> Path:
    """Replace `path` with `data` via a temporary file in the same folder and a rename, keeping an
    existing file's mode. `durable` also fsyncs the file and its folder (run records)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    # hidden and not *.json / *.ttl, so loaders never pick up a temporary file
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:  # a plain open: a new file gets the usual umask mode
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_folder(path.parent)
    return path


def write_new(path: Path | str, data: bytes) -> Path:
    """Write `data` to `path` only if no file has that name: a temporary file hard-linked into
    place, so a reader never sees half a file and nothing is overwritten (FileExistsError when the
    name is taken, also when it was taken meanwhile). Fsynced, as run records are."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def locked(folder: Path | str) -> Iterator[None]:
    """Hold an exclusive advisory lock on a folder (flock on the folder itself, so no lock file
    is left in it) for the body; other holders wait their turn."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
