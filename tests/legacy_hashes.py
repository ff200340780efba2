"""Regenerate kg/legacy-code-hashes.json from the git history (a maintenance script).

Version 1 records hashed the raw source of their benchmark module and the modules it imported
statically. For each committed version 1 record this finds the commit it was made at, checks that
the old hash of the code there is the one the record holds, and maps it to the hash
verify.run.codehash computes over the same code.

    python tests/legacy_hashes.py            # print the table
    python tests/legacy_hashes.py --write    # write kg/legacy-code-hashes.json
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from verify.run import codehash  # noqa: E402

PACKAGE = "verify.benchmarks"
ABOUT = (
    "Version 1 run records hashed the raw source of a benchmark module and the modules it imported"
    " statically. For each committed version 1 record, the key '<git commit>:<module>:<raw hash>'"
    " maps to the hash verify.run.codehash computes over the same code: at that commit, or, for a"
    " run made from uncommitted changes, at the first later commit holding code with the record's"
    " hash (tests/legacy_hashes.py regenerates this file from the git history)."
)


def _static_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = PACKAGE if node.level else (node.module or "")
            if node.level and node.module:
                base = f"{PACKAGE}.{node.module}"
            if base == PACKAGE:
                names.update(f"{PACKAGE}.{a.name}" for a in node.names)
            elif base.startswith(PACKAGE + "."):
                names.add(base)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
    return names


def raw_hash(module: str, root: Path) -> str:
    """The version 1 hash: sha256 over the module's file and the package files it imports."""
    folder = root.joinpath(*PACKAGE.split("."))
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        path = folder / f"{name.rsplit('.', 1)[-1]}.py"
        if name in seen or not path.is_file():
            continue
        seen[name] = path
        todo.extend(_static_imports(path))
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + b"\0" + seen[name].read_bytes() + b"\0")
    return digest.hexdigest()


def table() -> dict[str, str]:
    """The legacy table computed from the committed records and the history."""
    out: dict[str, str] = {}
    for path in sorted((REPO / "data" / "results").glob("*/*.json")):
        record = json.loads(path.read_text())
        if record.get("schema_version") != 1:
            continue
        commit, raw = record["git_commit"], record["benchmark_code_sha256"]
        module = record["check"]["module"]
        out[f"{commit}:{module}:{raw}"] = _hash_at(commit, module, raw, path)
    return dict(sorted(out.items()))


def _hash_at(commit: str, module: str, raw: str, path: Path) -> str:
    """The new hash of the code the record was made with: at its commit, or (a run from
    uncommitted changes) at the first later commit whose code has the record's old hash."""
    later = subprocess.run(["git", "-C", str(REPO), "rev-list", "--reverse", f"{commit}..HEAD"],
                           capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    for candidate in [commit, *later]:
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(["git", "-C", str(REPO), "archive", candidate, "verify"],
                                     capture_output=True, check=True).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            if raw_hash(module, Path(tmp)) == raw:
                codehash._parse.cache_clear()
                return codehash.code_hash(module, Path(tmp) / "verify" / "benchmarks")
    raise SystemExit(f"{path}: no commit from {commit} on holds code with its hash")


if __name__ == "__main__":
    found = {"about": ABOUT, "hashes": table()}
    text = json.dumps(found, indent=1, sort_keys=True) + "\n"
    if "--write" in sys.argv:
        (REPO / "kg" / "legacy-code-hashes.json").write_text(text)
    else:
        sys.stdout.write(text)
