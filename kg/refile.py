"""Re-filing records under the environment id the current rule gives them.

An environment id is computed from the environment a record keeps (kg.environments). When that
rule learns to tell two machines apart that it used to confuse (a CPU with AVX-512 and one
without had one id until the id named the vector instruction set), the records already written
sit under the old, shared id. `refile` moves each such record to the folder of the id its own
environment now gives: the file keeps its name and record_id, every measurement stays as it was,
`environment_id` becomes the new id, and a ``refiled`` entry says from which id, when and why.
Calibration reports (data/calibration/) get the same two changes in place and keep their file
names, because run records name the report whose floors they used by its path.

Nothing is half-done: every record is read, changed and checked against the schema before the
first file is written; the new files are written (atomically, never over another record) before
any old one is removed, and a second run after an interruption finishes the move. A record whose
environment gives the id it is filed under is left alone, so re-filing twice changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import records
from kg.environments import environment_id
from kg.errors import RecordError
from kg.fsutil import write_atomic, write_new
from kg.textutil import utc_now


@dataclass(frozen=True)
class Move:
    """One file to re-file: where it is, where it goes, its old and new environment ids."""

    source: Path
    dest: Path
    old_id: str
    new_id: str
    reason: str
    text: str  # the new file's content


@dataclass
class RefileReport:
    """What `refile` found and did."""

    records: list[Move] = field(default_factory=list)
    reports: list[Move] = field(default_factory=list)  # calibration reports, changed in place
    unchanged: int = 0  # records already under the id their environment gives
    rejected: list[RecordError] = field(default_factory=list)
    done: bool = False  # False for a dry run


def difference(old_id: str, new_id: str) -> str:
    """How two ids differ, in their parts: 'names avx512'."""
    old, new = old_id.split("-")[:-1], new_id.split("-")[:-1]
    added = [p for p in new if p not in old]
    dropped = [p for p in old if p not in new]
    parts = []
    if added:
        parts.append("names " + ", ".join(added))
    if dropped:
        parts.append("no longer names " + ", ".join(dropped))
    return " and ".join(parts) or "hashes the same parts differently"


def why(old_id: str, new_id: str) -> str:
    """The reason a record moves, as its ``refiled`` entry keeps it."""
    return (
        f"the environment the record keeps gives the id {new_id} under the current rule"
        f" (kg.environments.environment_id), which {difference(old_id, new_id)}; it was filed"
        f" under {old_id}"
    )


def _refiled(raw: dict[str, Any], new_id: str, at: str) -> tuple[dict[str, Any], str]:
    old_id = str(raw["environment_id"])
    reason = why(old_id, new_id)
    out = {**raw, "environment_id": new_id}
    entry = {"from": old_id, "to": new_id, "at": at, "reason": reason}
    out["refiled"] = [*(raw.get("refiled") or []), entry]
    return out, reason


def _same_but_stamp(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two re-filings of one record, differing at most in when they were made."""

    def unstamped(r: dict[str, Any]) -> dict[str, Any]:
        entries = [{k: v for k, v in e.items() if k != "at"} for e in r.get("refiled") or []]
        return {**r, "refiled": entries}

    return unstamped(a) == unstamped(b)


def plan(
    results_dir: Path, calibration_dir: Path | None = None, at: str | None = None
) -> RefileReport:
    """What re-filing would do, checked: every move's new content already passes the schema."""
    at = at or utc_now()
    report = RefileReport()
    for path in records.record_files(results_dir):
        try:
            record = records.read_record(path)
            new_id = environment_id(record["environment"])
        except RecordError as e:
            report.rejected.append(e)
            continue
        except (KeyError, TypeError, ValueError) as e:
            report.rejected.append(RecordError(f"{path}: its environment lacks {e}", str(path)))
            continue
        if new_id == record["environment_id"]:
            report.unchanged += 1
            continue
        raw = json.loads(path.read_bytes())
        moved, reason = _refiled(raw, new_id, at)
        text = records.dumps(moved)
        dest = Path(results_dir) / new_id / path.name
        try:
            records.parse(text.encode("utf-8"), str(dest))
        except RecordError as e:
            report.rejected.append(e)
            continue
        if dest.exists() and not _same_but_stamp(json.loads(dest.read_bytes()), moved):
            report.rejected.append(RecordError(
                f"{path}: {dest} holds a different record of the same name; neither is changed",
                str(path)))  # fmt: skip
            continue
        report.records.append(Move(path, dest, record["environment_id"], new_id, reason, text))
    if calibration_dir is not None:
        report.reports = _plan_reports(Path(calibration_dir), at)
    return report


def _plan_reports(folder: Path, at: str) -> list[Move]:
    moves = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            old_id, new_id = data["environment_id"], environment_id(data["environment"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a report that keeps its environment (the reproduce summaries)
        if new_id == old_id:
            continue
        moved, reason = _refiled(data, new_id, at)
        text = json.dumps(moved, indent=1) + "\n"
        moves.append(Move(path, path, old_id, new_id, reason, text))
    return moves


def apply(report: RefileReport) -> RefileReport:
    """Carry out a plan: write every new record file, then remove the old ones; then the
    calibration reports. A record already written by an interrupted run is not written again."""
    for m in report.records:
        try:
            write_new(m.dest, m.text.encode("utf-8"))
        except FileExistsError:
            pass  # written by an interrupted run: plan() checked that it is this record
    for m in report.records:
        m.source.unlink(missing_ok=True)
        try:
            m.source.parent.rmdir()  # an environment folder left empty goes too
        except OSError:
            pass
    for m in report.reports:
        write_atomic(m.source, m.text, durable=True)
    report.done = True
    return report
