"""Run records as PROV-O activities in the graph, built with Oxigraph's RDF terms.

Each record (already read and validated by kg.records) becomes, in its own named graph:

- ``run:<id>`` a ``fwc:Run`` (``prov:Activity``): ``prov:used`` the benchmark and the environment,
  start and end times, status, budget, benchmark code hash, git commit, the raw record's path;
- ``run:<id>/review`` a ``schema:ClaimReview`` of the claim with ``fwc:verdict`` (a SKOS concept)
  and the one-sentence explanation, its ``fwc:verdictQualifier`` and ``fwc:scope`` where the
  verdict has them, ``prov:wasGeneratedBy`` the run (which says its ``fwc:checkId``);
- ``run:<id>/cell/<n>`` one ``fwc:Measurement`` per condition cell: the ratio (``schema:value``),
  its CI, both sides' medians and 90th percentiles, the cell's batch and input size, sample
  size, method;
- ``env:<id>`` a ``fwc:Environment`` (``prov:Entity``) with hardware and framework versions.

IRIs are built only from ids that kg.records has checked against the id patterns, and every value
goes through an Oxigraph term, so no text in a record can add a triple of its own.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from kg import environments, ns
from kg.errors import RecordError
from kg.model import OUTSIDE_SCOPE, Label

XSD = ns.XSD
_TYPE = ox.NamedNode(ns.RDF + "type")


class _Quads:
    """Quads of one named graph, with predicates looked up once."""

    def __init__(self, graph: str) -> None:
        self.graph = ox.NamedNode(graph)
        self.quads: list[ox.Quad] = []
        self._preds: dict[str, ox.NamedNode] = {}

    def _p(self, iri: str) -> ox.NamedNode:
        node = self._preds.get(iri)
        if node is None:
            node = self._preds[iri] = ox.NamedNode(iri)
        return node

    def iri(self, s: ox.NamedNode, p: str, o: str | None) -> None:
        if o:
            self.quads.append(ox.Quad(s, self._p(p), ox.NamedNode(o), self.graph))

    def lit(self, s: ox.NamedNode, p: str, value: object, datatype: str | None = None) -> None:
        if value is None or value == "":
            return
        self.quads.append(ox.Quad(s, self._p(p), literal(value, datatype), self.graph))


def literal(value: object, datatype: str | None = None) -> ox.Literal:
    """An Oxigraph literal for a Python value: booleans, integers, full-precision decimals."""
    if datatype is not None:
        return ox.Literal(str(value), datatype=ox.NamedNode(datatype))
    if isinstance(value, bool):
        return ox.Literal(str(value).lower(), datatype=ox.NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    if isinstance(value, float):
        # xsd:decimal, written out in full: Turtle writers shorten doubles to a few digits
        return ox.Literal(format(Decimal(repr(value)), "f"), datatype=ox.NamedNode(XSD + "decimal"))
    return ox.Literal(str(value))


def record_quads(rec: dict[str, Any], rel_path: str) -> list[ox.Quad]:
    """The quads of one validated record, in the named graph of its file; RecordError names the
    field when an id that becomes an IRI does not have the shape of one."""
    for field, value, ok in (
        ("record_id", rec.get("record_id"), ns.is_file_id),
        ("environment_id", rec.get("environment_id"), ns.is_file_id),
        ("claim_id", rec.get("claim_id"), ns.is_claim_id),
        ("check.benchmark", (rec.get("check") or {}).get("benchmark"), ns.is_claim_id),
    ):
        if not ok(value):
            raise RecordError(
                f"{field} {value!r} is not an id (ids become IRIs, so only letters, digits and"
                " hyphens may be in them); fix or delete the record"
            )
    q = _Quads(ns.graph_iri(rel_path))
    run = ox.NamedNode(ns.RUN + rec["record_id"])
    if "exploration" in rec:
        _exploration(q, run, rec, rel_path)
    else:
        _run(q, run, rec, rel_path)
        _review(q, run, rec)
        _cells(q, run, rec)
    if rec.get("refiled"):  # the id it was first filed under
        q.lit(run, ns.FWC + "refiledFrom", rec["refiled"][0].get("from"))
    env_id = rec["environment_id"]
    _environment(q, ox.NamedNode(ns.ENV + env_id), env_id, rec.get("environment") or {})
    return q.quads


def _run(q: _Quads, run: ox.NamedNode, rec: dict[str, Any], rel_path: str) -> None:
    F, P = ns.FWC, ns.PROV
    check, options, probe = rec["check"], rec.get("options") or {}, rec.get("probe") or {}
    q.iri(run, ns.RDF + "type", F + "Run")
    q.iri(run, ns.RDF + "type", P + "Activity")
    q.iri(run, P + "used", ns.BENCH + check["benchmark"])
    q.iri(run, P + "used", ns.ENV + rec["environment_id"])
    q.iri(run, ns.SCHEMA + "about", ns.CLAIM + rec["claim_id"])
    q.lit(run, P + "startedAtTime", rec["started"], XSD + "dateTime")
    q.lit(run, P + "endedAtTime", rec["ended"], XSD + "dateTime")
    q.lit(run, F + "status", rec["status"])
    q.lit(run, F + "checkId", rec.get("check_id"))
    q.lit(run, F + "rawRecord", rel_path)
    q.lit(run, F + "codeHash", (rec.get("benchmark_code") or {}).get("sha256"))
    q.lit(run, F + "gitCommit", rec.get("git_commit"))
    q.lit(run, F + "budgetSeconds", options.get("budget_s"))
    sanity = (rec.get("environment") or {}).get("gpu_sanity") or {}
    q.lit(run, F + "gpuMatmulTflops", sanity.get("tflops"))
    q.lit(run, F + "gpuNominalTflops", sanity.get("nominal_tflops"))
    device = options.get("device")
    q.iri(run, F + "device", F + ("GPU" if device == "cuda" else "CPU") if device else None)
    q.lit(run, F + "deprecated", probe.get("deprecated"))
    q.lit(run, F + "successor", probe.get("successor"))


def _review(q: _Quads, run: ox.NamedNode, rec: dict[str, Any]) -> None:
    S = ns.SCHEMA
    review = ox.NamedNode(run.value + "/review")
    q.quads.append(ox.Quad(review, _TYPE, ox.NamedNode(S + "ClaimReview"), q.graph))
    q.iri(review, S + "itemReviewed", ns.CLAIM + rec["claim_id"])
    q.iri(review, ns.FWC + "verdict", ns.FWC + Label(rec["verdict"]["label"]).concept)
    q.lit(review, S + "reviewBody", rec["verdict"]["explanation"])
    q.lit(review, ns.FWC + "verdictQualifier", rec["verdict"].get("qualifier"))
    q.lit(review, ns.FWC + "scope", rec["verdict"].get("scope") or _outside(rec))
    q.iri(review, ns.PROV + "wasGeneratedBy", run.value)
    q.lit(review, S + "datePublished", rec["ended"], XSD + "dateTime")


def _outside(rec: dict[str, Any]) -> str | None:
    """ "outside" for a record from before verdicts carried their scope whose run's device is not
    the one its claim is stated for (a CPU run of a GPU claim), so it is shown as such too."""
    if "scope" in rec["verdict"] or rec.get("check_id"):  # written since: its scope is its own
        return None
    return OUTSIDE_SCOPE if _ran_outside(rec) else None


def _ran_outside(rec: dict[str, Any]) -> bool:
    """Whether the record's run was on another device than the one its claim is stated for."""
    claim = str((rec["check"].get("conditions") or {}).get("device") or "any")
    device = str((rec.get("options") or {}).get("device") or "")
    ran = "gpu" if device == "cuda" else device
    return bool(ran) and claim not in ("any", ran)


