"""Judge an adoption check against the monthly PyPI download lists (`top-pypi-packages`): pure.

Parameters: ``dataset`` "top-pypi-packages", ``framework`` and ``other`` (pytorch -> torch,
tensorflow -> tensorflow, keras -> keras, jax -> jax), and which list: ``month`` ("2025-06") or
``year`` (the last list of that year); neither means the newest list. The share is the framework's
part of the two projects' downloads in that one list, the only share the file allows (it has no
total of all downloads). The explanation names the window and the installers counted, and what the
counts leave out.
"""

from __future__ import annotations

from typing import Any

from kg.model import Label
from verify.judge.shares import DataVerdict, claimed, decide, fits, name, result

PYPI_DATA = "top-pypi-packages"
PROJECTS = {"pytorch": "torch", "torch": "torch", "tensorflow": "tensorflow", "keras": "keras",
            "jax": "jax"}  # fmt: skip
CAVEATS = (
    "PyPI file downloads, not users or installs: PyTorch's own index (download.pytorch.org, where "
    "most CUDA builds come from) and conda are not counted, tensorflow-cpu and tensorflow-gpu are "
    "separate projects not added here, and CI systems download far more often than people"
)


def judge_downloads(
    params: dict[str, Any], rule: dict[str, Any], framework: str, other: str,
    rows: list[dict[str, Any]],
) -> DataVerdict:  # fmt: skip
    """The framework's share of the two projects' downloads in the list the check names."""
    projects = [PROJECTS.get(f) for f in (framework, other)]
    if None in projects or projects[0] == projects[1]:
        text = (
            f"The PyPI lists compare {', '.join(sorted(set(PROJECTS) - {'torch'}))}, not "
            f"{framework or '?'} against {other or '?'}."
        )
        return result(Label.NOT_CHECKABLE, text, None, {"rows": []}, PYPI_DATA)
    mine, theirs = str(projects[0]), str(projects[1])
    wanted = _list_date(params, rows)
    if wanted is None:
        asked = params.get("month") or params.get("year")
        months = sorted({r["month"] for r in rows})
        text = f"No PyPI list for {asked}; the snapshot has lists from {months[0]} to {months[-1]}."
        return result(Label.NOT_CHECKABLE, text, None, {"rows": []}, PYPI_DATA)
    used = {r["project"]: r for r in rows if r["last_update"] == wanted}
    first = next(iter(used.values()))
    data: dict[str, Any] = {
        "rows": [used[p] for p in (mine, theirs) if p in used],
        "data_date": first["date"],
        "population": f"PyPI downloads of {mine} and {theirs}",
        "window": first["window"],
        "installers": first["installers"],
    }
    absent = [p for p in (mine, theirs) if used.get(p, {}).get("downloads") is None]
    if absent:
        text = (
            f"In the PyPI list of {first['date']}, {' and '.join(absent)} is not among the "
            f"{first['listed']:,} most-downloaded projects, so its count is unknown (not zero)."
        )
        return result(Label.INCONCLUSIVE, text, None, data, PYPI_DATA)
    a, b = used[mine]["downloads"], used[theirs]["downloads"]
    value = a / (a + b)
    ok = decide([value], rule)
    data["measure"] = f"share of {mine} among {mine} and {theirs} PyPI downloads"
    text = (
        f"In the PyPI list of {first['date']} ({_window(first)}), {mine} was downloaded "
        f"{a:,} times (rank {used[mine]['rank']:,}) and {theirs} {b:,} times (rank "
        f"{used[theirs]['rank']:,}): {name(framework)} has {value:.1%} of the two, "
        f"{fits(ok)} the claimed {claimed(rule)}. The population is {CAVEATS}."
    )
    return result(Label.HOLDS if ok else Label.DOES_NOT_HOLD, text, value, data, PYPI_DATA)


def _list_date(params: dict[str, Any], rows: list[dict[str, Any]]) -> str | None:
    """The ``last_update`` of the list the check names, or None when there is no such list."""
    month, year = params.get("month"), params.get("year")
    if month:
        hits = [r["last_update"] for r in rows if r["month"] == str(month)]
    elif year:
        hits = [r["last_update"] for r in rows if r["month"].startswith(f"{int(year)}-")]
    else:
        hits = [r["last_update"] for r in rows]
    return max(hits) if hits else None


def _window(row: dict[str, Any]) -> str:
    installers = "all installers" if row["installers"] == "all" else row["installers"]
    return f"downloads over {row['window']}, {installers}, counted by {row['source']}"
