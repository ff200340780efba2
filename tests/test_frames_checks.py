"""kg.frames with claims that have several checks (committed data): the claims table says what
its checks share, the verdict matrix combines them, and each run's tiers are its own check's."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import frames
from kg.load import load_corpus

REPO = Path(__file__).resolve().parent.parent
OLD = "x86-2core-avx512-cpu-torch2.13.0-tf2.21.0-7b313a"
NEW = "x86-2core-cpu-torch2.13.0-tf2.21.0-jax0.10.2-9facdd"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(REPO)


def test_claim_rows_give_what_the_checks_share_and_name_every_check(corpus):
    rows = {r["id"]: r for r in frames.claim_rows(corpus)}
    row = rows["tf-graph-speedup"]
    assert row["checks"] == "main xla" and row["benchmark"] == "inference-latency"
    assert (row["baseline"], row["threshold"], row["quantifier"]) == ("keras-call", 1.0, "at-least")
    assert row["subject"] is None  # tf-function in one check, tf-xla in the other
    single = rows["inference-latency-3x"]
    assert single["checks"] == "main" and single["subject"] == "torch-eager"
    assert rows["pytorch-runtime-best-bert"]["checks"] is None
    assert not rows["pytorch-runtime-best-bert"]["checkable"]


def test_verdict_rows_combine_a_claims_checks(corpus):
    envs, rows = frames.verdict_rows(corpus)
    row = next(r for r in rows if r["id"] == "tf-graph-speedup")
    assert OLD in envs and row[OLD] == "inconclusive"  # only its main check ran there


def test_measurement_rows_name_the_tiers_of_the_runs_own_check(corpus):
    tiers = {
        (m["run"], m["tier_side"]): m["tier"]
        for m in frames.measurement_rows(corpus)
        if m["claim_id"] == "tf-graph-speedup" and m["environment"] == NEW
    }
    assert set(tiers.values()) == {"tf-function", "tf-xla", "keras-call"}