def _cells(q: _Quads, run: ox.NamedNode, rec: dict[str, Any]) -> None:
    F = ns.FWC
    metric = rec["check"]["rule"].get("metric")
    for i, cell in enumerate(rec.get("cells") or []):
        s = cell.get("summary") or {}
        m = ox.NamedNode(f"{run.value}/cell/{i}")
        q.iri(m, ns.RDF + "type", F + "Measurement")
        q.iri(m, ns.PROV + "wasGeneratedBy", run.value)
        q.lit(m, F + "cell", cell.get("label"))
        q.lit(m, F + "metric", s.get("metric") or metric)
        q.lit(m, ns.SCHEMA + "value", s.get("ratio"))
        q.lit(m, F + "ciLow", s.get("ci_low"))
        q.lit(m, F + "ciHigh", s.get("ci_high"))
        q.lit(m, F + "confidence", s.get("confidence"))
        q.lit(m, F + "method", s.get("method"))
        q.lit(m, F + "processes", s.get("n_processes"))
        n = (s.get("n_samples_subject") or 0) + (s.get("n_samples_baseline") or 0)
        q.lit(m, F + "sampleSize", n or None)
        q.lit(m, F + "subjectValue", s.get("subject_median"))
        q.lit(m, F + "baselineValue", s.get("baseline_median"))
        q.lit(m, F + "subjectP90", s.get("subject_p90"))
        q.lit(m, F + "baselineP90", s.get("baseline_p90"))
        where = cell.get("cell") or {}
        q.lit(m, F + "batchSize", _whole(where.get("batch", where.get("batch_size"))))
        q.lit(m, F + "inputSize", _whole(where.get("size", where.get("input_size"))))


