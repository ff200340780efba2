"""`verify source new` adds a source to claims/sources.ttl from flags or prompts, validated with
the whole corpus before it is kept; bad input is one line and exit 2, with the file unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import api, claimfile
from kg.load import load_corpus
from tests.clikit import run_cli

NEW = ["source", "new", "--id", "smith-2026", "--name", "Timing PyTorch and TensorFlow again",
       "--role", "primary-study", "--author", "A. Smith", "--author", "B. Jones", "--date",
       "2026-03", "--url", "https://example.org/smith-2026", "--cites", "becirovic-2025"]  # fmt: skip


def _sources(project: Path) -> bytes:
    return (project / "claims" / "sources.ttl").read_bytes()


def test_source_new_from_flags_is_appended_and_readable(project):
    before = _sources(project)
    code, out, err = run_cli(project, *NEW)
    assert code == 0, err
    assert "added source 'smith-2026' to claims/sources.ttl" in out
    after = _sources(project)
    assert after.startswith(before)  # appended; nothing before it rewritten
    text = after[len(before) :].decode()
    assert 'schema:datePublished "2026-03"^^xsd:gYearMonth' in text
    assert "cito:citesAsEvidence src:becirovic-2025" in text
    row, uses = api.source(load_corpus(project, use_cache=False), "smith-2026")
    assert (row.name, row.role, row.date, row.url) == (
        "Timing PyTorch and TensorFlow again", "primary-study", "2026-03",
        "https://example.org/smith-2026")  # fmt: skip
    assert uses == []
    assert row.authors == "A. Smith; B. Jones"  # in the order given, kept by bibo:authorList


def test_source_new_keeps_the_authors_in_the_order_given(project):
    flags = [a if a != "A. Smith" else "Z. Zeller" for a in NEW]
    assert run_cli(project, *flags)[0] == 0
    row, _ = api.source(load_corpus(project, use_cache=False), "smith-2026")
    assert row.authors == "Z. Zeller; B. Jones"


def test_source_new_then_claim_new_can_cite_it(project):
    assert run_cli(project, *NEW)[0] == 0
    code, _, err = run_cli(project, "claim", "new", "--id", "smith-opinion", "--kind",
                           "qualitative", "--statement", "PyTorch code reads more like plain Python.",
                           "--category", "usability", "--source", "smith-2026", "--locator",
                           "Discussion", "--not-checkable", "a matter of taste; a reader study would settle it")  # fmt: skip
    assert code == 0, err
    assert api.claim(load_corpus(project, use_cache=False), "smith-opinion").derived_from[0].id == (
        "smith-2026"
    )


@pytest.mark.parametrize(
    "flag, value, words",
    [("--role", "blog", "--role 'blog': use one of survey, secondary-article"),
     ("--id", "Smith_2026", "--id 'Smith_2026': a source id is kebab-case"),
     ("--id", "becirovic-2025", "a source with that id exists already"),
     ("--date", "March 2026", "--date 'March 2026': use YYYY, YYYY-MM or YYYY-MM-DD"),
     ("--url", "ftp://example.org/x", "give an http:// or https:// address"),
     ("--cites", "nobody-1999", "--cites 'nobody-1999' is not a known source")],
)  # fmt: skip
def test_source_new_bad_input_is_one_line_exit_2_and_the_file_unchanged(
    project, flag, value, words
):
    before = _sources(project)
    args = list(NEW)
    args[args.index(flag) + 1] = value
    code, out, err = run_cli(project, *args)
    assert code == 2
    assert words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert _sources(project) == before


def test_source_new_without_a_terminal_names_what_is_missing(project):
    before = _sources(project)
    code, _, err = run_cli(project, "source", "new", "--id", "smith-2026", "--role", "dataset")
    assert code == 2 and "--name: a source needs its title" in err
    assert _sources(project) == before


def test_add_source_asks_for_what_is_missing(project):
    asked = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return {"Title": "A data set of timings"}.get(prompt, "")

    spec = claimfile.SourceSpec(id="timings-2026", role="dataset")
    claimfile.add_source(project, spec, ask=ask)
    assert asked == ["Title"]
    row, _ = api.source(load_corpus(project, use_cache=False), "timings-2026")
    assert row.role == "dataset" and row.name == "A data set of timings"


def test_add_source_refused_by_the_corpus_leaves_the_file_as_it_was(project):
    before = _sources(project)
    spec = claimfile.SourceSpec("long-2026", "A long one", "dataset", description="x" * 6000)
    with pytest.raises(claimfile.ClaimRejected, match="the source was not added") as e:
        claimfile.add_source(project, spec)  # the shapes allow 5000 characters
    assert "schema:description is at most 5000 characters" in str(e.value)
    assert _sources(project) == before
