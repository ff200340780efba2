"""Synthetic corpora in the real claims format, for scale tests and benchmarks.

`write_corpus(folder, claims=10_000)` writes a project folder (claims/sources.ttl, a copy of the real
claims/benchmarks.ttl, and claim files) that passes `verify check`. The claims mix the four kinds,
with appearances, conditions, checks whose parameters the named benchmark accepts, decision rules,
reasons for unchecked claims and some contradictions. `records=N` adds N run records under
data/results/ (schema version 2, valid against kg/record.schema.json, filed by environment and
named by record id) of the checkable claims, spread over a few environments: timed checks with
condition cells and their statistics, probes with their result, data checks with their value.
Output depends only on the arguments (and on the real claims/benchmarks.ttl).

    python tests/synth.py OUT --claims 10000 [--records 50000] [--files 20] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import ns, paths
from kg.environments import environment_id
from kg.records import dumps

PREFIXES = """@prefix fwc:    <https://w3id.org/fwclaims/ns#> .
@prefix claim:  <https://w3id.org/fwclaims/claim/> .
@prefix src:    <https://w3id.org/fwclaims/source/> .
@prefix bench:  <https://w3id.org/fwclaims/benchmark/> .
@prefix schema: <http://schema.org/> .
@prefix prov:   <http://www.w3.org/ns/prov#> .
@prefix cito:   <http://purl.org/spar/cito/> .
@prefix xsd:    <http://www.w3.org/2001/XMLSchema#> .
"""

# benchmark type -> [(id, parameter names, module, tiers, parameter schema)]
Benches = dict[str, list[tuple[str, list[str], str, list[str], dict[str, Any]]]]

# kind -> (categories it is filed under, benchmark type its checks use, share of claims)
KINDS = {
    "Performance": (
        ["TrainingThroughput", "InferenceLatency", "Memory", "Distributed"],
        "Benchmark",
        0.4,
    ),
    "Capability": (["Deployment", "Interoperability", "Hardware", "Distributed"], "Probe", 0.25),
    "Adoption": (["Adoption"], "DataCheck", 0.1),
    "Qualitative": (["Usability", "Ecosystem", "Memory", "Deployment"], None, 0.25),
}
METRICS = {
    "inference-latency": ["median_latency", "p90_latency"],
    "training-throughput": ["epoch_time", "throughput"],
    "peak-memory": ["peak_memory"],
    "gpu-memory-mapping": ["gpu_memory_share"],
}
PARAM_VALUES = {
    "model": "small-cnn",
    "batch_sizes": [1, 8],
    "input_sizes": [28, 64, 128],
    "channels": 3,
    "classes": 10,
    "tiers": ["torch-eager", "keras-predict"],
    "device": "cpu",
    "batch_size": 32,
    "input_size": 32,
    "samples": 1024,
    "phase": "training",
    "memory_growth": False,
    "approach": "ddp",
    "world_size": 2,
    "devices": 2,
    "exporter": "dynamo",
    "opset": 17,
    "mode": "default",
    "dynamic_batch": True,
    "backend": "inductor",
    "signature": "serving_default",
    "quantize": False,
    "run_interpreter": True,
    "dataset": "conference-mentions",
    "conference": "neurips",
    "year": 2022,
    "population": "professional",
    "framework": "torch",
    "other": "tensorflow",
    "month": "2024-12",
    "compiler": "cc",
    "expect": "eager",
    "writers": ["torch", "tensorflow"],
    "steps": 5,
    "compile_backend": "eager",
    "timeout_s": 120,
}
ROLES = ["Survey", "SecondaryArticle", "PrimaryStudy", "DataSet", "Documentation"]
SUBJECTS = [
    "torch-eager",
    "torch-compile",
    "keras-predict",
    "keras-fit",
    "tf-function",
    "torch-loop",
]
FRAMEWORKS = ["PyTorch", "TensorFlow", "Keras", "JAX"]
TOPICS = [
    "small convolutional networks",
    "transformer encoders",
    "recurrent models",
    "image classifiers",
    "mixed-precision training",
    "data loading pipelines",
]
VERBS = [
    "runs faster on",
    "uses less memory for",
    "is easier to debug for",
    "exports more reliably for",
    "scales better across GPUs for",
    "has wider library support for",
]


def write_corpus(
    folder: Path, claims: int, files: int = 20, seed: int = 0, records: int = 0
) -> Path:
    """Write a synthetic project folder with `claims` claims in `files` files and `records` run
    records; returns the folder."""
    rng = random.Random(seed)
    out = Path(folder) / "claims"
    out.mkdir(parents=True, exist_ok=True)
    real = _real_claims_dir() / "benchmarks.ttl"
    shutil.copyfile(real, out / "benchmarks.ttl")
    benches = _benchmarks(real)
    docs, studies = _write_sources(out / "sources.ttl", max(12, claims // 40), rng)
    files = max(1, min(files, claims or 1))
    ids: list[str] = []
    checks: dict[str, dict[str, Any]] = {}
    for n in range(files):
        chunk = range(n * claims // files, (n + 1) * claims // files)
        blocks = [_claim(i, ids, benches, docs, studies, rng, checks) for i in chunk]
        text = f"# Synthetic claims, file {n + 1} of {files}.\n{PREFIXES}\n" + "\n".join(blocks)
        (out / f"synthetic-{n:03d}.ttl").write_text(text, encoding="utf-8")
    if records:
        write_records(Path(folder), checks, records, random.Random(seed + 1))
    return Path(folder)


def _real_claims_dir() -> Path:
    dev = Path(__file__).resolve().parent.parent / "claims"
    return dev if (dev / "benchmarks.ttl").is_file() else paths.PACKAGED / "claims"


def _benchmarks(path: Path) -> Benches:
    """Benchmark type -> [(id, parameter names, module, tiers, schema)], from the real file."""
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    rows = store.query(
        "SELECT ?t ?id ?m ?schema (GROUP_CONCAT(DISTINCT ?p) AS ?ps)"
        " (GROUP_CONCAT(DISTINCT ?k) AS ?ks) WHERE { ?b a ?t ; <%sidentifier> ?id ; <%smodule> ?m ."
        " OPTIONAL { ?b <%sparameterName> ?p } OPTIONAL { ?b <%stier> ?k }"
        " OPTIONAL { ?b <%sparameterSchema> ?schema } } GROUP BY ?t ?id ?m ?schema ORDER BY ?id"
        % (ns.SCHEMA, ns.FWC, ns.FWC, ns.FWC, ns.FWC)
    )
    out: Benches = {}
    for r in rows:
        params = sorted(r["ps"].value.split()) if r["ps"] else []
        tiers = sorted(r["ks"].value.split()) if r["ks"] else []
        schema = json.loads(r["schema"].value) if r["schema"] else {}
        out.setdefault(r["t"].value[len(ns.FWC) :], []).append(
            (r["id"].value, params, r["m"].value, tiers, schema)
        )
    return out


def _value(name: str, prop: dict, tiers: list[str], rng: random.Random) -> object:
    """A value of parameter `name` that its schema accepts: the usual one where it fits."""
    if name == "tiers":
        return rng.sample(tiers, min(2, len(tiers)))
    usual = PARAM_VALUES.get(name)
    if usual is not None and _fits(prop, usual):
        return usual
    return _example(prop)


def _fits(prop: dict, value: object) -> bool:
    import fastjsonschema

    try:
        fastjsonschema.compile(prop, use_default=False)(value)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _example(prop: dict) -> object:
    """The simplest value a property schema accepts."""
    if "enum" in prop:
        return prop["enum"][0]
    if "anyOf" in prop:
        return _example(prop["anyOf"][0])
    kind = prop.get("type")
    if kind == "array":
        return [_example(prop.get("items", {"type": "integer"}))]
    if kind == "integer":
        return int(prop.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    return "example"


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_sources(path: Path, count: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """A bibliography of `count` sources; returns (documents claims appear in, primary sources)."""
    by_role: dict[str, list[str]] = {r: [] for r in ROLES}
    blocks = []
    for i in range(count):
        role = ROLES[i % len(ROLES)]
        sid = f"{role.lower()}-{i:04d}"
        by_role[role].append(sid)
        lines = [
            f"src:{sid} a schema:{'Dataset' if role == 'DataSet' else 'ScholarlyArticle'} ;",
            f"    schema:identifier {_lit(sid)} ;",
            f"    schema:name {_lit(f'{rng.choice(TOPICS).capitalize()} in PyTorch and TensorFlow, part {i}')} ;",
            f"    schema:author {_lit(f'Author {rng.randrange(500)}')} ;",
            f'    schema:datePublished "{rng.randrange(2017, 2026)}"^^xsd:gYear ;',
            f"    schema:sameAs <https://example.org/papers/{sid}> ;",
        ]
        cited = by_role["PrimaryStudy"][-3:]
        if role in ("Survey", "SecondaryArticle") and cited:
            lines.append(f"    cito:citesAsEvidence {', '.join('src:' + c for c in cited)} ;")
        if role == "SecondaryArticle" and by_role["Survey"]:
            lines.append(f"    cito:reviews src:{by_role['Survey'][-1]} ;")
        lines.append(f"    fwc:role fwc:{role} .\n")
        blocks.append("\n".join(lines))
    path.write_text(
        f"# Synthetic bibliography.\n{PREFIXES}\n" + "\n".join(blocks), encoding="utf-8"
    )
    docs = by_role["Survey"] + by_role["SecondaryArticle"]
    return docs, by_role["PrimaryStudy"] + by_role["DataSet"] + by_role["Documentation"]


def _pick_kind(rng: random.Random) -> str:
    x, acc = rng.random(), 0.0
    for kind, (_, _, share) in KINDS.items():
        acc += share
        if x < acc:
            return kind
    return "Qualitative"


def _claim(
    i: int,
    ids: list[str],
    benches: Benches,
    docs: list[str],
    studies: list[str],
    rng: random.Random,
    checks: dict[str, dict[str, Any]],
) -> str:
    """One claim block in the hand-edited format (its check, as JSON, goes into `checks`)."""
    kind = _pick_kind(rng)
    categories, btype, _ = KINDS[kind]
    category = rng.choice(categories)
    cid = f"{re.sub(r'(?<!^)(?=[A-Z])', '-', category).lower()}-claim-{i:05d}"
    a, b = rng.sample(FRAMEWORKS, 2)
    text = f"{a} {rng.choice(VERBS)} {rng.choice(TOPICS)} than {b}, in setting {i}."
    lines = [
        f"claim:{cid} a fwc:{kind}Claim ;",
        f"    schema:identifier {_lit(cid)} ;",
        f"    schema:text {_lit(text)} ;",
        f"    fwc:category fwc:{category} ;",
        f"    fwc:favours {_lit(rng.choice(['pytorch', 'tensorflow', 'both', 'neither']))} ;",
    ]
    for doc in rng.sample(docs, rng.choice([1, 1, 2, 3])):
        lines.append(
            f"    schema:appearance [ a fwc:Appearance ;\n        schema:isPartOf src:{doc} ;"
        )
        lines.append(
            f"        fwc:locator {_lit(f'Section {rng.randrange(1, 9)}, paragraph {rng.randrange(1, 20)}')} ;"
        )
        lines.append(
            f"        fwc:wording {_lit(f'{a} is {rng.randrange(2, 9)}x faster than {b}')} ] ;"
        )
    if rng.random() < 0.7:
        lines.append(f"    prov:wasDerivedFrom src:{rng.choice(studies)} ;")
    else:
        lines.append(f"    fwc:restsOn {_lit('The article states it without citing a study.')} ;")
    if kind == "Performance" or rng.random() < 0.4:
        lines.append(
            "    fwc:condition [ a fwc:Conditions ;\n"
            f"        fwc:device fwc:{rng.choice(['CPU', 'GPU', 'AnyDevice'])} ;\n"
            f"        fwc:phase fwc:{rng.choice(['Training', 'Inference'])} ;\n"
            f"        fwc:batchRegime {_lit(f'batch sizes 1 to {rng.choice([8, 32, 128])}')} ;\n"
            f"        fwc:modelFamily {_lit(rng.choice(TOPICS))} ;\n"
            f"        fwc:precision {_lit(rng.choice(['fp32', 'mixed precision']))} ] ;"
        )
    if ids and rng.random() < 0.05:
        lines.append(f"    fwc:contradicts claim:{rng.choice(ids)} ;")
    if btype and (kind == "Performance" or rng.random() < 0.7):
        block, check = _check(btype, benches, rng)
        lines.append(block)
        checks[cid] = {"claim_id": cid, "kind": kind.lower(), **check, "conditions": {}}
    else:
        lines.append(
            f"    fwc:notCheckableBecause {_lit('No benchmark measures this; a user study would settle it.')} .\n"
        )
    ids.append(cid)
    return "\n".join(lines)


def _check(btype: str, benches: Benches, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """A check block (a benchmark of the right type, parameters it accepts, a decision rule) and
    the same check as a run record keeps it."""
    choices = benches[btype]
    if btype == "Benchmark":
        choices = [c for c in choices if c[0] in METRICS] or choices
    bench, names, module, tiers, schema = rng.choice(choices)
    props = schema.get("properties", {})
    chosen = set(schema.get("required", [])) | set(rng.sample(names, min(len(names), 3)))
    params = {n: _value(n, props.get(n, {}), tiers, rng) for n in sorted(chosen)}
    metric = {"Probe": ["succeeds"], "DataCheck": ["share"]}.get(btype) or METRICS.get(
        bench, ["throughput"]
    )
    sides = rng.sample(tiers or SUBJECTS, min(2, len(tiers or SUBJECTS)))
    subject, baseline = sides[0], (sides[1] if len(sides) > 1 else None)
    if "tiers" in params:  # a check's tiers are its rule's two sides (verify check refuses others)
        params["tiers"] = [t for t in (subject, baseline) if t]
    quantifier = "Exists" if btype == "Probe" else rng.choice(["UpTo", "AtLeast", "About"])
    rule = {
        "metric": rng.choice(metric),
        "better": rng.choice(["lower", "higher"]),
        "subject": subject,
        "baseline": baseline,
        "threshold": rng.choice(["1.0", "1.25", "2.0", "3.0", "0.8"]),
        "tolerance": rng.choice(["0.05", "0.1", "0.25"]),
    }
    block = (
        "    fwc:checkedBy [ a fwc:Check ;\n"
        f"        fwc:benchmark bench:{bench} ;\n"
        f'        fwc:parameters """{json.dumps(params)}""" ;\n'
        "        fwc:rule [ a fwc:DecisionRule ;\n"
        f"            fwc:metric {_lit(rule['metric'])} ;\n"
        f"            fwc:better {_lit(rule['better'])} ;\n"
        f"            fwc:subject {_lit(subject)} ;\n"
        + (f"            fwc:baseline {_lit(baseline)} ;\n" if baseline else "")
        + f"            fwc:threshold {rule['threshold']} ;\n"
        f"            fwc:tolerance {rule['tolerance']} ;\n"
        f"            fwc:quantifier fwc:{quantifier} ] ] .\n"
    )
    as_json = {
        "benchmark": bench,
        "module": module,
        "benchmark_type": {"Benchmark": "benchmark", "Probe": "probe"}.get(btype, "datacheck"),
        "parameters": params,
        "rule": {**rule, "threshold": float(rule["threshold"]),
                 "tolerance": float(rule["tolerance"]),
                 "quantifier": re.sub(r"(?<!^)(?=[A-Z])", "-", quantifier).lower()},
    }  # fmt: skip
    return block, as_json


# The machines the synthetic records come from: (cpu model, arch, cores, gpu or None, tensorflow)
MACHINES = [
    ("AMD EPYC", "x86_64", 2, None, "2.21.0"),
    ("AMD EPYC", "x86_64", 2, None, "2.16.2"),
    ("AMD EPYC", "x86_64", 2, None, "2.15.1"),
    ("Intel Xeon", "x86_64", 16, "NVIDIA H200", None),
    ("Intel Xeon", "x86_64", 16, "NVIDIA H100 80GB HBM3", None),
    ("Apple M2", "arm64", 8, None, "2.21.0"),
]
LABELS = ["holds", "does-not-hold", "inconclusive", "not-checkable-here"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def environments() -> list[tuple[str, dict[str, Any]]]:
    """The synthetic machines as (environment id, collected environment)."""
    out = []
    for model, arch, cores, gpu, tf in MACHINES:
        env = {
            "cpu": {"model": model, "arch": arch},
            "cores_logical": cores,
            "cores_physical": cores,
            "ram_bytes": 32 * 2**30,
            "gpus": [{"name": gpu, "driver": "550.54", "cuda_driver": "12.4"}] if gpu else [],
            "os": {"system": "Linux", "release": "6.1"},
            "python": "3.11.7",
            "packages": {"torch": "2.13.0", "tensorflow": tf, "keras": "3.15.1" if tf else None,
                         "numpy": "2.4.6", "jax": None if tf else "0.10.2"},
        }  # fmt: skip
        out.append((environment_id(env), env))
    return out


def write_records(
    folder: Path, checks: dict[str, dict[str, Any]], count: int, rng: random.Random
) -> list[Path]:
    """`count` run records of the claims in `checks`, round-robin over claims and machines, one
    minute apart, under folder/data/results/<environment id>/<record id>.json."""
    ids, envs = sorted(checks), environments()
    if not ids:
        raise ValueError("no checkable claim to write records of")
    written = []
    for n in range(count):
        env_id, env = envs[(n // len(ids)) % len(envs)]
        record = synthetic_record(checks[ids[n % len(ids)]], env_id, env, n, rng)
        path = folder / "data" / "results" / env_id / f"{record['record_id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(record), encoding="utf-8")
        written.append(path)
    return written


def synthetic_record(
    check: dict[str, Any], env_id: str, env: dict[str, Any], n: int, rng: random.Random
) -> dict[str, Any]:
    """One schema-valid run record of `check`, the `n`-th of a series."""
    start = EPOCH + timedelta(minutes=n)
    started = start.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    ended = (start + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    cid, btype = check["claim_id"], check["benchmark_type"]
    label = rng.choice(LABELS)
    record: dict[str, Any] = {
        "schema_version": 2,
        "record_id": f"{started[:19].replace('-', '').replace(':', '')}Z-{cid}-{n:08x}",
        "claim_id": cid,
        "status": "not-checkable" if label == "not-checkable-here" else "ok",
        "check": check,
        "options": {"budget_s": 45.0, "device": "cuda" if env["gpus"] else "cpu", "threads": 1},
        "verdict": {"label": label, "explanation": f"Synthetic verdict {n} of {cid}."},
        "started": started,
        "ended": ended,
        "duration_s": 40.0,
        "environment_id": env_id,
        "environment": env,
        "git_commit": f"{n:040x}",
        "benchmark_code": {"method": "definitions-v1", "sha256": f"{n % 97:064x}"},
        "kind": {"benchmark": "timed", "probe": "probe"}.get(btype, "datacheck"),
        "tiers": {"subject": {"name": check["rule"]["subject"], "framework": "torch"},
                  "baseline": {"name": check["rule"]["baseline"], "framework": "tensorflow"}},
        "cells": _cells(check, rng) if btype == "benchmark" else [],
        "probe": {"ok": label == "holds", "detail": "synthetic"} if btype == "probe" else None,
        "errors": [],
    }  # fmt: skip
    if btype == "datacheck":
        record["data"] = {"value": round(rng.random(), 3), "source": "synthetic snapshot"}
    return record


def _cells(check: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Condition cells of a timed check: batch x input size, each with samples and a summary."""
    out = []
    for batch in (1, 8):
        for size in (28, 64) if rng.random() < 0.5 else (28, 64, 128, 224):
            label = f"b{batch}-s{size}"
            subject = [[round(rng.uniform(0.001, 0.002), 6) for _ in range(5)] for _ in range(3)]
            baseline = [[round(rng.uniform(0.002, 0.006), 6) for _ in range(5)] for _ in range(3)]
            ratio = rng.uniform(0.5, 4.0)
            summary = {
                "label": label, "metric": check["rule"]["metric"],
                "subject_median": subject[0][2], "baseline_median": baseline[0][2],
                "subject_p90": subject[0][4], "baseline_p90": baseline[0][4],
                "ratio": round(ratio, 4), "ci_low": round(ratio * 0.9, 4),
                "ci_high": round(ratio * 1.1, 4), "confidence": 0.95, "n_processes": 3,
                "n_samples_subject": 15, "n_samples_baseline": 15,
                "method": "hierarchical bootstrap (pairs, then samples), percentile",
            }  # fmt: skip
            out.append({"label": label, "cell": {"batch": batch, "size": size, "label": label},
                        "samples": {"subject": subject, "baseline": baseline},
                        "summary": summary})  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line: write a synthetic corpus into OUT."""
    p = argparse.ArgumentParser(prog="python tests/synth.py", description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="folder to write (claims/ goes inside it)")
    p.add_argument("--claims", type=int, default=10_000)
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--records", type=int, default=0, help="run records under data/results/")
    a = p.parse_args(argv)
    write_corpus(a.out, a.claims, a.files, a.seed, records=a.records)
    print(f"wrote {a.claims} claims in {a.files} files and {a.records} run records under {a.out}")


if __name__ == "__main__":
    main()
