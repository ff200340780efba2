"""The graph as pandas DataFrames, for notebooks: claims, runs, measurements and verdicts.

    >>> from kg import frames
    >>> from kg.load import load_corpus
    >>> corpus = load_corpus()
    >>> m = frames.measurements(corpus)          # one row per run x cell x tier
    >>> m[m.tier_side == "subject"].groupby("environment").median_s.median()

Each frame is built from the same bulk read-API queries the site uses (kg.api, memoised on the
corpus), so it costs no query of its own and never imports a framework. The rows are made here
as plain dicts (``*_rows``, with the columns in ``*_COLUMNS``) so the site's CSV downloads share
them without importing pandas; pandas is imported only when a frame is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kg import api
from kg.model import Check
from kg.rows import Run
from kg.store import Corpus

if TYPE_CHECKING:
    import pandas as pd

CLAIM_COLUMNS = (
    "id", "kind", "category", "text", "favours", "checkable", "checks", "benchmark", "benchmark_type",
    "metric", "better", "subject", "baseline", "threshold", "tolerance", "quantifier",
    "appearances", "documents", "rests_on", "contradicts", "not_checkable_because",
)  # fmt: skip
RUN_COLUMNS = (
    "run", "claim_id", "environment", "environment_label", "started", "ended", "status",
    "verdict", "explanation", "benchmark", "code_hash", "budget_s", "deprecated", "successor",
    "record",
)  # fmt: skip
ENV_COLUMNS = ("cpu", "cores", "gpu", "cuda", "python", "torch", "tf", "keras", "jax", "numpy")
MEASUREMENT_COLUMNS = (
    "run", "claim_id", "environment", "verdict", "ended", "cell", "batch_size", "input_size",
    "metric", "tier_side", "tier", "median_s", "p90_s", "ratio", "ci_low", "ci_high",
    "confidence", "processes", "sample_size", "method",
    *(f"env_{k}" for k in ENV_COLUMNS),
)  # fmt: skip
TIMES = ("started", "ended")
INTEGERS = ("appearances", "batch_size", "input_size", "processes", "sample_size", "env_cores")
BOOLEANS = ("checkable", "deprecated")
FLOATS = ("threshold", "tolerance", "budget_s", "median_s", "p90_s", "ratio", "ci_low",
          "ci_high", "confidence")  # fmt: skip


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _agreed(values: list[Any]) -> Any:
    """The value a claim's checks share, or None where they differ (or it has none)."""
    return values[0] if values and all(v == values[0] for v in values) else None


def _check_columns(checks: list[Check]) -> dict[str, Any]:
    """The check and rule columns of a claim: each one the value all its checks share (<NA>
    where they differ), the benchmarks space-separated."""
    rules = [k.rule for k in checks]
    rule_fields = ("metric", "better", "subject", "baseline", "threshold", "tolerance")
    out: dict[str, Any] = {f: _agreed([getattr(r, f) for r in rules]) for f in rule_fields}
    quantifier = _agreed([r.quantifier.value for r in rules])
    kind = _agreed([k.benchmark_type.value for k in checks])
    return {
        "checkable": bool(checks), "checks": " ".join(k.check_id for k in checks) or None,
        "benchmark": " ".join(dict.fromkeys(k.benchmark for k in checks)) or None,
        "benchmark_type": kind, **out, "quantifier": quantifier,
    }  # fmt: skip


def claim_rows(corpus: Corpus) -> list[dict[str, Any]]:
    """One dict per claim (CLAIM_COLUMNS, then one column per condition), sorted by id."""
    out = []
    for cid, c in api.claims(corpus).items():
        row: dict[str, Any] = {
            "id": cid, "kind": c.kind.value, "category": c.category, "text": c.text,
            "favours": c.favours, **_check_columns(c.checks),
            "appearances": len(c.appearances),
            "documents": " ".join(sorted({a.doc for a in c.appearances})),
            "rests_on": " ".join(d.id for d in c.derived_from) or c.rests_on,
            "contradicts": " ".join(c.contradicts),
            "not_checkable_because": c.not_checkable_because,
        }  # fmt: skip
        row.update({_snake(k): v for k, v in c.conditions.items()})
        out.append(row)
    return out


def claim_columns(rows: list[dict[str, Any]]) -> list[str]:
    """CLAIM_COLUMNS, then the condition columns these claim rows have, sorted."""
    return [*CLAIM_COLUMNS, *sorted({k for r in rows for k in r} - set(CLAIM_COLUMNS))]


