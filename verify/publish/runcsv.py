"""data/measurements.csv and data/runs.csv, the site's largest downloads (a row per run x cell x
tier side, and one per run), from per-environment parts kept beside the corpus cache.

A part holds, for each run of one environment, the run's rows as CSV text and what they were
made of: its record (path, and size and modification time as kg.load saw them before reading it;
records are append-only), verdict and end, and its claim's tier names (for the runs, its
environment's label instead). It is used only for a
graph loaded from this project's files in which nothing but the records describes a run
(kg.doccache.records_tell), as only then do the records tell the rows. A publish formats again
only the runs whose inputs differ from their part's (after a new record: that record's rows
alone) and writes only the parts of environments whose runs changed.

A part is two files: the texts, raw (``<env>.csv``: a line naming the part, then each run's text
after a line naming the run and its length), and an index of them
(``<env>.index``: a line naming what the part was made for and its texts' file, then a line per
run: its name, inputs, and where its text starts and how long it is), so that reading a part
reads its texts as bytes and parses only the short index lines. The texts of new or changed runs
are appended, then their index lines (the last line of a run stands; a part is written holding
a lock on the folder); both are written whole again when a run is gone, when superseded lines would
outnumber the runs, or when an index line is not whole (a publish stopped while appending). An
index line is taken only where its run's naming line is where it says, so a text is never taken
from a place another run's bytes fill. A part written by other code, or for other columns of its
environment, is made afresh. The download is the runs' texts in the site's order (newest
first), as pieces the site's writer writes one after another: the same bytes as formatting every
row afresh, which ``use_cache=False`` does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg import frames, paths
from kg.fsutil import locked, write_atomic
from kg.paths import PACKAGE_ROOT
from kg.rows import Run
from kg.store import Corpus
from verify.publish.sitedata import SiteData, safe_name

VERSION = "5"
CODE_GLOBS = ("kg/*.py", "kg/*.json", "verify/publish/runcsv.py")  # what makes the rows


@dataclass(frozen=True)
class Table:
    """One download made of per-run texts: its columns, the cache folder of its parts, the
    function of kg.frames that makes the rows of some runs, and whether a run's rows depend on
    its claim's tiers (else on its environment's label)."""

    name: str
    columns: list[str]
    folder: str
    maker: str
    by_tiers: bool

    def rows(self, corpus: Corpus, runs: list[Run]) -> list[dict[str, Any]]:
        """The rows of these runs, in their order."""
        make: Callable[[Corpus, Iterable[Run]], list[dict[str, Any]]] = getattr(frames, self.maker)
        return make(corpus, runs)


MEASUREMENTS = Table("measurements", list(frames.MEASUREMENT_COLUMNS), "measurements-csv",
                     "measurement_rows", True)  # fmt: skip
RUNS = Table("runs", list(frames.RUN_COLUMNS), "runs-csv", "run_rows", False)
TABLES = {t.name: t for t in (MEASUREMENTS, RUNS)}


def _code() -> str:
    h = hashlib.sha256(f"v{VERSION}".encode())
    for f in sorted(p for g in CODE_GLOBS for p in PACKAGE_ROOT.glob(g)):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def measurements_csv(corpus: Corpus, data: SiteData, *, use_cache: bool = True) -> bytes:
    """The bytes of data/measurements.csv for the runs of `data`."""
    return b"".join(download(corpus, data, "measurements", use_cache=use_cache))


def download(
    corpus: Corpus, data: SiteData, name: str, *, use_cache: bool = True
) -> list[bytes | memoryview]:
    """The bytes of data/<name>.csv ("measurements" or "runs") for the runs of `data`, as the
    pieces they are written in: the header, then each run's text."""
    table = TABLES[name]
    by_env: dict[str, list[Run]] = {}
    for r in data.runs:
        by_env.setdefault(r.environment, []).append(r)
    code = _code() if use_cache else ""
    texts: dict[str, bytes | memoryview] = {}
    tiers: dict[tuple[str, str], str] = {}
    for env_id, runs in sorted(by_env.items()):
        texts.update(_part(corpus, data, table, env_id, runs, code, tiers))
    if use_cache:
        _prune(paths.cache_dir(data.root) / table.folder,
               {n for e in by_env for n in _names(e)})  # fmt: skip
    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=table.columns, lineterminator="\n").writeheader()
    return [buf.getvalue().encode(), *(texts.get(r.run, b"") for r in data.runs)]


