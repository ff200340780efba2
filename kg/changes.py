"""How verdicts change: between two environments or version sets, along one environment's history,
and across framework versions; plus where the tools a claim names stand in their life.

Part of the read API, built only on kg.api's named queries. Rows are plain dicts. A run's side of a
comparison is always the same shape (``run_side``)::

    {"run", "environment", "environment_label", "verdict", "explanation", "ended", "record",
     "versions": {"torch", "tensorflow", "keras"},
     "measurements": [{"cell", "metric", "ratio", "ci_low", "ci_high", "confidence",
                       "subject_value", "baseline_value", "processes", "sample_size"}]}
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg import api
from kg.errors import UnknownClaim, UsageError
from kg.lifecycle import lifecycle, lifecycle_label, lifecycles  # noqa: F401 - part of this API
from kg.load import Corpus

# Selector and record names for the framework versions an environment holds.
PACKAGES = {"torch": "torch", "tensorflow": "tf", "tf": "tf", "keras": "keras", "jax": "jax",
            "numpy": "numpy"}  # fmt: skip
DECIDED = ("holds", "does-not-hold")


def release(version: str | None) -> tuple[int, ...]:
    """A version's release numbers for ordering: '2.13.0+cpu' -> (2, 13, 0); None -> ()."""
    if not version:
        return ()
    nums = re.findall(r"\d+", version.split("+")[0].split("rc")[0].split(".post")[0])
    return tuple(int(n) for n in nums)


def version_matches(have: str | None, want: str) -> bool:
    """Whether an installed version is the wanted one: '2.15.1' matches '2.15.1' and '2.15'."""
    if not have:
        return False
    have = have.split("+")[0]
    return have == want or have.startswith(want + ".")


@dataclass(frozen=True)
class RunSelector:
    """One side of a comparison: an environment (id or unambiguous prefix) or a set of versions."""

    environment: str | None = None
    versions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse_versions(cls, text: str) -> RunSelector:
        """'torch=2.13.0,tensorflow=2.15' as a selector; names: torch, tensorflow (tf), keras..."""
        pairs = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, version = part.partition("=")
            if not sep or not version.strip() or name.strip() not in PACKAGES:
                raise UsageError(
                    f"cannot read '{part}' in --versions: write NAME=VERSION with NAME one of "
                    f"{', '.join(sorted(PACKAGES))}, e.g. torch=2.13.0,tensorflow=2.15.1"
                )
            pairs.append((name.strip(), version.strip()))
        if not pairs:
            raise UsageError("--versions is empty: give e.g. torch=2.13.0,tensorflow=2.15.1")
        return cls(versions=tuple(pairs))

    def describe(self) -> str:
        """How the selector is shown to a reader."""
        if self.environment:
            return self.environment
        return ", ".join(f"{name} {version}" for name, version in self.versions)

    def environments(self, envs: list[dict]) -> list[str]:
        """Ids of the environments this selector picks out of kg.api.environments rows."""
        if self.environment:
            exact = [e["id"] for e in envs if e["id"] == self.environment]
            found = exact or [e["id"] for e in envs if e["id"].startswith(self.environment)]
            if len(found) > 1:
                raise UsageError(
                    f"'{self.environment}' names several environments ({', '.join(found)}):"
                    " give more of the id"
                )
        else:
            found = [
                e["id"]
                for e in envs
                if all(version_matches(e.get(PACKAGES[n]), v) for n, v in self.versions)
            ]
        if not found:
            known = ", ".join(e["id"] for e in envs) or "none yet; `verify run` adds one"
            raise UsageError(f"no environment matches {self.describe()}; environments: {known}")
        return found


def _versions(env: dict | None) -> dict:
    env = env or {}
    return {"torch": env.get("torch"), "tensorflow": env.get("tf"), "keras": env.get("keras")}


def cell_rows(corpus: Corpus, run_id: str) -> list[dict]:
    """A run's measurements with readable keys (ratio and CI per cell)."""
    return [
        {
            "cell": m["cell"],
            "metric": m["metric"],
            "ratio": m["value"],
            "ci_low": m["ciLow"],
            "ci_high": m["ciHigh"],
            "confidence": m["confidence"],
            "subject_value": m["subjectValue"],
            "baseline_value": m["baselineValue"],
            "processes": m["processes"],
            "sample_size": m["n"],
        }
        for m in api.measurements(corpus, run_id)
    ]


def run_side(corpus: Corpus, run: dict, env: dict | None) -> dict:
    """One run as a side of a comparison: verdict, explanation, versions and measurements."""
    return {
        "run": run["run"],
        "environment": run["environment"],
        "environment_label": run["environment_label"],
        "verdict": run["verdict"],
        "explanation": run["explanation"],
        "ended": run["ended"],
        "record": run["record"],
        "versions": _versions(env),
        "measurements": cell_rows(corpus, run["run"]),
    }


def _latest_by_claim(all_runs: list[dict], env_ids: set[str]) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for r in all_runs:  # newest first
        if r["environment"] in env_ids:
            latest.setdefault(r["claim_id"], r)
    return latest


