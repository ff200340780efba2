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
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


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
