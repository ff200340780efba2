"""A small project for the site tests: the two fixture claims, a claim whose text tries to inject
a script, and canned run records in two environments, one of them with a verdict that flips."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).with_name("fixtures")
RECORD = json.loads((FIXTURES / "record-v1.json").read_text())
CPU_ENV = RECORD["environment_id"]
GPU_ENV = "h100-torch2.11.0-0a1b2c"
XSS = "<script>alert(1)</script>"

XSS_CLAIM = """@prefix fwc:    <https://w3id.org/fwclaims/ns#> .
@prefix claim:  <https://w3id.org/fwclaims/claim/> .
@prefix src:    <https://w3id.org/fwclaims/source/> .
@prefix schema: <http://schema.org/> .

claim:fixture-xss a fwc:QualitativeClaim ;
    schema:identifier "fixture-xss" ;
    schema:text "A claim that ends its own script tag: </script><script>alert(1)</script> & more." ;
    fwc:category fwc:Usability ;
    schema:appearance [ a fwc:Appearance ;
        schema:isPartOf src:course-notes-2025 ;
        fwc:locator "<b>row</b>" ;
        fwc:wording "<!-- comment --> <img src=x onerror=alert(1)>" ] ;
    fwc:restsOn "nothing" ;
    fwc:notCheckableBecause "it is a test of escaping" .
