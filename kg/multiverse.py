"""A benchmark's multiverse: what `verify explore` may vary in a ratio check of that benchmark,
as the benchmark declares it in claims/benchmarks.ttl (``fwc:multiverse``, a JSON object):

- ``sides``: groups of the benchmark's tiers that answer the same question, each in the order its
  tiers are tried; a check's subject and baseline are each varied over their own group;
- ``vary``: the parameters varied one at a time around the claim as stated: ``threads`` (one
  thread, then all physical cores) and parameters whose ``fwc:parameterSchema`` lists their
  levels (an ``enum``, the first level being the benchmark's default);
- ``grid``: the batch-size and input-size parameters, in that order, whose grid is stepped one
  step beyond each edge;
- ``budget_s``: the seconds an exploration of one claim takes by default.

`problems` says what is wrong with a declaration and `design` reads one that has no problem;
kg.checkrules reports the problems, located at the triple, and gives every benchmark's valid
declaration (``multiverses``) from what it reads of the benchmarks anyway.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

KEYS = ("sides", "vary", "grid", "budget_s")
THREADS = "threads"
MAX_BUDGET_S = 86_400.0
_GROUP = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


@dataclass(frozen=True)
class Multiverse:
    """One benchmark's declared multiverse (see the module's docstring)."""

    benchmark: str
    sides: dict[str, tuple[str, ...]]  # group -> its tiers, in the order they are tried
    vary: dict[str, tuple[str, ...]]  # parameter -> its levels, the default first (threads: ())
    grid: tuple[str, str]  # the batch-size and the input-size parameter
    budget_s: float

    def group_of(self, tier: str) -> str | None:
        """The side group `tier` belongs to, or None."""
        return next((g for g, tiers in self.sides.items() if tier in tiers), None)


def levels_of(schema: dict[str, Any] | None, name: str) -> tuple[str, ...]:
    """The levels a parameter schema lists for `name` (its ``enum``), or ()."""
    prop = ((schema or {}).get("properties") or {}).get(name) or {}
    found = prop.get("enum") if isinstance(prop, dict) else None
    return tuple(str(v) for v in found) if isinstance(found, list) else ()


def problems(
    raw: str, names: set[str], tiers: set[str], schema: dict[str, Any] | None
) -> list[str]:
    """What is wrong with the declaration `raw` of a benchmark with these parameter names,
    tiers and parameter schema (empty when nothing is)."""
    try:
        found = json.loads(raw)
    except ValueError as e:
        return [f"fwc:multiverse is not JSON ({e.msg} at character {e.pos})"]
    if not isinstance(found, dict) or sorted(found) != sorted(KEYS):
        return [f"fwc:multiverse must be a JSON object with exactly the keys {', '.join(KEYS)}"]
    out = _side_problems(found["sides"], tiers)
    vary = found["vary"]
    if not isinstance(vary, list) or not all(isinstance(v, str) for v in vary):
        out.append('fwc:multiverse "vary" must be a list of parameter names')
    else:
        for v in vary:
            if v != THREADS and len(levels_of(schema, v)) < 2:
                out.append(
                    f'fwc:multiverse "vary" names {v!r}, which is not "threads" nor a parameter'
                    " whose fwc:parameterSchema lists two or more levels (an enum)"
                )
            if v != THREADS and v not in names:
                out.append(f'fwc:multiverse "vary" names {v!r}, which is no fwc:parameterName')
    grid = found["grid"]
    if not (isinstance(grid, list) and len(grid) == 2 and all(g in names for g in grid)):
        out.append(
            'fwc:multiverse "grid" must name two of the benchmark\'s parameters: the batch'
            " size and the input size"
        )
    budget = found["budget_s"]
    ok = isinstance(budget, int | float) and not isinstance(budget, bool)
    if not ok or not 0 < budget <= MAX_BUDGET_S:
        out.append(f'fwc:multiverse "budget_s" must be a number of seconds above 0, at most'
                   f" {MAX_BUDGET_S:g}")  # fmt: skip
    return out


def _side_problems(sides: Any, tiers: set[str]) -> list[str]:
    if not isinstance(sides, dict) or not sides:
        return ['fwc:multiverse "sides" must be an object of groups, each a list of tiers']
    out, seen = [], set()
    for group, members in sides.items():
        if not _GROUP.fullmatch(group):
            out.append(f'fwc:multiverse "sides" group {group!r} is not a kebab-case name')
        if not isinstance(members, list) or not members:
            out.append(f'fwc:multiverse "sides" group {group!r} must be a list of tiers')
            continue
        for tier in members:
            if tier not in tiers:
                out.append(f'fwc:multiverse "sides" group {group!r} names {tier!r}, which is no'
                           f" fwc:tier of the benchmark: use one of {', '.join(sorted(tiers))}")  # fmt: skip
            elif tier in seen:
                out.append(f'fwc:multiverse "sides" names {tier!r} in more than one place')
            seen.add(tier)
    return out


def design(benchmark: str, raw: str, schema: dict[str, Any] | None) -> Multiverse:
    """The multiverse `raw` declares for `benchmark` (one `problems` found nothing wrong with)."""
    found = json.loads(raw)
    return Multiverse(
        benchmark=benchmark,
        sides={g: tuple(t) for g, t in found["sides"].items()},
        vary={v: () if v == THREADS else levels_of(schema, v) for v in found["vary"]},
        grid=(found["grid"][0], found["grid"][1]),
        budget_s=float(found["budget_s"]),
    )
