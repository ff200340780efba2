"""Everything the site shows, gathered once from kg's read API into one structure that the page
builders, the templates and the server's routes share.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kg import api, changes, export, frames, paths
from kg.changes import Change
from kg.environments import EnvironmentName, environment_order, newest_environment
from kg.model import OUTSIDE_SCOPE, QUALIFIER_WORDS
from kg.multiverse import Multiverse
from kg.rows import (
    CitationEdge,
    Claim,
    ClaimVerdict,
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
from verify.judge import floors
from verify.judge.numbers import readable

# A file's bytes: text, bytes, or pieces written one after another (a large download put together
# from cached parts is not copied into one string first)
Content = str | bytes | list[bytes | memoryview]

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
    "outside": ("◌", "measured outside the claim's scope"),
}
EXTRA_DEFINITIONS = {
    "mixed": "The newest verdicts differ between environments.",
    "not-run": "The claim has an executable check, but no run of it has been recorded yet.",
    "no-check": "The claim has no executable check; its page says why.",
    "outside": "The newest runs were on a device the claim is not about (a CPU run of a GPU claim,"
    " say): they describe that environment only and count neither for nor against the claim.",
}
# How informative a verdict here is, for the index's order: a contradiction first.
HERE_RANK = {"does-not-hold": 0, "holds": 1, "inconclusive": 2, "not-checkable-here": 3,
             "outside": 4}  # fmt: skip
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
    short: str = ""  # only what tells it apart from the site's other environments
    here: bool = False  # the environment of the newest run: "this machine"


def run_qualifier(run: Any) -> str:
    """The words of a run's verdict qualifier ("as claimed"), or "" (rows without one too)."""
    q = getattr(run, "qualifier", None) if run is not None else None
    return QUALIFIER_WORDS.get(str(q), str(q)) if q else ""


def outside_scope(run: Any) -> bool:
    """Whether a run was measured outside its claim's scope (rows without a scope: no)."""
    return run is not None and getattr(run, "scope", None) == OUTSIDE_SCOPE


def verdict_words(run: Any) -> str:
    """A run's verdict in words with its qualifier beside the label ("holds (the gap is larger than
    claimed)"); an outside-scope run says so first ("measured outside the claim's scope (does
    not hold there)")."""
    words = STATUS[str(run.verdict)][1]
    if outside_scope(run):
        return f"{STATUS['outside'][1]} ({words} there)"
    return f"{words} ({run_qualifier(run)})" if run_qualifier(run) else words


def cell_status(run: Run | ClaimVerdict) -> str:
    """A run's (or a claim's combined) verdict as the site shows it (a key of STATUS): "outside"
    for an outside-scope run, which counts neither for nor against its claim."""
    return "outside" if outside_scope(run) else str(run.verdict)


