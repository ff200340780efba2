"""`verify claim new`: a claim added from flags (or prompts) is valid, runs unchanged, or is refused
with the file left exactly as it was."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import api
from kg.checkspec import parse_param
from kg.load import load_corpus
from kg.model import Check, plain
from kg.snapshots import Snapshots
from kg.turtle_text import literal, long_literal, number
from verify.judge.adoption import judge_adoption

REPO = Path(__file__).resolve().parent.parent

BATCH_4 = [
    "claim", "new", "--id", "latency-batch-4-tf-function",
    "--kind", "performance", "--category", "inference-latency", "--favours", "pytorch",
    "--statement", "At batch size 4 on 96 px images, PyTorch eager beats a tf.function call by 1.5x.",
    "--source", "survey-patterns-article", "--locator", "Performance; inference latency paragraph",
    "--derived-from", "becirovic-2025", "--device", "cpu", "--phase", "inference",
    "--benchmark", "inference-latency",
    "--param", "batch_sizes=[4]", "--param", "input_sizes=[96]", "--param", "tiers=[\"torch-eager\", \"tf-function\"]",
    "--metric", "median_latency", "--subject", "torch-eager", "--baseline", "tf-function",
    "--threshold", "1.5", "--tolerance", "0.05", "--quantifier", "at-least",
]  # fmt: skip


def run_cli(monkeypatch, capsys, root: Path, *args: str) -> tuple[int, str, str]:
    """Run the `verify` entry point in-process against `root`; returns (exit code, stdout, stderr)."""
    from verify.cli.app import main

    monkeypatch.setenv("FWCLAIMS_ROOT", str(root))  # restored after the test
    monkeypatch.setattr(sys, "argv", ["verify", "--root", str(root), *args])
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _with(args: list[str], **changes: str) -> list[str]:
    out = list(args)
    for flag, value in changes.items():
        out[out.index("--" + flag.replace("_", "-")) + 1] = value
    return out


def test_claim_new_reused_benchmark_new_parameters_reach_claim_check_untouched(
    monkeypatch, capsys, full_copy
):
    code, out, err = run_cli(monkeypatch, capsys, full_copy, *BATCH_4)
    assert code == 0, err
    assert "verify run --claim latency-batch-4-tf-function" in out
    check = plain(
        api.claim_checks(load_corpus(full_copy, use_cache=False), "latency-batch-4-tf-function")[0]
    )
    assert check["benchmark"] == "inference-latency"
    assert check["module"] == "verify.benchmarks.latency"
    assert check["parameters"] == {
        "batch_sizes": [4],
        "input_sizes": [96],
        "tiers": ["torch-eager", "tf-function"],
    }
    assert check["rule"] == {
        "metric": "median_latency",
        "better": "lower",
        "subject": "torch-eager",
        "baseline": "tf-function",
        "threshold": 1.5,
        "tolerance": 0.05,
        "quantifier": "at-least",
    }
    assert check["conditions"] == {"device": "cpu", "phase": "inference"}


def test_claim_new_statement_with_quotes_and_script_tag_round_trips(monkeypatch, capsys, project):
    text = 'PyTorch is "3x faster" \\ says <script>alert("x")</script>\nsecond line'
    code, _, err = run_cli(monkeypatch, capsys, project, *_with(BATCH_4, statement=text))
    assert code == 0, err
    claim = plain(api.claim(load_corpus(project), "latency-batch-4-tf-function"))
    assert claim["text"] == text


def test_claim_new_invalid_parameter_leaves_existing_file_byte_for_byte(
    monkeypatch, capsys, project
):
    target = project / "claims" / "two-claims.ttl"
    before = target.read_bytes()
    args = [*BATCH_4, "--param", "batchsize=4", "--file", "claims/two-claims.ttl"]
    code, _, err = run_cli(monkeypatch, capsys, project, *args)
    assert code == 2
    assert "'batchsize', which bench:inference-latency does not take" in err
    assert "two-claims.ttl is unchanged" in err
    assert target.read_bytes() == before
    assert sorted(p.name for p in (project / "claims").iterdir()) == [
        "benchmarks.ttl", "sources.ttl", "two-claims.ttl"
    ]  # fmt: skip


def test_claim_new_refused_claim_does_not_leave_a_new_file(monkeypatch, capsys, project):
    code, _, err = run_cli(monkeypatch, capsys, project, *_with(BATCH_4, statement="Too short."))
    assert code == 2
    assert "20 to 1000 characters" in err
    assert not (project / "claims" / "user-claims.ttl").exists()


def test_claim_new_appends_in_place_and_keeps_earlier_claims(monkeypatch, capsys, project):
    assert run_cli(monkeypatch, capsys, project, *BATCH_4)[0] == 0
    second = _with(BATCH_4, id="latency-batch-16-tf-function")
    assert run_cli(monkeypatch, capsys, project, *second)[0] == 0
    text = (project / "claims" / "user-claims.ttl").read_text()
    assert text.count("@prefix fwc:") == 1
    assert "\n\nclaim:latency-batch-16-tf-function a fwc:PerformanceClaim ;\n" in text
    ids = api.claim_ids(load_corpus(project))
    assert {"latency-batch-4-tf-function", "latency-batch-16-tf-function"} <= set(ids)


def test_claim_new_declares_prefixes_an_existing_file_lacks(monkeypatch, capsys, project):
    bare = project / "claims" / "bare.ttl"
    bare.write_text("@prefix fwc: <https://w3id.org/fwclaims/ns#> .\n")
    code, _, err = run_cli(monkeypatch, capsys, project, *BATCH_4, "--file", "bare")
    assert code == 0, err
    assert "@prefix bench:" in bare.read_text()


@pytest.mark.parametrize(
    ("flag", "value", "suggestion"),
    [
        ("benchmark", "inference-latncy", "inference-latency"),
        ("source", "survey-patterns", "survey-patterns-article"),
        ("category", "inference-latensy", "inference-latency"),
        ("quantifier", "at-lest", "at-least"),
    ],
)
def test_claim_new_unknown_id_is_refused_with_a_suggestion(
    monkeypatch, capsys, project, flag, value, suggestion
):
    code, _, err = run_cli(monkeypatch, capsys, project, *_with(BATCH_4, **{flag: value}))
    assert code == 2
    assert f"unknown {flag} '{value}'" in err
    assert suggestion in err.split("Did you mean:")[1]
    assert not (project / "claims" / "user-claims.ttl").exists()


def test_claim_new_without_terminal_names_the_missing_flags(monkeypatch, capsys, project):
    monkeypatch.setattr("verify.cli.survey._interactive", lambda: False)
    code, _, err = run_cli(monkeypatch, capsys, project, "claim", "new", "--id", "x-y")
    assert code == 2
    assert "missing --statement, --kind, --category, --source, --locator" in err


def test_claim_new_at_a_terminal_prompts_for_missing_values(monkeypatch, capsys, project):
    monkeypatch.setattr("verify.cli.survey._interactive", lambda: True)
    answers = [
        "TensorFlow's documentation is harder to navigate than PyTorch's.",  # statement
        "qualitative",  # kind
        "usability",  # category
        "course-notes-2025",  # source
        "Comparison table, documentation row",  # locator
        "The course author's impression.",  # rests on
        "",  # no benchmark
        "A judgement; a usability study with both documentations would settle it.",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(answers) + "\n"))
    code, out, err = run_cli(monkeypatch, capsys, project, "claim", "new", "--id", "docs-harder-tf")
    assert code == 0, err
    assert "verify show docs-harder-tf" in out
    claim = plain(api.claim(load_corpus(project), "docs-harder-tf"))
    assert claim["kind"] == "qualitative"
    assert claim["checks"] == []
    assert claim["not_checkable_because"].startswith("A judgement")
    assert claim["rests_on"] == "The course author's impression."


def test_claim_new_rejects_a_file_outside_claims(monkeypatch, capsys, project):
    code, _, err = run_cli(monkeypatch, capsys, project, *BATCH_4, "--file", "data/x.ttl")
    assert code == 2
    assert "claims are loaded from" in err


def test_claim_new_adoption_claim_with_new_cell_is_judged_from_the_snapshot(
    monkeypatch, capsys, project
):
    args = [
        "claim", "new", "--id", "icml-2021-pytorch-share", "--kind", "adoption",
        "--category", "adoption", "--favours", "pytorch",
        "--statement", "At ICML 2021 at least three quarters of the papers naming a framework used PyTorch.",
        "--source", "he-conference-mentions", "--locator", "data_analysis/data.csv, ICML 06/21",
        "--benchmark", "adoption-share",
        "--params-json", '{"dataset": "conference-framework-mentions", "conference": "ICML"}',
        "--param", "year=2021", "--param", "framework=pytorch", "--param", "other=tensorflow",
        "--param", "population=papers mentioning either framework",
        "--metric", "share", "--subject", "pytorch", "--threshold", "0.75", "--tolerance", "0",
        "--quantifier", "at-least",
    ]  # fmt: skip
    code, _, err = run_cli(monkeypatch, capsys, project, *args)
    assert code == 0, err
    corpus = load_corpus(project)
    check = plain(api.claim_checks(corpus, "icml-2021-pytorch-share")[0])
    assert check["parameters"]["year"] == 2021
    assert api.claim(corpus, "icml-2021-pytorch-share").derived_from[0].id == (
        "he-conference-mentions"
    )  # a data set named as the source is also what the claim rests on
    snapshots = Snapshots(REPO / "data" / "snapshots")
    verdict = plain(judge_adoption(Check.from_dict(check), snapshots, date(2026, 12, 1)))
    assert verdict["label"] == "holds"
    assert verdict["value"] == pytest.approx(202 / 260)


def test_parse_param_reads_json_and_keeps_plain_text():
    assert parse_param("batch_sizes=[1,4]") == ("batch_sizes", [1, 4])
    assert parse_param("year=2020") == ("year", 2020)
    assert parse_param("model=small-cnn") == ("model", "small-cnn")
    assert parse_param("population=all papers") == ("population", "all papers")


def _parsed(text: str) -> str:
    quads = list(ox.parse(f"<urn:s> <urn:p> {text} .".encode(), format=ox.RdfFormat.TURTLE))
    return quads[0].object.value


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_literal_round_trips_any_text(text):
    assert _parsed(literal(text)) == text
    assert _parsed(long_literal(text)) == text


def test_number_writes_plain_decimals():
    assert [number(v) for v in (3, 1.25, 0.1, 1e-7)] == ["3.0", "1.25", "0.1", "0.0000001"]
