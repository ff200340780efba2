"""Published evidence: the DAWNBench entries in data/snapshots/dawnbench/ as fwc:Measurement nodes.

`python -m kg.evidence` (or `verify evidence import`) writes data/snapshots/dawnbench-evidence.ttl,
which is committed and loaded with the claims, so the site can put the study's own numbers next to
ours. One measurement per entry: latency per image for inference entries, time to 94% top-1 test
accuracy (from the per-epoch log) for training entries. Which claims an entry bears on is an
editorial judgement, so it is written in the claim files (``fwc:evidence`` on the claim), not here.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from kg import ns, paths
from kg.fsutil import write_atomic

EVIDENCE = ns.BASE + "evidence/"
SOURCE_ID = "dawnbench-2017"
UPSTREAM = "https://github.com/stanford-futuredata/dawn-bench-entries/blob/fb27b82/CIFAR10/"
TARGET_ACCURACY = 94.0
OUTPUT = "dawnbench-evidence.ttl"
PHASES = ("inference", "train")  # the snapshot's folders, as its file names begin
FRAMEWORK = re.compile(r"^(PyTorch|TensorFlow) v(\S+)$")


@dataclass(frozen=True)
class Entry:
    """One DAWNBench entry reduced to the figure the benchmark ranks it by."""

    file: str  # name in data/snapshots/dawnbench/
    phase: str  # "inference" or "train"
    framework: str  # "torch" or "tensorflow"
    version: str
    model: str
    hardware: str
    device: str  # "cpu" or "gpu"
    date: str
    value: float
    unit: str
    detail: str  # what else the entry says, for the description

    @property
    def upstream(self) -> str:
        """The entry's file in the upstream repository, at the commit copied."""
        name = self.file.split("-", 1)[1]
        return f"{UPSTREAM}{self.phase}/{name}"

    @property
    def slug(self) -> str:
        """A stable, IRI-safe name for the measurement."""
        return re.sub(r"[^a-z0-9]+", "-", Path(self.file).stem.lower()).strip("-")


def read_entries(folder: Path) -> list[Entry]:
    """Every entry in the DAWNBench snapshot folder, in file-name order."""
    out = []
    for path in sorted(folder.glob("*.json")):
        phase = path.name.split("-", 1)[0]
        meta = json.loads(path.read_text(encoding="utf-8"))
        m = FRAMEWORK.match(meta["framework"])
        if not m or phase not in PHASES:
            raise ValueError(f"{path}: unexpected framework {meta['framework']!r} or file name")
        framework = "torch" if m.group(1) == "PyTorch" else "tensorflow"
        hardware = meta["hardware"]
        common = dict(
            file=path.name,
            phase=phase,
            framework=framework,
            version=m.group(2),
            model=meta["model"],
            hardware=hardware,
            device="gpu" if re.search(r"\b(K80|P100|V100)\b", hardware) else "cpu",
            date=meta["timestamp"],
        )
        if phase == "inference":
            detail = f"top-1 accuracy {meta['top1Accuracy']:.2f}%"
            out.append(Entry(**common, value=float(meta["latency"]), unit="ms", detail=detail))
        else:
            hours, epoch = time_to_accuracy(path.with_suffix(".tsv"))
            detail = f"reached {TARGET_ACCURACY:g}% top-1 in epoch {epoch:g}"
            out.append(Entry(**common, value=hours, unit="h", detail=detail))
    return out


