"""The run-record format: one JSON file per run of one check, append-only, written atomically.

This module is the only reader and writer of records: `verify run` writes through it, and the
graph loader, `verify results` and `verify status` read through it, so every reader sees a record
upgraded to the current schema and checked against ``record.schema.json`` (a malformed record is
a RecordError naming the file and the field).

A record lives at ``data/results/<environment-id>/<started>-<claim-id>-<short-uuid>.json``, so
records from several machines merge by copying folders. It is written to a hidden temporary file
in the same folder, fsynced and renamed into place: a killed run leaves no partial ``.json``.
Records are never rewritten; a re-run adds a record; an old schema version is upgraded in memory.
One exception, `verify results refile` (kg.refile): a record filed under an environment id that the
current rule no longer gives its environment moves to the right folder with a new
``environment_id`` and a ``refiled`` entry, every measurement as it was.

Schema, version 2 (times UTC ISO 8601, durations and samples in seconds; ``record.schema.json``
holds the types)::

    schema_version       2
    record_id            the file name without .json (unique: it ends in a short uuid)
    claim_id             the claim's id
    status               "ok" | "error" | "not-checkable"
    check                kg.model.Check as JSON: claim_id, kind, benchmark, module, benchmark_type,
                         parameters, rule {metric, better, subject, baseline, threshold,
                         tolerance, quantifier}, conditions
    options              {budget_s, device, threads, seed, min_pairs, max_pairs, min_sample_s,
                         mem_cap_mb}
    verdict              {label, explanation}; label is a skos:notation of kg/fwc.ttl
    started, ended       UTC ISO timestamps; duration_s
    environment_id       the folder name; environment: see verify.run.environment.collect
    git_commit           `git rev-parse HEAD` of the fwclaims tree, or null
    benchmark_code       {method, sha256}: a hash of what the benchmark times (see
                         verify.run.codehash); version 1 records kept a hash of the raw sources,
                         translated on upgrade (``legacy_sha256`` keeps the original)
    kind                 "timed" | "single" | "probe" (what the benchmark module is)
    tiers                {"subject": {name, framework}, "baseline": {name, framework}}
    frameworks           per side: versions and build info reported by the worker that loaded them
    cells                list, one per condition cell:
        label, cell (the benchmark's cell dict), calls_per_sample {subject, baseline},
        samples {subject: [[s, ...] per process], baseline: [...]}   seconds per call (wall)
        cpu_samples  same shape: process CPU seconds per call over each sample
        summary {metric, subject_median, baseline_median, subject_p90, baseline_p90, ratio,
                 ci_low, ci_high, confidence, n_processes, n_samples_subject,
                 n_samples_baseline, method}   (null when too few samples)
        warmup, measurements, fairness {max_abs_diff, rtol, atol, agree}
    processes            list of {pair, side, tier, pid, info}
    order                list of [pair, cell index, side] in the order samples were taken
    pairs                list of {pair, setup_s, measure_s, rounds} per process pair
    busy                 median wall / CPU time per sample (one-thread CPU runs, else null)
    probe                the probe's result dict (capability checks), else null
    data                 the snapshot rows an adoption check used
    errors               list of {where, reason, detail}
    refiled              list of {from, to, at, reason}: moves by `verify results refile`
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kg import ns
from kg.errors import RecordError
from kg.fsutil import write_atomic, write_new
from kg.textutil import file_stamp

SCHEMA_VERSION = 2
SCHEMA_FILE = Path(__file__).with_name("record.schema.json")
LEGACY_HASHES = Path(__file__).with_name("legacy-code-hashes.json")
CODE_METHOD = "definitions-v1"  # the benchmark_code.method verify.run.codehash computes
LEGACY_METHOD = "raw-source"  # version 1's sha256 over the module files' bytes


def record_path(results_dir: Path, environment_id: str, claim_id: str, started: str) -> Path:
    """Where a new record goes: a unique, sortable name in the environment's folder."""
    if not ns.is_file_id(environment_id) or not ns.is_claim_id(claim_id):
        raise RecordError(f"cannot name a record for claim {claim_id!r} in {environment_id!r}")
    name = f"{file_stamp(started)}-{claim_id}-{uuid.uuid4().hex[:8]}.json"
    return Path(results_dir) / environment_id / name


