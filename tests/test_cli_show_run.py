"""`verify show` ends with the answer (the newest verdict per environment, this machine first);
`verify run` into a log says what finished, how long it took and what remains; one default budget."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from clikit import run_cli
from site_project import CPU_ENV, GPU_ENV, make_project

from verify.run.options import DEFAULT_BUDGET_S
from verify.run.progress import LineProgress

REPO = Path(__file__).resolve().parent.parent


def test_show_ends_with_latest_verdict_per_environment_this_machine_marked(tmp_path, monkeypatch):
    project = make_project(tmp_path / "project")
    monkeypatch.setattr("verify.cli.output.this_environment", lambda: GPU_ENV)
    code, out, err = run_cli(project, "show", "fixture-latency")
    assert code == 0, err
    tail = out[out.index("Latest verdicts") :].splitlines()
    # the newest run's environment first (the site's order), named as the site names it
    assert tail[1].startswith("  H100 80GB HBM3, torch 2.11.0") and GPU_ENV in tail[1]
    assert "(this machine)" in tail[1]
    assert (
        tail[2].strip().startswith("main: does-not-hold") and "Keras predict was faster" in tail[3]
    )
    assert tail[4].startswith("  2-core Example CPU @ 2.0GHz, torch 2.13.0 / TF 2.21.0")
    assert CPU_ENV in tail[4] and "this machine" not in tail[4] and "inconclusive" in tail[5]


def test_show_marks_this_machine_where_verify_env_says_it_is(tmp_path, monkeypatch):
    project = make_project(tmp_path / "project")
    monkeypatch.setattr("verify.cli.output.this_environment", lambda: CPU_ENV)
    code, out, _ = run_cli(project, "show", "fixture-latency")
    tail = out[out.index("Latest verdicts") :].splitlines()
    assert code == 0 and "this machine" not in tail[1] and "(this machine)" in tail[4]


def test_show_json_lists_latest_verdicts(tmp_path, monkeypatch):
    import json

    project = make_project(tmp_path / "project")
    monkeypatch.setattr("verify.cli.output.this_environment", lambda: CPU_ENV)
    code, out, _ = run_cli(project, "show", "fixture-latency", "--json")
    found = json.loads(out)["latest_verdicts"]
    assert [(v["environment"], v["here"]) for v in found] == [(GPU_ENV, False), (CPU_ENV, True)]
    assert found[1]["environment_label"].startswith("2-core Example CPU @ 2.0GHz")
    assert found[0]["environment_short"] == "H100 80GB HBM3 · torch 2.11.0"


def test_line_progress_prints_elapsed_and_estimate_per_finished_check():
    now = [0.0]
    lines: list[str] = []
    p = LineProgress(3, lines.append, clock=lambda: now[0])
    p.start("a")
    now[0] = 40.0
    p.start("b")
    now[0] = 130.0
    p.start("c")
    now[0] = 135.0
    p.close()
    assert lines == [
        "[1/3] a done in 40 s; 40 s so far, about 1m20s left",
        "[2/3] b done in 1m30s; 2m10s so far, about 1m05s left",
        "[3/3] c done in 5 s; 2m15s so far, all done",
    ]


def test_run_into_a_log_prints_a_line_as_each_check_finishes(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "verify", "run", "--claim", "cv-research-pytorch", "--claim",
         "nlp-research-pytorch", "--results-dir", str(tmp_path / "results")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert re.fullmatch(
        r"\[1/2\] cv-research-pytorch done in \d+ s; .* so far, about .* left", lines[0]
    )
    assert re.fullmatch(
        r"\[2/2\] nlp-research-pytorch done in \d+ s; .* so far, all done", lines[1]
    )


def test_one_default_budget_for_the_cli_and_the_makefile():
    make = re.search(r"^BUDGET\s*\?=\s*(\S+)", (REPO / "Makefile").read_text(), re.M)
    assert make and float(make[1]) == DEFAULT_BUDGET_S
    code, out, _ = run_cli(REPO, "run", "--help")
    assert code == 0 and re.search(rf"default:\s*{DEFAULT_BUDGET_S:g}", out.replace("\n", " "))


def test_line_progress_counts_every_check_of_a_claim():
    # keras3-multibackend has two checks (one per Keras backend), so three lines with the other.
    from verify.cli.runs import _line_progress

    progress = _line_progress(["keras3-multibackend", "cv-research-pytorch"], False, None, None)
    assert progress.total == 3
