"""kg.frames: the graph as pandas DataFrames for notebooks, the same rows as `--format csv`,
Parquet and the site's CSV downloads; the README's example runs as written."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from clikit import verify
from site_project import CPU_ENV, GPU_ENV, make_project

from kg import frames
from kg.load import load_corpus
from verify.publish.build import publish

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site_root(tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("frames"))


@pytest.fixture(scope="module")
def corpus(site_root):
    return load_corpus(site_root, store="")


def test_frames_claims_one_row_per_claim_with_conditions_as_columns(corpus):
    df = frames.claims(corpus)
    assert df.index.name == "id" and df.index.is_unique
    assert {"fixture-latency", "fixture-xss"} <= set(df.index)
    row = df.loc["fixture-latency"]
    assert bool(row["checkable"]) and row["benchmark"] == "inference-latency"
    assert "device" in df.columns and row["device"] == "any"
    assert str(df["appearances"].dtype) == "Int64"


def test_frames_runs_one_row_per_run_with_utc_times(corpus):
    df = frames.runs(corpus)
    assert len(df) == 3 and str(df["ended"].dtype).startswith("datetime64")
    assert df["ended"].is_monotonic_decreasing  # newest first
    assert set(df["environment"]) == {CPU_ENV, GPU_ENV}


def test_frames_measurements_one_row_per_run_cell_and_tier(corpus, site_root):
    df = frames.measurements(corpus)
    assert len(df) == 2 * (1 + 2 + 2)  # cells of the three runs, both tiers
    assert set(df["tier_side"]) == {"subject", "baseline"}
    first = json.loads(next((site_root / "data" / "results" / CPU_ENV).glob("*0f3c2a9b.json"))
                       .read_text())  # fmt: skip
    s = first["cells"][0]["summary"]
    mine = df[(df.run == first["record_id"]) & (df.tier_side == "baseline")].iloc[0]
    assert mine["median_s"] == pytest.approx(s["baseline_median"])
    assert "baseline_p90" not in s and pd.isna(mine["p90_s"])  # this old record has no p90
    assert mine["ratio"] == pytest.approx(s["ratio"]) and mine["ci_low"] == pytest.approx(
        s["ci_low"]
    )
    assert mine["batch_size"] == first["cells"][0]["cell"]["batch"]
    gpu = df[df.environment == GPU_ENV]
    assert set(gpu["env_gpu"]) == {"NVIDIA H100 80GB HBM3"} and set(gpu["env_torch"]) == {
        "2.11.0+cu124"
    }


def test_frames_measurements_carry_each_sides_p90():
    df = frames.measurements(load_corpus(REPO, store=""))
    latency = df[(df.claim_id == "inference-latency-3x") & df.p90_s.notna()]
    assert len(latency) > 0 and (latency.p90_s >= latency.median_s).all()


def test_frames_verdicts_matrix_claims_by_environments(corpus):
    df = frames.verdicts(corpus)
    assert list(df.columns.name for _ in [0]) == ["environment"]
    assert set(df.columns) == {CPU_ENV, GPU_ENV}
    assert df.loc["fixture-latency", GPU_ENV] == "does-not-hold"
    assert df.loc["fixture-latency", CPU_ENV] == "inconclusive"  # the newest of two
    assert pd.isna(df.loc["fixture-xss", CPU_ENV])


def test_frames_import_no_framework():
    code = ("import sys; from kg import frames; from kg.load import load_corpus;"
            "frames.measurements(load_corpus()); print(sorted(m for m in sys.modules"
            " if m.split('.')[0] in ('torch', 'tensorflow', 'keras', 'jax')))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_frames_readme_example_runs(site_root):
    block = re.search(r"## In a notebook.*?```python\n(.*?)```", (REPO / "README.md").read_text(),
                      re.S)  # fmt: skip
    assert block, "README needs its kg.frames example"
    env = {**os.environ, "FWCLAIMS_ROOT": str(site_root)}
    env.pop("FWCLAIMS_STORE", None)
    out = subprocess.run([sys.executable, "-c", block.group(1)], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "fixture-latency" in out.stdout and "torch-eager" in out.stdout


def test_list_format_csv_is_the_claims_frame(site_root, corpus):
    done = verify(site_root, "list", "--format", "csv")
    assert done.returncode == 0, done.stderr
    got = pd.read_csv(io.StringIO(done.stdout), index_col="id")
    want = frames.claims(corpus)
    assert sorted(got.index) == sorted(want.index) and list(got.columns) == list(want.columns)


def test_list_format_parquet_round_trips(site_root, corpus, tmp_path):
    out = tmp_path / "claims.parquet"
    with out.open("wb") as fh:
        done = subprocess.run([sys.executable, "-m", "verify", "--root", str(site_root), "list",
                               "--kind", "performance", "--format", "parquet"], stdout=fh,
                              stderr=subprocess.PIPE, text=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = pd.read_parquet(out)
    want = frames.claims(corpus)
    assert list(got.index) == list(want[want.kind == "performance"].index)


def test_results_format_csv_is_the_runs_frame(site_root):
    done = verify(site_root, "results", "--format", "csv", "--claim", "fixture-latency")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 3 and list(rows[0]) == list(frames.RUN_COLUMNS)


def test_unknown_format_is_exit_2(site_root):
    done = verify(site_root, "list", "--format", "xlsx")
    assert done.returncode == 2 and "unknown format" in done.stderr


def test_site_csv_downloads_are_the_frames_rows(site_root, corpus, tmp_path):
    publish(corpus, tmp_path / "site")
    got = pd.read_csv(tmp_path / "site" / "data" / "measurements.csv")
    want = frames.measurements(corpus)
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    assert got["median_s"].tolist() == pytest.approx(want["median_s"].astype(float).tolist())
    verdicts = pd.read_csv(tmp_path / "site" / "data" / "verdicts.csv", index_col="id")
    assert set(verdicts.columns) == {CPU_ENV, GPU_ENV}
    assert 'href="data/measurements.csv"' in (tmp_path / "site" / "index.html").read_text()
