"""pytest-benchmark's JSON, both ways.

``to_pytest_benchmark(record)`` turns a run record into the file `pytest --benchmark-json`
writes: machine_info and commit_info from the record's environment and commit, one benchmark per
cell x tier whose stats are computed from the record's samples (seconds per call), so that
`pytest-benchmark compare a.json b.json` sets runs and machines side by side.

``evidence_turtle(data, ...)`` goes the other way: a team's own pytest-benchmark file becomes
published evidence for a claim (one fwc:Measurement per benchmark, its median, with the file's
machine as the hardware), written as Turtle into data/snapshots/ and loaded with the claims, so an
existing benchmark suite can back or contradict a claim on the site.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from pathlib import Path
from typing import Any

from kg import ns, paths
from kg.errors import UsageError
from kg.fsutil import write_atomic
from kg.records import read_record

FORMAT_VERSION = "5.1.0"  # the pytest-benchmark file layout written here
PREFIX = "pytest-benchmark-"


def stats(data: list[float], iterations: int = 1) -> dict[str, Any]:
    """pytest-benchmark's stats of some timings (seconds), by its definitions."""
    ordered = sorted(data)
    n = len(ordered)
    mean = statistics.fmean(ordered)
    stddev = statistics.stdev(ordered) if n > 1 else 0.0
    q1, q3 = _quartiles(ordered)
    iqr = q3 - q1
    low = next((x for x in ordered if x >= q1 - 1.5 * iqr), ordered[0])
    high = next((x for x in reversed(ordered) if x <= q3 + 1.5 * iqr), ordered[-1])
    sd_out = sum(1 for x in ordered if x < mean - stddev or x > mean + stddev)
    iqr_out = sum(1 for x in ordered if x < q1 - 1.5 * iqr or x > q3 + 1.5 * iqr)
    total = math.fsum(ordered)
    return {
        "min": ordered[0], "max": ordered[-1], "mean": mean, "stddev": stddev, "rounds": n,
        "median": statistics.median(ordered), "iqr": iqr, "q1": q1, "q3": q3,
        "iqr_outliers": iqr_out, "stddev_outliers": sd_out, "outliers": f"{sd_out};{iqr_out}",
        "ld15iqr": low, "hd15iqr": high, "ops": n / total if total else 0.0, "total": total,
        "data": list(data), "iterations": iterations,
    }  # fmt: skip