def _names(env_id: str) -> tuple[str, str]:
    """A part's index and texts file names."""
    return f"{safe_name(env_id)}.index", f"{safe_name(env_id)}.csv"


def _part(
    corpus: Corpus, data: SiteData, table: Table, env_id: str, runs: list[Run], code: str,
    tiers: dict[tuple[str, str], str],
) -> dict[str, bytes | memoryview]:  # fmt: skip
    """Each of one environment's runs' CSV text, from its cached part where its inputs match;
    `tiers` memoises each check's tier names."""
    seen = corpus.records_seen()
    inputs = {r.run: made for r in runs
              if (made := _inputs(data, table, r, seen, tiers)) is not None}  # fmt: skip
    folder = paths.cache_dir(data.root) / table.folder
    env = data.environments.get(env_id)
    columns = [getattr(env, k, None) if env else None for k in frames.ENV_COLUMNS]
    made_for = f"{code}\0{table.name}\0{env_id}\0{json.dumps(columns)}"
    part = _Part(folder, env_id, hashlib.sha256(made_for.encode()).hexdigest())
    old = part.read() if code else {}
    texts: dict[str, bytes | memoryview] = {
        run: old[run][1] for run, made in inputs.items() if run in old and old[run][0] == made
    }
    todo = [r for r in runs if r.run not in texts]
    if todo:
        fresh = _texts(table.rows(corpus, todo), table.columns)
        texts.update({r.run: fresh.get(r.run, b"") for r in todo})  # a run may have no cells
    if code:
        part.keep(inputs, texts, old)
    return texts


class _Part:
    """One environment's part: its index and its texts (see the module's docstring)."""

    def __init__(self, folder: Path, env_id: str, stamp: str) -> None:
        index, texts = _names(env_id)
        self.folder, self.stamp = folder, stamp
        self.index, self.texts = folder / index, folder / texts
        self.token, self.lines, self.whole = "", 0, False

    def read(self) -> dict[str, tuple[str, memoryview]]:
        """The part's runs -> (inputs, text) (a run's last line); sets how many run lines the
        index has and whether every one of them is whole and points at its run's text."""
        self.lines, self.whole = 0, False
        try:
            index = self.index.read_text(encoding="utf-8")
            blob = memoryview(self.texts.read_bytes())
        except (OSError, ValueError):
            return {}
        lines = index.split("\n")  # JSON strings hold no raw line break
        try:
            head = json.loads(lines[0])
        except ValueError:
            return {}
        if not isinstance(head, dict) or head.get("stamp") != self.stamp:
            return {}
        token = head.get("texts")
        if not isinstance(token, str) or bytes(blob[: len(_head(token))]) != _head(token):
            return {}  # the texts of another writing of the part
        self.token = token
        whole = index.endswith("\n")
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
        runs: dict[str, tuple[str, memoryview]] = {}
        for found in parsed:
            text = self._text(found, blob)
            if text is None:
                whole = False
            else:
                runs[found[0]] = (found[1], text)
        self.lines, self.whole = len(lines) - 2, whole
        return runs

    @staticmethod
    def _text(found: Any, blob: memoryview) -> memoryview | None:
        """The text an index line points at, where it is the one its run's naming line names."""
        if not (isinstance(found, list) and len(found) == 4 and isinstance(found[0], str)
                and isinstance(found[1], str) and type(found[2]) is int
                and type(found[3]) is int):  # fmt: skip
            return None
        run, _, start, size = found
        name = _name_line(run, size)
        at = start - len(name)
        if at < 0 or size < 0 or start + size > len(blob) or blob[at:start] != name:
            return None
        return blob[start : start + size]

    def keep(
        self, inputs: dict[str, str], texts: dict[str, bytes | memoryview],
        old: dict[str, tuple[str, memoryview]],
    ) -> None:  # fmt: skip
        """Bring the part up to date: the texts and index lines of new or changed runs
        appended, or both files written whole again (see the module's docstring)."""
        changed = [run for run, made in inputs.items() if run not in old or old[run][0] != made]
        gone = set(old) - set(inputs)
        if not changed and not gone and self.whole:
            return
        append = self.whole and not gone and self.lines + len(changed) <= 2 * len(inputs)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with locked(self.folder):  # one writer at a time: offsets are taken from the file
                if append and self._append(changed, inputs, texts):
                    return
                token = os.urandom(8).hex()
                blob, lines = self._pieces(list(inputs), inputs, texts, len(_head(token)))
                write_atomic(self.texts, b"".join([_head(token), *blob]))
                write_atomic(self.index, json.dumps({"stamp": self.stamp, "texts": token})
                             + "\n" + "".join(lines))  # fmt: skip
        except OSError:
            pass  # a read-only cache only costs speed

    def _append(
        self, runs: list[str], inputs: dict[str, str], texts: dict[str, bytes | memoryview]
    ) -> bool:
        """Append the runs' texts, then their index lines; False where the part on disk is no
        longer the one read (another publish wrote it whole meanwhile)."""
        try:
            with open(self.index, encoding="utf-8") as fh:
                head = json.loads(fh.readline())
        except (OSError, ValueError):
            return False
        if not isinstance(head, dict) or head.get("texts") != self.token:
            return False
        with open(self.texts, "ab") as fh:
            fh.seek(0, os.SEEK_END)
            blob, lines = self._pieces(runs, inputs, texts, fh.tell())
            fh.write(b"".join(blob))
        with open(self.index, "a", encoding="utf-8") as fh:
            fh.write("".join(lines))
        return True

    @staticmethod
    def _pieces(
        runs: list[str], inputs: dict[str, str], texts: dict[str, bytes | memoryview], at: int
    ) -> tuple[list[bytes | memoryview], list[str]]:
        """The runs' naming lines and texts as written from offset `at`, and their index lines."""
        blob: list[bytes | memoryview] = []
        lines: list[str] = []
        for run in runs:
            text = texts[run]
            name = _name_line(run, len(text))
            at += len(name)
            blob += [name, text]
            lines.append(json.dumps([run, inputs[run], at, len(text)]) + "\n")
            at += len(text)
        return blob, lines


