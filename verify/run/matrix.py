"""The version matrix: run one claim's check under several TensorFlow versions, one venv each.

For each requested version the runner's workers run on that venv's interpreter (``RunOptions.python``)
while the parent process (this one) plans, judges and writes the record. The record's environment is
this machine's with the venv's Python and package versions, so its environment id and folder name
carry the TensorFlow version, and kg.changes.version_series can plot ratio against version. A
version that this interpreter already has is run here without a venv unless ``isolated`` is set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kg.changes import version_matches
from kg.environments import environment_id
from kg.errors import UsageError
from kg.model import Check
from verify.run import environment, venvs
from verify.run.engine import guarded, run_check
from verify.run.options import RunOptions

DEFAULT_TF = ("2.15", "2.16", "2.19", "2.21")
DEFAULT_TORCH = "2.13.0"


@dataclass(frozen=True)
class Cell:
    """One column of the matrix: the versions asked for and where they run."""

    tf: str
    torch: str
    spec: venvs.VenvSpec | None  # None: this interpreter already has these versions


def parse_versions(text: str) -> list[str]:
    """'2.15,2.16, 2.21' -> ['2.15', '2.16', '2.21'] (validated as release numbers)."""
    out = [v.strip() for v in text.split(",") if v.strip()]
    for v in out:
        venvs.pin("tensorflow-cpu", v)  # raises on anything that is not a release number
    if not out:
        raise UsageError("no TensorFlow version given: e.g. --tf 2.16,2.21")
    return out


def plan(tf_versions: list[str], torch: str, installed: dict, isolated: bool = False) -> list[Cell]:
    """A Cell per TensorFlow version; versions matching `installed` run here unless isolated."""
    cells = []
    for tf in tf_versions:
        here = version_matches(installed.get("tensorflow"), tf) and version_matches(
            installed.get("torch"), torch
        )
        spec = None if here and not isolated else venvs.VenvSpec.frameworks(tf, torch)
        cells.append(Cell(tf, torch, spec))
    return cells


def venv_environment(found: dict) -> dict:
    """This machine's environment with a venv's Python and package versions."""
    env = environment.collect()
    env["python"] = found.get("python") or env["python"]
    env["packages"] = found["packages"]
    return env


def run_matrix(
    check: Check,
    cells: list[Cell],
    *,
    cache: Path,
    project_root: Path,
    budget: float,
    results_dir: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[dict]:
    """Run the check once per cell, guarded as `verify run` is (verify.run.engine.guarded)."""
    with guarded(RunOptions(results_dir=results_dir)):
        return _run_matrix(check, cells, cache=cache, project_root=project_root, budget=budget,
                           results_dir=results_dir, progress=progress)  # fmt: skip


def _run_matrix(
    check: Check,
    cells: list[Cell],
    *,
    cache: Path,
    project_root: Path,
    budget: float,
    results_dir: Path | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> list[dict]:
    """Run the check once per cell; one row per cell with versions, verdict, ratios and record."""
    rows = []
    for cell in cells:
        python, env, venv_path = "", None, None
        if cell.spec is not None:
            venv = venvs.ensure(cache / "venvs", cell.spec, project_root, progress)
            python, env, venv_path = str(venv.python), venv_environment(venv.versions), venv.path
            progress(f"TF {cell.tf}: {'reusing' if venv.reused else 'built'} {venv.path}")
        options = RunOptions(budget=budget, python=python, results_dir=results_dir)
        progress(f"TF {cell.tf}: running {check.claim_id} (budget {budget:g} s)")
        result = run_check(check, options, environment=env)
        record = result.record or {}
        pkgs = (record.get("environment") or {}).get("packages") or {}
        rows.append(
            {
                "tf_requested": cell.tf,
                "tensorflow": pkgs.get("tensorflow"),
                "keras": pkgs.get("keras"),
                "torch": pkgs.get("torch"),
                "environment": record.get("environment_id")
                or (environment_id(env) if env else None),
                "venv": str(venv_path) if venv_path else None,
                "status": result.status,
                "verdict": result.verdict.label if result.verdict else None,
                "explanation": result.verdict.explanation if result.verdict else result.reason,
                "cells": [
                    {
                        "cell": c["label"],
                        **{k: (c["summary"] or {}).get(k) for k in ("ratio", "ci_low", "ci_high")},
                    }
                    for c in record.get("cells", [])
                ],  # fmt: skip
                "record": _shown(result.path, project_root),
            }
        )
    return rows


def _shown(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
