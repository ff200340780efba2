"""How a ratio and its interval are written, in one place: the estimate and its 95% CI always in
the same orientation and rounding ("1.89x slower (95% CI 1.50-2.13x slower)"), so an inverted
estimate never stands beside an interval that was not inverted.

A ratio here is oriented: above 1 means the subject is better. ``readable`` rewrites sentences of
records written before the interval was oriented as well ("... slower than ... (95% CI
0.47-0.53x)"), using the cell's exact interval where the record has it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

UP_DOWN = {"faster": "slower", "less memory": "more memory"}
DOWN_UP = {v: k for k, v in UP_DOWN.items()}
_NUM = r"\d+(?:\.\d+)?"
_OLD = re.compile(
    rf"(?P<est>{_NUM})x (?P<word>faster|slower|less memory|more memory) than (?P<mid>[^()]*?)"
    rf"\(95% CI (?P<lo>{_NUM})-(?P<hi>{_NUM})x\)"
)
_TINY = 1e-9


def num(r: float, digits: int = 2) -> str:
    """A ratio's digits: one decimal from 10 up, `digits` below ('111.7', '2.40')."""
    return f"{r:.1f}" if r >= 10 else f"{r:.{digits}f}"


def significant(x: float, digits: int = 3) -> str:
    """A published figure at `digits` significant digits, zeros kept ('97.2', '0.0350', '1230')."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    places = digits - 1 - math.floor(math.log10(abs(x)))
    rounded = round(x, places)
    if rounded and math.floor(math.log10(abs(rounded))) > math.floor(math.log10(abs(x))):
        places -= 1  # 99.96 rounds up to 100.0: one place fewer keeps three digits
    return f"{round(x, places):.{max(places, 0)}f}"


def times(r: float, digits: int = 2) -> str:
    """A ratio as a multiple: '2.40x'."""
    return num(r, digits) + "x"


def decimals_apart(values: Iterable[float], edges: Iterable[float], most: int = 4) -> int:
    """The fewest decimals (two at least) at which no value reads the same as an edge it differs
    from, so an interval that misses a band never seems to touch it ('1.115' and '1.118' both
    '1.12' at two decimals)."""
    values, edges = list(values), list(edges)
    for d in range(2, most + 1):
        if all(num(v, d) != num(e, d) for v in values for e in edges if abs(v - e) > 1e-12):
            return d
    return most


def estimate_text(r: float, up: str = "faster", down: str = "slower") -> str:
    """'1.89x slower' for an oriented ratio of 0.53: above 1 in the up word, below in the down."""
    return f"{times(r)} {up}" if r >= 1 else f"{times(1 / max(r, _TINY))} {down}"


def ci_text(low: float, high: float, up: str = "faster", down: str = "slower",
            digits: int = 2) -> str:  # fmt: skip
    """'95% CI 1.50-2.13x slower': the interval in the words and orientation of its side of 1;
    one that straddles 1 names both ('95% CI 1.11x slower to 1.24x faster'). `digits` applies
    where it is not inverted (where it can be read against a band of the claim)."""
    if low >= 1:
        return f"95% CI {num(low, digits)}-{times(high, digits)} {up}"
    if high <= 1:
        return f"95% CI {num(1 / max(high, _TINY))}-{times(1 / max(low, _TINY))} {down}"
    return f"95% CI {times(1 / max(low, _TINY))} {down} to {times(high)} {up}"


def ratio_text(r: float, low: float | None, high: float | None, up: str = "faster",
               down: str = "slower") -> str:  # fmt: skip
    """'1.89x slower (95% CI 1.50-2.13x slower)': an estimate and its interval, one orientation."""
    if low is None or high is None:
        return estimate_text(r, up, down)
    return f"{estimate_text(r, up, down)} ({ci_text(low, high, up, down)})"


def readable(text: str, cells: Iterable[tuple[str | None, float | None, float | None,
                                              float | None]] = ()) -> str:  # fmt: skip
    """An explanation as a reader should see it: every estimate beside an interval in the same
    orientation (exact from `cells`, (label, ratio, low, high), where the sentence names one),
    and a capital letter first."""
    known = [(label, r, lo, hi) for label, r, lo, hi in cells if label and None not in (r, lo, hi)]

    def fix(m: re.Match[str]) -> str:
        word = m["word"]
        up = word if word in UP_DOWN else DOWN_UP[word]
        down = UP_DOWN[up]
        lo, hi = float(m["lo"]), float(m["hi"])
        for label, r, c_lo, c_hi in known:
            shown = estimate_text(r, up, down) if r is not None else ""
            if m["mid"].rstrip().endswith(f"at {label}") and shown == f"{m['est']}x {word}":
                lo, hi = float(c_lo or lo), float(c_hi or hi)
                break
        return f"{m['est']}x {word} than {m['mid']}({ci_text(lo, hi, up, down)})"

    out = _OLD.sub(fix, text)
    return out[:1].upper() + out[1:]
