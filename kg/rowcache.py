"""The read API's bulk rows of one load, kept beside the corpus cache for the next, so that a
publish after a few new run records queries only those records.

Kept are the rows made of the claim files alone (claims with their parts, citation chains and
edges, sources, published evidence, concept notations) and those made of the run records (runs,
their cells' measurements, what the record graphs say of environments and how many runs each
has), under a key of everything the rows are made of but the records: kg.load's key of the
claim files and kg's code (their sizes and modification times as the load saw them before reading
them), the Python and Oxigraph versions. With them go the record files they were made from, each
with its size and modification time as kg.load saw it before reading it (records are
append-only).

`restore` fills a corpus's memo (``Corpus.memoised``) with the kept rows when the key matches
and every kept record is there unchanged. A record added since is queried on its own: the named
queries of kg.runqueries scoped to its graph (its runs, its environment's statements and runs)
and to its runs (their cells); its rows are merged into the kept ones in the order the queries
over every record give, and runs are labelled again by their environments' names among all of
them (a new environment can rename the others). The claim rows stand as kept: kg.recordgraph
gives a record's graph only its run, review, cells and environment (or exploration), so no
record speaks of a claim, a source or published evidence. Nothing is filled, and the full
queries run as before, when a kept record was removed or changed, when a new record restates a
run the rows hold, or when records do not tell what the graph says of runs
(kg.doccache.records_tell: a graph on a SPARQL server, say).

The rows are kept as a pickle that is read back by an unpickler building nothing but kg's row
and model classes, under a digest of its bytes: a damaged or foreign file is a miss. The
measurements are kept as kg.rows.Cells, plain tuples that become rows only when a run's are
read. After a few
new records only their rows are saved, beside the kept ones in a second, small file that names
the first by its digest (and holds the rows of every record added since the first was written),
so that a publish after one new record does not write every row again; once the records added
since outnumber a tenth of those kept, the rows are written whole again and the second file goes.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from kg import api, doccache, model, ns, paths, queries, rows, runqueries
from kg.fsutil import write_atomic
from kg.rows import Run
from kg.store import Corpus, display_path

VERSION = "1"
FILE = "read-api-rows.pickle"
ADDED = "read-api-rows.added.pickle"  # the rows of the records added since FILE was written
# how many such records (a share of those FILE holds, or at least) before FILE is written again
ADDED_SHARE, ADDED_MIN = 0.1, 50
# the memo entries kept, with what fills each (the key is the one its function memoises under)
CLAIM_ROWS: dict[str, Callable[[Corpus], object]] = {
    "claim_details": queries.claim_details,
    "claim_ids": api.claim_ids,
    "notations": queries.notations,
    "citation_chains": api.all_citation_chains,
    "citation_edges": queries.citation_edges,
    "sources": api.sources,
    "evidence": api.evidence,
}
RECORD_ROWS: dict[str, Callable[[Corpus], object]] = {
    "runs": runqueries.runs,
    "measurements": runqueries.measurements,
    "environment_triples": runqueries.environment_triples,
    "environment_run_counts": runqueries.run_counts,
}
ROW_MODULES = {"kg.rows": rows, "kg.model": model}


@dataclass(frozen=True)
class Restored:
    """What `restore` filled the memo from: the kept rows and the records added since; for
    `save`, the rows of every record the whole file does not hold, that file's digest and how
    many records it holds."""

    new_records: int
    added: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    base: str = field(default="", compare=False, repr=False)
    base_records: int = field(default=0, compare=False, repr=False)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return ""


def key(corpus: Corpus) -> str | None:
    """A digest of everything the kept rows are made of but the run records (kg.load's key of
    the claim files and kg's code as the load saw them), or None for a corpus without one."""
    if not corpus.fingerprint:
        return None
    text = f"v{VERSION}\0{sys.version}\0{_version('pyoxigraph')}\0{corpus.fingerprint}"
    return hashlib.sha256(text.encode()).hexdigest()


def _path(corpus: Corpus) -> Path:
    return paths.cache_dir(corpus.root) / FILE


def restore(corpus: Corpus) -> Restored | None:
    """Fill the corpus's memo with the kept rows and those of the records added since; None
    (nothing filled) when they cannot be told apart from what the full queries would give."""
    want = key(corpus)
    if want is None or "runs" in corpus.memo or not doccache.records_tell(corpus):
        return None
    kept, digest = _read(_path(corpus), want)
    if kept is None:
        return None
    added = _read(paths.cache_dir(corpus.root) / ADDED, f"{want}.{digest}", set(RECORD_ROWS))[0]
    added = added if added is not None else {"records": {}, "rows": _no_rows()}
    held: dict[str, list[int] | None] = {**kept["records"], **added["records"]}
    now = corpus.record_stats
    if any(stat is None or now.get(p) != stat for p, stat in held.items()):
        return None  # a record removed or rewritten since: its rows may be gone or different
    new = sorted(p for p in now if p not in held)
    found: dict[str, Any] | None = kept["rows"]
    rows = added["rows"]
    if new or added["records"]:
        graphs = [ns.graph_iri(display_path(corpus.root, Path(p))) for p in new]
        rows = _added_rows(corpus, kept["rows"], rows, graphs)
        found = _merge(corpus, kept["rows"], rows) if rows is not None else None
    if found is None or rows is None:
        for name in ("environment_triples", "environment_run_counts"):
            corpus.memo.pop(name, None)
        return None
    for name, value in found.items():
        corpus.memo.setdefault(name, value)
    records = {p: now[p] for p in now if p not in kept["records"]}
    return Restored(len(new), {"records": records, "rows": rows}, digest, len(kept["records"]))


def _no_rows() -> dict[str, Any]:
    return {"environment_triples": [], "environment_run_counts": {}, "runs": [],
            "measurements": {}}  # fmt: skip


def _added_rows(
    corpus: Corpus, kept: dict[str, Any], added: dict[str, Any], graphs: list[str]
) -> dict[str, Any] | None:
    """The rows of the records the whole file does not hold: those kept beside it (`added`)
    and those of the record graphs `graphs`, queried; the environment rows of all of them go
    into the memo first, as the new runs are labelled by the environments' names among all of
    them. None where a new record restates a run the added rows hold."""
    triples = set(added["environment_triples"])
    counts = dict(added["environment_run_counts"])
    if graphs:
        triples |= set(runqueries.environment_triples(corpus, graphs))
        for env, n in runqueries.run_counts(corpus, graphs).items():
            counts[env] = counts.get(env, 0) + n
    every = dict(kept["environment_run_counts"])
    for env, n in counts.items():
        every[env] = every.get(env, 0) + n
    corpus.memo["environment_triples"] = runqueries.triple_order(
        set(kept["environment_triples"]) | triples
    )
    corpus.memo["environment_run_counts"] = every
    runs: list[Run] = list(added["runs"])
    cells: dict[str, Any] = dict(added["measurements"])
    if graphs:
        fresh = runqueries.runs(corpus, graphs)
        fresh_cells = runqueries.measurements(corpus, [r.run for r in fresh])
        known = {r.run for r in runs}
        if any(r.run in known for r in fresh) or any(run in cells for run in fresh_cells):
            return None
        runs += fresh
        cells.update(fresh_cells)
    return {"environment_triples": runqueries.triple_order(triples),
            "environment_run_counts": counts, "runs": runs, "measurements": cells}  # fmt: skip


def _merge(corpus: Corpus, kept: dict[str, Any], added: dict[str, Any]) -> dict[str, Any] | None:
    """The kept rows with the added ones merged in (the memo holds the environment rows of all
    of them); None where an added record restates a run the kept rows hold (the queries would
    merge the two)."""
    held: list[Run] = kept["runs"]
    known = {r.run for r in held}
    held_cells: dict[str, Any] = kept["measurements"]
    fresh: list[Run] = added["runs"]
    cells: dict[str, Any] = added["measurements"]
    if any(r.run in known for r in fresh) or any(run in held_cells for run in cells):
        return None
    labels = runqueries.environment_labels(corpus)
    relabelled = [r if r.environment_label == labels.get(r.environment, r.environment)
                  else replace(r, environment_label=labels.get(r.environment, r.environment))
                  for r in [*held, *fresh]]  # fmt: skip
    return {
        **kept,
        "runs": runqueries.order_runs(relabelled),
        "measurements": rows.Cells.merged(held_cells, cells),
        "environment_triples": corpus.memo["environment_triples"],
        "environment_run_counts": corpus.memo["environment_run_counts"],
    }


def save(corpus: Corpus, restored: Restored | None = None) -> None:
    """Keep the corpus's bulk rows for the next load (running the queries not yet run), unless
    they are those `restore` read back unchanged or records do not tell them; after a few new
    records only the rows of the records the whole file does not hold."""
    want = key(corpus)
    if want is None or (restored is not None and restored.new_records == 0):
        return
    if not doccache.records_tell(corpus) or any(s is None for s in corpus.record_stats.values()):
        return
    added = paths.cache_dir(corpus.root) / ADDED
    if restored is not None and restored.added is not None and restored.base:
        if len(restored.added["records"]) <= max(ADDED_MIN, ADDED_SHARE * restored.base_records):
            _write(added, f"{want}.{restored.base}", _packed(restored.added))
            return
    found: dict[str, Any] = {}
    for name, make in {**CLAIM_ROWS, **RECORD_ROWS}.items():
        make(corpus)
        found[name] = corpus.memo[name]
    if _write(_path(corpus), want, _packed({"records": corpus.record_stats, "rows": found})):
        added.unlink(missing_ok=True)


def _packed(kept: dict[str, Any]) -> dict[str, Any]:
    """Kept rows with the measurements as kg.rows.Cells, which read back several times faster."""
    found = kept["rows"]
    return {**kept, "rows": {**found, "measurements": rows.Cells.pack(found["measurements"])}}


def _write(path: Path, stamp: str, kept: dict[str, Any]) -> bool:
    body = pickle.dumps(kept, protocol=5)
    head = f"fwclaims-rows {stamp} {hashlib.sha256(body).hexdigest()}\n".encode("ascii")
    try:
        write_atomic(path, head + body)
    except OSError:
        return False  # a read-only cache only costs speed
    return True


class _RowUnpickler(pickle.Unpickler):
    """Builds kg's row and model classes and nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        found = getattr(ROW_MODULES[module], name, None) if module in ROW_MODULES else None
        # defined there, not merely imported there (a name like Path is not a row)
        if not isinstance(found, type) or found.__module__ != module:
            raise pickle.UnpicklingError(f"{module}.{name} is not a row class")
        return found


def _read(
    path: Path, want: str, names: set[str] | None = None
) -> tuple[dict[str, Any] | None, str]:
    """The rows kept in `path` under the stamp `want` (those named `names`, by default every
    kept one), and the digest of the file's body."""
    try:
        data = path.read_bytes()
    except OSError:
        return None, ""
    head, _, body = data.partition(b"\n")
    parts = head.decode("ascii", "replace").split(" ")
    if len(parts) != 3 or parts[:2] != ["fwclaims-rows", want]:
        return None, ""
    digest = hashlib.sha256(body).hexdigest()
    if digest != parts[2]:
        return None, ""
    try:
        kept = _RowUnpickler(io.BytesIO(body)).load()
    except Exception:  # any damage is a miss: the rows are made again
        return None, ""
    if not isinstance(kept, dict) or not isinstance(kept.get("records"), dict):
        return None, ""
    rows = kept.get("rows")
    if not isinstance(rows, dict) or set(rows) != (names or {*CLAIM_ROWS, *RECORD_ROWS}):
        return None, ""
    return kept, digest
