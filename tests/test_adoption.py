"""Adoption claims judged against the real snapshot files in data/snapshots/."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kg import api
from kg.load import load_corpus
from kg.model import Check, plain
from kg.snapshots import Snapshots
from verify.judge import adoption

REPO = Path(__file__).resolve().parent.parent
SNAPSHOTS = REPO / "data" / "snapshots"
NAMING = "papers mentioning either framework"
TODAY = date(2026, 12, 1)  # the run date the caller passes in


def judge_adoption(check: dict, folder: Path) -> dict:
    """The judge's verdict, as plain JSON, for a check given as JSON."""
    full = {"claim_id": "c", "kind": "adoption", "benchmark": "adoption-share",
            "module": "verify.judge.adoption", "benchmark_type": "datacheck", **check}  # fmt: skip
    return plain(adoption.judge_adoption(Check.from_dict(full), Snapshots(folder), TODAY))


def papers(conference="NeurIPS", year=2020, population=NAMING, framework="pytorch", **rule):
    """A check as kg.api.claim_checks returns it for a conference-share claim."""
    params = {
        "dataset": "conference-framework-mentions",
        "conference": conference,
        "year": year,
        "framework": framework,
        "other": "tensorflow" if framework == "pytorch" else "pytorch",
    }
    if population is not None:
        params["population"] = population
    return {"parameters": params, "rule": _rule(subject=framework, **rule)}


def survey(dataset="so-survey-2022", framework="tensorflow", other="pytorch", **rule):
    """A check for a Stack Overflow claim; an `other` framework makes it a two-way share."""
    params = {"dataset": dataset, "framework": framework, "population": "professional developers"}
    if other:
        params["other"] = other
    return {"parameters": params, "rule": _rule(subject=framework, baseline=other, **rule)}


def _rule(**kw):
    rule = {"metric": "share", "better": "higher", "subject": "pytorch", "baseline": None,
            "threshold": 0.8, "tolerance": 0.1, "quantifier": "about"}  # fmt: skip
    rule.update(kw)
    return rule


def test_snapshot_neurips_2020_counts_are_the_published_ones():
    row = next(
        r
        for r in Snapshots(SNAPSHOTS).conference()
        if (r["conference"], r["year"]) == ("NeurIPS", 2020)
    )
    assert (row["pytorch"], row["tensorflow"], row["total"]) == (312, 94, 1898)


def test_judge_neurips_2020_share_of_framework_naming_papers_is_about_80pct():
    v = judge_adoption(papers(), SNAPSHOTS)
    assert v["label"] == "holds"
    assert v["value"] == pytest.approx(312 / 406)  # 76.8%
    assert v["data"]["rows"][0]["share_of_all"] == pytest.approx(312 / 1898)  # 16.4%
    assert "76.8%" in v["explanation"] and "16.4%" in v["explanation"]
    assert v["source"] == "he-conference-mentions"


def test_judge_share_of_all_papers_does_not_hold_at_80pct():
    v = judge_adoption(papers(population="all papers"), SNAPSHOTS)
    assert v["label"] == "does-not-hold"
    assert v["value"] == pytest.approx(312 / 1898)
    assert "of all papers" in v["explanation"]


def test_judge_inconclusive_when_the_claim_does_not_say_which_papers_and_readings_disagree():
    v = judge_adoption(papers(population=None), SNAPSHOTS)
    assert v["label"] == "inconclusive"
    assert "set its population" in v["explanation"]


def test_judge_neurips_2023_is_not_checkable_and_names_the_missing_data_and_nearest_evidence():
    v = judge_adoption(papers(year=2023, tolerance=0.05), SNAPSHOTS)
    assert v["label"] == "not-checkable-here"
    assert v["value"] is None
    assert v["explanation"].startswith("Needs the NeurIPS 2023 paper counts")
    assert "ends with ICLR 2022 / NeurIPS 2020" in v["explanation"]
    assert "312 of the 406" in v["explanation"] and "76.8%" in v["explanation"]
    assert v["data"]["nearest"][0]["year"] == 2020