def compare(corpus: Corpus, a: RunSelector, b: RunSelector) -> dict:
    """Verdicts of A and B side by side: the flips, how many claims both sides have, and the
    claims only one side has. Each side takes a claim's newest run among its environments."""
    envs = {e["id"]: e for e in api.environments(corpus)}
    all_runs = api.runs(corpus)
    la = _latest_by_claim(all_runs, set(a.environments(list(envs.values()))))
    lb = _latest_by_claim(all_runs, set(b.environments(list(envs.values()))))
    both = sorted(set(la) & set(lb))
    rows = []
    for cid in both:
        ra, rb = la[cid], lb[cid]
        if ra["verdict"] != rb["verdict"]:
            rows.append(
                {
                    "claim_id": cid,
                    "both_decided": ra["verdict"] in DECIDED and rb["verdict"] in DECIDED,
                    "a": run_side(corpus, ra, envs.get(ra["environment"])),
                    "b": run_side(corpus, rb, envs.get(rb["environment"])),
                }
            )
    return {
        "a": a.describe(),
        "b": b.describe(),
        "compared": len(both),
        "flips": rows,
        "only_a": sorted(set(la) - set(lb)),
        "only_b": sorted(set(lb) - set(la)),
    }


def flips(corpus: Corpus, a: RunSelector, b: RunSelector) -> list[dict]:
    """Claims whose newest verdict under A differs from the one under B, each with both sides
    (see the module docstring); ``both_decided`` is True for holds <-> does-not-hold."""
    return compare(corpus, a, b)["flips"]


def machine_label(env: dict) -> str:
    """The hardware of an environment without its software: 'H100' or '2-core <cpu model>'."""
    if env.get("gpu"):
        return str(env["gpu"]).replace("NVIDIA ", "")
    return f"{env.get('cores') or '?'}-core {env.get('cpu') or 'CPU'}"


def history_flips(corpus: Corpus, *, across_versions: bool = False) -> list[dict]:
    """Every verdict change between consecutive runs of a claim, newest change first.

    Runs are grouped per claim and environment (same hardware and framework versions), ordered by
    end time, and each consecutive pair whose verdict differs is one row::

        {"claim_id", "environment", "environment_label", "machine", "when",
         "both_decided", "before": run side, "after": run side}

    ``when`` is the later run's end time (ISO 8601 UTC; an Atom entry's ``updated``); run sides
    are as in the module docstring. With ``across_versions`` the runs are grouped per claim and
    machine instead (same CPU, cores and GPU), so upgrading torch or TensorFlow and re-running
    shows up as a change; ``environment`` is then the later run's.
    """
    envs = {e["id"]: e for e in api.environments(corpus)}
    last: dict[tuple, dict] = {}
    out = []
    for r in reversed(api.runs(corpus)):  # oldest first
        env = envs.get(r["environment"], {})
        where = machine_label(env) if across_versions else r["environment"]
        key = (r["claim_id"], where)
        before = last.get(key)
        last[key] = r
        if before is None or before["verdict"] == r["verdict"]:
            continue
        out.append(
            {
                "claim_id": r["claim_id"],
                "environment": r["environment"],
                "environment_label": r["environment_label"],
                "machine": machine_label(env),
                "when": r["ended"],
                "both_decided": before["verdict"] in DECIDED and r["verdict"] in DECIDED,
                "before": run_side(corpus, before, envs.get(before["environment"])),
                "after": run_side(corpus, r, env),
            }
        )
    return sorted(out, key=lambda row: row["when"] or "", reverse=True)


def version_series(corpus: Corpus, claim_id: str) -> list[dict]:
    """A claim's ratio against framework versions: one row per cell of the newest run in each
    environment, ordered by machine, cell, TensorFlow then torch version, for a plot::

        {"machine", "environment", "environment_label", "run", "ended", "verdict",
         "torch", "tensorflow", "keras", "cell", "ratio", "ci_low", "ci_high"}

    A run without measurements (not checkable with those versions, or failed) gives one row with
    ``cell``, ``ratio`` and the CI None, so the plot can mark the gap.
    """
    if claim_id not in api.claim_ids(corpus):
        raise UnknownClaim(claim_id, api.claim_ids(corpus))
    envs = {e["id"]: e for e in api.environments(corpus)}
    latest: dict[str, dict] = {}
    for r in api.runs(corpus, claim_id):
        latest.setdefault(r["environment"], r)
    rows = []
    for env_id, r in latest.items():
        env = envs.get(env_id, {})
        base = {
            "machine": machine_label(env),
            "environment": env_id,
            "environment_label": r["environment_label"],
            "run": r["run"],
            "ended": r["ended"],
            "verdict": r["verdict"],
            **_versions(env),
        }
        cells = [c for c in cell_rows(corpus, r["run"]) if c["ratio"] is not None]
        for c in cells or [{"cell": None, "ratio": None, "ci_low": None, "ci_high": None}]:
            rows.append(
                {
                    **base,
                    "cell": c["cell"],
                    "ratio": c["ratio"],
                    "ci_low": c["ci_low"],
                    "ci_high": c["ci_high"],
                }  # fmt: skip
            )
    return sorted(
        rows,
        key=lambda x: (
            x["machine"],
            _natural(x["cell"]),
            release(x["tensorflow"]),
            release(x["torch"]),
        ),
    )


def _natural(text: str | None) -> tuple:
    """'b1-s28' before 'b1-s128': runs of digits compare as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text or ""))
