"""Re-judge committed measurements with a variance floor, measuring nothing.

    python scripts/floor_check.py [--results data/results/ENV] [--report data/calibration/X.json]
                                  [--floor TIER=SD ...] [--claim ID] [--json]

1. A/A series of a calibration report (--report; `verify calibrate` keeps them from this version
   on): per tier and size class, each run re-judged with a floor estimated from the other runs.
2. Committed re-runs of one check (--results): per cell, each run's interval re-judged with a floor
   estimated from the other runs of that cell (leave-one-out, the truth unknown: the other runs'
   mean); intervals missing it and pairwise coverage, before and after, by tier.
3. Tier floors (the report's, or --floor TIER=SD[:DF][@CLASS] for the latency module): every cell
   re-judged with the floor the judge would give it now; label changes are listed, and for
   --claim the widening of the deciding cell of its latest record.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from kg.model import Rule  # noqa: E402
from kg.records import read_record  # noqa: E402
from verify.judge import floors  # noqa: E402
from verify.judge.explain import CellEstimate  # noqa: E402
from verify.judge.verdicts import deciding_cell, judge  # noqa: E402
from verify.run import floors as run_floors  # noqa: E402
from verify.run.state import cell_title  # noqa: E402

LATENCY = "verify.benchmarks.latency"
Table = dict[str, dict[str, dict[str, floors.Floor]]]  # module -> tier -> size class -> floor


def records(folder: Path) -> list[dict[str, Any]]:
    """The folder's timed records that finished and kept per-pair ratios, oldest first."""
    out = []
    for path in sorted(folder.glob("*.json")):
        rec = read_record(path)
        if rec.get("kind") == "timed" and rec.get("status") == "ok" and "exploration" not in rec:
            rec["file"] = path.name
            out.append(rec)
    return out


def logs_of(cell: dict[str, Any]) -> list[float] | None:
    """A record cell's per-pair log ratios (None: no estimate)."""
    s = cell.get("summary")
    if not s or len(s.get("pair_ratios") or []) < 2:
        return None
    return [math.log(r) for r in s["pair_ratios"]]


def check_key(rec: dict[str, Any]) -> str:
    """What makes two records re-runs of the same measurement."""
    c, r = rec["check"], rec["check"]["rule"]
    return json.dumps([rec["claim_id"], c.get("check_id"), c["module"], c["parameters"],
                       r["subject"], r["baseline"], rec.get("options", {}).get("budget_s"),
                       rec.get("shared_from") is not None], sort_keys=True)  # fmt: skip