def test_judge_unknown_conference_lists_what_the_snapshot_covers():
    v = judge_adoption(papers(conference="KDD"), SNAPSHOTS)
    assert v["label"] == "not-checkable-here"
    assert "Needs KDD paper counts" in v["explanation"] and "NeurIPS" in v["explanation"]


def test_judge_at_least_needs_every_year_in_scope_and_up_to_needs_one():
    years = [2019, 2020]  # NeurIPS: 63.6% then 76.8% of framework-naming papers
    at_least = judge_adoption(
        papers(year=years, threshold=0.7, tolerance=0, quantifier="at-least"), SNAPSHOTS
    )
    up_to = judge_adoption(
        papers(year=years, threshold=0.7, tolerance=0, quantifier="up-to"), SNAPSHOTS
    )
    assert (at_least["label"], up_to["label"]) == ("does-not-hold", "holds")
    assert len(at_least["data"]["rows"]) == 2


def test_judge_lower_is_better_bounds_the_share_from_above():
    # TensorFlow named by 94 of 406 framework-naming NeurIPS 2020 papers: 23.2%
    check = papers(
        framework="tensorflow", better="lower", threshold=0.25, tolerance=0, quantifier="at-least"
    )
    v = judge_adoption(check, SNAPSHOTS)
    assert v["label"] == "holds"
    assert v["value"] == pytest.approx(94 / 406)


def test_judge_tensorflow_ahead_of_pytorch_among_professionals_in_2022():
    v = judge_adoption(survey(threshold=0.5, tolerance=0, quantifier="at-least"), SNAPSHOTS)
    assert v["label"] == "holds"
    assert v["value"] == pytest.approx(11.49 / (11.49 + 7.61))  # 60.2%
    assert "11.49%" in v["explanation"] and "7.61%" in v["explanation"]


def test_judge_pytorch_ahead_in_2022_survey_does_not_hold():
    check = survey(
        framework="pytorch", other="tensorflow", threshold=0.5, tolerance=0, quantifier="at-least"
    )
    assert judge_adoption(check, SNAPSHOTS)["label"] == "does-not-hold"


def test_judge_survey_share_of_respondents_without_an_other_framework():
    v = judge_adoption(
        survey(framework="pytorch", other=None, threshold=0.1, quantifier="at-least"), SNAPSHOTS
    )
    assert v["value"] == pytest.approx(0.0761)
    assert v["label"] == "does-not-hold"  # 7.61% is below 10% less 10%


def test_judge_stack_overflow_2023_is_not_checkable_with_2022_context():
    v = judge_adoption(
        survey(dataset="so-survey-2023", threshold=0.5, quantifier="at-least"), SNAPSHOTS
    )
    assert v["label"] == "not-checkable-here"
    assert "Stack Overflow Developer Survey 2023" in v["explanation"]
    assert "11.49% use TensorFlow" in v["explanation"]


def test_judge_missing_snapshot_file_is_not_checkable(tmp_path):
    v = judge_adoption(papers(), tmp_path)
    assert v["label"] == "not-checkable-here"
    assert "conference-framework-mentions.csv, which is missing" in v["explanation"]


def test_judge_every_adoption_claim_in_the_corpus_gets_a_verdict_with_its_rows(full_copy):
    corpus = load_corpus(full_copy)
    checks = [k for c in api.list_claims(corpus, kind="adoption")
              for k in api.claim_checks(corpus, c.id) if k.benchmark == "adoption-share"]  # fmt: skip
    assert checks, "the corpus has adoption claims checked against snapshots"
    for check in checks:
        v = plain(adoption.judge_adoption(check, Snapshots(SNAPSHOTS), TODAY))
        assert v["label"] in {"holds", "does-not-hold", "inconclusive", "not-checkable-here"}
        assert v["explanation"].endswith(".")
        if v["label"] in {"holds", "does-not-hold"}:
            assert v["data"]["rows"] and 0 <= v["value"] <= 1
            assert "Data of " in v["explanation"] and v["data"]["data_date"]


def pypi(framework="pytorch", other="tensorflow", **params_and_rule):
    """A check of the PyPI download lists; `month` or `year` picks the list."""
    params = {"dataset": "top-pypi-packages", "framework": framework, "other": other}
    for key in ("month", "year"):
        if key in params_and_rule:
            params[key] = params_and_rule.pop(key)
    rule = _rule(subject=framework, baseline=other, **params_and_rule)
    return {"parameters": params, "rule": rule}


