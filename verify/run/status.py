"""Which checkable claims need a run: never checked (anywhere, or in this environment), checked only
on older framework versions than are installed here, or whose check changed since its newest run.

Nothing here imports torch or TensorFlow: installed versions come from package metadata, and the
benchmark code hash is computed from source files (verify.run.codehash), so `verify status`
stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kg import api, records
from kg.changes import release
from kg.environments import (
    collected_row,
    environment_id,
    environment_label,
    name_environments,
    row_versions,
    versions_text,
)
from kg.errors import RecordError
from kg.lifecycle import Lifecycle, lifecycle_label, lifecycles
from kg.model import MAIN_CHECK, Check
from kg.rows import Environment, Run
from kg.store import Corpus
from verify.run import codehash, environment

FRAMEWORKS = ("torch", "tensorflow", "keras")  # whose versions make a run "older"
REASONS = ("never-checked", "not-checked-here", "older-versions", "check-changed")


@dataclass
class Here:
    """This machine as `verify run` would record it now: environment id, label, versions, and
    the environment as a graph row (so it is named among the graph's, kg.environments)."""

    environment_id: str
    label: str
    versions: dict[str, str | None] = field(default_factory=dict)
    row: Environment | None = None

    @classmethod
    def detect(cls) -> Here:
        """Collect this machine's environment (no framework import)."""
        env = environment.collect()
        pk, env_id = env["packages"], environment_id(env)
        return cls(env_id, environment_label(env), {k: pk.get(k) for k in FRAMEWORKS},
                   collected_row(env_id, env))  # fmt: skip

    def named(self, envs: list[Environment]) -> Here:
        """This machine with the name the site and the other commands give it among `envs`
        (the graph's environments, which it may not be one of yet)."""
        known = {e.id for e in envs}
        rows = envs if self.environment_id in known or self.row is None else [*envs, self.row]
        name = name_environments(rows).get(self.environment_id)
        return replace(self, label=name.display) if name else self


@dataclass(frozen=True)
class Reason:
    """Why a claim needs a run."""

    kind: str  # one of REASONS
    detail: str


@dataclass(frozen=True)
class ClaimStatus:
    """One checkable claim: its newest run and the reasons it needs another."""

    id: str
    kind: str
    runs: int
    environments: int
    latest: Run | None
    reasons: list[Reason]
    lifecycle: Lifecycle | None
    label: str
    check_id: str = MAIN_CHECK  # a claim with several checks has one row per check


@dataclass(frozen=True)
class Staleness:
    """`verify status`: this environment, counts, and one row per checkable claim."""

    environment: Here
    summary: dict[str, int]
    claims: list[ClaimStatus]
    lifecycle_unchecked: dict[str, Lifecycle]  # claims without a check whose tools moved on


def is_older(env: Environment | None, installed: dict[str, str | None]) -> bool:
    """Whether an environment had an older version than installed of some framework both have."""
    have = row_versions(env)
    return any(
        have.get(p) and installed.get(p) and release(have[p]) < release(installed[p])
        for p in FRAMEWORKS
    )


def check_changes(
    check: Check, record: dict[str, Any] | None, current_hash: str, run_hash: str | None
) -> list[str]:
    """What differs between a claim's check now and the one a run used: code, parameters, rule."""
    what = []
    if run_hash and run_hash != current_hash:
        what.append(f"benchmark code ({run_hash[:8]} then, {current_hash[:8]} now)")
    old = (record or {}).get("check") or {}
    now = check.to_dict()
    for key in ("benchmark", "parameters", "rule") if old else ():
        if json.dumps(old.get(key), sort_keys=True) != json.dumps(now.get(key), sort_keys=True):
            what.append(key)
    return what


def _reasons(
    claim_runs: list[Run], envs: dict[str, Environment], here: Here, changed: list[str]
) -> list[Reason]:
    if not claim_runs:
        return [Reason("never-checked", "no run anywhere yet")]
    newest, out = claim_runs[0], []
    if not any(r.environment == here.environment_id for r in claim_runs):
        when = (newest.ended or "")[:10]
        out.append(Reason("not-checked-here", "not run in this environment yet; newest run on"
                          f" {newest.environment_label} ({when})"))  # fmt: skip
    if all(is_older(envs.get(r.environment), here.versions) for r in claim_runs):
        best = max(
            (row_versions(envs.get(r.environment)) for r in claim_runs),
            key=lambda v: tuple(release(v.get(p)) for p in FRAMEWORKS),
        )
        checked = {p: best.get(p) for p in FRAMEWORKS}
        out.append(Reason("older-versions", f"newest versions checked: {versions_text(checked)};"
                          f" installed here: {versions_text(here.versions)}"))  # fmt: skip
    if changed:
        out.append(Reason("check-changed", f"changed since the newest run: {', '.join(changed)}"))
    return out


def _record(corpus: Corpus, rel: str | None) -> dict[str, Any] | None:
    if not rel:
        return None
    try:
        return records.read_record(corpus.root / rel)
    except RecordError:
        return None  # loaded before, unreadable now: no check diff


def _status(
    corpus: Corpus, check: Check, claim_runs: list[Run], envs: dict[str, Environment], here: Here,
    notes: dict[str, Lifecycle], hashes: dict[str, str], code_hash: Callable[[str], str],
) -> ClaimStatus:  # fmt: skip
    """One check's row: its own runs (a claim with several checks has a row for each)."""
    cid = check.claim_id
    claim_runs = [r for r in claim_runs if r.check_id == check.check_id]
    changed: list[str] = []
    if claim_runs:
        hashes.setdefault(check.module, code_hash(check.module))
        newest = claim_runs[0]
        changed = check_changes(check, _record(corpus, newest.record), hashes[check.module],
                                newest.code_hash)  # fmt: skip
    lc = notes.get(cid)
    verdict = claim_runs[0].verdict.value if claim_runs else None
    return ClaimStatus(
        id=cid, kind=check.kind.value, runs=len(claim_runs),
        environments=len({r.environment for r in claim_runs}),
        latest=claim_runs[0] if claim_runs else None,
        reasons=_reasons(claim_runs, envs, here, changed), lifecycle=lc,
        label=lifecycle_label(lc, verdict) or "never checked", check_id=check.check_id,
    )  # fmt: skip


def staleness(
    corpus: Corpus,
    here: Here | None = None,
    code_hash: Callable[[str], str] = codehash.code_hash,
) -> Staleness:
    """One row per check of a checkable claim with the reasons it needs a run, and a summary of
    counts."""
    here = (here or Here.detect()).named(api.environments(corpus))
    envs = {e.id: e for e in api.environments(corpus)}
    by_claim: dict[str, list[Run]] = {}
    for r in api.runs(corpus):  # newest first
        by_claim.setdefault(r.claim_id, []).append(r)
    notes = lifecycles(corpus)
    hashes: dict[str, str] = {}
    rows = []
    for cid, claim_checks in api.checks(corpus).items():
        for check in claim_checks:
            rows.append(_status(corpus, check, by_claim.get(cid, []), envs, here, notes, hashes,
                                code_hash))  # fmt: skip
    summary = {k: sum(any(x.kind == k for x in r.reasons) for r in rows) for k in REASONS}
    summary.update(checkable=len({r.id for r in rows}), checks=len(rows),
                   up_to_date=sum(not r.reasons for r in rows),
                   lifecycle=len(notes))  # fmt: skip
    checked = {r.id for r in rows}
    unchecked = {cid: lc for cid, lc in sorted(notes.items()) if cid not in checked}
    return Staleness(here, summary, rows, unchecked)
