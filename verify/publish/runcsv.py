"""data/measurements.csv, the site's largest download (a row per run x cell x tier side), from
per-environment parts kept beside the corpus cache.

A part holds, for each run of one environment, the run's rows as CSV text and what they were
made of: its record (path, and size and modification time as kg.load saw them before reading it;
records are append-only), verdict and end, and its claim's tier names. It is used only for a
graph loaded from this project's files in which nothing but the records describes a run
(kg.doccache.records_tell), as only then do the records tell the rows. A publish formats again only the runs whose inputs differ from their
part's (after a new record: that record's rows alone) and rewrites only the parts of environments
whose runs changed; a part written by other code, or for other columns of its environment, is
made afresh. The download is the runs' texts in the site's order (newest first): the same bytes
as formatting every row afresh, which ``use_cache=False`` does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any

from kg import frames, paths
from kg.fsutil import write_atomic
from kg.paths import PACKAGE_ROOT
from kg.rows import Run
from kg.store import Corpus
from verify.publish.sitedata import SiteData, safe_name

VERSION = "1"
FOLDER = "measurements-csv"
COLUMNS = list(frames.MEASUREMENT_COLUMNS)
CODE_GLOBS = ("kg/*.py", "kg/*.json", "verify/publish/runcsv.py")  # what makes the rows


def _code() -> str:
    h = hashlib.sha256(f"v{VERSION}".encode())
    for f in sorted(p for g in CODE_GLOBS for p in PACKAGE_ROOT.glob(g)):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def measurements_csv(corpus: Corpus, data: SiteData, *, use_cache: bool = True) -> str:
    """The text of data/measurements.csv for the runs of `data`."""
    by_env: dict[str, list[Run]] = {}
    for r in data.runs:
        by_env.setdefault(r.environment, []).append(r)
    code = _code() if use_cache else ""
    texts: dict[str, str] = {}
    for env_id, runs in sorted(by_env.items()):
        texts.update(_part(corpus, data, env_id, runs, code))
    if use_cache:
        _prune(paths.cache_dir(data.root) / FOLDER, {_name(e) for e in by_env})
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n").writeheader()
    return buf.getvalue() + "".join(texts.get(r.run, "") for r in data.runs)


def _name(env_id: str) -> str:
    return f"{safe_name(env_id)}.json"


def _part(
    corpus: Corpus, data: SiteData, env_id: str, runs: list[Run], code: str
) -> dict[str, str]:
    """Each of one environment's runs' CSV text, from its cached part where its inputs match."""
    inputs = {r.run: made for r in runs if (made := _inputs(corpus, data, r)) is not None}
    path = paths.cache_dir(data.root) / FOLDER / _name(env_id)
    env = data.environments.get(env_id)
    columns = [getattr(env, k, None) if env else None for k in frames.ENV_COLUMNS]
    stamp = hashlib.sha256(f"{code}\0{env_id}\0{json.dumps(columns)}".encode()).hexdigest()
    old = _read(path, stamp) if code else {}
    texts = {run: old[run][1] for run, made in inputs.items() if run in old and old[run][0] == made}
    todo = [r for r in runs if r.run not in texts]
    if todo:
        fresh = _texts(frames.measurement_rows(corpus, todo))
        texts.update({r.run: fresh.get(r.run, "") for r in todo})  # a run may have no cells
    if code and (any(r.run in inputs for r in todo) or set(old) != set(inputs)):
        keep = {run: [made, texts[run]] for run, made in inputs.items()}
        try:
            write_atomic(path, json.dumps({"stamp": stamp, "runs": keep}))
        except OSError:
            pass  # a read-only cache only costs speed
    return texts


def _inputs(corpus: Corpus, data: SiteData, r: Run) -> str | None:
    """What a run's rows are made of, or None when it has no record the corpus read to tell a
    change by (its rows are then formatted every time)."""
    seen = corpus.record_stats.get(str(data.root / r.record)) if r.record else None
    if seen is None:
        return None
    claim = data.claims.get(r.claim_id)
    check = next((k for k in claim.checks if k.check_id == r.check_id), None) if claim else None
    rule = check.rule if check else None  # the run's own check names the tiers, as kg.frames does
    sides = [rule.subject, rule.baseline] if rule else None
    return json.dumps([r.claim_id, r.verdict.value, r.ended, r.record, seen, sides])


def _texts(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The rows as CSV text per run, written by one writer (a run's rows come one after another)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    ends: list[tuple[str, int]] = []
    for row in rows:
        if not ends or ends[-1][0] != row["run"]:
            ends.append((row["run"], 0))
        w.writerow(row)
        ends[-1] = (row["run"], buf.tell())
    text, start = buf.getvalue(), 0
    texts: dict[str, str] = {}
    for run, end in ends:
        texts[run] = texts.get(run, "") + text[start:end]
        start = end
    return texts


def _read(path: Path, stamp: str) -> dict[str, list[str]]:
    try:
        part = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(part, dict) or part.get("stamp") != stamp:
        return {}
    runs = part.get("runs")
    if not isinstance(runs, dict):
        return {}
    return {k: v for k, v in runs.items()
            if isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)}  # fmt: skip


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the parts of environments no run is from any more."""
    for path in folder.glob("*.json"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
