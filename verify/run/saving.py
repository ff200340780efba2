"""Where a run's records go, and what happens when they cannot go there.

Before anything is measured, the results folder must be one this process can write in (a file
is really created and removed, so a read-only disk or a file where the folder should be is found
even when running as root). If writing a record still fails after the measurement (the disk
filled up, the folder was removed), the record is kept in a fallback folder under the user's
cache or the system temp directory, and the result says where, so minutes of measuring are never
lost.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from kg import paths, records
from kg.errors import RecordError, UsageError

FALLBACK = "unsaved-records"


def check_writable(results: Path) -> None:
    """Raise UsageError unless records can be written under `results`: it, or the nearest folder
    above it that exists, must take a new file (one is made and removed; nothing else is)."""
    folder = Path(results).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(0, "a file, not a folder, is in the way", str(folder))
        fd, probe = tempfile.mkstemp(prefix=".fwclaims-write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise UsageError(
            f"cannot write run records in {results} ({e.strerror or e}): make it a writable"
            " folder, or give another with --results-dir; nothing was measured"
        ) from e


def fallback_dirs(root: Path | None) -> list[Path]:
    """Where a record goes when its results folder refuses it, in order of preference."""
    out = [paths.cache_dir(root) / FALLBACK] if root is not None else []
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return [
        *out,
        home / "fwclaims" / FALLBACK,
        Path(tempfile.gettempdir()) / f"fwclaims-{FALLBACK}",
    ]


def save(
    record: dict[str, Any], results: Path, env_id: str, claim_id: str, root: Path | None
) -> tuple[Path, str]:
    """Write the record under `results`; the path it was written to and, when that had to be a
    fallback folder, why ('' when it went where it belongs)."""
    path = records.record_path(results, env_id, claim_id, record["started"])
    record["record_id"] = path.stem
    try:
        return records.write_record(record, path), ""
    except OSError as e:
        why = e.strerror or str(e)
    for folder in fallback_dirs(root):
        try:
            kept = records.write_record(record, folder / env_id / path.name)
        except (OSError, RecordError):
            continue
        return kept, (
            f"the record could not be written to {path} ({why}); it was kept at {kept}: move it"
            f" to {path.parent}/ once that folder is writable"
        )
    raise RecordError(
        f"the record could not be written to {path} ({why}), nor to any fallback folder"
        f" ({', '.join(map(str, fallback_dirs(root)))})"
    )