def _head(token: str) -> bytes:
    return f"fwclaims-measurements-part {token}\n".encode()


def _name_line(run: str, size: int) -> bytes:
    """The line before a run's text in a part's texts: its name and length (a run id is an IRI's
    last part: it holds no line break)."""
    return f"{run}\x1f{size}\n".encode()


def _inputs(
    data: SiteData, table: Table, r: Run, seen: dict[str, list[int] | None],
    tiers: dict[tuple[str, str], str],
) -> str | None:  # fmt: skip
    """What a run's rows are made of, or None when it has no record the corpus read to tell a
    change by (its rows are then formatted every time); `tiers` memoises each check's tiers."""
    known = seen.get(r.record) if r.record else None
    if known is None:
        return None
    if table.by_tiers:
        key = (r.claim_id, r.check_id)
        told = tiers.get(key)
        if told is None:  # the run's own check names the tiers, as in kg.frames
            claim = data.claims.get(r.claim_id)
            checks = claim.checks if claim else []
            check = next((k for k in checks if k.check_id == r.check_id), None)
            rule = check.rule if check else None
            told = tiers[key] = json.dumps([rule.subject, rule.baseline] if rule else None)
    else:
        told = r.environment_label
    return f"{r.claim_id}\x1f{r.verdict.value}\x1f{r.ended}\x1f{r.record}\x1f{known}\x1f{told}"


def _texts(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, bytes]:
    """The rows as CSV text per run, written by one writer (a run's rows come one after another)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
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
    return {run: t.encode() for run, t in texts.items()}


def _prune(folder: Path, keep: set[str]) -> None:
    """Remove the parts of environments no run is from any more (and those of older code)."""
    for path in folder.glob("*.*"):
        if path.suffix in {".json", ".jsonl", ".index", ".csv"} and path.name not in keep:
            path.unlink(missing_ok=True)
