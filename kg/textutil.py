"""Small text helpers every layer shares: natural sort, did-you-mean, UTC time stamps."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime


def natural_key(text: str | None) -> tuple[tuple[int, int | str], ...]:
    """Sort key in which runs of digits compare as numbers: 'b1-s28' before 'b1-s128',
    'TF 2.9' before 'TF 2.21'."""
    parts = re.split(r"(\d+)", text or "")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def close_matches(word: str, known: list[str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """The known words closest to `word` (difflib), else those containing it or contained in it."""
    close = difflib.get_close_matches(word, known, n=n, cutoff=cutoff)
    return close or [k for k in known if word and (word in k or k in word)][:n]


def did_you_mean(word: str, known: list[str], n: int = 3) -> str:
    """' Did you mean: a, b?' for the closest known words, or '' when none is close."""
    close = close_matches(word, known, n)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def utc_now() -> str:
    """The current UTC time as ISO 8601 with microseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def file_stamp(iso_time: str) -> str:
    """A sortable file-name stamp of an ISO time: '2026-11-21T18:45:04.1Z' -> '20261121T184504Z'."""
    stamp = iso_time.split(".")[0].replace("-", "").replace(":", "")
    return stamp if stamp.endswith("Z") else stamp + "Z"
