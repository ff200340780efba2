"""The cited data snapshots in data/snapshots/ that adoption claims are judged against.

Each data set is named by the id of its source in claims/sources.ttl; a check may also name it by
its snapshot file's stem. ``Snapshots`` reads the files; verify.judge.adoption decides from rows.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

CONFERENCE_DATA = "he-conference-mentions"
SURVEY_DATA = "so-survey-2022"
PYPI_DATA = "top-pypi-packages"
FILES = {
    CONFERENCE_DATA: "conference-framework-mentions.csv",
    SURVEY_DATA: "so-survey-2022.csv",
    PYPI_DATA: "top-pypi-packages.csv",
}
# The date of the data in each fixed snapshot (claims/sources.ttl): the upstream commit of the
# conference counts, the day the 2022 survey figures were published. PyPI rows carry their own.
DATES = {CONFERENCE_DATA: "2021-10-22", SURVEY_DATA: "2022-06-22"}
ALIASES = {Path(f).stem: source for source, f in FILES.items()} | {s: s for s in FILES}


class Snapshots:
    """The snapshot files under one folder (data/snapshots/ of a project)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def resolve(self, name: str) -> str:
        """The data set a check names, by source id or file stem (unknown names pass through)."""
        return ALIASES.get(name, name)

    def file_name(self, dataset: str) -> str | None:
        """The snapshot file of a known data set, or None."""
        return FILES.get(dataset)

    def has(self, dataset: str) -> bool:
        """Whether the data set's snapshot file is here."""
        name = FILES.get(dataset)
        return name is not None and (self.folder / name).is_file()

    def conference(self) -> list[dict[str, Any]]:
        """Rows of the conference snapshot with the year spelled out and counts as integers."""
        rows = []
        with open(self.folder / FILES[CONFERENCE_DATA], newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                _, yy = r["month_year"].split("/")
                rows.append({
                    "conference": r["conference"], "month_year": r["month_year"],
                    "year": 2000 + int(yy), "pytorch": int(r["pytorch_papers"]),
                    "tensorflow": int(r["tensorflow_papers"]), "total": int(r["total_papers"]),
                })  # fmt: skip
        return rows

    def data_date(self, dataset: str) -> str | None:
        """The date of a fixed snapshot's data (YYYY-MM-DD), or None."""
        return DATES.get(self.resolve(dataset))

    def pypi(self) -> list[dict[str, Any]]:
        """Rows of the PyPI download lists; rank and downloads None when not in a month's list."""
        rows = []
        with open(self.folder / FILES[PYPI_DATA], newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                rows.append({
                    **r, "date": r["last_update"][:10], "month": r["last_update"][:7],
                    "listed": int(r["listed"]),
                    "rank": int(r["rank"]) if r["rank"] else None,
                    "downloads": int(r["download_count"]) if r["download_count"] else None,
                })  # fmt: skip
        return rows

    def survey(self) -> dict[str, dict[str, Any]]:
        """The developer-survey snapshot as {framework: row}, percent as a float."""
        with open(self.folder / FILES[SURVEY_DATA], newline="", encoding="utf-8") as fh:
            return {
                r["framework"]: {**r, "percent": float(r["percent"])} for r in csv.DictReader(fh)
            }
