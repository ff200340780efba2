"""data/measurements.csv, the site's largest download (a row per run x cell x tier side), from
per-environment parts kept beside the corpus cache.

A part holds, for each run of one environment, the run's rows as CSV text and what they were
made of: its record (path, and size and modification time as kg.load saw them before reading it;
records are append-only), verdict and end, and its claim's tier names. It is used only for a
graph loaded from this project's files in which nothing but the records describes a run
(kg.doccache.records_tell), as only then do the records tell the rows. A publish formats again
only the runs whose inputs differ from their part's (after a new record: that record's rows
alone) and writes only the parts of environments whose runs changed: a part is a line naming what
it was made for, then a line per run, so the lines of new or changed runs are appended (the last
line of a run stands); a part is written whole again when a run is gone, when superseded lines
would outnumber the runs, or when its last line is not whole (a publish stopped while appending).
A part written by other code, or for other columns of its environment, is made afresh. The download is the runs' texts in the site's order (newest first): the same bytes
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

VERSION = "3"
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
    return f"{safe_name(env_id)}.jsonl"


def _part(
    corpus: Corpus, data: SiteData, env_id: str, runs: list[Run], code: str
) -> dict[str, str]:
    """Each of one environment's runs' CSV text, from its cached part where its inputs match."""
    sides: dict[tuple[str, str], str] = {}
    inputs = {r.run: made for r in runs if (made := _inputs(corpus, data, r, sides)) is not None}
    path = paths.cache_dir(data.root) / FOLDER / _name(env_id)
    env = data.environments.get(env_id)
    columns = [getattr(env, k, None) if env else None for k in frames.ENV_COLUMNS]
    stamp = hashlib.sha256(f"{code}\0{env_id}\0{json.dumps(columns)}".encode()).hexdigest()
    old, lines, whole = _read(path, stamp) if code else ({}, 0, False)
    texts = {run: old[run][1] for run, made in inputs.items() if run in old and old[run][0] == made}
    todo = [r for r in runs if r.run not in texts]
    if todo:
        fresh = _texts(frames.measurement_rows(corpus, todo))
        texts.update({r.run: fresh.get(r.run, "") for r in todo})  # a run may have no cells
    if code:
        _keep(path, stamp, inputs, texts, old, lines, whole)
    return texts


def _keep(
    path: Path, stamp: str, inputs: dict[str, str], texts: dict[str, str],
    old: dict[str, list[str]], lines: int, whole: bool,
) -> None:  # fmt: skip
    """Bring the part at `path` up to date: the lines of new or changed runs appended, or the
    whole part written again (see the module's docstring)."""
    changed = [run for run, made in inputs.items() if run not in old or old[run][0] != made]
    gone = set(old) - set(inputs)
    if not changed and not gone and whole:
        return
    try:
        if whole and not gone and lines + len(changed) <= 2 * len(inputs):
            with open(path, "a", encoding="utf-8") as fh:
                fh.write("".join(_line(run, inputs[run], texts[run]) for run in changed))
            return
        body = "".join(_line(run, made, texts[run]) for run, made in inputs.items())
        write_atomic(path, json.dumps({"stamp": stamp}) + "\n" + body)
    except OSError:
        pass  # a read-only cache only costs speed


def _line(run: str, made: str, text: str) -> str:
    return json.dumps([run, made, text]) + "\n"


def _inputs(
    corpus: Corpus, data: SiteData, r: Run, sides: dict[tuple[str, str], str]
) -> str | None:
    """What a run's rows are made of, or None when it has no record the corpus read to tell a
    change by (its rows are then formatted every time); `sides` memoises each check's tiers."""
    seen = corpus.record_seen(r.record) if r.record else None
    if seen is None:
        return None
    key = (r.claim_id, r.check_id)
    tiers = sides.get(key)
    if tiers is None:
        claim = data.claims.get(r.claim_id)
        check = next((k for k in claim.checks if k.check_id == r.check_id), None) if claim else None
        rule = check.rule if check else None  # the run's own check names the tiers, as kg.frames
        tiers = sides[key] = json.dumps([rule.subject, rule.baseline] if rule else None)
    return f"{r.claim_id}\x1f{r.verdict.value}\x1f{r.ended}\x1f{r.record}\x1f{seen}\x1f{tiers}"


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


def _read(path: Path, stamp: str) -> tuple[dict[str, list[str]], int, bool]:
    """A part's runs -> [inputs, text] (a run's last line), how many run lines it has, and
    whether every line of it is whole."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError):
        return {}, 0, False
    lines = text.split("\n")  # JSON strings hold no raw line break
    try:
        head = json.loads(lines[0])
    except ValueError:
        return {}, 0, False
    if not isinstance(head, dict) or head.get("stamp") != stamp:
        return {}, 0, False
    runs: dict[str, list[str]] = {}
    whole = text.endswith("\n")
    body = lines[1:-1]  # the last is empty, or a line left half written
    try:  # every line at once (one parse, not one per run); a damaged line: each on its own
        parsed: list[Any] = json.loads("[" + ",".join(body) + "]") if body else []
        if len(parsed) != len(body):
            raise ValueError("a line holds more or less than one value")
    except ValueError:
        parsed = []
        for line in body:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                whole = False
    for found in parsed:
        if isinstance(found, list) and len(found) == 3 and all(isinstance(x, str) for x in found):
            runs[found[0]] = found[1:]
        else:
            whole = False
    return runs, len(lines) - 2, whole


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the parts of environments no run is from any more (and those of older code)."""
    for path in [*folder.glob("*.json"), *folder.glob("*.jsonl")]:
        if path.name not in keep:
            path.unlink(missing_ok=True)