def test_snapshot_pypi_rows_read_counts_and_leave_unlisted_months_empty():
    rows = Snapshots(SNAPSHOTS).pypi()
    april = {r["project"]: r for r in rows if r["month"] == "2026-04"}
    assert (april["torch"]["downloads"], april["torch"]["rank"]) == (87347847, 307)
    assert april["tensorflow"]["window"] == "previous calendar month"
    first = {r["project"]: r for r in rows if r["month"] == "2018-02"}
    assert first["torch"]["downloads"] == 9455


def test_judge_pypi_share_is_between_the_two_projects_of_one_list():
    v = judge_adoption(pypi(month="2024-04", threshold=0.5, tolerance=0, quantifier="at-least"),
                       SNAPSHOTS)  # fmt: skip
    assert v["label"] == "holds"
    assert v["value"] == pytest.approx(23190107 / (23190107 + 22594480))  # 50.7%
    assert "30 days, pip only" in v["explanation"] and "download.pytorch.org" in v["explanation"]
    assert v["data"]["data_date"] == "2024-04-01"


def test_judge_pypi_year_takes_the_last_list_of_that_year_and_newest_without_one():
    v = judge_adoption(pypi(year=2024, threshold=0.6, tolerance=0, quantifier="at-least"),
                       SNAPSHOTS)  # fmt: skip
    assert v["data"]["data_date"] == "2024-12-01"
    newest = judge_adoption(pypi(threshold=0.6, tolerance=0, quantifier="at-least"), SNAPSHOTS)
    assert newest["data"]["data_date"] == "2026-04-01"
    assert newest["value"] == pytest.approx(87347847 / (87347847 + 22653919))


def test_judge_pypi_tensorflow_ahead_does_not_hold_in_2026():
    check = pypi(framework="tensorflow", other="pytorch", month="2026-04", threshold=0.5,
                 tolerance=0, quantifier="at-least")  # fmt: skip
    v = judge_adoption(check, SNAPSHOTS)
    assert v["label"] == "does-not-hold"
    assert "less than two years before this run" in v["explanation"]


def test_judge_pypi_month_without_a_list_is_not_checkable():
    v = judge_adoption(pypi(month="2017-05"), SNAPSHOTS)
    assert v["label"] == "not-checkable-here"
    assert "2018-02 to 2026-04" in v["explanation"]


def test_judge_pypi_unlisted_project_is_inconclusive_not_zero():
    v = judge_adoption(pypi(framework="jax", other="tensorflow", month="2018-02"), SNAPSHOTS)
    assert v["label"] == "inconclusive"
    assert "not zero" in v["explanation"]


def test_judge_says_when_data_is_more_than_two_years_older_than_the_run():
    v = judge_adoption(papers(), SNAPSHOTS)
    assert (
        "Data of 2021-10-22, more than two years (5 years) before this run (2026-12-01)."
        in (v["explanation"])
    )
    assert v["data"]["stale"] is True
    recent = plain(adoption.judge_adoption(
        Check.from_dict({"claim_id": "c", "kind": "adoption", "benchmark": "adoption-share",
                         "module": "verify.judge.adoption", "benchmark_type": "datacheck",
                         **papers()}), Snapshots(SNAPSHOTS), date(2022, 6, 1)))  # fmt: skip
    assert "less than two years before this run (2022-06-01)" in recent["explanation"]
    assert recent["data"]["stale"] is False


def test_judge_survey_quoted_claims_say_source_not_found_with_what_was_searched():
    neurips = judge_adoption(papers(year=2023, tolerance=0.05), SNAPSHOTS)
    assert "Source not found" in neurips["explanation"]
    assert "paperswithcode-data" in neurips["explanation"] and "76.8%" in neurips["explanation"]
    so = judge_adoption(survey(dataset="so-survey-2023", threshold=0.5), SNAPSHOTS)
    assert "Source not found" in so["explanation"] and "so-survey-2024" in so["explanation"]
    assert "Data of 2022-06-22, more than two years" in so["explanation"]  # the nearest evidence
