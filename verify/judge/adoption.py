"""Judge adoption claims against rows of the cited data snapshots (read by kg.snapshots): pure.

A check of `bench:adoption-share` names a data set and the cell of it the claim is about:

    {"dataset": "conference-framework-mentions", "conference": "NeurIPS", "year": 2020,
     "framework": "pytorch", "other": "tensorflow", "population": "papers mentioning either framework"}

The value judged is always a share, a fraction (0.8 for 80%):

- paper counts: the framework's share of the papers naming either framework (population "papers
  mentioning either framework"), or of all papers (population "all papers");
- developer survey: with an `other` framework (or a rule baseline), the framework's share of the two
  frameworks' users; without one, the share of respondents.

- package downloads (`top-pypi-packages`, read by verify.judge.downloads): the framework's share of
  the two frameworks' PyPI downloads in one monthly list.

Every verdict says the date of the data it used and, when that is more than two years before the
run (the caller passes the run's date), says so.

An ordering ("TensorFlow is ahead of PyTorch") is a two-way share of at least one half:
`subject tensorflow, baseline pytorch, threshold 0.5, quantifier at-least`. The counts are a census,
not a sample, so no interval is drawn; the rule's tolerance is the only slack.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from kg.model import Check, Label
from verify.judge import downloads
from verify.judge.shares import (
    DataVerdict,
    as_list,
    claimed,
    dated,
    decide,
    fits,
    name,
    result,
)

FRAMEWORKS = ("pytorch", "tensorflow")
CONFERENCE_DATA = "he-conference-mentions"  # source ids of the data sets (claims/sources.ttl)
SURVEY_DATA = "so-survey-2022"
PYPI_DATA = downloads.PYPI_DATA
# Data the literature cites that no snapshot holds: what would settle a claim resting on it.
MISSING = {
    "so-survey-2023": "the Stack Overflow Developer Survey 2023 percentages of professional "
    "developers using each framework (not readable here, so no snapshot was kept)",
}
# What was searched for such data and not found (data/snapshots/README.md, "Looked for and not
# found"); the ids are sources in claims/sources.ttl.
SEARCHED = {
    "so-survey": "Source not found: no readable copy of the Stack Overflow survey's framework "
    "figures after 2022 was found. Searched: the 2023, 2024 and 2025 result pages (sources "
    "so-survey-2023, so-survey-2024, so-survey-2025), public copies of survey_results_public.csv "
    "(Git LFS pointers or samples only), and code and pages quoting the 'other frameworks and "
    "libraries' percentages.",
    "papers": "Source not found: no count of conference papers by framework after 2022 was found. "
    "Searched: the history of the conference data (source he-conference-mentions, nothing after "
    "commit 3ef0c7d of 2021-10-22) and repositories like it, NeurIPS 2023 paper lists (titles and "
    "abstracts, no framework), and Papers with Code's data (source paperswithcode-data, now an "
    "archive that is not reachable here).",
}
NAMING, ALL = "papers naming either framework", "all papers"


class SnapshotReader(Protocol):
    """Where the rows come from (kg.snapshots.Snapshots reads them from data/snapshots/)."""

    folder: Any

    def resolve(self, name: str) -> str: ...
    def file_name(self, dataset: str) -> str | None: ...
    def has(self, dataset: str) -> bool: ...
    def conference(self) -> list[dict[str, Any]]: ...
    def survey(self) -> dict[str, dict[str, Any]]: ...
    def pypi(self) -> list[dict[str, Any]]: ...
    def data_date(self, dataset: str) -> str | None: ...


def judge_adoption(check: Check, snapshots: SnapshotReader, today: date) -> DataVerdict:
    """Judge one adoption check against the snapshots the reader gives, on the run date ``today``."""
    verdict = _judge(check, snapshots)
    when = verdict.data.get("data_date") or snapshots.data_date(verdict.data.get("dated", ""))
    return dated(verdict, when, today)


def _judge(check: Check, snapshots: SnapshotReader) -> DataVerdict:
    params = check.parameters
    rule = check.rule.to_dict()
    asked = str(params.get("dataset", ""))
    dataset = snapshots.resolve(asked)
    framework = str(params.get("framework") or rule.get("subject") or "").lower()
    named_other = params.get("other") or rule.get("baseline")
    other = str(named_other or _other(framework)).lower()
    file_name = snapshots.file_name(dataset)
    if file_name and not snapshots.has(dataset):
        text = (
            f"Needs the {dataset} snapshot, data/snapshots/{file_name}, which is missing "
            f"from {snapshots.folder}."
        )
        return result(Label.NOT_CHECKABLE, text, None, {"rows": []}, dataset)
    if dataset == CONFERENCE_DATA:
        return _judge_papers(params, rule, framework, other, snapshots.conference())
    if dataset == SURVEY_DATA:
        survey = snapshots.survey()
        return _judge_survey(params, rule, framework, other if named_other else None, survey)
    if dataset == PYPI_DATA:
        return downloads.judge_downloads(params, rule, framework, other, snapshots.pypi())
    return _missing_dataset(asked, framework, other, snapshots)


def _other(framework: str) -> str:
    return next((f for f in FRAMEWORKS if f != framework), "tensorflow")


def _population(text: Any) -> str | None:
    if not text:
        return None
    s = str(text).lower()
    if any(w in s for w in ("naming", "mention", "either", "framework")):
        return NAMING
    return ALL if "all" in s else "unknown"


def _judge_papers(
    params: dict[str, Any],
    rule: dict[str, Any],
    framework: str,
    other: str,
    rows: list[dict[str, Any]],
) -> DataVerdict:
    if framework not in FRAMEWORKS or other not in FRAMEWORKS or framework == other:
        text = (
            f"The conference snapshot counts only PyTorch against TensorFlow papers, not "
            f"{framework or '?'} against {other or '?'}."
        )
        return result(Label.NOT_CHECKABLE, text, None, {"rows": []}, CONFERENCE_DATA)
    by_conf: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_conf.setdefault(r["conference"].lower(), []).append(r)
    wanted = [str(c) for c in as_list(params.get("conference"))] or sorted(
        {r["conference"] for r in rows}
    )
    years = [int(y) for y in as_list(params.get("year"))]
    unknown = [c for c in wanted if c.lower() not in by_conf]
    if unknown:
        covered = ", ".join(sorted({r["conference"] for r in rows}))
        text = f"Needs {' and '.join(unknown)} paper counts; the snapshot covers {covered} only."
        return result(Label.NOT_CHECKABLE, text, None, {"rows": []}, CONFERENCE_DATA)
    used, missing = [], []
    for c in wanted:
        mine = by_conf[c.lower()]
        for y in years or sorted({r["year"] for r in mine}):
            hit = [r for r in mine if r["year"] == y]
            used += hit
            missing += [] if hit else [(mine[0]["conference"], y)]
    if missing:
        return _missing_cells(missing, by_conf, rows, framework, other)
    return _judge_rows(used, params, rule, framework, other)


def _missing_cells(
    missing: list[tuple[str, int]],
    by_conf: dict[str, list[dict[str, Any]]],
    rows: list[dict[str, Any]],
    framework: str,
    other: str,
) -> DataVerdict:
    latest = max(rows, key=lambda r: (r["year"], r["month_year"][:2]))
    nearest, ends = [], [f"{latest['conference']} {latest['year']}"]
    for conf, year in missing:
        mine = by_conf[conf.lower()]
        last = max(mine, key=lambda r: r["year"])
        if last is not latest and f"{conf} {last['year']}" not in ends:
            ends.append(f"{conf} {last['year']}")
        near = min(mine, key=lambda r: (abs(r["year"] - year), -r["year"]))
        if near not in nearest:
            nearest.append(near)
    cells = " and ".join(f"{c} {y}" for c, y in missing)
    evidence = "; ".join(_row_line(r, framework, other) for r in nearest)
    text = (
        f"Needs the {cells} paper counts; the snapshot ends with {' / '.join(ends)}. "
        f"Nearest evidence: {evidence}."
    )
    if any(year > max(r["year"] for r in by_conf[conf.lower()]) for conf, year in missing):
        text += " " + SEARCHED["papers"]
    data = {"rows": [], "nearest": [_with_shares(r, framework, other) for r in nearest],
            "dated": CONFERENCE_DATA}  # fmt: skip
    return result(Label.NOT_CHECKABLE, text, None, data, CONFERENCE_DATA)


def _with_shares(r: dict[str, Any], framework: str, other: str) -> dict[str, Any]:
    naming = r[framework] + r[other]
    return {
        **r,
        "share_of_naming": r[framework] / naming if naming else None,
        "share_of_all": r[framework] / r["total"] if r["total"] else None,
    }


def _row_line(r: dict[str, Any], framework: str, other: str) -> str:
    s = _with_shares(r, framework, other)
    naming = r[framework] + r[other]
    if not naming:
        return f"{r['conference']} {r['year']}, no paper naming either framework"
    return (
        f"{r['conference']} {r['year']}, {name(framework)} in {r[framework]:,} of the "
        f"{naming:,} papers naming {name(framework)} or {name(other)} "
        f"({s['share_of_naming']:.1%}), {s['share_of_all']:.1%} of all {r['total']:,} papers"
    )


def _rows_line(rows: list[dict[str, Any]], framework: str, other: str) -> str:
    if len(rows) <= 3:
        return "; ".join(_row_line(r, framework, other) for r in rows)
    naming = [r["share_of_naming"] for r in rows if r["share_of_naming"] is not None]
    everyone = [r["share_of_all"] for r in rows if r["share_of_all"] is not None]
    return (
        f"Across {len(rows)} conference-years, {name(framework)} is named by "
        f"{_span(naming) if naming else 'none'} of the papers naming {name(framework)} "
        f"or {name(other)} and {_span(everyone)} of all papers"
    )


def _judge_rows(
    used: list[dict[str, Any]],
    params: dict[str, Any],
    rule: dict[str, Any],
    framework: str,
    other: str,
) -> DataVerdict:
    rows = [_with_shares(r, framework, other) for r in used]
    population = _population(params.get("population"))
    data: dict[str, Any] = {
        "rows": rows,
        "population": population,
        "snapshot": "conference-framework-mentions.csv",
        "dated": CONFERENCE_DATA,
    }
    lines = _rows_line(rows, framework, other)
    if population == "unknown":
        text = (
            f"The population '{params.get('population')}' is not one the paper counts can "
            f"measure: use '{NAMING}' or '{ALL}'. {lines}."
        )
        return result(Label.INCONCLUSIVE, text, None, data, CONFERENCE_DATA)
    key = "share_of_all" if population == ALL else "share_of_naming"
    values = [r[key] for r in rows if r[key] is not None]
    if not values:
        text = f"No paper in scope names {name(framework)} or {name(other)}: {lines}."
        return result(Label.INCONCLUSIVE, text, None, data, CONFERENCE_DATA)
    ok = decide(values, rule)
    value = values[0] if len(values) == 1 else None
    reading = population or NAMING
    data["measure"] = f"share of {reading} that name {framework}"
    text = f"{lines}: {fits(ok)} the claimed {claimed(rule)} of {reading}"
    if population is None:
        everyone = [r["share_of_all"] for r in rows if r["share_of_all"] is not None]
        if decide(everyone, rule) != ok:
            text = (
                f"{lines}. The claim does not say whether it counts {NAMING} "
                f"({'holds' if ok else 'does not hold'}) or {ALL} "
                f"({'does not hold' if ok else 'holds'}); set its population to settle it."
            )
            return result(Label.INCONCLUSIVE, text, value, data, CONFERENCE_DATA)
        text += (
            f" (the claim does not say which papers it counts; of {ALL} the verdict is the same)"
        )
    return result(
        Label.HOLDS if ok else Label.DOES_NOT_HOLD, text + ".", value, data, CONFERENCE_DATA
    )


def _span(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.1%}" if lo == hi else f"{lo:.1%} to {hi:.1%}"


def _judge_survey(
    params: dict[str, Any],
    rule: dict[str, Any],
    framework: str,
    other: str | None,
    table: dict[str, dict[str, Any]],
) -> DataVerdict:
    population = str(params.get("population") or "professional developers")
    rows = [table[f] for f in (framework, other) if f in table]
    data: dict[str, Any] = {
        "rows": rows,
        "population": "professional developers",
        "snapshot": "so-survey-2022.csv",
        "dated": SURVEY_DATA,
    }
    line = _survey_line(table, framework, other)
    year = params.get("year")
    if year not in (None, "", 2022, "2022"):
        text = f"Needs the Stack Overflow {year} survey figures; the snapshot is of 2022 ({line})."
        return result(Label.NOT_CHECKABLE, text, None, data, SURVEY_DATA)
    if "professional" not in population.lower():
        text = (
            f"Needs the 2022 survey's figures for {population}; the snapshot holds professional "
            f"developers only ({line})."
        )
        return result(Label.NOT_CHECKABLE, text, None, data, SURVEY_DATA)
    lacking = [f for f in (framework, other) if f and f not in table]
    if lacking or not framework:
        missing = ", ".join(lacking) or "an unnamed framework"
        text = f"The 2022 survey snapshot has no figure for {missing}; it lists {', '.join(table)}."
        return result(Label.NOT_CHECKABLE, text, None, data, SURVEY_DATA)
    pf = table[framework]["percent"]
    if other:
        value = pf / (pf + table[other]["percent"])
        measured = f"a {value:.1%} share of the two frameworks' users"
        data["measure"] = f"share of {framework} among {framework} and {other} users"
    else:
        value = pf / 100
        measured = f"a {value:.2%} share of respondents"
        data["measure"] = f"share of respondents using {framework}"
    ok = decide([value], rule)
    text = f"{line[0].upper()}{line[1:]}: {measured}, {fits(ok)} the claimed {claimed(rule)}."
    return result(Label.HOLDS if ok else Label.DOES_NOT_HOLD, text, value, data, SURVEY_DATA)


def _survey_line(table: dict[str, Any], framework: str, other: str | None) -> str:
    parts = [
        f"{table[f]['percent']:.2f}% use {name(f)}" for f in (framework, other) if f and f in table
    ]
    return "in the Stack Overflow 2022 survey of professional developers " + " and ".join(parts)


def _missing_dataset(
    dataset: str, framework: str, other: str, snapshots: SnapshotReader
) -> DataVerdict:
    need = MISSING.get(dataset, f"a snapshot of the data set '{dataset}' in data/snapshots/")
    nearest, data = "", dict[str, Any](rows=[])
    if dataset.startswith("so-survey") and snapshots.has(SURVEY_DATA):
        table = snapshots.survey()
        data = {
            "rows": [table[f] for f in (framework, other) if f in table],
            "nearest": SURVEY_DATA,
            "dated": SURVEY_DATA,
        }
        nearest = f"; nearest evidence: {_survey_line(table, framework, other)}"
    known = ", ".join(sorted((CONFERENCE_DATA, SURVEY_DATA, PYPI_DATA)))
    text = f"Needs {need}; the snapshots hold {known}{nearest}."
    if dataset.startswith("so-survey"):
        text += " " + SEARCHED["so-survey"]
    return result(Label.NOT_CHECKABLE, text, None, data, dataset)