"""


def _cell(label: str, ratio: float, low: float, high: float) -> dict:
    cell = copy.deepcopy(RECORD["cells"][0])
    cell["label"] = label
    cell["summary"].update(ratio=ratio, ci_low=low, ci_high=high)
    return cell


def exploration_record() -> dict:
    """A canned exploration of fixture-latency: four specifications, fragile on the baseline."""
    from recordkit import minimal_record

    rid = "20261123T080000Z-fixture-latency-e0e0e0e0"
    rec = minimal_record("fixture-latency", "2026-11-23T08:00:00Z", CPU_ENV, rid)
    rec["check"].update(benchmark="inference-latency", module="verify.benchmarks.latency",
                        benchmark_type="benchmark", kind="performance")  # fmt: skip
    rec["environment"] = copy.deepcopy(RECORD["environment"])
    base = {"subject": "torch-eager", "threads": "1", "layout": "contiguous", "model": "small-cnn"}
    specs = [
        {"factors": {**base, "baseline": "keras-predict", "batch": "1", "input": "28"},
         "ratio": 96.0, "ci_low": 90.0, "ci_high": 103.0, "label": "holds", "stated": True},
        {"factors": {**base, "baseline": "keras-predict", "batch": "1", "input": "64"},
         "ratio": 30.0, "ci_low": 28.0, "ci_high": 32.0, "label": "holds", "stated": True},
        {"factors": {**base, "baseline": "tf-function", "batch": "1", "input": "28"},
         "ratio": 1.05, "ci_low": 0.98, "ci_high": 1.12, "label": "does-not-hold"},
        {"factors": {**base, "baseline": "tf-function", "batch": "1", "input": "64"},
         "ratio": 0.4, "ci_low": 0.36, "ci_high": 0.45, "label": "does-not-hold"},
    ]  # fmt: skip
    sentence = ("Holds as stated; fragile over 4 specifications: holds in 2, does not hold in 2,"
                " the other side wins in 1.")  # fmt: skip
    rec["verdict"] = {"label": "holds", "explanation": sentence}
    rec["exploration"] = {"specifications": specs, "summary": {
        "label": "fragile", "total": 4, "sentence": sentence}}  # fmt: skip
    return rec


def _write(project: Path, env: str, name: str, record: dict) -> None:
    folder = project / "data" / "results" / env
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(record, indent=1))


def make_project(base: Path) -> Path:
    """Write the project under `base` and return it."""
    claims = base / "claims"
    claims.mkdir(parents=True)
    for name in ("sources.ttl", "benchmarks.ttl"):
        shutil.copy(REPO / "claims" / name, claims / name)
    shutil.copy(FIXTURES / "two-claims.ttl", claims / "two-claims.ttl")
    (claims / "xss.ttl").write_text(XSS_CLAIM)

    _write(base, CPU_ENV, "20261121T180000Z-fixture-latency-0f3c2a9b.json", RECORD)
    later = copy.deepcopy(RECORD)
    later.update(
        record_id="20261122T090000Z-fixture-latency-11111111",
        started="2026-11-22T09:00:00Z",
        ended="2026-11-22T09:00:40Z",
    )
    later["verdict"] = {"label": "inconclusive", "explanation": "The interval straddles 2x."}
    later["cells"] = [
        _cell("batch 1, 28 px", 2.1, 1.7, 2.6),
        _cell("batch 8, 64 px", 1.2, 1.0, 1.4),
    ]
    _write(base, CPU_ENV, "20261122T090000Z-fixture-latency-11111111.json", later)

    gpu = copy.deepcopy(RECORD)
    gpu.update(record_id="20261122T100000Z-fixture-latency-22222222", environment_id=GPU_ENV, started="2026-11-22T10:00:00Z",
               ended="2026-11-22T10:00:30Z")  # fmt: skip
    gpu["environment"] = {
        **RECORD["environment"],
        "gpus": [{"name": "NVIDIA H100 80GB HBM3", "driver": "550.54", "cuda_driver": "12.4"}],
        "cores_logical": 16,
        "packages": {"torch": "2.11.0+cu124", "numpy": "2.4.6"},
        "gpu_sanity": {
            "framework": "torch",
            "tflops": 781.4,
            "nominal_tflops": 989.4,
            "fraction_of_nominal": 0.7898,
        },
    }
    gpu["verdict"] = {
        "label": "does-not-hold",
        "explanation": "Keras predict was faster: reversed.",
    }
    gpu["cells"] = [_cell("batch 1, 28 px", 0.8, 0.7, 0.9), _cell("batch 8, 64 px", 0.5, 0.4, 0.6)]
    _write(base, GPU_ENV, "20261122T100000Z-fixture-latency-22222222.json", gpu)
    _write(base, CPU_ENV, "20261123T080000Z-fixture-latency-e0e0e0e0.json", exploration_record())
    return base


def add_worded_records(project: Path) -> None:
    """Two newer runs of fixture-latency whose verdicts carry the words a reader needs: on the CPU
    a holds whose gap is larger than claimed, and on the GPU a run outside the claim's scope."""
    gpu = json.loads((project / "data/results" / GPU_ENV /
                      "20261122T100000Z-fixture-latency-22222222.json").read_text())  # fmt: skip
    gpu.update(record_id="20261124T000000Z-fixture-latency-33333333",
               started="2026-11-24T00:00:00Z", ended="2026-11-24T00:00:30Z")  # fmt: skip
    gpu["verdict"] = {"label": "does-not-hold", "scope": "outside",
                      "explanation": "Keras predict was faster on this GPU; the claim is about CPUs."}  # fmt: skip
    _write(project, GPU_ENV, "20261124T000000Z-fixture-latency-33333333.json", gpu)
    cpu = copy.deepcopy(RECORD)
    cpu.update(record_id="20261124T010000Z-fixture-latency-44444444",
               started="2026-11-24T01:00:00Z", ended="2026-11-24T01:00:40Z")  # fmt: skip
    cpu["verdict"] = {"label": "holds", "qualifier": "larger-than-claimed",
                      "explanation": "PyTorch eager was 9.0x faster than Keras predict."}  # fmt: skip
    _write(project, CPU_ENV, "20261124T010000Z-fixture-latency-44444444.json", cpu)


def site_tree(folder: Path) -> dict[str, bytes]:
    """Every file of a written site by its relative path, for byte-for-byte comparisons."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def cache_free_site(root: Path, out: Path) -> dict[str, bytes]:
    """The site of a full publish that takes nothing from any cache."""
    from kg.load import load_corpus
    from verify.publish.build import publish

    publish(load_corpus(root, use_cache=False), out, full=True, cache=False)
    return site_tree(out)