@lru_cache(maxsize=8)
def source_ids(ids: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern matching any of the source ids as a whole word, longest first (built once per
    set of ids: explanations are read some ten times per claim)."""
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])({alternatives})(?![\w-])")


@dataclass
class SiteData:
    """The corpus as the site sees it; built by `gather`."""

    root: Path
    claims: dict[str, Claim]
    chains: dict[str, list[list[str]]]
    runs: list[Run]  # newest first
    measurements: Mapping[str, list[Measurement]]
    environments: dict[str, SiteEnvironment]
    env_order: list[str]
    latest: dict[str, dict[str, Run]]  # claim -> environment -> newest run
    combined: dict[str, dict[str, ClaimVerdict]]  # claim -> environment -> its checks combined
    verdicts: dict[str, Concept]  # notation -> concept
    categories: list[Concept]
    sources: dict[str, Source]
    edges: list[CitationEdge]
    evidence: dict[str, list[Evidence]]
    flips: list[Change]  # verdicts that changed along a machine's history, newest first
    calibration: list[dict[str, Any]]
    floors: list[dict[str, Any]] = field(default_factory=list)  # the floor rows in force
    repeatability: list[dict[str, Any]] = field(default_factory=list)  # `verify reproduce` reports
    multiverses: dict[str, Multiverse] = field(default_factory=dict)  # by benchmark id
    runs_by_claim: dict[str, list[Run]] = field(default_factory=dict)
    documents: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # claim -> ttl, jsonld
    skipped: list[SkippedRecord] = field(default_factory=list)  # run records left out
    # the downloads' rows by table name, read from kg.frames when a page first needs them
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = field(default_factory=dict)
    table_rows: dict[str, Callable[[], tuple[list[str], list[dict[str, Any]]]]] = field(
        default_factory=dict
    )
    texts: dict[str, Content] = field(default_factory=dict)  # downloads already formatted
    # downloads formatted only when a page writes them (see `text`)
    makers: dict[str, Callable[[], Content]] = field(default_factory=dict)
    explorations: dict[str, Exploration] = field(default_factory=dict)  # claim -> newest
    specifications: dict[str, list[Specification]] = field(default_factory=dict)  # by exploration

    here: str | None = None  # the environment of the newest run ("this machine")

    def text(self, name: str) -> Content | None:
        """The download `name` already formatted, made by its maker on first use (None: it is
        made from `tables`)."""
        if name not in self.texts and name in self.makers:
            self.texts[name] = self.makers.pop(name)()
        return self.texts.get(name)

    def table(self, name: str) -> tuple[list[str], list[dict[str, Any]]]:
        """The columns and rows of the download `name` (read on first use)."""
        if name not in self.tables and name in self.table_rows:
            self.tables[name] = self.table_rows.pop(name)()
        return self.tables[name]

    def status(self, claim_id: str) -> str:
        """One status for a claim across environments (a key of STATUS): the one definition the
        counts, the index filter and /api/claims?status= all use. In each environment the
        claim's checks combine (kg.rows.ClaimVerdict); outside-scope verdicts count only where
        nothing else was measured."""
        if not self.claims[claim_id].checks:
            return "no-check"
        latest = self.combined.get(claim_id, {}).values()
        if not latest:
            return "not-run"
        labels = {v.verdict.value for v in latest if not v.outside_scope}
        if not labels:
            return "outside"
        return labels.pop() if len(labels) == 1 else "mixed"

    def status_counts(self, ids: list[str] | None = None) -> list[tuple[str, int]]:
        """How many claims (all, or these) have each status, in STATUS order (statuses no claim
        has left out)."""
        counts = Counter(self.status(cid) for cid in (self.claims if ids is None else ids))
        return [(s, counts[s]) for s in STATUS if counts.get(s)]

    def category_counts(self) -> list[tuple[str, list[tuple[str, int]]]]:
        """Per claim category (sorted), its claims' status counts (status_counts' definition)."""
        by: dict[str, list[str]] = defaultdict(list)
        for cid, c in self.claims.items():
            by[c.category].append(cid)
        return [(cat, self.status_counts(by[cat])) for cat in sorted(by)]

    def env_status(self, claim_id: str, env_id: str) -> str | None:
        """The claim's verdict in one environment, its checks combined (a key of STATUS), or
        None where it has not run."""
        found = self.combined.get(claim_id, {}).get(env_id)
        return cell_status(found) if found is not None else None

    def here_status(self, claim_id: str) -> str:
        """The claim's newest verdict on this machine, or why there is none (a key of STATUS)."""
        found = self.env_status(claim_id, self.here or "")
        if found is not None:
            return found
        return "no-check" if not self.claims[claim_id].checks else "not-run"

    def informative_order(self) -> list[str]:
        """Claim ids, most informative first: checked claims before unrun and uncheckable ones;
        among them verdicts that flipped, then environments that disagree, then by the verdict
        here (does not hold first); ties by id."""
        flips = Counter(f.claim_id for f in self.flips)

        def key(cid: str) -> tuple[Any, ...]:
            status = self.status(cid)
            group = {"no-check": 2, "not-run": 1}.get(status, 0)
            labels = {cell_status(v) for v in self.combined.get(cid, {}).values()}
            here = HERE_RANK.get(self.here_status(cid), len(HERE_RANK))
            return (group, -flips[cid], len(labels) < 2, here, natural_key(cid), cid)

        return sorted(self.claims, key=key)

    def explanation(self, run: Any) -> str:
        """A run's explanation as the site shows it: each estimate beside an interval in the same
        orientation (the cell's exact interval where the record has it), a capital letter first,
        and sources named by their titles rather than their ids."""
        if not run.explanation:
            return ""
        cells = [(m.cell, m.ratio, m.ci_low, m.ci_high) for m in self.measurements.get(run.run, [])]
        text = readable(run.explanation, cells)
        if self.sources:
            text = source_ids(tuple(self.sources)).sub(
                lambda m: self.sources[m[1]].name or m[1], text
            )
        return text

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
    here = newest_environment(runs)
    envs = _environments(api.environments(corpus), api.environment_names(corpus), here)
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
        env_order=environment_order(api.environment_names(corpus), here),
        here=here,
        latest=api.latest_runs(corpus),
        combined=api.claim_verdicts(corpus),
        verdicts={v.notation: v for v in api.verdict_labels(corpus)},
        categories=api.categories(corpus),
        sources={s.id: s for s in sorted(api.sources(corpus), key=lambda s: s.id)},
        edges=api.citation_edges(corpus),
        evidence=dict(evidence),
        flips=changes.history_changes(corpus, across_versions=True),
        calibration=[r for r in reports if r.get("kind") != "reproduce"],
        floors=floors_in_force(reports),
        repeatability=[r for r in reports if r.get("kind") == "reproduce"],
        multiverses=api.multiverses(corpus),
        runs_by_claim=dict(by_claim),
        documents={cid: export.claim_documents(t) for cid, t in graphs.items()},
        skipped=api.skipped_records(corpus),
        table_rows=_tables(corpus),  # only the downloads need them (SiteData.table)
        explorations=api.latest_explorations(corpus),
        specifications={
            x.run: api.specifications(corpus, x.run)
            for x in api.latest_explorations(corpus).values()
        },  # fmt: skip
    )