def reruns(recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per re-run group and cell: the leave-one-out check of a floor from the other runs."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in recs:
        if rec.get("shared_from") is None:
            groups[check_key(rec)].append(rec)
    rows = []
    for group in groups.values():
        if len(group) < 3:
            continue
        rule = group[0]["check"]["rule"]
        by_cell: dict[str, list[list[float]]] = defaultdict(list)
        for rec in group:
            for cell in rec["cells"]:
                logs = logs_of(cell)
                if logs:
                    by_cell[cell["label"]].append(logs)
        for label, series in by_cell.items():
            if len(series) >= 3:
                rows.append({"claim": group[0]["claim_id"], "cell": label,
                             "tiers": [rule["subject"], rule["baseline"]],
                             **floors.leave_one_out(series, centre=None).to_dict()})  # fmt: skip
    return rows


def tally_reruns(rows: list[dict[str, Any]], tier: str | None) -> dict[str, Any]:
    """Totals over the cells of the groups with `tier` on a side (None: all groups)."""
    sel = [r for r in rows if tier is None or tier in r["tiers"]]
    runs = sum(r["runs"] for r in sel)
    pairs = sum(r["runs"] * (r["runs"] - 1) for r in sel)

    def cover(key: str) -> float | None:
        return sum(r[key] * r["runs"] * (r["runs"] - 1) for r in sel) / pairs if pairs else None

    return {"tier": tier or "all", "groups": len({r["claim"] for r in sel}), "cells": len(sel),
            "intervals": runs, "miss_before": sum(r["excludes_before"] for r in sel),
            "miss_after": sum(r["excludes_after"] for r in sel),
            "coverage_before": cover("coverage_before"),
            "coverage_after": cover("coverage_after")}  # fmt: skip


def aa_series(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Section 1: each tier's A/A series re-judged leave-one-out (none in older reports)."""
    rows = []
    for row in report.get("floors") or []:
        for cls, series in (row.get("series") or {}).items():
            usable = [s for s in series if len(s) >= 2]
            if len(usable) >= 3:
                rows.append({"tier": row["tier"], "class": cls,
                             **floors.leave_one_out(usable).to_dict()})  # fmt: skip
    return rows


def table_of(report: dict[str, Any] | None, given: list[str]) -> Table:
    """Tier floors from a report's floors rows, then --floor TIER=SD[:DF][@CLASS] (latency
    module; no DF: the run's own degrees of freedom; no CLASS: small, as A/A at 28 px gives)."""
    table: Table = defaultdict(dict, run_floors.floors_of(report or {}))
    for item in given:
        tier, value = item.split("=")
        value, _, cls = value.partition("@")
        sd, _, df = value.partition(":")
        floor = floors.Floor(float(sd), int(df) if df else None)
        table[LATENCY].setdefault(tier, {})[cls or "small"] = floor
    return dict(table)


def estimates(rec: dict[str, Any], floor_of: Any) -> list[CellEstimate]:
    """A record's cells as the judge sees them, each interval with the floor floor_of(cell)."""
    out = []
    for cell in rec["cells"]:
        logs = logs_of(cell)
        if logs is None:
            continue
        s = floors.interval(logs, floor_of(cell["cell"]))
        c = cell["cell"]
        out.append(CellEstimate(cell_title(c), s.ratio, s.ci_low, s.ci_high,
                                cell["summary"].get("subject_median"),
                                cell["summary"].get("baseline_median"),
                                c.get("batch"), c.get("size")))  # fmt: skip
    return out


def rejudge(recs: list[dict[str, Any]], table: Table) -> list[dict[str, Any]]:
    """Section 3: every record re-judged without and with the tier floors: those whose label
    changes, or whose label without a floor is not the recorded one (judged by older code)."""
    changes = []
    for rec in recs:
        rule = Rule.from_dict(rec["check"]["rule"])
        module = rec["check"]["module"]

        def floor_of(cell: dict[str, Any], rule: Rule = rule, module: str = module) -> Any:
            return floors.cell_floor(table.get(module, {}), rule.subject, rule.baseline or "", cell)

        before = judge(rule, estimates(rec, lambda cell: floors.NO_FLOOR))
        after = judge(rule, estimates(rec, floor_of))
        label = rec["verdict"]["label"]
        if (before.label, before.qualifier) != (after.label, after.qualifier) or (
            before.label.value != label
        ):
            changes.append({"record": rec["file"], "claim": rec["claim_id"], "recorded": label,
                            "before": _label(before), "after": _label(after)})  # fmt: skip
    return changes


def _label(v: Any) -> str:
    return v.label.value + (f" ({v.qualifier})" if v.qualifier else "")


def widening(recs: list[dict[str, Any]], claim: str, table: Table, last: int = 3) -> list[Any]:
    """The deciding cell of each of the claim's latest records, its interval without and with
    the floor, and the label both ways."""
    mine = [r for r in recs if r["claim_id"] == claim and r.get("shared_from") is None]
    out = []
    for rec in mine[-last:]:
        rule = Rule.from_dict(rec["check"]["rule"])
        table_m = table.get(rec["check"]["module"], {})

        def floor_of(c: dict[str, Any], rule: Rule = rule, t: Any = table_m) -> Any:
            return floors.cell_floor(t, rule.subject, rule.baseline or "", c)

        plain = estimates(rec, lambda c: floors.NO_FLOOR)
        cell = deciding_cell(rule, plain)
        if cell is None:
            continue
        raw = next(c for c in rec["cells"] if cell_title(c["cell"]) == cell.label)
        logs = logs_of(raw) or []
        wide = floors.interval(logs, floor_of(raw["cell"]))
        out.append({"record": rec["file"], "cell": cell.label, "pairs": len(logs),
                    "own_sd": float(np.std(logs, ddof=1)), "floor": floor_of(raw["cell"]).__dict__,
                    "before": [cell.low, cell.high], "after": [wide.ci_low, wide.ci_high],
                    "width_factor": math.log(wide.ci_high / wide.ci_low)
                    / math.log(cell.high / cell.low),
                    "label_before": _label(judge(rule, plain)),
                    "label_after": _label(judge(rule, estimates(rec, floor_of)))})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the three sections (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--results",
        type=Path,
        default=Path("data/results/x86-2core-cpu-torch2.13.0-tf2.21.0-jax0.10.2-9facdd"),
    )
    ap.add_argument("--report", type=Path, default=None)
    ap.add_argument("--floor", action="append", default=[], metavar="TIER=SD")
    ap.add_argument("--claim", default="inference-latency-3x")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)  # fmt: skip
    report = json.loads(args.report.read_text(encoding="utf-8")) if args.report else None
    recs = records(args.results)
    rows = reruns(recs)
    table = table_of(report, args.floor)
    out = {
        "aa_leave_one_out": aa_series(report) if report else [],
        "reruns": [tally_reruns(rows, t) for t in ("torch-eager", "keras-call", None)],
        "rerun_cells": rows,
        "floors": {
            m: {t: {k: f.__dict__ for k, f in c.items()} for t, c in tiers.items()}
            for m, tiers in table.items()
        },
        "widening": widening(recs, args.claim, table) if table else [],
        "label_changes": rejudge(recs, table) if table else [],
        "records": len(recs),
    }
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    if report is not None and not out["aa_leave_one_out"]:
        print(f"{args.report}: no A/A series in this report (older than the floors)")
    for r in out["aa_leave_one_out"]:
        print(f"A/A {r['tier']} ({r['class']}): CIs excluding 1 {r['excludes_before']} ->"
              f" {r['excludes_after']} of {r['runs']}; pairwise coverage"
              f" {r['coverage_before']:.1%} -> {r['coverage_after']:.1%}")  # fmt: skip
    for t in out["reruns"]:
        if t["cells"]:
            print(f"re-runs with {t['tier']} ({t['groups']} checks, {t['cells']} cells,"
                  f" {t['intervals']} intervals): missing the other runs' mean"
                  f" {t['miss_before']} -> {t['miss_after']}; pairwise coverage"
                  f" {t['coverage_before']:.1%} -> {t['coverage_after']:.1%}")  # fmt: skip
    for w in out["widening"]:
        print("widening:", json.dumps(w))
    print(f"label changes over {len(recs)} records:", json.dumps(out["label_changes"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
