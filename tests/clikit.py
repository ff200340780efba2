"""Running the `verify` command in tests: in-process with no pytest fixture (hypothesis can call
it), or as a user does, in a fresh interpreter."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path


def run_cli(root: Path, *args: str) -> tuple[int, str, str]:
    """`verify ARGS` against the project at `root`: (exit code, stdout, stderr). Any exception
    other than the exit of the error boundary propagates: that is a traceback a user would see."""
    from verify.cli.app import main

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_root = sys.argv, os.environ.get("FWCLAIMS_ROOT")
    sys.argv = ["verify", *args]
    os.environ["FWCLAIMS_ROOT"] = str(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = saved_argv
        if saved_root is None:
            os.environ.pop("FWCLAIMS_ROOT", None)
        else:
            os.environ["FWCLAIMS_ROOT"] = saved_root
    return code, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (links as their target's name) with its bytes."""
    found: dict[str, bytes] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            found[rel] = os.readlink(p).encode()
        elif p.is_file():
            found[rel] = p.read_bytes()
    return found


def verify(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`verify --root ROOT ARGS` in a fresh interpreter, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "verify", "--root", str(root), *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
