"""Where the corpus, the run records and the cache live."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kg.errors import CorpusError

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent  # the folder holding kg/ and verify/ (a checkout, or site-packages)
PACKAGED = HERE / "_corpus"  # claims/ and data/ shipped inside the wheel
VOCAB_FILE = HERE / "fwc.ttl"  # the closed fwc: vocabulary
SHAPES_FILE = HERE / "shapes.ttl"  # the SHACL shapes claims are validated against


def find_root(start: Path | None = None) -> Path:
    """The project folder: $FWCLAIMS_ROOT, else the nearest folder up from `start` holding
    claims/sources.ttl, else the corpus shipped with the package."""
    env = os.environ.get("FWCLAIMS_ROOT")
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / "claims").is_dir():
            raise CorpusError(
                f"FWCLAIMS_ROOT={env} has no claims/ folder: point it at a project folder"
                " (one that holds claims/sources.ttl) or unset it."
            )
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "claims" / "sources.ttl").is_file():
            return folder
    if (PACKAGE_ROOT / "claims" / "sources.ttl").is_file():
        return PACKAGE_ROOT
    if (PACKAGED / "claims").is_dir():
        return PACKAGED
    raise CorpusError(
        "no claims corpus found: run inside a project folder (one holding claims/sources.ttl)"
        " or set FWCLAIMS_ROOT."
    )


def claims_dir(root: Path) -> Path:
    """The hand-edited Turtle files."""
    return root / "claims"


def results_dir(root: Path) -> Path:
    """Run records, one sub-folder per environment."""
    return root / "data" / "results"


def snapshots_dir(root: Path) -> Path:
    """Cited data snapshots for adoption checks."""
    return root / "data" / "snapshots"


def calibration_dir(root: Path) -> Path:
    """Saved `verify calibrate` reports (the site's method page reads them)."""
    return root / "data" / "calibration"


def cache_dir(root: Path) -> Path:
    """A writable cache folder for this root: inside it if possible, else under the user cache."""
    local = root / ".fwclaims-cache"
    if os.access(root, os.W_OK):
        return local
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fwclaims"
    return base / hashlib.sha256(str(root).encode()).hexdigest()[:16]
