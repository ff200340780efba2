"""Adoption checks: judged against the project's cited snapshots, not measured."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kg.model import Check
from kg.snapshots import Snapshots
from verify.judge.adoption import DataVerdict, judge_adoption


def judge_data(check: Check, snapshots_dir: Path, today: date) -> DataVerdict:
    """An adoption check's verdict from the snapshots in `snapshots_dir`, on the run date."""
    return judge_adoption(check, Snapshots(snapshots_dir), today)