def time_to_accuracy(log: Path, target: float = TARGET_ACCURACY) -> tuple[float, float]:
    """Hours and epoch at which the per-epoch log first reaches `target` top-1 accuracy."""
    with open(log, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if float(row["top1Accuracy"]) >= target:
                return float(row["hours"]), float(row["epoch"])
    raise ValueError(f"{log}: the log never reaches {target}% top-1 accuracy")


def build_graph(entries: list[Entry]):
    """The measurements as an rdflib Graph (rdflib is only needed here, not at run time)."""
    from rdflib import BNode, Graph, Literal, Namespace, URIRef
    from rdflib.namespace import RDF, XSD

    from kg.vocab import DCTERMS, FWC, PROV, SCHEMA, SRC

    g = Graph(bind_namespaces="none")  # rdflib would bind schema: to https://schema.org/
    for prefix in ("fwc", "claim", "src", "schema", "prov", "dcterms", "xsd"):
        g.bind(prefix, Namespace(ns.PREFIXES[prefix]))
    g.bind("evidence", Namespace(EVIDENCE + SOURCE_ID + "/"))
    for e in entries:
        m = URIRef(f"{EVIDENCE}{SOURCE_ID}/{e.slug}")
        what = "latency per image" if e.phase == "inference" else "time to 94% top-1 accuracy"
        fw = "PyTorch" if e.framework == "torch" else "TensorFlow"
        value = f"{e.value:.2f} ms" if e.unit == "ms" else f"{e.value:.2f} h"
        g.add((m, RDF.type, FWC.Measurement))
        g.add(
            (
                m,
                SCHEMA.name,
                Literal(f"DAWNBench {e.model}, {fw} {e.version}, {e.hardware}: {what}"),
            )
        )
        g.add(
            (
                m,
                DCTERMS.description,
                Literal(
                    f"{what.capitalize()} of {e.model} on CIFAR-10 with {fw} {e.version} on "
                    f"{e.hardware}: {value} ({e.detail}); as published in DAWNBench, not measured here."
                ),
            )
        )
        g.add((m, SCHEMA.variableMeasured, Literal(what)))
        g.add((m, SCHEMA.value, Literal(f"{e.value:.6g}", datatype=XSD.decimal)))
        g.add((m, SCHEMA.unitText, Literal(e.unit)))
        g.add((m, SCHEMA.unitCode, Literal("C26" if e.unit == "ms" else "HUR")))
        g.add(
            (
                m,
                SCHEMA.measurementTechnique,
                Literal(
                    "classifying the 10,000 CIFAR-10 test images one at a time"
                    if e.phase == "inference"
                    else "wall-clock training time until the test accuracy first reaches 94%"
                ),
            )
        )
        g.add((m, FWC.framework, Literal(e.framework)))
        g.add((m, SCHEMA.softwareVersion, Literal(e.version)))
        g.add((m, FWC.hardware, Literal(e.hardware)))
        g.add((m, DCTERMS.date, Literal(e.date, datatype=XSD.date)))
        g.add((m, PROV.hadPrimarySource, SRC[SOURCE_ID]))
        g.add((m, DCTERMS.source, URIRef(e.upstream)))
        cond = BNode(f"c-{e.slug}")
        g.add((m, FWC.measuredUnder, cond))
        g.add((cond, RDF.type, FWC.Conditions))
        g.add((cond, FWC.device, FWC.GPU if e.device == "gpu" else FWC.CPU))
        g.add((cond, FWC.phase, FWC.Inference if e.phase == "inference" else FWC.Training))
        g.add((cond, FWC.modelFamily, Literal(e.model)))
        g.add((cond, FWC.inputRegime, Literal("CIFAR-10, 32 x 32 px")))
        if e.phase == "inference":
            g.add((cond, FWC.batchRegime, Literal("batch 1")))
    return g


def render(root: Path) -> str:
    """The evidence file's text for the snapshot under `root`."""
    entries = read_entries(paths.snapshots_dir(root) / "dawnbench")
    body = build_graph(entries).serialize(format="longturtle")
    head = (
        "# Published measurements from DAWNBench (source dawnbench-2017), one per entry.\n"
        "# Generated by `verify evidence import` from data/snapshots/dawnbench/: do not edit.\n"
    )
    return head + body


def evidence_file(root: Path) -> Path:
    """Where the generated evidence lives."""
    return paths.snapshots_dir(root) / OUTPUT


def is_current(root: Path) -> bool:
    """Whether the committed file holds the same graph the snapshot produces now."""
    from rdflib import Graph
    from rdflib.compare import isomorphic

    path = evidence_file(root)
    if not path.is_file():
        return False
    fresh = Graph().parse(data=render(root), format="turtle")
    return isomorphic(fresh, Graph().parse(path, format="turtle"))


def write_evidence(root: Path) -> int:
    """Write the evidence file; returns how many measurements it holds."""
    text = render(root)
    write_atomic(evidence_file(root), text)
    return text.count("a fwc:Measurement")


def main() -> None:
    """`python -m kg.evidence [ROOT]`: regenerate the evidence file."""
    root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else paths.find_root()
    n = write_evidence(root)
    print(f"wrote {n} measurements to {evidence_file(root)}")


if __name__ == "__main__":
    main()
