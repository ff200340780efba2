"""Everything the site shows, gathered once from kg's read API into one structure that the page
builders, the templates and the server's routes share.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import api, changes, export, frames, paths
from kg.changes import Flip
from kg.environments import machine_label, row_versions, versions_text
from kg.rows import (
    CitationEdge,
    Claim,
    Concept,
    Environment,
    Evidence,
    Exploration,
    Measurement,
    Run,
    SkippedRecord,
    Source,
    Specification,
)
from kg.store import Corpus
from kg.textutil import natural_key

# Per-claim status shown in the matrix and lists: the four verdict labels plus three states of a
# claim that has no single verdict. Symbols keep the page readable without colour.
STATUS = {
    "holds": ("✓", "holds"),
    "does-not-hold": ("✗", "does not hold"),
    "inconclusive": ("?", "inconclusive"),
    "not-checkable-here": ("–", "not checkable here"),
    "mixed": ("±", "mixed"),
    "not-run": ("·", "not run yet"),
    "no-check": ("∅", "no check"),
}
EXTRA_DEFINITIONS = {
    "mixed": "The newest verdicts differ between environments.",
    "not-run": "The claim has an executable check, but no run of it has been recorded yet.",
    "no-check": "The claim has no executable check; its page says why.",
}
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def safe_name(name: str) -> str:
    """A file name for an id; ids that could not be one (never expected) get a stable stand-in."""
    if SAFE_NAME.fullmatch(name) and ".." not in name:
        return name
    return "id-" + hashlib.sha256(name.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SiteEnvironment(Environment):
    """An environment as the site shows it: a label unique across the site, the machine, versions."""

    display: str = ""
    machine: str = ""
    versions: str = ""


@dataclass
class SiteData:
    """The corpus as the site sees it; built by `gather`."""

    root: Path
    claims: dict[str, Claim]
    chains: dict[str, list[list[str]]]
    runs: list[Run]  # newest first
    measurements: dict[str, list[Measurement]]
    environments: dict[str, SiteEnvironment]
    env_order: list[str]
    latest: dict[str, dict[str, Run]]  # claim -> environment -> newest run
    verdicts: dict[str, Concept]  # notation -> concept
    categories: list[Concept]
    sources: dict[str, Source]
    edges: list[CitationEdge]
    evidence: dict[str, list[Evidence]]
    flips: list[Flip]
    calibration: list[dict[str, Any]]
    repeatability: list[dict[str, Any]] = field(default_factory=list)  # `verify reproduce` reports
    runs_by_claim: dict[str, list[Run]] = field(default_factory=dict)
    documents: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # claim -> ttl, jsonld
    skipped: list[SkippedRecord] = field(default_factory=list)  # run records left out
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = field(default_factory=dict)
    explorations: dict[str, Exploration] = field(default_factory=dict)  # claim -> newest
    specifications: dict[str, list[Specification]] = field(default_factory=dict)  # by exploration

    def status(self, claim_id: str) -> str:
        """One status for a claim across environments (a key of STATUS)."""
        if not self.claims[claim_id].check:
            return "no-check"
        labels = {r.verdict.value for r in self.latest.get(claim_id, {}).values()}
        if not labels:
            return "not-run"
        return labels.pop() if len(labels) == 1 else "mixed"

    def definition(self, status: str) -> str:
        """What a status means, from the verdict concepts of the vocabulary where it is one."""
        if status in self.verdicts:
            return self.verdicts[status].definition
        return EXTRA_DEFINITIONS.get(status, "")

    def env_label(self, env_id: str) -> str:
        """The label an environment is shown by (unique across the site)."""
        env = self.environments.get(env_id)
        return env.display if env else env_id


def gather(corpus: Corpus, *, documents: bool = True) -> SiteData:
    """Read everything the site needs through the read API, in a deterministic order
    (`documents`: also each claim's Turtle and JSON-LD, which only the downloads need)."""
    claims = api.claims(corpus)
    runs = api.runs(corpus)
    envs = _environments(api.environments(corpus))
    by_claim: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        by_claim[r.claim_id].append(r)
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    for row in api.evidence(corpus):
        for cid in row.claims:
            evidence[cid].append(row)
    graphs = export.claim_graphs(corpus) if documents else {}
    reports = calibration_reports(corpus.root)
    return SiteData(
        root=corpus.root,
        claims=claims,
        chains=api.all_citation_chains(corpus),
        runs=runs,
        measurements=api.all_measurements(corpus),
        environments=envs,
        env_order=sorted(envs, key=lambda e: (natural_key(envs[e].display), e)),
        latest=api.latest_runs(corpus),
        verdicts={v.notation: v for v in api.verdict_labels(corpus)},
        categories=api.categories(corpus),
        sources={s.id: s for s in sorted(api.sources(corpus), key=lambda s: s.id)},
        edges=api.citation_edges(corpus),
        evidence=dict(evidence),
        flips=changes.history_flips(corpus, across_versions=True),
        calibration=[r for r in reports if r.get("kind") != "reproduce"],
        repeatability=[r for r in reports if r.get("kind") == "reproduce"],
        runs_by_claim=dict(by_claim),
        documents={cid: export.claim_documents(t) for cid, t in graphs.items()},
        skipped=api.skipped_records(corpus),
        tables=_tables(corpus),
        explorations=api.latest_explorations(corpus),
        specifications={
            x.run: api.specifications(corpus, x.run)
            for x in api.latest_explorations(corpus).values()
        },  # fmt: skip
    )


def _tables(corpus: Corpus) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """kg.frames' rows and columns, for the site's CSV downloads."""
    claim_rows = frames.claim_rows(corpus)
    envs, verdict_rows = frames.verdict_rows(corpus)
    return {
        "claims": (frames.claim_columns(claim_rows), claim_rows),
        "runs": (list(frames.RUN_COLUMNS), frames.run_rows(corpus)),
        "measurements": (list(frames.MEASUREMENT_COLUMNS), frames.measurement_rows(corpus)),
        "verdicts": (["id", *envs], verdict_rows),
    }


def claim_graphs(corpus: Corpus, ids: list[str] | None = None) -> dict[str, Any]:
    """Each claim's triples for its downloads (every claim's, or only these claims')."""
    return export.claim_graphs(corpus, ids)


def documents(triples: Any) -> tuple[bytes, bytes]:
    """A claim's Turtle and JSON-LD downloads from its triples."""
    return export.claim_documents(triples)


def _environments(rows: list[Environment]) -> dict[str, SiteEnvironment]:
    counts: dict[str, int] = defaultdict(int)
    for e in rows:
        counts[e.label] += 1
    out = {}
    for e in rows:
        # two environments can share a label (same hardware and versions, other details differ)
        display = e.label if counts[e.label] == 1 else f"{e.label} [{e.id[-6:]}]"
        fields = {k: getattr(e, k) for k in Environment.__dataclass_fields__}
        out[e.id] = SiteEnvironment(**fields, display=display, machine=machine_label(e),
                                    versions=versions_text(row_versions(e), empty=""))  # fmt: skip
    return out


def calibration_reports(root: Path) -> list[dict[str, Any]]:
    """Saved reports in data/calibration/*.json, oldest file name first: `verify calibrate`'s
    ({tolerance, simulated, runner, overhead}) and `verify reproduce`'s (kind "reproduce")."""
    out = []
    for f in sorted(paths.calibration_dir(root).glob("*.json")):
        try:
            report = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # an unreadable report is left out; the method page lists what it read
        if isinstance(report, dict):
            report["file"] = f.relative_to(root).as_posix()
            out.append(report)
    return out


@dataclass(frozen=True)
class SourceClaim:
    """A claim's tie to a source, as a source page lists it."""

    id: str
    how: str  # "appears" or "rests on"
    locator: str | None
    wording: str | None


def source_index(data: SiteData) -> dict[str, list[SourceClaim]]:
    """For each source id, the claims that appear in it or rest on it, in claim order."""
    out: dict[str, list[SourceClaim]] = defaultdict(list)
    for cid, c in data.claims.items():
        for a in c.appearances:
            out[a.doc].append(SourceClaim(cid, "appears", a.locator, a.wording))
        for d in c.derived_from:
            out[d.id].append(SourceClaim(cid, "rests on", None, None))
    return dict(out)