def dumps(record: dict[str, Any]) -> str:
    """A record as the text of its file (sorted keys, no NaN or infinity)."""
    return json.dumps(record, indent=1, sort_keys=True, allow_nan=False) + "\n"


def write_record(record: dict[str, Any], path: Path) -> Path:
    """Check a record against the schema and write it atomically; never overwrite one."""
    validate(record, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise RecordError(
            f"{path}: a record with this name exists already; records are append-only"
        )
    write_atomic(path, dumps(record), durable=True)
    return path


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def parse(text: bytes, where: str) -> dict[str, Any]:
    """A record's file content as a current-schema dict: decoded, upgraded and validated."""
    try:
        record = json.loads(text.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise RecordError(
            f"{where}: not UTF-8 text (byte {e.start}); restore or delete the file"
        ) from e
    except json.JSONDecodeError as e:
        raise RecordError(
            f"{where}:{e.lineno}: not valid JSON ({e.msg}); records are written atomically, so the"
            " file was edited or truncated by hand: restore or delete it"
        ) from e
    except ValueError as e:
        raise RecordError(f"{where}: {e}; restore or delete the file") from e
    if not isinstance(record, dict):
        raise RecordError(f"{where}: a run record is a JSON object, not {type(record).__name__}")
    record = upgrade(record, where)
    validate(record, where)
    return record


def read_record(path: Path) -> dict[str, Any]:
    """Read one record of any known schema version, upgraded in memory to the current one."""
    path = Path(path)
    try:
        return _read(path)
    except RecordError as e:
        e.path = str(path)
        raise


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():  # a broken link, a folder, a pipe that would block the reader
        what = "a broken link" if path.is_symlink() and not path.exists() else "not a regular file"
        raise RecordError(f"{path}: is {what}; delete it or restore the record")
    try:
        text = path.read_bytes()
    except OSError as e:
        raise RecordError(f"{path}: cannot be read ({e.strerror or e})") from e
    record = parse(text, str(path))
    if record["record_id"] != path.stem:
        raise RecordError(
            f"{path}: record_id {record['record_id']!r} is not the file's name {path.stem!r};"
            " records keep the name they were written under: rename the file back"
        )
    if record["environment_id"] != path.parent.name:
        raise RecordError(
            f"{path}: environment_id {record['environment_id']!r} is not the folder it is filed"
            f" under; move it to data/results/{record['environment_id']}/"
        )
    return record


def upgrade(record: dict[str, Any], where: str) -> dict[str, Any]:
    """The record at the current schema version (version n -> n + 1, step by step)."""
    version = record.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise RecordError(f"{where}: no integer schema_version; it is not a fwclaims run record")
    if version > SCHEMA_VERSION:
        raise RecordError(
            f"{where}: schema_version {version} was written by a newer fwclaims (this one reads"
            f" up to {SCHEMA_VERSION}); upgrade fwclaims (pip install -U fwclaims) to read it"
        )
    while version < SCHEMA_VERSION:
        if version not in _UPGRADES:
            raise RecordError(f"{where}: schema_version {version} is too old to upgrade")
        record = _UPGRADES[version](record)
        version = record["schema_version"]
    return record


def _upgrade_0_to_1(record: dict[str, Any]) -> dict[str, Any]:
    # Version 0 never shipped; the step shows where an upgrade goes and keeps the loop honest.
    return {**record, "errors": record.get("errors", []), "schema_version": 1}


def _upgrade_1_to_2(record: dict[str, Any]) -> dict[str, Any]:
    # Version 1 hashed the benchmark modules' bytes, so moving or re-commenting code changed it.
    # The legacy table maps each (commit, module, hash) that committed records hold to the hash
    # of what the same code times, computed from the commit the record was made at.
    out = {k: v for k, v in record.items() if k != "benchmark_code_sha256"}
    raw = record.get("benchmark_code_sha256")
    if isinstance(raw, str) and raw:
        module = (record.get("check") or {}).get("module")
        known = _legacy_hashes().get(f"{record.get('git_commit')}:{module}:{raw}")
        out["benchmark_code"] = (
            {"method": CODE_METHOD, "sha256": known, "legacy_sha256": raw}
            if known
            else {"method": LEGACY_METHOD, "sha256": raw}
        )
    out["schema_version"] = 2
    return out


_UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: _upgrade_0_to_1,
    1: _upgrade_1_to_2,
}


@cache
def _legacy_hashes() -> dict[str, str]:
    try:
        return dict(json.loads(LEGACY_HASHES.read_text(encoding="utf-8"))["hashes"])
    except FileNotFoundError:
        return {}


@cache
def _validator() -> Callable[[Any], Any]:
    import fastjsonschema  # compiled once: validating 10^4 records stays cheap

    return fastjsonschema.compile(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def validate(record: dict[str, Any], where: str) -> None:
    """Raise RecordError naming the field when a record does not match the schema."""
    import fastjsonschema

    try:
        _validator()(record)
    except fastjsonschema.JsonSchemaValueException as e:
        field = (e.name or "data").replace("data.", "", 1).replace("data", "the record", 1)
        raise RecordError(f"{where}: {field}: {_reason(e)}; fix or delete the record") from None


def _reason(e: Any) -> str:
    message = str(e.message)
    prefix = (e.name or "data") + " "
    return message[len(prefix) :] if message.startswith(prefix) else message


def record_files(results_dir: Path) -> list[Path]:
    """Every record file under a results folder (one level of environment folders), sorted."""
    base = Path(results_dir)
    return (
        sorted(p for p in base.glob("*/*.json") if not p.name.startswith("."))
        if base.is_dir()
        else []
    )


def read_all(files: list[Path]) -> tuple[list[tuple[Path, dict[str, Any]]], list[RecordError]]:
    """Read many records; the readable ones and a RecordError for each that is not."""
    good, bad = [], []
    for path in files:
        try:
            good.append((path, read_record(path)))
        except RecordError as e:
            bad.append(e)
    return good, bad


def list_records(
    results_dir: Path, claim_id: str | None = None
) -> tuple[list[tuple[Path, dict[str, Any]]], list[RecordError]]:
    """Readable records under a results folder, newest first (optionally of one claim), and the
    problems of those that could not be read."""
    good, bad = read_all(record_files(results_dir))
    if claim_id is not None:
        good = [(p, r) for p, r in good if r["claim_id"] == claim_id]
    return sorted(good, key=lambda pr: (pr[1]["started"], pr[0].name), reverse=True), bad


@dataclass
class MergeReport:
    """What `merge` did with each record it found: copied, already there, or rejected."""

    copied: list[Path] = field(default_factory=list)  # destination paths
    unchanged: list[Path] = field(default_factory=list)  # the same bytes were there already
    rejected: list[RecordError] = field(default_factory=list)


def merge(sources: list[Path], results_dir: Path) -> MergeReport:
    """Copy the run records under `sources` (results folders of other machines, or environment
    folders) into `results_dir`, byte for byte, as asv merges machines' results: each is read
    and validated first; a malformed record, or one whose name is taken by a different record,
    is rejected, and nothing is ever overwritten. Merging the same folders twice changes nothing."""
    report = MergeReport()
    for source in sources:
        source = Path(source)
        if not source.is_dir():
            raise RecordError(f"{source}: not a folder of run records; give data/results/ of"
                              " another machine, or one environment folder in it")  # fmt: skip
        direct = sorted(p for p in source.glob("*.json") if not p.name.startswith("."))
        for path in direct or record_files(source):
            _merge_one(path, Path(results_dir), report)
    return report


def _merge_one(path: Path, results_dir: Path, report: MergeReport) -> None:
    try:
        read_record(path)
        data = path.read_bytes()
    except (RecordError, OSError) as e:
        report.rejected.append(e if isinstance(e, RecordError) else RecordError(f"{path}: {e}"))
        return
    dest = results_dir / path.parent.name / path.name
    if dest.exists():
        if dest.read_bytes() == data:
            report.unchanged.append(dest)
        else:
            report.rejected.append(RecordError(
                f"{path}: {dest} holds a different record of the same name; records are"
                " append-only, so neither is changed: rename neither, find out which is real",
                str(path)))  # fmt: skip
        return
    try:
        write_new(dest, data)  # fails if the name was taken meanwhile: never overwrites
    except FileExistsError:
        report.rejected.append(RecordError(f"{path}: {dest} appeared while merging", str(path)))
        return
    report.copied.append(dest)
