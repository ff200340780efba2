"""The variance floors of this environment, each tier's from the newest report that calibrated it.

A report under data/calibration/ that `verify calibrate` wrote with real A/A runs keeps, per
benchmark module and tier, a floor on the standard deviation of one pair's log ratio
(verify.judge.floors). A calibration may cover only some tiers (`verify calibrate --tier`), so
each tier's floors come from the newest report for this environment that holds floors for that
tier: a newer report of other tiers leaves them in force. A timed run in the same environment gives
each cell's interval at least the floor of its two tiers; without such a report nothing changes.
The record says which floor each cell got and from which report each side's floors came.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kg.paths import calibration_dir, find_root
from verify.judge import floors


@dataclass(frozen=True)
class Source:
    """Where one tier's floors come from: a calibration report and when it was measured."""

    report: str  # the report's path, relative to the repository root where it lies inside it
    measured: str


@dataclass(frozen=True)
class VarianceFloors:
    """The floors in force: per module, per tier, per size class, with each tier's report."""

    report: str  # the newest report any floor comes from (path as in Source)
    measured: str
    modules: dict[str, dict[str, dict[str, floors.Floor]]] = field(default_factory=dict)
    # module -> tier -> the report its floors come from; a tier not named here has `report`'s
    sources: dict[str, dict[str, Source]] = field(default_factory=dict)

    def source(self, module: str, tier: str) -> Source:
        """The report a tier's floors come from."""
        return self.sources.get(module, {}).get(tier) or Source(self.report, self.measured)

    def table(self, module: str) -> dict[str, dict[str, floors.Floor]]:
        """Per tier and size class, the floors measured for a benchmark module."""
        return self.modules.get(module, {})

    def cell_floor(
        self, module: str, subject: str, baseline: str, cell: dict[str, Any]
    ) -> floors.Floor:
        """The floor one cell's interval gets (sd 0 when neither tier was calibrated)."""
        return floors.cell_floor(self.table(module), subject, baseline, cell)

    def describe(self, module: str, subject: str, baseline: str) -> dict[str, Any]:
        """What the record keeps: the newest report used, and each side's floors by size class
        with the report and time they were measured (a side without floors names no report)."""
        table = self.table(module)

        def side(tier: str) -> dict[str, Any]:
            found = table.get(tier)
            if not found:
                return {"tier": tier, "floors": None}
            src = self.source(module, tier)
            return {"tier": tier, "floors": {k: asdict(f) for k, f in found.items()},
                    "report": src.report, "measured": src.measured}  # fmt: skip

        return {"report": self.report, "measured": self.measured, "subject": side(subject),
                "baseline": side(baseline)}  # fmt: skip


def _floor(row: dict[str, Any]) -> floors.Floor:
    df = row.get("df")
    return floors.Floor(float(row["sd"]), int(df) if df is not None else None)


def _row_floors(row: Any) -> dict[str, floors.Floor] | None:
    """One report row's floors by size class (None: a row this version cannot read, which gives
    no floor rather than a wrong one)."""
    try:
        return {str(k): _floor(v) for k, v in row["by_class"].items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def floors_of(report: dict[str, Any]) -> dict[str, dict[str, dict[str, floors.Floor]]]:
    """A calibration report's floors: module -> tier -> size class -> floor."""
    out: dict[str, dict[str, dict[str, floors.Floor]]] = {}
    rows = report.get("floors")
    for row in rows if isinstance(rows, list) else []:
        found = _row_floors(row)
        if found is not None:
            out.setdefault(str(row["module"]), {})[str(row["tier"])] = found
    return out


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def load(env_id: str, folder: Path | None = None) -> VarianceFloors | None:
    """The floors in force in this environment: per module and tier, those of the newest
    calibration report for the environment that holds floors for that tier (None: no report has
    any, and intervals stay as the pairs make them)."""
    root = find_root()
    folder = folder if folder is not None else calibration_dir(root)
    reports: list[tuple[dict[str, Any], Source]] = []
    for path in sorted(folder.glob("*.json"), reverse=True):  # names start with the UTC time
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(report, dict) and report.get("environment_id") == env_id:
            reports.append((report, Source(_shown(path, root), str(report.get("measured", "")))))
    modules: dict[str, dict[str, dict[str, floors.Floor]]] = {}
    sources: dict[str, dict[str, Source]] = {}
    newest: Source | None = None
    for (module, tier), (row, src) in floors.rows_in_force(reports).items():
        found = _row_floors(row)
        if found:
            modules.setdefault(module, {})[tier] = found
            sources.setdefault(module, {})[tier] = src
            newest = newest or src  # the reports come newest first
    if newest is None:
        return None
    return VarianceFloors(newest.report, newest.measured, modules, sources)