def _tables(corpus: Corpus) -> dict[str, Callable[[], tuple[list[str], list[dict[str, Any]]]]]:
    """What makes each of the site's CSV downloads from kg.frames' rows and columns, called only
    for a download that is written (the runs and measurements come formatted, from
    verify.publish.runcsv's cache, where a publish sets their makers)."""

    def claims() -> tuple[list[str], list[dict[str, Any]]]:
        rows = frames.claim_rows(corpus)
        return frames.claim_columns(rows), rows

    def verdicts() -> tuple[list[str], list[dict[str, Any]]]:
        envs, rows = frames.verdict_rows(corpus)
        return ["id", *envs], rows

    return {"claims": claims, "verdicts": verdicts}


def _environments(
    rows: list[Environment], names: dict[str, EnvironmentName], here: str | None = None
) -> dict[str, SiteEnvironment]:
    """Each environment with the names kg.environments gives it among the graph's (a label unique
    across the site, a short one for narrow columns) and whether it is this machine."""
    out = {}
    for e in rows:
        n = names[e.id]
        fields = {k: getattr(e, k) for k in Environment.__dataclass_fields__}
        out[e.id] = SiteEnvironment(**fields, display=n.display, machine=n.machine,
                                    versions=n.versions, short=n.short, here=e.id == here)  # fmt: skip
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


def floors_in_force(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The floor rows a timed run gets in the environment of the newest report with floors, each
    with its report's file (verify.judge.floors.rows_in_force; `reports` oldest file name first)."""
    newest = [r for r in reversed(reports) if floors.rows_in_force([(r, None)])]
    if not newest:
        return []
    env = newest[0].get("environment_id")
    found = floors.rows_in_force((r, r.get("file", "")) for r in newest
                                 if r.get("environment_id") == env)  # fmt: skip
    return [{**row, "file": file} for _, (row, file) in sorted(found.items())]


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
    for cid, rows in data.evidence.items():  # its published numbers count too
        for e in rows:
            if cid in data.claims:
                what = f"{e.name or e.metric or e.id}: {e.value:g} {e.unit or ''}".strip()
                out[e.source].append(SourceClaim(cid, "gives numbers for", None, what))
    return dict(out)
