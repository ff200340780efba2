"""Everything the site shows, gathered once from the read API (kg.api, kg.site_queries) into plain
Python structures that the page builders, the templates and the server's routes share.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kg import api, changes, paths, site_queries
from kg.load import Corpus

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


def natural_key(text: str) -> list:
    """Sort key that orders 'TF 2.9' before 'TF 2.21'."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text or "")]


@dataclass
class SiteData:
    """The corpus as the site sees it; built by `gather`."""

    root: Path
    claims: dict[str, dict]
    chains: dict[str, list[list[str]]]
    runs: list[dict]  # newest first
    measurements: dict[str, list[dict]]
    environments: dict[str, dict]  # id -> row with label, machine, versions, display label
    env_order: list[str]
    latest: dict[str, dict[str, dict]]  # claim -> environment -> newest run
    verdicts: dict[str, dict]  # notation -> {label, definition}
    categories: list[dict]
    sources: dict[str, dict]
    edges: list[dict]
    evidence: dict[str, list[dict]]
    flips: list[dict]
    calibration: list[dict]
    runs_by_claim: dict[str, list[dict]] = field(default_factory=dict)
    descriptions: dict[str, list] = field(default_factory=dict)  # claim -> its RDF triples

    def status(self, claim_id: str) -> str:
        """One status for a claim across environments (a key of STATUS)."""
        if not self.claims[claim_id]["check"]:
            return "no-check"
        labels = {r["verdict"] for r in self.latest.get(claim_id, {}).values()}
        if not labels:
            return "not-run"
        return labels.pop() if len(labels) == 1 else "mixed"

    def definition(self, status: str) -> str:
        """What a status means, from the verdict concepts of the vocabulary where it is one."""
        if status in self.verdicts:
            return self.verdicts[status]["definition"]
        return EXTRA_DEFINITIONS.get(status, "")

    def env_label(self, env_id: str) -> str:
        """The label an environment is shown by (unique across the site)."""
        env = self.environments.get(env_id)
        return env["display"] if env else env_id


def gather(corpus: Corpus, *, descriptions: bool = True) -> SiteData:
    """Read everything the site needs through the read API, in a deterministic order
    (`descriptions`: also each claim's RDF triples, which only the downloads need)."""
    claims = site_queries.claim_details(corpus)
    runs = site_queries.all_runs(corpus)
    envs = _environments(corpus)
    latest: dict[str, dict[str, dict]] = defaultdict(dict)
    by_claim: dict[str, list[dict]] = defaultdict(list)
    for r in runs:  # newest first: the first run seen per (claim, environment) is the latest
        latest[r["claim_id"]].setdefault(r["environment"], r)
        by_claim[r["claim_id"]].append(r)
    order = sorted(envs, key=lambda e: (natural_key(envs[e]["display"]), e))
    verdicts = {
        v["notation"]: {"label": v["label"], "definition": v["definition"]}
        for v in api.verdict_labels(corpus)
    }
    evidence: dict[str, list[dict]] = defaultdict(list)
    if hasattr(api, "evidence"):  # published numbers (e.g. DAWNBench), where the API has them
        for row in api.evidence(corpus):
            for cid in row.get("claims") or []:
                evidence[cid].append(row)
    return SiteData(
        root=corpus.root,
        claims=claims,
        chains=site_queries.citation_chains_all(corpus, claims),
        runs=runs,
        measurements=site_queries.all_measurements(corpus),
        environments=envs,
        env_order=order,
        latest={k: dict(v) for k, v in latest.items()},
        verdicts=verdicts,
        categories=api.categories(corpus),
        sources={s["id"]: s for s in sorted(api.sources(corpus), key=lambda s: s["id"])},
        edges=site_queries.citation_edges(corpus),
        evidence=dict(evidence),
        flips=verdict_flips(runs, envs),
        calibration=calibration_reports(corpus.root),
        runs_by_claim=dict(by_claim),
        descriptions=site_queries.claim_descriptions(corpus) if descriptions else {},
    )


def _environments(corpus: Corpus) -> dict[str, dict]:
    rows = site_queries.all_environments(corpus)
    counts: dict[str, int] = defaultdict(int)
    for e in rows:
        counts[e["label"]] += 1
    out = {}
    for e in rows:
        # two environments can share a label (same hardware and versions, other details differ)
        display = e["label"] if counts[e["label"]] == 1 else f"{e['label']} [{e['id'][-6:]}]"
        out[e["id"]] = {
            **e,
            "display": display,
            "machine": changes.machine_label(e),
            "versions": " / ".join(
                f"{name} {e[key]}"
                for key, name in (
                    ("torch", "torch"),
                    ("tf", "TF"),
                    ("keras", "Keras"),
                    ("jax", "JAX"),
                )
                if e.get(key)
            ),
        }
    return out


def verdict_flips(runs: list[dict], envs: dict[str, dict]) -> list[dict]:
    """Verdicts that changed between consecutive runs of a claim on one machine (across framework
    versions), newest first: {claim_id, machine, when, both_decided, before, after} with the two
    runs' rows (as in kg.changes.history_flips, without re-reading measurements)."""
    last: dict[tuple[str, str], dict] = {}
    out = []
    for r in reversed(runs):  # oldest first
        machine = envs.get(r["environment"], {}).get("machine", r["environment"])
        before = last.get((r["claim_id"], machine))
        last[(r["claim_id"], machine)] = r
        if before is not None and before["verdict"] != r["verdict"]:
            decided = {before["verdict"], r["verdict"]} == {"holds", "does-not-hold"}
            out.append({"claim_id": r["claim_id"], "environment": r["environment"],
                        "environment_label": r["environment_label"], "machine": machine,
                        "when": r["ended"], "both_decided": decided, "before": before,
                        "after": r})  # fmt: skip
    return sorted(out, key=lambda f: f["when"] or "", reverse=True)


def calibration_reports(root: Path) -> list[dict]:
    """Saved `verify calibrate --json` reports: data/calibration.json or data/calibration/*.json
    (each {tolerance, simulated: [...], runner: [...], overhead}), oldest file name first."""
    base = root / "data"
    files = [base / "calibration.json", *sorted(paths.calibration_dir(root).glob("*.json"))]
    out = []
    for f in files:
        if not f.is_file():
            continue
        try:
            report = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # an unreadable report is left out; the method page lists what it read
        if isinstance(report, dict):
            report["file"] = f.relative_to(root).as_posix()
            out.append(report)
    return out


def source_index(data: SiteData) -> dict[str, list[dict]]:
    """For each source id, the claims that appear in it or rest on it: {id, how, locator,
    wording}, in claim order."""
    out: dict[str, list[dict]] = defaultdict(list)
    for cid, c in data.claims.items():
        for a in c["appearances"]:
            out[a["doc"]].append(
                {"id": cid, "how": "appears", "locator": a["locator"], "wording": a["wording"]}
            )
        for d in c["derived_from"]:
            out[d["id"]].append({"id": cid, "how": "rests on", "locator": None, "wording": None})
    return dict(out)
