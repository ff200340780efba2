"""Run records (data/results/<environment>/<run>.json) as PROV-O activities in the graph.

Each record becomes, in its own named graph:

- ``run:<id>`` a ``fwc:Run`` (``prov:Activity``): ``prov:used`` the benchmark and the environment,
  start and end times, status, budget, benchmark code hash, git commit, the raw record's path;
- ``run:<id>/review`` a ``schema:ClaimReview`` of the claim with ``fwc:verdict`` (a SKOS concept)
  and the one-sentence explanation, ``prov:wasGeneratedBy`` the run;
- ``run:<id>/cell/<n>`` one ``fwc:Measurement`` per condition cell: the ratio (``schema:value``),
  its CI, both sides' statistics, sample size, method;
- ``env:<id>`` a ``fwc:Environment`` (``prov:Entity``) with hardware and framework versions.

Triples are written as N-Quads text and loaded in one call, which keeps 10^4 records fast.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox

from kg import ns
from kg.errors import Problem

SUPPORTED_SCHEMA = 1
VERDICT_CONCEPTS = {
    "holds": "Holds",
    "does-not-hold": "DoesNotHold",
    "inconclusive": "Inconclusive",
    "not-checkable-here": "NotCheckableHere",
}
XSD = ns.XSD


def _lit(value: object) -> str:
    """An N-Triples literal for a Python value."""
    if isinstance(value, bool):
        return f'"{str(value).lower()}"^^<{XSD}boolean>'
    if isinstance(value, int):
        return f'"{value}"^^<{XSD}integer>'
    if isinstance(value, float):
        # xsd:decimal, written out in full: Turtle writers shorten doubles to a few digits
        return f'"{format(Decimal(repr(value)), "f")}"^^<{XSD}decimal>'
    return json.dumps(str(value), ensure_ascii=False)  # JSON string escapes are valid N-Triples


def _dt(value: str) -> str:
    return f'"{value}"^^<{XSD}dateTime>'


class _Quads:
    def __init__(self, graph: str) -> None:
        self.graph = f"<{graph}>"
        self.lines: list[str] = []

    def add(self, s: str, p: str, o: str | None) -> None:
        if o is not None:
            self.lines.append(f"<{s}> <{p}> {o} {self.graph} .")

    def iri(self, s: str, p: str, o: str | None) -> None:
        if o:
            self.add(s, p, f"<{o}>")

    def lit(self, s: str, p: str, value: object) -> None:
        if value is not None and value != "":
            self.add(s, p, _lit(value))


def record_quads(rec: dict, rel_path: str, graph: str) -> list[str]:
    """N-Quads lines for one record (already parsed and of a supported schema version)."""
    F, S, P, R = ns.FWC, ns.SCHEMA, ns.PROV, ns.RDF + "type"
    q = _Quads(graph)
    run = ns.RUN + rec["record_id"]
    env_id = rec.get("environment_id") or "unknown"
    env = ns.ENV + env_id
    check = rec.get("check") or {}
    q.iri(run, R, F + "Run")
    q.iri(run, R, P + "Activity")
    q.iri(run, P + "used", ns.BENCH + check["benchmark"] if check.get("benchmark") else None)
    q.iri(run, P + "used", env)
    q.iri(run, S + "about", ns.CLAIM + rec["claim_id"])
    q.add(run, P + "startedAtTime", _dt(rec["started"]) if rec.get("started") else None)
    q.add(run, P + "endedAtTime", _dt(rec["ended"]) if rec.get("ended") else None)
    q.lit(run, F + "status", rec.get("status"))
    q.lit(run, F + "rawRecord", rel_path)
    q.lit(run, F + "codeHash", rec.get("benchmark_code_sha256"))
    q.lit(run, F + "gitCommit", rec.get("git_commit"))
    q.lit(run, F + "budgetSeconds", (rec.get("options") or {}).get("budget_s"))
    device = (rec.get("options") or {}).get("device")
    q.iri(run, F + "device", F + ("GPU" if device == "cuda" else "CPU") if device else None)
    probe = rec.get("probe") or {}
    q.lit(run, F + "deprecated", probe.get("deprecated"))
    q.lit(run, F + "successor", probe.get("successor"))

    verdict = rec.get("verdict") or {}
    review = run + "/review"
    q.iri(review, R, S + "ClaimReview")
    q.iri(review, S + "itemReviewed", ns.CLAIM + rec["claim_id"])
    concept = VERDICT_CONCEPTS.get(verdict.get("label", ""))
    q.iri(review, F + "verdict", F + concept if concept else None)
    q.lit(review, S + "reviewBody", verdict.get("explanation"))
    q.iri(review, P + "wasGeneratedBy", run)
    q.add(review, S + "datePublished", _dt(rec["ended"]) if rec.get("ended") else None)

    metric = (check.get("rule") or {}).get("metric")
    for i, cell in enumerate(rec.get("cells") or []):
        summary = cell.get("summary") or {}
        m = f"{run}/cell/{i}"
        q.iri(m, R, F + "Measurement")
        q.iri(m, P + "wasGeneratedBy", run)
        q.lit(m, F + "cell", cell.get("label"))
        q.lit(m, F + "metric", summary.get("metric") or metric)
        q.lit(m, S + "value", summary.get("ratio"))
        q.lit(m, F + "ciLow", summary.get("ci_low"))
        q.lit(m, F + "ciHigh", summary.get("ci_high"))
        q.lit(m, F + "confidence", summary.get("confidence"))
        q.lit(m, F + "method", summary.get("method"))
        q.lit(m, F + "processes", summary.get("n_processes"))
        n = (summary.get("n_samples_subject") or 0) + (summary.get("n_samples_baseline") or 0)
        q.lit(m, F + "sampleSize", n or None)
        q.lit(m, F + "subjectValue", summary.get("subject_median"))
        q.lit(m, F + "baselineValue", summary.get("baseline_median"))
    _environment(q, env, env_id, rec.get("environment") or {})
    return q.lines


def _environment(q: _Quads, env: str, env_id: str, e: dict) -> None:
    F, R = ns.FWC, ns.RDF + "type"
    q.iri(env, R, F + "Environment")
    q.iri(env, R, ns.PROV + "Entity")
    q.lit(env, ns.SCHEMA + "identifier", env_id)
    q.lit(env, ns.RDFS + "label", environment_label(e) if e else env_id)
    cpu = e.get("cpu") or {}
    q.lit(env, F + "cpuModel", cpu.get("model"))
    q.lit(env, F + "cores", e.get("cores_logical"))
    if e.get("ram_bytes"):
        q.lit(env, F + "memoryGiB", round(e["ram_bytes"] / 2**30, 1))
    gpus = e.get("gpus") or []
    if gpus:
        q.lit(env, F + "gpuModel", gpus[0].get("name"))
        q.lit(env, F + "gpuDriver", gpus[0].get("driver"))
        q.lit(env, F + "cudaVersion", gpus[0].get("cuda_driver"))
    osd = e.get("os") or {}
    q.lit(
        env, F + "operatingSystem", " ".join(filter(None, [osd.get("system"), osd.get("release")]))
    )
    q.lit(env, F + "pythonVersion", e.get("python"))
    pk = e.get("packages") or {}
    for key, prop in (
        ("torch", "torchVersion"),
        ("tensorflow", "tensorflowVersion"),
        ("keras", "kerasVersion"),
        ("jax", "jaxVersion"),
        ("numpy", "numpyVersion"),
    ):
        q.lit(env, F + prop, pk.get(key))


def environment_label(e: dict) -> str:
    """A short human label: '2-core x86 CPU, torch 2.13.0 / TF 2.21.0' or 'H100, torch 2.11'."""
    gpus = e.get("gpus") or []
    if gpus:
        hw = gpus[0].get("name", "GPU").replace("NVIDIA ", "")
    else:
        arch = (
            str((e.get("cpu") or {}).get("arch", ""))
            .replace("X86_64", "x86")
            .replace("x86_64", "x86")
        )
        hw = f"{e.get('cores_logical', '?')}-core {arch or 'CPU'} CPU".replace("  ", " ")
    pk = e.get("packages") or {}
    fw = [
        f"{name} {pk[key].split('+')[0]}"
        for key, name in (("torch", "torch"), ("tensorflow", "TF"), ("jax", "JAX"))
        if pk.get(key)
    ]
    return f"{hw}, {' / '.join(fw)}" if fw else hw


def load_records(store: ox.Store, root: Path, files: list[Path]) -> list[Problem]:
    """Add every record to the store; unreadable ones come back as Problems."""
    problems: list[Problem] = []
    lines: list[str] = []
    for f in files:
        rel = f.relative_to(root).as_posix() if f.is_relative_to(root) else str(f)
        try:
            rec = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            problems.append(
                Problem(
                    rel,
                    e.lineno,
                    "run record",
                    f"is not valid JSON ({e.msg}); records are written atomically, "
                    "so this file was edited or truncated by hand: restore or delete it",
                )
            )
            continue
        version = rec.get("schema_version") if isinstance(rec, dict) else None
        if not isinstance(version, int) or version > SUPPORTED_SCHEMA:
            problems.append(
                Problem(
                    rel,
                    None,
                    "run record",
                    f"has schema_version {version!r}, which this fwclaims does not "
                    f"read (it reads up to {SUPPORTED_SCHEMA}): upgrade fwclaims",
                )
            )
            continue
        missing = [k for k in ("record_id", "claim_id") if not rec.get(k)]
        if missing:
            problems.append(Problem(rel, None, "run record", f"lacks {', '.join(missing)}"))
            continue
        lines += record_quads(rec, rel, ns.GRAPH + rel)
    if lines:
        store.load(("\n".join(lines) + "\n").encode(), format=ox.RdfFormat.N_QUADS)
    return problems
