"""Run records: one JSON file per run of one check, append-only, written atomically.

A record lives at ``data/results/<environment-id>/<started>-<claim-id>-<short-uuid>.json`` (started
as ``YYYYMMDDTHHMMSSZ``), so records from several machines merge by copying folders. It is written
to a hidden temporary file in the same folder, fsynced and renamed into place: a killed run leaves
no partial ``.json``. Records are never rewritten; a re-run adds a record.

Schema, version 1 (times UTC ISO 8601, durations and samples in seconds)::

    schema_version       1
    record_id            the file name without .json (unique: it ends in a short uuid)
    claim_id             the claim's id
    status               "ok" | "error" | "not-checkable"
    check                {benchmark, module, benchmark_type, parameters, rule, conditions}
                         as given by kg.api.claim_check; rule = {metric, better, subject, baseline,
                         threshold, tolerance, quantifier}
    options              {budget_s, device, threads, seed, min_pairs, max_pairs, min_sample_s,
                         mem_cap_mb}
    verdict              {label, explanation}; label is a skos:notation of kg/fwc.ttl
                         (holds | does-not-hold | inconclusive | not-checkable-here)
    started, ended       UTC ISO timestamps; duration_s
    environment_id       the folder name; environment: see verify.environment.collect
    git_commit           `git rev-parse HEAD` of the fwclaims tree, or null
    benchmark_code_sha256  sha256 over the benchmark module and the verify.benchmarks modules it
                         imports (names and sources)
    tiers                {"subject": {name, framework}, "baseline": {name, framework}}
    frameworks           per side: versions and build info reported by the worker that loaded them
    cells                list, one per condition cell:
        label, cell (the benchmark's cell dict), calls_per_sample {subject, baseline},
        samples {subject: [[s, ...] per process], baseline: [...]}   seconds per call (wall)
        cpu_samples  same shape: process CPU seconds per call over each sample (wall well above
                 CPU means the machine was busy elsewhere; empty for single-shot benchmarks)
        summary {metric, subject_median, baseline_median, subject_p90, baseline_p90, ratio,
                 ci_low, ci_high, confidence, n_processes, n_samples_subject,
                 n_samples_baseline, method}   (null when too few samples)
        warmup {subject: [{first_call_s, compile_s, calls, ...} per process], baseline: [...]}
        measurements {subject: [dict per process], baseline: [...]}   single-shot results
        fairness {max_abs_diff, rtol, atol, agree}   reference outputs compared before timing
    processes            list of {pair, side, tier, pid, info: {cell label: session.info()}}
    order                list of [pair, cell index, side] in the order samples were taken
                         (side "A" = subject, "B" = baseline)
    pairs                list of {pair, setup_s, measure_s, rounds} per process pair (timed)
    busy                 median wall / CPU time per sample (one-thread CPU runs, else null):
                         well above 1 means other work shared the machine
    kind                 "timed" | "single" | "probe" (what the benchmark module is)
    probe                the probe's result dict (capability checks), else null
    errors               list of {where, reason, detail (a traceback or stderr tail)}
"""

from __future__ import annotations

import ast
import hashlib
import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

from kg.errors import RecordError
from kg.fsutil import write_atomic

SCHEMA_VERSION = 1
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # the folder holding verify/ and kg/


def utc_now() -> str:
    """The current UTC time as ISO 8601 with a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_path(results_dir: Path, environment_id: str, claim_id: str, started: str) -> Path:
    """Where a new record goes: a unique, sortable name in the environment's folder."""
    stamp = started.split(".")[0].replace("-", "").replace(":", "")
    if not stamp.endswith("Z"):
        stamp += "Z"
    return results_dir / environment_id / f"{stamp}-{claim_id}-{uuid.uuid4().hex[:8]}.json"


def write_record(record: dict, path: Path) -> Path:
    """Write a record atomically (temp file in the same folder, fsync, rename); never overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise RecordError(
            f"{path}: a record with this name exists already; records are append-only"
        )
    text = json.dumps(record, indent=1, sort_keys=True, allow_nan=False) + "\n"
    write_atomic(path, text, durable=True)
    return path


def _upgrade_0_to_1(record: dict) -> dict:
    # Version 0 never shipped; this step shows where an upgrade goes and keeps the loop honest.
    record = dict(record)
    record.setdefault("errors", [])
    record["schema_version"] = 1
    return record


_UPGRADES = {0: _upgrade_0_to_1}  # version n -> function returning version n + 1


def load_record(path: Path) -> dict:
    """Read a record of any known schema version, upgraded in memory to the current one."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise RecordError(f"{path}: not a readable run record ({e})") from e
    version = record.get("schema_version") if isinstance(record, dict) else None
    if not isinstance(version, int):
        raise RecordError(f"{path}: no integer schema_version; it is not a fwclaims run record")
    if version > SCHEMA_VERSION:
        raise RecordError(
            f"{path}: schema_version {version} is newer than this fwclaims reads"
            f" (up to {SCHEMA_VERSION}); upgrade fwclaims (pip install -U fwclaims) to read it."
        )
    while version < SCHEMA_VERSION:
        if version not in _UPGRADES:
            raise RecordError(f"{path}: schema_version {version} is too old to upgrade")
        record = _UPGRADES[version](record)
        version = record["schema_version"]
    return record


def list_records(results_dir: Path, claim_id: str | None = None) -> list[tuple[Path, dict]]:
    """Every readable record under a results folder (oldest first), optionally for one claim."""
    found = []
    for path in sorted(Path(results_dir).glob("*/*.json"), key=lambda p: p.name):
        record = load_record(path)
        if claim_id is None or record.get("claim_id") == claim_id:
            found.append((path, record))
    return sorted(found, key=lambda pr: pr[1].get("started", ""))


def git_commit(root: Path = PACKAGE_ROOT) -> str | None:
    """The commit the fwclaims tree is at, or None outside git or before the first commit."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    head = out.stdout.strip()
    return head if out.returncode == 0 and len(head) == 40 else None


def _local_imports(path: Path, package: str) -> set[str]:
    """Modules of `package` that a source file imports (absolute or relative)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package if node.level else (node.module or "")
            if node.level and node.module:
                base = f"{package}.{node.module}"
            if base == package:
                names.update(f"{package}.{a.name}" for a in node.names)
            elif base.startswith(package + "."):
                names.add(base)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith(package + "."))
    return names


def code_hash(module: str, package: str = "verify.benchmarks") -> str:
    """sha256 over a benchmark module's source and the package modules it imports, transitively."""
    folder = PACKAGE_ROOT.joinpath(*package.split("."))
    seen: dict[str, Path] = {}
    todo = [module]
    while todo:
        name = todo.pop()
        path = folder / f"{name.rsplit('.', 1)[-1]}.py"
        if name in seen or not path.is_file():
            continue
        seen[name] = path
        todo.extend(_local_imports(path, package))
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + b"\0" + seen[name].read_bytes() + b"\0")
    return digest.hexdigest()
