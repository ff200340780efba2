"""How verdicts change: between two environments or version sets, along a machine's history, and
across framework versions. Part of the read API, built only on kg.api.

A run's side of a comparison is always a ``RunSide``: the run's verdict, explanation, versions and
measurements. The site's changes page, its Atom feed and `verify diff` all read these rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kg import api
from kg.environments import machine_label, row_versions
from kg.errors import UsageError
from kg.model import Label
from kg.rows import Environment, Measurement, Run
from kg.store import Corpus
from kg.textutil import natural_key

# Selector names for the framework versions an environment holds (Environment fields).
PACKAGES = {"torch": "torch", "tensorflow": "tf", "tf": "tf", "keras": "keras", "jax": "jax",
            "numpy": "numpy"}  # fmt: skip


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
class RunSide:
    """One run as a side of a comparison."""

    run: str
    environment: str
    environment_label: str
    verdict: Label
    explanation: str | None
    ended: str | None
    record: str | None
    versions: dict[str, str | None]
    measurements: list[Measurement]


@dataclass(frozen=True)
class Flip:
    """A claim whose verdict differs between two runs (two sides, or one machine's history)."""

    claim_id: str
    both_decided: bool  # holds <-> does not hold, not a change to or from inconclusive
    before: RunSide
    after: RunSide
    machine: str = ""
    when: str | None = None  # the later run's end time (an Atom entry's `updated`)


@dataclass(frozen=True)
class Change:
    """A verdict change along one machine's history, as the runs themselves (what a Flip is
    made from, without the measurements and versions of each side)."""

    claim_id: str
    machine: str
    when: str | None  # the later run's end time
    before: Run
    after: Run

    @property
    def both_decided(self) -> bool:
        """Holds <-> does not hold, not a change to or from inconclusive."""
        return self.before.verdict.decided and self.after.verdict.decided


@dataclass(frozen=True)
class Comparison:
    """Verdicts of A and B side by side."""

    a: str
    b: str
    compared: int
    flips: list[Flip]
    only_a: list[str]
    only_b: list[str]


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

    def environments(self, envs: list[Environment]) -> list[str]:
        """Ids of the environments this selector picks."""
        if self.environment:
            exact = [e.id for e in envs if e.id == self.environment]
            found = exact or [e.id for e in envs if e.id.startswith(self.environment)]
            if len(found) > 1:
                raise UsageError(
                    f"'{self.environment}' names several environments ({', '.join(found)}):"
                    " give more of the id"
                )
        else:
            found = [
                e.id
                for e in envs
                if all(version_matches(getattr(e, PACKAGES[n]), v) for n, v in self.versions)
            ]
        if not found:
            known = ", ".join(e.id for e in envs) or "none yet; `verify run` adds one"
            raise UsageError(f"no environment matches {self.describe()}; environments: {known}")
        return found


def run_side(corpus: Corpus, run: Run, env: Environment | None) -> RunSide:
    """One run as a side of a comparison: verdict, explanation, versions and measurements."""
    return RunSide(
        run=run.run,
        environment=run.environment,
        environment_label=run.environment_label,
        verdict=run.verdict,
        explanation=run.explanation,
        ended=run.ended,
        record=run.record,
        versions=row_versions(env),
        measurements=api.measurements(corpus, run.run),
    )


def _latest_by_claim(runs: list[Run], env_ids: set[str]) -> dict[str, Run]:
    latest: dict[str, Run] = {}
    for r in runs:  # newest first
        if r.environment in env_ids:
            latest.setdefault(r.claim_id, r)
    return latest


def compare(corpus: Corpus, a: RunSelector, b: RunSelector) -> Comparison:
    """The flips between A and B, how many claims both sides have, and the claims only one side
    has. Each side takes a claim's newest run among its environments."""
    envs = {e.id: e for e in api.environments(corpus)}
    runs = api.runs(corpus)
    la = _latest_by_claim(runs, set(a.environments(list(envs.values()))))
    lb = _latest_by_claim(runs, set(b.environments(list(envs.values()))))
    both = sorted(set(la) & set(lb))
    flips = [
        _flip(corpus, envs, la[cid], lb[cid]) for cid in both if la[cid].verdict != lb[cid].verdict
    ]
    return Comparison(a.describe(), b.describe(), len(both), flips,
                      sorted(set(la) - set(lb)), sorted(set(lb) - set(la)))  # fmt: skip


def _flip(
    corpus: Corpus, envs: dict[str, Environment], before: Run, after: Run, **extra: Any
) -> Flip:
    return Flip(
        claim_id=after.claim_id,
        both_decided=before.verdict.decided and after.verdict.decided,
        before=run_side(corpus, before, envs.get(before.environment)),
        after=run_side(corpus, after, envs.get(after.environment)),
        **extra,
    )


def history_flips(corpus: Corpus, *, across_versions: bool = False) -> list[Flip]:
    """Every verdict change between consecutive runs of a claim, newest change first.

    Runs are grouped per claim and environment (same hardware and framework versions), ordered by
    end time; each consecutive pair whose verdict differs is one Flip. With ``across_versions`` the
    runs are grouped per claim and machine instead (same CPU, cores and GPU), so upgrading torch or
    TensorFlow and re-running shows up as a change.
    """
    envs = {e.id: e for e in api.environments(corpus)}
    return [_flip(corpus, envs, c.before, c.after, machine=c.machine, when=c.when)
            for c in history_changes(corpus, across_versions=across_versions)]  # fmt: skip


def history_changes(corpus: Corpus, *, across_versions: bool = False) -> list[Change]:
    """The changes `history_flips` gives, in its order, as the runs on either side."""
    machines = {e.id: machine_label(e) for e in api.environments(corpus)}
    last: dict[tuple[str, str], Run] = {}
    out = []
    for r in reversed(api.runs(corpus)):  # oldest first
        machine = machines.get(r.environment, r.environment)
        key = (r.claim_id, machine if across_versions else r.environment)
        before, last[key] = last.get(key), r
        if before is not None and before.verdict != r.verdict:
            out.append(Change(r.claim_id, machine, r.ended, before, r))
    return sorted(out, key=lambda c: c.when or "", reverse=True)


@dataclass(frozen=True)
class VersionPoint:
    """One cell of a claim's newest run in one environment, for a ratio-against-version plot."""

    machine: str
    environment: str
    environment_label: str
    run: str
    ended: str | None
    verdict: Label
    versions: dict[str, str | None]
    cell: str | None
    ratio: float | None
    ci_low: float | None
    ci_high: float | None


def version_series(corpus: Corpus, claim_id: str) -> list[VersionPoint]:
    """A claim's ratio against framework versions: one point per cell of the newest run in each
    environment, ordered by machine, cell, then TensorFlow, torch and JAX version. A run without
    measurements gives one point with no cell or ratio, so a plot can mark the gap."""
    api.claim(corpus, claim_id)  # raises UnknownClaim
    envs = {e.id: e for e in api.environments(corpus)}
    points = []
    for env_id, r in api.latest_runs(corpus).get(claim_id, {}).items():
        env = envs.get(env_id)
        cells: list[Measurement | None] = [
            m for m in api.measurements(corpus, r.run) if m.ratio is not None
        ]
        for m in cells or [None]:
            points.append(VersionPoint(
                machine=machine_label(env) if env else env_id, environment=env_id,
                environment_label=r.environment_label, run=r.run, ended=r.ended,
                verdict=r.verdict, versions=row_versions(env), cell=m.cell if m else None,
                ratio=m.ratio if m else None, ci_low=m.ci_low if m else None,
                ci_high=m.ci_high if m else None,
            ))  # fmt: skip
    return sorted(points, key=lambda p: (p.machine, natural_key(p.cell),
                                         release(p.versions.get("tensorflow")),
                                         release(p.versions.get("torch")),
                                         release(p.versions.get("jax"))))  # fmt: skip