def _quartiles(d: list[float]) -> tuple[float, float]:
    """Q1 and Q3 as pytest-benchmark computes them (Wikipedia's methods 3 and 2)."""
    n = len(d)
    if n == 1:
        return d[0], d[0]
    if n % 2 == 0:
        return statistics.median(d[: n // 2]), statistics.median(d[n // 2 :])
    k = n // 4
    if n % 4 == 1:
        return 0.25 * d[k - 1] + 0.75 * d[k], 0.75 * d[3 * k] + 0.25 * d[3 * k + 1]
    return 0.75 * d[k] + 0.25 * d[k + 1], 0.25 * d[3 * k + 1] + 0.75 * d[3 * k + 2]


def to_pytest_benchmark(record: dict[str, Any]) -> dict[str, Any]:
    """A run record as a pytest-benchmark JSON document (a record without timed cells gives an
    empty benchmark list)."""
    env = record.get("environment") or {}
    cpu, osd = env.get("cpu") or {}, env.get("os") or {}
    machine = {
        "node": env.get("hostname_hash", ""), "processor": cpu.get("arch", ""),
        "machine": cpu.get("arch", ""), "python_implementation":
        env.get("python_implementation", "CPython"), "python_version": env.get("python", ""),
        "release": osd.get("release", ""), "system": osd.get("system", ""),
        "cpu": {"brand_raw": cpu.get("model", ""), "arch": cpu.get("arch", ""),
                "count": env.get("cores_logical")},
        "gpus": [g.get("name") for g in env.get("gpus") or []],
        "packages": env.get("packages") or {},
        "fwclaims_environment_id": record["environment_id"],
    }  # fmt: skip
    commit = {"id": record.get("git_commit") or "", "time": record["started"], "dirty": False,
              "project": "fwclaims", "branch": ""}  # fmt: skip
    benches = []
    tiers = record.get("tiers") or {}
    for cell in record.get("cells") or []:
        samples, calls = cell.get("samples") or {}, cell.get("calls_per_sample") or {}
        summary = cell.get("summary") or {}
        for side in ("subject", "baseline"):
            data = [x for process in samples.get(side) or [] for x in process]
            if not data:
                continue
            tier = (tiers.get(side) or {}).get("name") or record["check"]["rule"].get(side) or side
            name = f"{record['claim_id']}[{cell['label']}-{tier}]"
            benches.append({
                "group": f"{record['claim_id']} {cell['label']}", "name": name,
                "fullname": f"fwclaims::{record['check']['benchmark']}::{name}",
                "params": {"cell": cell["label"], "tier": tier, "side": side},
                "param": f"{cell['label']}-{tier}",
                "extra_info": {"record_id": record["record_id"], "ratio": summary.get("ratio"),
                               "ci_low": summary.get("ci_low"), "ci_high": summary.get("ci_high"),
                               "verdict": record["verdict"]["label"]},
                "options": {"disable_gc": False, "timer": "perf_counter", "min_rounds": 1,
                            "max_time": None, "min_time": None, "warmup": True},
                "stats": stats(data, int(calls.get(side) or 1)),
            })  # fmt: skip
    return {"machine_info": machine, "commit_info": commit, "benchmarks": benches,
            "datetime": record["started"], "version": FORMAT_VERSION}  # fmt: skip


def export_record(path: Path) -> str:
    """The pytest-benchmark JSON text of the record at `path`."""
    return json.dumps(to_pytest_benchmark(read_record(path)), indent=2, sort_keys=True) + "\n"


def read_pytest_benchmark(path: Path) -> dict[str, Any]:
    """A pytest-benchmark JSON file, checked for what the import needs."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: cannot be read ({e})") from e
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}:{e.lineno}: not JSON ({e.msg})") from e
    benches = data.get("benchmarks") if isinstance(data, dict) else None
    if not isinstance(benches, list) or not benches:
        raise UsageError(f"{path}: no 'benchmarks' list; is it a pytest --benchmark-json file?")
    for i, b in enumerate(benches):
        median = (b.get("stats") or {}).get("median") if isinstance(b, dict) else None
        if not isinstance(median, int | float) or not isinstance(b.get("name"), str):
            raise UsageError(f"{path}: benchmarks[{i}] has no name or no stats.median")
    return data


def _lit(text: object) -> str:
    return json.dumps(str(text), ensure_ascii=False)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "benchmark"


def machine_text(machine: dict[str, Any]) -> str:
    """The machine a pytest-benchmark file was made on, in a few words."""
    cpu = machine.get("cpu") or {}
    parts = [cpu.get("brand_raw") or machine.get("processor"), machine.get("machine"),
             machine.get("system"), machine.get("python_implementation"),
             machine.get("python_version")]  # fmt: skip
    return " ".join(str(p) for p in parts if p) or "unknown machine"


def evidence_turtle(
    data: dict[str, Any], *, name: str, claim_ids: list[str], framework: str | None = None
) -> str:
    """Turtle of a pytest-benchmark file as published evidence bearing on `claim_ids`: a source
    (the file, a data set) and one measurement per benchmark (its median, in seconds)."""
    sid = PREFIX + _slug(name)
    machine = machine_text(data.get("machine_info") or {})
    commit = (data.get("commit_info") or {}).get("id") or ""
    date = str(data.get("datetime") or "")[:10]
    lines = [f"# Published evidence imported from the pytest-benchmark file {name}.",
             "# Written by `verify evidence pytest-benchmark`: do not edit by hand.", ""]  # fmt: skip
    lines += [f"@prefix {p}: <{ns.PREFIXES[p]}> ." for p in ("fwc", "claim", "src", "schema",
                                                            "prov", "dcterms", "xsd")]  # fmt: skip
    lines += ["", f"src:{sid} a schema:Dataset ;", f"    schema:identifier {_lit(sid)} ;",
              f"    schema:name {_lit(f'pytest-benchmark results {name}, on {machine}')} ;"]  # fmt: skip
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        lines.append(f'    schema:datePublished "{date}"^^xsd:date ;')
    lines += ["    fwc:role fwc:DataSet .", ""]
    for b in data["benchmarks"]:
        st = b["stats"]
        m = f"<{ns.BASE}evidence/{sid}/{_slug(b.get('fullname') or b['name'])}>"
        what = f"{b['name']}: median {st['median']:.6g} s over {st.get('rounds', '?')} rounds"
        body = [f"{m} a fwc:Measurement ;", f"    schema:name {_lit(b['name'])} ;",
                f"    dcterms:description {_lit(f'{what} on {machine}' + (f' at commit {commit}' if commit else '') + '; from a pytest-benchmark file, not measured here.')} ;",
                '    schema:variableMeasured "median time per round" ;',
                f'    schema:value "{float(st["median"]):.9g}"^^xsd:decimal ;',
                '    schema:unitText "s" ;', '    schema:measurementTechnique "pytest-benchmark" ;',
                f"    fwc:hardware {_lit(machine)} ;"]  # fmt: skip
        if framework:
            body.append(f"    fwc:framework {_lit(framework)} ;")
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            body.append(f'    dcterms:date "{date}"^^xsd:date ;')
        body += [f"    fwc:bearsOn {', '.join(f'claim:{c}' for c in claim_ids)} ;",
                 f"    prov:hadPrimarySource src:{sid} .", ""]  # fmt: skip
        lines += body
    return "\n".join(lines)


def import_file(root: Path, path: Path, claim_ids: list[str], framework: str | None = None) -> Path:
    """Write data/snapshots/pytest-benchmark-<name>.ttl from a pytest-benchmark file and validate
    the corpus with it; on any problem (an unknown claim, say) the file is put back as it was."""
    from kg.load import load_corpus

    known = load_corpus(root, store="")
    from kg import api

    ids = set(api.claim_ids(known))
    for cid in claim_ids:
        if cid not in ids:
            from kg.errors import UnknownClaim

            raise UnknownClaim(cid, sorted(ids))
    data = read_pytest_benchmark(path)
    text = evidence_turtle(data, name=Path(path).stem, claim_ids=claim_ids, framework=framework)
    target = paths.snapshots_dir(root) / f"{PREFIX}{_slug(Path(path).stem)}.ttl"
    before = target.read_bytes() if target.exists() else None
    write_atomic(target, text)
    try:
        load_corpus(root, use_cache=False, store="")
    except BaseException:
        if before is None:
            target.unlink(missing_ok=True)
        else:
            write_atomic(target, before)
        raise
    return target
