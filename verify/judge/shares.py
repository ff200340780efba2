"""What every adoption judge shares: the verdict it returns, how a share meets a rule, and how the
data's date is told (pure: the run date comes from the caller).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from kg.model import Label

STALE_DAYS = 2 * 365 + 1  # "older than two years before the run"


@dataclass(frozen=True)
class DataVerdict:
    """An adoption check's verdict, the share it judged, and the rows it used."""

    label: Label
    explanation: str
    value: float | None
    data: dict[str, Any]
    source: str


def result(
    label: Label, explanation: str, value: float | None, data: dict[str, Any], source: str
) -> DataVerdict:
    """The verdict every judge here returns."""
    return DataVerdict(label, explanation, value, data, source)


def decide(values: list[float], rule: dict[str, Any]) -> bool:
    """Whether values meet the rule: "at-least" everywhere, "up-to" somewhere, "about" all within
    the tolerance band; with better "lower" the bounds turn round."""
    t, tol = float(rule.get("threshold", 0)), float(rule.get("tolerance", 0))
    quantifier, lower = rule.get("quantifier", "at-least"), rule.get("better") == "lower"
    lo, hi = t * (1 - tol), t * (1 + tol)
    if quantifier == "about":
        return all(lo <= v <= hi for v in values)
    if quantifier == "exists":
        return any(v > 0 for v in values)
    some = quantifier == "up-to"
    if lower:
        v = min(values) if some else max(values)
        return v <= hi
    v = max(values) if some else min(values)
    return v >= lo


def claimed(rule: dict[str, Any]) -> str:
    """The claimed share in words: 'about 80% (±5%)', 'at least 50%'."""
    t, tol = float(rule.get("threshold", 0)), float(rule.get("tolerance", 0))
    q = {"up-to": "up to", "at-least": "at least", "about": "about", "exists": "some"}
    word = q.get(rule.get("quantifier", ""), str(rule.get("quantifier", "")))
    if rule.get("better") == "lower" and word == "at least":
        word = "at most"
    return f"{word} {t:.0%}" + (f" (±{tol:.0%})" if tol else "")


def as_list(value: Any) -> list[Any]:
    """A parameter that may be one value or a list, as a list (empty when absent)."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def fits(ok: bool) -> str:
    """The words between a measured share and the claimed one."""
    return "consistent with" if ok else "not consistent with"


def name(framework: str) -> str:
    """A framework id as people write it."""
    return {"pytorch": "PyTorch", "tensorflow": "TensorFlow", "keras": "Keras", "jax": "JAX"}.get(
        framework, framework
    )


def is_stale(data_date: str, today: date) -> bool:
    """Whether data of ``data_date`` (YYYY-MM-DD, or a prefix) is more than two years old."""
    return (today - _as_date(data_date)).days > STALE_DAYS


def age_note(data_date: str, today: date) -> str:
    """'Data of 2021-10-22, more than two years before this run (2026-12-01).' or 'Data of ...'."""
    if is_stale(data_date, today):
        years = (today - _as_date(data_date)).days // 365
        return (
            f"Data of {data_date}, more than two years ({years} years) before this run "
            f"({today.isoformat()})."
        )
    return f"Data of {data_date}, less than two years before this run ({today.isoformat()})."


def dated(verdict: DataVerdict, data_date: str | None, today: date) -> DataVerdict:
    """The verdict with its data's date (and, when stale, the warning) added to text and data."""
    if not data_date:
        return verdict
    text = f"{verdict.explanation.rstrip()} {age_note(data_date, today)}"
    data = {**verdict.data, "data_date": data_date, "stale": is_stale(data_date, today)}
    return DataVerdict(verdict.label, text, verdict.value, data, verdict.source)


def _as_date(text: str) -> date:
    parts = [int(p) for p in text[:10].split("-")]
    return date(parts[0], *(parts[1:] + [1, 1])[:2])
