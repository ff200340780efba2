"""Decision rules on canned cell estimates: every quantifier, every outcome, the explanations."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.model import Label, Rule
from kg.rows import Evidence
from verify.judge.verdicts import (
    CellEstimate,
    Context,
    judge,
    judge_probe,
    not_checkable,
    scope_note,
)

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
    # k = 3, t = 0.1: a CI from 2.75 up lies above k/(1+t) = 2.73
    assert judge(rule("up-to"), [cell(2.9, 2.75, 3.05)]).label == HOLDS
    assert judge(rule("up-to"), [cell(2.8, 2.71, 2.9)]).label == INCONCLUSIVE


def test_judge_up_to_does_not_hold_when_every_cell_is_below_the_floor():
    cells = [cell(2.4, 2.2, 2.6), *[cell(1.2, 1.1, 1.3, f"c{i}") for i in range(7)]]
    v = judge(rule("up-to"), cells)
    assert v.label == DOES_NOT_HOLD
    assert v.explanation == (
        "PyTorch eager was 2.40x faster than Keras predict at batch 1, 28 px (95% CI 2.20-2.60x faster);"
        " the claimed 3x was not reached in any of 8 cells."
    )


def test_judge_inconclusive_when_intervals_straddle_threshold():
    v = judge(rule("up-to"), [cell(2.8, 2.5, 3.1), cell(1.0, 0.9, 1.1)])
    assert v.label == INCONCLUSIVE
    assert not v.decided


def test_judge_up_to_qualifies_a_gap_larger_than_claimed():
    # "up to 3x" bounds the size of the effect: 100x holds, but the claim understates it
    v = judge(rule("up-to"), [cell(117.9, 85.6, 146.3)])
    assert (v.label, v.qualifier) == (HOLDS, "larger-than-claimed")
    assert "larger than claimed" in v.explanation and "understates" in v.explanation


def test_judge_up_to_holds_as_claimed_when_the_interval_reaches_into_the_band():
    # the low end 3.2 is above the floor 2.73 but not above the band's top 3.3
    v = judge(rule("up-to"), [cell(3.5, 3.2, 3.8)])
    assert (v.label, v.qualifier) == (HOLDS, "as-claimed")
    assert "larger than claimed" not in v.explanation


def test_judge_qualifier_only_for_up_to():
    v = judge(rule("at-least", 1.25), [cell(9.0, 8.0, 10.0)])
    assert v.label == HOLDS and v.qualifier is None


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


def test_judge_about_holds_only_when_the_whole_ci_lies_inside_the_band():
    # band for 1.25 +- 10% (log-symmetric) is 1.136-1.375
    v = judge(rule("about", 1.25), [cell(1.25, 1.15, 1.35)])
    assert v.label == HOLDS and "inside the band 1.14-1.38x" in v.explanation
    # a CI of 1.05-1.15 only touches it: nothing is shown either way
    v = judge(rule("about", 1.25), [cell(1.1, 1.05, 1.15)])
    assert v.label == INCONCLUSIVE and "reaches outside the band" in v.explanation


def test_judge_about_a_re_run_of_an_overlapping_interval_cannot_flip_holds_to_does_not_hold():
    # three real runs of one tie claim (band 0.91-1.10x): the first CI straddles the band's top
    tie = rule("about", 1.0)
    runs = [cell(1.103, 0.983, 1.239), cell(1.232, 1.122, 1.353), cell(1.237, 1.194, 1.282)]
    assert [judge(tie, [c]).label for c in runs] == [INCONCLUSIVE, DOES_NOT_HOLD, DOES_NOT_HOLD]


def test_judge_about_does_not_hold_when_the_ci_misses_the_band():
    v = judge(rule("about", 1.25), [cell(2.0, 1.8, 2.2)])
    assert v.label == DOES_NOT_HOLD and "outside the band 1.14-1.38x" in v.explanation


def test_judge_about_inconclusive_when_the_ci_is_much_wider_than_the_band():
    v = judge(rule("about", 1.25), [cell(1.3, 0.6, 2.5)])
    assert v.label == INCONCLUSIVE and "reaches outside the band" in v.explanation


def test_judge_higher_is_better_and_memory_wording():
    thr = judge(rule("at-least", 1.5, better="higher", metric="throughput"), [cell(2.0, 1.9, 2.1)])
    mem = judge(rule("at-least", 1.5, metric="peak_memory"), [cell(2.0, 1.9, 2.1)])
    assert "had 2.00x the throughput of" in thr.explanation
    assert "used 2.00x less memory than" in mem.explanation


def test_judge_without_cells_is_inconclusive():
    assert judge(rule("up-to"), []).label == INCONCLUSIVE


def test_judge_marks_a_cpu_run_of_a_gpu_claim_outside_its_scope():
    v = judge(rule("up-to"), [cell(3.2, 3.0, 3.4)], context=Context("gpu", "cpu"))
    assert v.scope == "outside"
    assert "Measured outside the claim's scope: CPU, the claim is about GPUs" in v.explanation
    assert scope_note("any", "cpu") == "" and scope_note("gpu", "cuda") == ""
    assert judge(rule("up-to"), [cell(3.2, 3.0, 3.4)], context=Context("any", "cpu")).scope is None
    assert judge(rule("up-to"), [cell(3.2, 3.0, 3.4)], context=Context("gpu", "cuda")).scope is None


def test_judge_probe_outside_scope_too():
    v = judge_probe({"ok": True, "detail": "ran"}, "The probe", context=Context("gpu", "cpu"))
    assert v.label == HOLDS and v.scope == "outside"


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


# --- direction: "A is faster than B" is shown only in the stated direction ---------------------


def test_judge_direction_does_not_hold_on_a_tie_the_old_tolerance_let_through():
    # "at least 1x" with 5% tolerance used to hold on "1.00x slower" (floor 0.95)
    v = judge(rule("at-least", 1.0, 0.05), [cell(0.998, 0.97, 1.02)])
    assert v.label == DOES_NOT_HOLD
    assert "measured tie" in v.explanation and "0.95-1.05x" in v.explanation


def test_judge_direction_does_not_hold_when_slower():
    v = judge(rule("at-least", 1.0, 0.05), [cell(0.96, 0.955, 0.965)])
    assert v.label == DOES_NOT_HOLD and "Keras predict was faster there" in v.explanation


def test_judge_direction_holds_only_when_the_whole_interval_is_above_1():
    assert judge(rule("at-least", 1.0, 0.05), [cell(1.1, 1.01, 1.2)]).label == HOLDS
    v = judge(rule("at-least", 1.0, 0.05), [cell(1.1, 1.01, 1.2), cell(1.03, 0.99, 1.08, "b")])
    assert v.label == INCONCLUSIVE


def test_judge_direction_inconclusive_when_the_interval_straddles_1_beyond_the_tie_band():
    v = judge(rule("up-to", 1.0, 0.05), [cell(0.98, 0.90, 1.24)])
    assert v.label == INCONCLUSIVE and "includes 1x" in v.explanation


def test_judge_direction_up_to_holds_where_some_cell_is_faster_and_fails_on_ties_everywhere():
    assert (
        judge(rule("up-to", 1.0), [cell(0.9, 0.85, 0.95), cell(1.2, 1.1, 1.3, "b")]).label == HOLDS
    )
    v = judge(rule("up-to", 1.0), [cell(0.9, 0.85, 0.95), cell(1.0, 0.97, 1.03, "b")])
    assert v.label == DOES_NOT_HOLD


def test_judge_tolerance_never_reverses_a_direction():
    # k = 1.05, t = 0.1: the band's floor 0.95 lies below 1, yet a slower cell never counts
    assert judge(rule("at-least", 1.05, 0.1), [cell(0.98, 0.96, 0.995)]).label != HOLDS
    assert judge(rule("at-least", 1.05, 0.1), [cell(1.04, 1.01, 1.06)]).label == HOLDS


# --- "about": a band symmetric on the log scale -------------------------------------------------


def test_judge_about_band_is_symmetric_in_log_terms():
    about = rule("about", 1.0, 0.25)
    # TensorFlow 1.3x faster (ratio 0.77) is outside as PyTorch 1.3x faster (ratio 1.3) is
    assert judge(about, [cell(0.77, 0.76, 0.78)]).label == DOES_NOT_HOLD
    assert judge(about, [cell(1.3, 1.29, 1.31)]).label == DOES_NOT_HOLD
    # and either side 1.24x faster is inside
    assert judge(about, [cell(1 / 1.24, 0.80, 0.81)]).label == HOLDS
    assert judge(about, [cell(1.24, 1.23, 1.245)]).label == HOLDS
    assert "band 0.80-1.25x" in judge(about, [cell(1.24, 1.23, 1.245)]).explanation


# --- what a ratio is made of ------------------------------------------------------------------


def _latency(batch: int, size: int, torch_ms: float, keras_ms: float, **kw) -> CellEstimate:
    r = keras_ms / torch_ms
    return CellEstimate(f"batch {batch}, {size} px", r, r * 0.9, r * 1.1, torch_ms / 1000,
                        keras_ms / 1000, batch, size, **kw)  # fmt: skip


def test_judge_names_a_fixed_cost_per_call_when_one_side_is_flat():
    cells = [_latency(1, 28, 0.47, 55.2, baseline_direct=0.0049), _latency(1, 224, 24.6, 68.7)]
    v = judge(rule("up-to"), cells)
    assert "Keras predict's time per call barely changes from 28 to 224 px" in v.explanation
    assert "fixed cost per call, about 55.2 ms" in v.explanation
    assert "A direct call of the same model took 4.9 ms there in the same run" in v.explanation


def test_judge_says_only_that_the_time_is_flat_without_a_direct_call():
    v = judge(rule("up-to"), [_latency(1, 28, 0.47, 55.2), _latency(1, 224, 24.6, 68.7)])
    assert "fixed cost per call" in v.explanation and "direct call" not in v.explanation


def test_judge_no_fixed_cost_when_both_sides_grow():
    v = judge(rule("up-to"), [_latency(8, 28, 3.2, 49.4), _latency(8, 224, 297.8, 146.8)])
    assert "fixed cost" not in v.explanation


# --- published figures that disagree ----------------------------------------------------------


def _published(framework: str, ms: float, hardware: str, device: str) -> Evidence:
    return Evidence(
        id=f"e-{framework}-{device}", name=None, description=None, metric="latency per image",
        value=ms, unit="ms", technique=None, framework=framework, version=None, hardware=hardware,
        device=device, phase="inference", model="ResNet 164", batch="batch 1", input=None,
        date="2017-10-11", source="dawnbench-2017", url=None, claims=["inference-latency-3x"],
    )  # fmt: skip


EVIDENCE = [
    _published("torch", 75.35, "60 GB / 16 CPU", "cpu"),
    _published("tensorflow", 31.13, "60 GB / 16 CPU", "cpu"),
    _published("torch", 24.63, "1 P100", "gpu"),
    _published("tensorflow", 28.10, "1 P100", "gpu"),
]


def test_judge_names_published_figures_that_disagree_on_the_same_kind_of_device():
    v = judge(rule("up-to"), [cell(9.0, 8.0, 10.0)], context=Context(evidence=EVIDENCE,
                                                                      run_device="cpu"))  # fmt: skip
    assert (
        "Published 2017 figures (dawnbench-2017) on 60 GB / 16 CPU disagree: TensorFlow 2.42x"
        " faster (latency per image, ResNet 164)." in v.explanation
    )
    assert "P100" not in v.explanation  # GPU figures do not bear on a CPU run


def test_judge_leaves_agreeing_evidence_unnamed():
    ctx = Context(evidence=EVIDENCE, run_device="cuda")
    assert (
        "Published"
        not in judge(rule("up-to", 1.1), [cell(1.2, 1.15, 1.25)], context=ctx).explanation
    )


# --- what ran, and probes that only worked through a fallback ---------------------------------


def test_judge_says_what_a_stand_in_check_ran():
    ctx = Context(stands_in="the small CNN stands in for ResNet-50")
    v = judge(rule("up-to"), [cell(3.2, 3.0, 3.4)], context=ctx)
    assert v.explanation.endswith("What ran: the small CNN stands in for ResNet-50.")


def test_judge_probe_through_a_fallback_is_not_a_plain_holds():
    result = {"ok": True, "detail": "from_function converted it",
              "fallback": "tf2onnx.convert.from_keras failed (KeyError: 'keras_tensor_4');"
                          " tf2onnx.convert.from_function worked"}  # fmt: skip
    v = judge_probe(result, "The tf2onnx-export probe")
    assert (v.label, v.qualifier) == (INCONCLUSIVE, "through-fallback")
    assert v.explanation.startswith("Holds only through a fallback: tf2onnx.convert.from_keras")
    strict = judge_probe(result, "The probe", context=Context(fallback=DOES_NOT_HOLD))
    assert strict.label == DOES_NOT_HOLD


def test_judge_about_writes_interval_and_band_apart_when_they_round_alike():
    from kg.model import Rule as R

    r = R.from_dict({**rule("about").to_dict(), "threshold": 1.25, "tolerance": 0.1181})
    v = judge(r, [cell(1.05, 1.0, 1.1151)])
    assert v.label == DOES_NOT_HOLD
    assert "1.115x" in v.explanation and "band 1.118-" in v.explanation
