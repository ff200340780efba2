"""Decision rules on canned cell estimates: every quantifier, every outcome, the explanations."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.model import Label, Rule
from verify.judge.verdicts import CellEstimate, judge, judge_probe, not_checkable, scope_note

HOLDS, DOES_NOT_HOLD = Label.HOLDS, Label.DOES_NOT_HOLD
INCONCLUSIVE, NOT_CHECKABLE = Label.INCONCLUSIVE, Label.NOT_CHECKABLE

REPO = Path(__file__).resolve().parent.parent


def rule(quantifier: str, k: float = 3.0, t: float = 0.1, **kw) -> Rule:
    return Rule.from_dict(
        {"metric": "median_latency", "better": "lower", "subject": "torch-eager",
         "baseline": "keras-predict", "threshold": k, "tolerance": t, "quantifier": quantifier, **kw}
    )  # fmt: skip


def cell(ratio: float, low: float, high: float, label: str = "batch 1, 28 px") -> CellEstimate:
    return CellEstimate(label, ratio, low, high)


def test_judge_up_to_holds_when_one_cell_reaches_k():
    v = judge(rule("up-to"), [cell(1.5, 1.4, 1.6), cell(3.2, 3.0, 3.4, "batch 8, 28 px")])
    assert v.label == HOLDS
    assert "batch 8, 28 px" in v.explanation and "1 of 2 cells" in v.explanation


def test_judge_up_to_counts_the_tolerance():
    # k = 3, t = 0.1: a CI from 2.75 up lies above k(1-t) = 2.7
    assert judge(rule("up-to"), [cell(2.9, 2.75, 3.05)]).label == HOLDS


def test_judge_up_to_does_not_hold_when_every_cell_is_below_the_floor():
    cells = [cell(2.4, 2.2, 2.6), *[cell(1.2, 1.1, 1.3, f"c{i}") for i in range(7)]]
    v = judge(rule("up-to"), cells)
    assert v.label == DOES_NOT_HOLD
    assert v.explanation == (
        "PyTorch eager was 2.40x faster than Keras predict at batch 1, 28 px (95% CI 2.20-2.60x);"
        " the claimed 3x was not reached in any of 8 cells."
    )


def test_judge_inconclusive_when_intervals_straddle_threshold():
    v = judge(rule("up-to"), [cell(2.8, 2.5, 3.1), cell(1.0, 0.9, 1.1)])
    assert v.label == INCONCLUSIVE
    assert not v.decided


def test_judge_up_to_says_when_the_gap_is_far_larger_than_claimed():
    v = judge(rule("up-to"), [cell(9.0, 8.0, 10.0)])
    assert v.label == HOLDS and "far larger" in v.explanation


def test_judge_up_to_says_when_the_difference_is_reversed():
    v = judge(rule("up-to"), [cell(0.5, 0.45, 0.55), cell(0.8, 0.7, 0.9)])
    assert v.label == DOES_NOT_HOLD
    assert "slower than" in v.explanation and "reversed" in v.explanation


def test_judge_at_least_holds_only_when_every_cell_clears_the_floor():
    assert judge(rule("at-least", 1.25), [cell(1.4, 1.3, 1.5), cell(1.3, 1.2, 1.4)]).label == HOLDS
    v = judge(rule("at-least", 1.25), [cell(1.4, 1.3, 1.5), cell(1.2, 1.05, 1.35)])
    assert v.label == INCONCLUSIVE


def test_judge_at_least_does_not_hold_when_any_cell_misses():
    v = judge(rule("at-least", 1.25), [cell(1.4, 1.3, 1.5), cell(1.0, 0.95, 1.05, "big")])
    assert v.label == DOES_NOT_HOLD and "at big" in v.explanation


def test_judge_about_holds_when_the_ci_overlaps_the_band():
    # band for 1.25 +- 10% is 1.125-1.375; a CI of 1.05-1.15 touches it
    assert judge(rule("about", 1.25), [cell(1.1, 1.05, 1.15)]).label == HOLDS


def test_judge_about_does_not_hold_when_the_ci_misses_the_band():
    v = judge(rule("about", 1.25), [cell(2.0, 1.8, 2.2)])
    assert v.label == DOES_NOT_HOLD and "outside the band 1.12-1.38x" in v.explanation


def test_judge_about_inconclusive_when_the_ci_is_much_wider_than_the_band():
    v = judge(rule("about", 1.25), [cell(1.3, 0.6, 2.5)])
    assert v.label == INCONCLUSIVE and "too wide" in v.explanation


def test_judge_higher_is_better_and_memory_wording():
    thr = judge(rule("at-least", 1.5, better="higher", metric="throughput"), [cell(2.0, 1.9, 2.1)])
    mem = judge(rule("at-least", 1.5, metric="peak_memory"), [cell(2.0, 1.9, 2.1)])
    assert "had 2.00x the throughput of" in thr.explanation
    assert "used 2.00x less memory than" in mem.explanation


def test_judge_without_cells_is_inconclusive():
    assert judge(rule("up-to"), []).label == INCONCLUSIVE


def test_scope_note_when_a_gpu_claim_runs_on_a_cpu():
    note = scope_note("gpu", "cpu")
    v = judge(rule("up-to"), [cell(3.2, 3.0, 3.4)], note=note)
    assert v.explanation.endswith(
        "judged for this CPU environment only; the claim is stated for GPU."
    )
    assert scope_note("any", "cpu") == "" and scope_note("gpu", "cuda") == ""


def test_judge_probe_holds_and_names_the_successor_when_deprecated():
    result = {"ok": True, "detail": "scripted, saved, reloaded", "deprecated": True,
              "successor": "torch.export"}  # fmt: skip
    v = judge_probe(result, "The torchscript probe")
    assert v.label == HOLDS
    assert "deprecated; its successor is torch.export" in v.explanation


def test_judge_probe_does_not_hold_when_the_probe_failed():
    v = judge_probe({"ok": False, "detail": "converter raised"}, "The tf2onnx-export probe")
    assert v.label == DOES_NOT_HOLD and "converter raised" in v.explanation


def test_not_checkable_gives_the_reason():
    v = not_checkable("tensorflow is not installed here")
    assert v.label == NOT_CHECKABLE and v.decided
    assert v.explanation == "Not checkable here: tensorflow is not installed here."


def test_rule_rejects_an_unknown_quantifier():
    with pytest.raises(ValueError, match="unknown quantifier"):
        rule("roughly")


def test_labels_are_the_verdict_notations_of_the_vocabulary():
    import rdflib

    g = rdflib.Graph().parse(REPO / "kg" / "fwc.ttl")
    skos = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
    scheme = rdflib.URIRef("https://w3id.org/fwclaims/ns#verdicts")
    notations = {str(g.value(c, skos.notation)) for c in g.subjects(skos.inScheme, scheme)}
    assert notations == set(tuple(Label))
