"""The GPU paths through their CPU seams: the bf16 health figure, its place in records, the
graph and the claim page, and how a GPU run reads where a framework has no build."""

from __future__ import annotations

import json

import pytest

from kg import recordgraph
from tests.recordkit import minimal_record
from verify.benchmarks import gpucheck
from verify.run import gpusanity
from verify.run.engine import run_claims
from verify.run.options import RunOptions


@pytest.mark.parametrize(
    "name, peak",
    [("NVIDIA H200", 989.4), ("NVIDIA H200 NVL", 835.5), ("NVIDIA H100 80GB HBM3", 989.4),
     ("NVIDIA H100 PCIe", 756.5), ("NVIDIA A100-SXM4-80GB", 312.0), ("NVIDIA L4", 121.0),
     ("NVIDIA L40S", 362.1), ("Tesla T4", None)],
)  # fmt: skip
def test_nominal_peak_is_found_by_the_longest_matching_card_name(name, peak):
    assert gpucheck.nominal_tflops(name) == peak


@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_the_matrix_product_figure_is_measured_through_the_cpu_seam(framework):
    out = gpucheck.measure("cpu", size=64, seconds=0.05, framework=framework)
    assert out["framework"] == framework and out["dtype"] == "bfloat16"
    assert out["calls"] >= 3 and out["tflops"] > 0
    # TFLOP/s is exactly 2 n^3 per call over the measured time
    assert out["tflops"] == pytest.approx(2 * 64**3 * out["calls"] / out["seconds"] / 1e12, 1e-3)
    assert out["nominal_tflops"] is None  # no nominal figure for a CPU


def test_the_runner_takes_the_figure_in_a_process_of_its_own():
    out = gpusanity.measure(device="cpu", size=64, seconds=0.05, gpu_name="NVIDIA H200")
    assert out["tflops"] > 0 and out["device"] == "cpu" and "error" not in out
    missing = gpusanity.measure(device="cuda", size=64, seconds=0.05)  # no GPU on this machine
    assert "no CUDA GPU" in missing["error"]
    assert gpusanity.describe(missing).startswith("GPU check not taken: ")
    text = gpusanity.describe({"framework": "torch", "tflops": 791.6, "nominal_tflops": 989.4,
                               "fraction_of_nominal": 0.8001})  # fmt: skip
    assert text == "bf16 matrix products (torch): 792 TFLOP/s, 80% of the card's nominal 989"


@pytest.mark.slow
def test_a_gpu_run_without_a_gpu_records_why_each_side_and_the_figure_are_missing(tmp_path):
    opts = RunOptions(budget=5, results_dir=tmp_path, busy_cores=None)
    (result,) = run_claims(["jax-jit-closes-small-batch-gap"], opts, device="cuda")
    assert result.status == "not-checkable"
    # each side's reason, in side order, whichever worker got there first
    why = result.verdict.explanation
    assert "JAX sees no GPU" in why and "this torch build sees no CUDA GPU" in why
    assert why.index("JAX") < why.index("torch build")
    record = json.loads(result.path.read_text())
    assert record["options"]["device"] == "cuda"
    assert "no CUDA GPU" in record["environment"]["gpu_sanity"]["error"]


def test_the_figure_reaches_the_graph_as_part_of_the_run():
    rec = minimal_record()
    rec["environment"]["gpu_sanity"] = {"tflops": 790.25, "nominal_tflops": 989.4,
                                        "fraction_of_nominal": 0.7987}  # fmt: skip
    values = {q.predicate.value.rsplit("#", 1)[-1]: q.object.value
              for q in recordgraph.record_quads(rec, "data/results/x/r.json")}  # fmt: skip
    assert values["gpuMatmulTflops"] == "790.25" and values["gpuNominalTflops"] == "989.4"
