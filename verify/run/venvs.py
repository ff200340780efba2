"""Isolated virtual environments for the version matrix, built with venv + pip and cached.

A venv is named by a hash of its requirement set and base Python (``<cache>/venvs/<key>/``), so the
same versions are built once and reused. Building happens in place under a lock; a marker file
(``fwclaims-venv.json``) is written last, so a venv without a marker, or whose interpreter no longer
reports the pinned versions, is half-built or broken and is rebuilt. Each venv gets the pinned
frameworks (torch from the local wheel that pip.conf's find-links points at) and this project,
installed editable without dependencies: the workers need only the frameworks, numpy and psutil.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.errors import UsageError
from verify.run.failures import RunFailure

MARKER = "fwclaims-venv.json"
WORKER_NEEDS = ("psutil",)  # beyond the frameworks (numpy comes with them)
TF_DIST = "tensorflow-cpu"
# The distributions whose versions a run record keeps; mirrors verify.run.environment.PACKAGES.
_VERSIONS_SNIPPET = """
import json, sys, importlib.metadata as m
found = {}
for key, dists in json.loads(sys.argv[1]).items():
    found[key] = None
    for d in dists:
        try:
            found[key] = m.version(d); break
        except m.PackageNotFoundError:
            pass
print(json.dumps({"python": ".".join(map(str, sys.version_info[:3])), "packages": found}))
"""


class VenvError(RunFailure):
    """A matrix venv could not be built or does not work (a failure to do the work: exit 1)."""


def pin(dist: str, version: str) -> str:
    """A requirement for one version: '2.16' -> 'tensorflow-cpu==2.16.*', '2.16.2' exact."""
    version = version.strip()
    if not version or not all(p.isdigit() for p in version.split(".")):
        raise UsageError(f"'{version}' is not a release number like 2.16 or 2.16.2")
    return f"{dist}=={version}.*" if version.count(".") < 2 else f"{dist}=={version}"


@dataclass(frozen=True)
class VenvSpec:
    """What one matrix venv holds: the requirement pins and the base Python it is made from."""

    requirements: tuple[str, ...]
    base_python: str = sys.base_prefix

    @classmethod
    def frameworks(cls, tf: str, torch: str, extra: tuple[str, ...] = ()) -> VenvSpec:
        """The venv for one TensorFlow version with a fixed torch (and any extra pins)."""
        reqs = {pin(TF_DIST, tf), pin("torch", torch), *WORKER_NEEDS, *extra}
        return cls(tuple(sorted(reqs)))

    def key(self) -> str:
        """The cache folder name: a hash of the requirements and the base Python's version."""
        ident = {
            "requirements": sorted(self.requirements),
            "python": platform.python_version(),
            "base": self.base_python,
            "layout": 1,  # bump when the build steps change, so old venvs are not reused
        }
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Venv:
    """A built venv: its folder, interpreter, and the versions it reports."""

    path: Path
    python: Path
    versions: dict
    reused: bool


def interpreter(path: Path) -> Path:
    """The venv's python."""
    return path / "bin" / "python"


def versions(python: Path) -> dict:
    """Python and framework versions an interpreter has installed (no framework import)."""
    from verify.run.environment import PACKAGES

    try:
        out = subprocess.run(
            [str(python), "-c", _VERSIONS_SNIPPET, json.dumps(PACKAGES)],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        raise VenvError(f"{python} does not run ({e}); delete its venv folder to rebuild it") from e


def satisfies(found: dict, spec: VenvSpec) -> bool:
    """Whether reported versions match the spec's framework pins (a cheap validity check)."""
    pkgs = found.get("packages") or {}
    for req in spec.requirements:
        name, sep, want = req.partition("==")
        if not sep:
            continue
        key = "tensorflow" if name == TF_DIST else name
        have = (pkgs.get(key) or "").split("+")[0]
        prefix = want.removesuffix(".*")
        if not have or not (
            have == prefix or (want.endswith(".*") and have.startswith(prefix + "."))
        ):
            return False
    return True


def cached(folder: Path, spec: VenvSpec) -> Venv | None:
    """The cached venv for a spec if it is complete and still reports the pinned versions."""
    path = folder / spec.key()
    marker = path / MARKER
    if not marker.is_file() or not interpreter(path).exists():
        return None
    try:
        found = versions(interpreter(path))
    except VenvError:
        return None
    return Venv(path, interpreter(path), found, True) if satisfies(found, spec) else None


def _pip(python: Path, args: list[str], log: Path) -> None:
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    with log.open("a") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT).returncode
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
        raise VenvError(f"pip failed (exit {code}) building {log.parent}; last lines:\n{tail}")


def ensure(
    folder: Path,
    spec: VenvSpec,
    project_root: Path,
    progress: Callable[[str], None] = lambda message: None,
) -> Venv:
    """The venv for a spec: reused from the cache when valid, else (re)built and validated."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / spec.key()
    with (folder / f"{spec.key()}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two matrix runs must not build one venv at once
        found = cached(folder, spec)
        if found:
            return found
        if path.exists():
            shutil.rmtree(path)  # half-built or broken
        progress(f"building venv {path.name}: {' '.join(spec.requirements)}")
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        log = path / "build.log"
        _pip(interpreter(path), ["--quiet", *spec.requirements], log)
        _pip(interpreter(path), ["--quiet", "--no-deps", "-e", str(project_root)], log)
        found = versions(interpreter(path))
        if not satisfies(found, spec):
            raise VenvError(f"{path} reports {found['packages']}, not {spec.requirements}")
        (path / MARKER).write_text(
            json.dumps({"requirements": list(spec.requirements), **found}, indent=1) + "\n"
        )
        return Venv(path, interpreter(path), found, False)