def run_rows(corpus: Corpus, runs: Iterable[Run] | None = None) -> list[dict[str, Any]]:
    """One dict per run (RUN_COLUMNS), newest first (or those of `runs`, in their order)."""
    return [
        {k: (r.verdict.value if k == "verdict" else getattr(r, k)) for k in RUN_COLUMNS}
        for r in (api.runs(corpus) if runs is None else runs)
    ]


def measurement_rows(corpus: Corpus, runs: Iterable[Run] | None = None) -> list[dict[str, Any]]:
    """One dict per run x cell x tier side (MEASUREMENT_COLUMNS), runs newest first (or those of
    `runs`, in their order), cells in their recorded order, the subject side before the
    baseline."""
    claims = api.claims(corpus)
    envs = {e.id: e for e in api.environments(corpus)}
    per_run = api.all_measurements(corpus)
    out = []
    for r in api.runs(corpus) if runs is None else runs:
        claim = claims.get(r.claim_id)
        check = next((k for k in claim.checks if k.check_id == r.check_id), None) if claim else None
        rule = check.rule if check else None  # the run's own check names the tiers
        env = envs.get(r.environment)
        env_cols = {f"env_{k}": getattr(env, k) if env else None for k in ENV_COLUMNS}
        head = {"run": r.run, "claim_id": r.claim_id, "environment": r.environment,
                "verdict": r.verdict.value, "ended": r.ended}  # fmt: skip
        for m in per_run.get(r.run, []):
            cell = {
                "cell": m.cell, "batch_size": m.batch_size, "input_size": m.input_size,
                "metric": m.metric, "ratio": m.ratio, "ci_low": m.ci_low, "ci_high": m.ci_high,
                "confidence": m.confidence, "processes": m.processes,
                "sample_size": m.sample_size, "method": m.method,
            }  # fmt: skip
            sides = (
                ("subject", rule.subject if rule else None, m.subject_value, m.subject_p90),
                ("baseline", rule.baseline if rule else None, m.baseline_value, m.baseline_p90),
            )
            for side, tier, median, p90 in sides:
                out.append({**head, **cell, "tier_side": side, "tier": tier, "median_s": median,
                            "p90_s": p90, **env_cols})  # fmt: skip
    return out


def verdict_rows(corpus: Corpus) -> tuple[list[str], list[dict[str, Any]]]:
    """The verdict matrix as (environment ids, one dict per claim: id, then its newest verdict
    label per environment, its checks combined, or None)."""
    envs = [e.id for e in sorted(api.environments(corpus), key=lambda e: (e.label, e.id))]
    latest = api.claim_verdicts(corpus)
    rows = []
    for cid in api.claim_ids(corpus):
        per_env = latest.get(cid, {})
        rows.append({"id": cid, **{e: per_env[e].verdict.value if e in per_env else None
                                   for e in envs}})  # fmt: skip
    return envs, rows


def _frame(rows: Iterable[dict[str, Any]], columns: Iterable[str]) -> pd.DataFrame:
    import pandas as pd

    df = pd.DataFrame.from_records(list(rows), columns=list(columns))
    # nullable dtypes: a missing batch size stays <NA> in an integer column, not a float NaN
    for col in df.columns:
        if col in TIMES:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
        elif col in INTEGERS:
            df[col] = df[col].astype("Int64")
        elif col in BOOLEANS:
            df[col] = df[col].astype("boolean")
        elif col in FLOATS:
            df[col] = df[col].astype("Float64")
        else:
            df[col] = df[col].astype("string")
    return df


def claims(corpus: Corpus) -> pd.DataFrame:
    """One row per claim, indexed by claim id: kind, category, text, check and rule, sources,
    and its conditions as columns (device, phase, batch_regime, ...)."""
    rows = claim_rows(corpus)
    return _frame(rows, claim_columns(rows)).set_index("id")


def runs(corpus: Corpus) -> pd.DataFrame:
    """One row per run, newest first: claim, environment, times (UTC), status, verdict."""
    return _frame(run_rows(corpus), RUN_COLUMNS)


def measurements(corpus: Corpus) -> pd.DataFrame:
    """One row per run x cell x tier: the tier's median and p90 (seconds, or the metric's unit),
    the cell's ratio and CI, its batch and input size, and the environment's hardware and
    versions (env_*)."""
    return _frame(measurement_rows(corpus), MEASUREMENT_COLUMNS)


def verdicts(corpus: Corpus) -> pd.DataFrame:
    """The verdict matrix: one row per claim (index), one column per environment id, the newest
    verdict label there or <NA> where it has not run."""
    envs, rows = verdict_rows(corpus)
    df = _frame(rows, ["id", *envs]).set_index("id")
    df.columns.name = "environment"
    return df
