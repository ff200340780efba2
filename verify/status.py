"""Which checkable claims need a run: never checked (anywhere, or in this environment), checked only
on older framework versions than are installed here, or whose check changed since its newest run.

Nothing here imports torch or TensorFlow: installed versions come from package metadata, and the
benchmark code hash is computed from source files (verify.records.code_hash), so `verify status`
stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kg import api, changes
from kg.load import Corpus
from verify import records

FRAMEWORKS = {"torch": "torch", "tensorflow": "tf", "keras": "keras"}  # package -> environment key
FW_NAMES = {"torch": "torch", "tensorflow": "TF", "keras": "Keras"}
REASONS = ("never-checked", "not-checked-here", "older-versions", "check-changed")


@dataclass
class Here:
    """This machine as `verify run` would record it now: environment id, label, versions."""

    environment_id: str
    label: str
    versions: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def detect(cls) -> Here:
        """Collect this machine's environment (no framework import)."""
        from kg.records import environment_label
        from verify import environment

        env = environment.collect()
        pk = env["packages"]
        return cls(
            environment.environment_id(env),
            environment_label(env),
            {k: pk.get(k) for k in FRAMEWORKS},
        )


def versions_text(versions: dict[str, str | None]) -> str:
    """'torch 2.13.0 / TF 2.21.0 / Keras 3.15.1' for the frameworks present."""
    parts = [f"{FW_NAMES[k]} {v.split('+')[0]}" for k, v in versions.items() if v]
    return " / ".join(parts) or "no framework"


def is_older(env: dict, installed: dict[str, str | None]) -> bool:
    """Whether an environment had an older version than installed of some framework both have."""
    for pkg, key in FRAMEWORKS.items():
        have, now = env.get(key), installed.get(pkg)
        if have and now and changes.release(have) < changes.release(now):
            return True
    return False


def _record(root: Path, rel: str | None) -> dict | None:
    try:
        return json.loads((root / rel).read_text(encoding="utf-8")) if rel else None
    except (OSError, ValueError):
        return None  # a record the loader accepted but that cannot be re-read: no check diff


def check_changes(
    check: dict, record: dict | None, current_hash: str, run_hash: str | None
) -> list[str]:
    """What differs between a claim's check now and the one a run used: code, parameters, rule."""
    what = []
    if run_hash and run_hash != current_hash:
        what.append(f"benchmark code ({run_hash[:8]} then, {current_hash[:8]} now)")
    old = (record or {}).get("check") or {}
    for key in ("benchmark", "parameters", "rule") if old else ():
        if json.dumps(old.get(key), sort_keys=True) != json.dumps(check.get(key), sort_keys=True):
            what.append(key)
    return what


def _reasons(claim_runs: list[dict], envs: dict, here: Here, changed: list[str]) -> list[tuple]:
    if not claim_runs:
        return [("never-checked", "no run anywhere yet")]
    newest, out = claim_runs[0], []
    if not any(r["environment"] == here.environment_id for r in claim_runs):
        out.append(
            (
                "not-checked-here",
                f"not run in this environment yet; newest run on "
                f"{newest['environment_label']} ({(newest['ended'] or '')[:10]})",
            )  # fmt: skip
        )
    if all(is_older(envs.get(r["environment"], {}), here.versions) for r in claim_runs):
        best = max(
            (envs.get(r["environment"], {}) for r in claim_runs),
            key=lambda e: tuple(changes.release(e.get(k)) for k in FRAMEWORKS.values()),
        )
        checked = {p: best.get(k) for p, k in FRAMEWORKS.items()}
        out.append(
            (
                "older-versions",
                f"newest versions checked: {versions_text(checked)}; "
                f"installed here: {versions_text(here.versions)}",
            )  # fmt: skip
        )
    if changed:
        out.append(("check-changed", f"changed since the newest run: {', '.join(changed)}"))
    return out


def staleness(
    corpus: Corpus,
    here: Here | None = None,
    code_hash: Callable[[str], str] = records.code_hash,
) -> dict:
    """One row per checkable claim with the reasons it needs a run, and a summary of counts."""
    here = here or Here.detect()
    envs = {e["id"]: e for e in api.environments(corpus)}
    by_claim: dict[str, list[dict]] = {}
    for r in api.runs(corpus):  # newest first
        by_claim.setdefault(r["claim_id"], []).append(r)
    notes = changes.lifecycles(corpus)
    hashes: dict[str, str] = {}
    rows = []
    for cid in api.checkable_claim_ids(corpus):
        check = api.claim_check(corpus, cid) or {}
        claim_runs = by_claim.get(cid, [])
        changed: list[str] = []
        if claim_runs:
            module = check.get("module", "")
            hashes.setdefault(module, code_hash(module))
            newest = claim_runs[0]
            record = _record(corpus.root, newest["record"])
            changed = check_changes(check, record, hashes[module], newest["code_hash"])
        lc = notes.get(cid)
        verdict = claim_runs[0]["verdict"] if claim_runs else None
        rows.append(
            {
                "id": cid,
                "kind": check.get("kind"),
                "runs": len(claim_runs),
                "environments": len({r["environment"] for r in claim_runs}),
                "latest": {
                    k: claim_runs[0][k] for k in ("verdict", "environment", "ended", "record")
                }
                if claim_runs
                else None,
                "reasons": [
                    {"kind": k, "detail": d} for k, d in _reasons(claim_runs, envs, here, changed)
                ],
                "lifecycle": lc,
                "label": changes.lifecycle_label(lc, verdict) or "never checked",
            }
        )
    checked_ids = {r["id"] for r in rows}
    summary = {k: sum(any(x["kind"] == k for x in r["reasons"]) for r in rows) for k in REASONS}
    summary.update(
        checkable=len(rows),
        up_to_date=sum(not r["reasons"] for r in rows),
        lifecycle=len(notes),
    )
    return {
        "environment": {"id": here.environment_id, "label": here.label, "versions": here.versions},
        "summary": summary,
        "claims": rows,
        # claims without a check whose tools have moved on (TorchServe, PyTorch Mobile, ...)
        "lifecycle_unchecked": [
            {"id": cid, **lc} for cid, lc in sorted(notes.items()) if cid not in checked_ids
        ],
    }