def _whole(value: Any) -> int | None:
    """A cell's batch or input size when it is a whole number (cells name other things too)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _environment(q: _Quads, env: ox.NamedNode, env_id: str, e: dict[str, Any]) -> None:
    F = ns.FWC
    q.iri(env, ns.RDF + "type", F + "Environment")
    q.iri(env, ns.RDF + "type", ns.PROV + "Entity")
    q.lit(env, ns.SCHEMA + "identifier", env_id)
    q.lit(env, ns.RDFS + "label", environments.environment_label(e) if e else env_id)
    q.lit(env, F + "cpuModel", (e.get("cpu") or {}).get("model"))
    q.lit(env, F + "cores", e.get("cores_logical"))
    if e.get("ram_bytes"):
        q.lit(env, F + "memoryGiB", round(e["ram_bytes"] / 2**30, 1))
    gpus = e.get("gpus") or []
    if gpus:
        q.lit(env, F + "gpuModel", gpus[0].get("name"))
        q.lit(env, F + "gpuDriver", gpus[0].get("driver"))
        q.lit(env, F + "cudaVersion", gpus[0].get("cuda_driver"))
    q.lit(env, F + "operatingSystem", environments.os_name(e))
    q.lit(env, F + "pythonVersion", e.get("python"))
    if environments.timing_threads(e) != 1:
        q.lit(env, F + "timingThreads", environments.timing_threads(e))
    q.lit(env, F + "vectorInstructionSet", environments.vector_isa(e))
    packages = e.get("packages") or {}
    for fw in environments.FRAMEWORKS:
        q.lit(env, F + fw.prop, packages.get(fw.package))


def _explored_where(rec: dict[str, Any]) -> str:
    """A sentence tail for an exploration run on another device than its claim is stated for
    (a GPU claim explored on a CPU): its labels say nothing for or against the claim itself."""
    if not _ran_outside(rec):
        return ""
    ran = "a GPU" if (rec.get("options") or {}).get("device") == "cuda" else "a CPU"
    claim = str(rec["check"]["conditions"]["device"]).upper()
    return (f" Explored outside the claim's scope: on {ran}, while the claim is about {claim}s;"
            " this says nothing for or against the claim itself.")  # fmt: skip


def _exploration(q: _Quads, node: ox.NamedNode, rec: dict[str, Any], rel_path: str) -> None:
    """An exploration record: an fwc:Exploration (never an fwc:Run, so no verdict of the claim
    as stated comes from it) with one fwc:Specification per measured setup and cell."""
    F, P = ns.FWC, ns.PROV
    ex = rec["exploration"]
    q.iri(node, ns.RDF + "type", F + "Exploration")
    q.iri(node, ns.RDF + "type", P + "Activity")
    q.iri(node, ns.SCHEMA + "about", ns.CLAIM + rec["claim_id"])
    q.iri(node, P + "used", ns.ENV + rec["environment_id"])
    q.iri(node, P + "used", ns.BENCH + rec["check"]["benchmark"])
    q.lit(node, P + "startedAtTime", rec["started"], XSD + "dateTime")
    q.lit(node, P + "endedAtTime", rec["ended"], XSD + "dateTime")
    q.lit(node, F + "rawRecord", rel_path)
    q.lit(node, F + "codeHash", (rec.get("benchmark_code") or {}).get("sha256"))
    q.iri(node, F + "verdict", F + Label(rec["verdict"]["label"]).concept)
    q.lit(node, F + "robustness", ex["summary"]["label"])
    q.lit(node, ns.SCHEMA + "description", ex["summary"]["sentence"] + _explored_where(rec))
    if _ran_outside(rec):
        q.lit(node, F + "outsideScope", True)
    for i, s in enumerate(ex["specifications"]):
        spec = ox.NamedNode(f"{node.value}/spec/{i}")
        q.iri(spec, ns.RDF + "type", F + "Specification")
        q.iri(spec, P + "wasGeneratedBy", node.value)
        q.lit(spec, F + "factors", json.dumps(s["factors"], sort_keys=True))
        q.lit(spec, ns.SCHEMA + "value", float(s["ratio"]))
        q.lit(spec, F + "ciLow", float(s["ci_low"]))
        q.lit(spec, F + "ciHigh", float(s["ci_high"]))
        q.iri(spec, F + "verdict", F + Label(s["label"]).concept)
        q.lit(spec, F + "stated", bool(s.get("stated")))
