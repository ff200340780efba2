"""verify explore: a ratio claim measured in its multiverse of reasonable setups.

The design, per claim (documented on the site's method page):

1. **As stated**: the claim's own tiers, one thread, PyTorch's default layout and the stated model,
   on the stated batch x input grid.
2. **One factor at a time** around it, on the stated grid: every other API tier on each side that
   answers the same question, all physical cores instead of one thread, channels-last instead of
   NCHW where a side is PyTorch, and the other model (what a benchmark's checks may vary is what
   the benchmark declares, ``fwc:multiverse`` in claims/benchmarks.ttl, read through
   kg.multiverse); then the stated setup one step
   beyond each edge of its grid (the grid's own spacing, at most double; a single level gets half
   and double). The edges come last in this pass because they cost the most: a training grid
   with its edges is nine cells, half an hour of epochs on a 2-core CPU.
3. **A full grid on the two factors that matter most**, chosen from that first pass: the factors
   whose levels best separate holding from not holding (then the widest spread of log ratios),
   crossed at all their levels. Only step 1 always runs; the budget bounds the rest (each setup
   gets an equal share of what is left, at least 5 s), in this order.

Every measured cell of every run is one specification, judged by the claim's own rule as if the
claim were stated for that setup alone (verify.judge.robustness); the claim's verdict stays the
verdict as stated. The result is one exploration record in data/results/, through kg.records like
any run record, with every specification's factors, ratio, interval and label.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import paths, records
from kg.errors import UsageError
from kg.model import Check, Label, RunStatus
from kg.multiverse import Multiverse
from kg.textutil import utc_now
from verify.judge.explain import CellEstimate
from verify.judge.robustness import Spec, Summary, judge_spec, splits, summarise
from verify.judge.verdicts import judge, tier_name
from verify.run.options import RunOptions, RunResult
from verify.run.options import physical_cores as machine_cores

# the run factors and the parameters that carry them (threads is an option of the run)
LAYOUT, MODEL = "torch_memory_format", "model"
RUN_FACTORS = ("subject", "baseline", "threads", "layout", "model")
FACTOR_NAMES = {
    "subject": "the subject's API", "baseline": "the baseline's API", "threads": "the thread count",
    "layout": "PyTorch's memory layout", "model": "the model", "batch": "the batch size",
    "input": "the input size",
}  # fmt: skip
Runner = Callable[[Check, RunOptions], RunResult]


@dataclass(frozen=True)
class Setup:
    """One run of the exploration: a variant of the claim's check and its factor levels."""

    factors: dict[str, str]
    extended: bool = False  # the stated setup, on the grid with its edges

    def key(self) -> tuple[tuple[str, str], ...]:
        """Identity of the setup among those planned."""
        return (*sorted(self.factors.items()), ("edges", str(self.extended)))


@dataclass
class Exploration:
    """What an exploration measured and concluded."""

    check: Check
    stated: Label
    specs: list[Spec] = field(default_factory=list)
    setups: list[dict[str, Any]] = field(default_factory=list)  # each run: factors, status, time
    summary: Summary | None = None
    path: Path | None = None
    base: RunResult | None = None  # the stated setup's run, on the stated grid
    ended: str | None = None  # when the last setup finished (UTC)


def group_of(design: Multiverse, tier: str) -> str:
    """The side group a tier belongs to in a benchmark's multiverse."""
    found = design.group_of(tier)
    if found is None:
        raise UsageError(f"tier {tier!r} of {design.benchmark} has no place in an exploration")
    return found


def _default(design: Multiverse, parameter: str, fallback: str) -> str:
    levels = design.vary.get(parameter) or ()
    return levels[0] if levels else fallback


def stated_setup(check: Check, design: Multiverse) -> dict[str, str]:
    """The claim's own levels of the run factors (a parameter it does not set: the benchmark's
    default, its schema's first level)."""
    rule, params = check.rule, check.parameters
    return {"subject": rule.subject, "baseline": rule.baseline or "", "threads": "1",
            "layout": str(params.get(LAYOUT, _default(design, LAYOUT, "contiguous"))),
            "model": str(params.get(MODEL, _default(design, MODEL, "small-cnn")))}  # fmt: skip


def levels(
    check: Check, design: Multiverse, physical_cores: int,
    only: dict[str, list[str]] | None = None,
) -> dict[str, list[str]]:  # fmt: skip
    """Every level of each run factor for this claim (the stated level first), as the benchmark
    declares them; ``only`` varies just the factors it names, at the levels it gives."""
    stated = stated_setup(check, design)
    if only is not None:
        return {f: [stated[f], *(x for x in only.get(f, []) if x != stated[f])] for f in stated}
    out = {
        side: [stated[side], *(t for t in design.sides[group_of(design, stated[side])]
                               if t != stated[side])]
        for side in ("subject", "baseline")
    }  # fmt: skip
    threads = "threads" in design.vary and physical_cores > 1
    out["threads"] = ["1"] + ([str(physical_cores)] if threads else [])
    torch_side = any(group_of(design, out[s][0]) == "torch" for s in ("subject", "baseline"))
    layouts = design.vary.get(LAYOUT, ()) if torch_side else ()
    out["layout"] = [stated["layout"], *(x for x in layouts if x != stated["layout"])]
    out["model"] = [
        stated["model"],
        *(m for m in design.vary.get(MODEL, ()) if m != stated["model"]),
    ]
    return out


def one_at_a_time(
    check: Check, design: Multiverse, physical_cores: int,
    only: dict[str, list[str]] | None = None,
) -> list[Setup]:  # fmt: skip
    """The stated setup, each factor varied alone around it, then the stated setup on its grid
    with the edges."""
    base = stated_setup(check, design)
    out = [Setup(base)]
    for factor, levs in levels(check, design, physical_cores, only).items():
        out += [Setup({**base, factor: lev}) for lev in levs[1:]]
    out.append(Setup(base, extended=True))
    return [s for s in out if s.factors["subject"] != s.factors["baseline"]]


def crossed(
    check: Check,
    design: Multiverse,
    physical_cores: int,
    factors: Iterable[str],
    only: dict[str, list[str]] | None = None,
) -> list[Setup]:
    """Every combination of the given factors' levels, the others as stated."""
    base, levs = stated_setup(check, design), levels(check, design, physical_cores, only)
    names = list(factors)
    out = []
    for combo in itertools.product(*(levs[f] for f in names)):
        factors_ = {**base, **dict(zip(names, combo, strict=True))}
        if factors_["subject"] != factors_["baseline"]:
            out.append(Setup(factors_))
    return out


def _grid_edges(values: list[int], floor: int, cap: int) -> list[int]:
    vals = sorted(set(values))
    step = min(vals[-1] / vals[-2], 2.0) if len(vals) >= 2 else 2.0
    low_step = min(vals[1] / vals[0], 2.0) if len(vals) >= 2 else 2.0
    out = list(vals)
    if vals[0] > floor:
        out.insert(0, max(floor, round(vals[0] / low_step)))
    if vals[-1] < cap:
        out.append(min(cap, round(vals[-1] * step)))
    return sorted(set(out))


def variant(check: Check, setup: Setup, design: Multiverse) -> Check:
    """The claim's check as this setup measures it."""
    f, params = setup.factors, dict(check.parameters)
    params.update(tiers=[f["subject"], f["baseline"]], model=f["model"])
    if f["layout"] != _default(design, LAYOUT, "contiguous"):
        params[LAYOUT] = f["layout"]
    else:
        params.pop(LAYOUT, None)
    if setup.extended:
        caps = dict(zip(design.grid, ((1, 256), (16, 448)), strict=True))  # batch, input size
        for key in design.grid:
            values = params[key] if isinstance(params[key], list) else [params[key]]
            params[key] = _grid_edges([int(v) for v in values], *caps[key])
    rule = dataclasses.replace(check.rule, subject=f["subject"], baseline=f["baseline"])
    return dataclasses.replace(check, parameters=params, rule=rule)


def stated_cells(check: Check, design: Multiverse) -> set[tuple[int, int]]:
    """The (batch, input) cells the claim states."""
    p, (batch, size) = check.parameters, design.grid
    as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
    return {(int(x), int(y)) for x in as_list(p.get(batch, 1)) for y in as_list(p.get(size, 28))}


def specs_of(check: Check, design: Multiverse, setup: Setup, result: RunResult) -> list[Spec]:
    """One specification per measured cell of a run."""
    out = []
    stated = stated_cells(check, design)
    is_stated_setup = setup.factors == stated_setup(check, design)
    for cell in (result.record or {}).get("cells", []):
        s, c = cell.get("summary"), cell.get("cell") or {}
        if not s:
            continue
        batch, size = int(c.get("batch", 0)), int(c.get("size", 0))
        if setup.extended and (batch, size) in stated:
            continue  # the stated cells are the stated setup's own run
        factors = {**setup.factors, "batch": str(batch), "input": str(size)}
        est = CellEstimate(cell.get("label", ""), s["ratio"], s["ci_low"], s["ci_high"])
        out.append(
            judge_spec(check.rule, factors, est, is_stated_setup and (batch, size) in stated)
        )
    return out


def stated_label(check: Check, specs: list[Spec], result: RunResult) -> Label:
    """The claim's verdict as stated: its rule on the stated cells of the stated setup."""
    cells = [CellEstimate("", s.ratio, s.ci_low, s.ci_high) for s in specs if s.stated]
    if result.status != RunStatus.OK or not cells:
        return result.verdict.label if result.verdict else Label.INCONCLUSIVE
    return judge(check.rule, cells).label


def _separating(specs: list[Spec]) -> list[str]:
    """The two run factors that best separate holding from not holding (then ratio spread)."""
    found = {sp.factor: sp for sp in splits(specs) if sp.factor in RUN_FACTORS}

    def spread(factor: str) -> float:
        by: dict[str, list[float]] = {}
        for s in specs:
            by.setdefault(s.factors[factor], []).append(math.log(max(s.ratio, 1e-12)))
        means = [sum(v) / len(v) for v in by.values()]
        return max(means) - min(means) if len(means) > 1 else 0.0

    ranked = sorted(found, key=lambda f: (-round(found[f].separation, 9), -spread(f), f))
    return ranked[:2]


def explore(
    check: Check,
    design: Multiverse,
    options: RunOptions,
    run: Runner,
    *,
    budget: float | None = None,
    physical_cores: int | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    only: dict[str, list[str]] | None = None,
    edges: bool = True,
) -> Exploration:
    """Measure the claim's multiverse, as its benchmark declares it (`design`), within ``budget``
    seconds (by default the benchmark's); ``only`` restricts the design to some factors and
    levels, ``edges`` off keeps the stated grid."""
    if check.benchmark != design.benchmark or not check.rule.baseline:
        raise UsageError(f"claim '{check.claim_id}' has no ratio check to explore")
    cores = physical_cores or machine_cores()
    total = budget if budget is not None else design.budget_s
    progress = on_progress or (lambda fraction, message: None)
    t0 = time.monotonic()
    plan = [s for s in one_at_a_time(check, design, cores, only) if edges or not s.extended]
    out = Exploration(check, Label.INCONCLUSIVE)
    done: set[tuple[tuple[str, str], ...]] = set()
    first_pass = len(plan)
    while plan:
        setup = plan.pop(0)
        if setup.key() in done:
            continue
        left = total - (time.monotonic() - t0)
        if left <= 0 and done:  # the stated setup always runs; the budget bounds the rest
            out.setups += [{"factors": dict(s.factors), "extended": s.extended,
                            "status": "not-run", "specifications": 0, "seconds": 0.0,
                            "reason": "the budget was spent"}
                           for s in [setup, *plan] if s.key() not in done]  # fmt: skip
            break
        per_run = max(left / (len(plan) + 1), 5.0)
        progress(len(done) / max(len(done) + len(plan) + 1, 1), _describe(setup))
        opts = dataclasses.replace(options, budget=per_run, write=False,
                                   threads=int(setup.factors["threads"]))  # fmt: skip
        started = time.monotonic()
        result = run(variant(check, setup, design), opts)
        done.add(setup.key())
        got = specs_of(check, design, setup, result)
        out.specs += got
        out.setups.append({"factors": dict(setup.factors), "extended": setup.extended,
                           "status": result.status.value, "specifications": len(got),
                           "seconds": round(time.monotonic() - started, 1),
                           "reason": result.reason or _why_nothing(result, got)})  # fmt: skip
        if setup.factors == stated_setup(check, design) and not setup.extended and out.base is None:
            out.base, out.stated = result, stated_label(check, got, result)
        if len(done) == first_pass and out.specs:
            plan += [s for s in crossed(check, design, cores, _separating(out.specs), only)
                     if s.key() not in done]  # fmt: skip
    out.ended = utc_now()
    if out.specs:
        out.summary = summarise(out.specs, out.stated, FACTOR_NAMES)
    progress(1.0, out.summary.label.value if out.summary else "nothing measured")
    return out


def _why_nothing(result: RunResult, got: list[Spec]) -> str:
    """Why a run that finished gave no specification (a busy machine, say), else empty."""
    if got or result.verdict is None:
        return ""
    return result.verdict.explanation


def nothing_measured(found: Exploration) -> str:
    """The sentence for an exploration without a single specification: the first reason given."""
    reasons = [s["reason"] for s in found.setups if s.get("reason")]
    return f"nothing measured: {reasons[0]}" if reasons else "nothing measured"


def _describe(setup: Setup) -> str:
    f = setup.factors
    return (f"{tier_name(f['subject'])} vs {tier_name(f['baseline'])}, {f['threads']} thread(s),"
            f" {f['layout']}, {f['model']}{', the grid with its edges' if setup.extended else ''}")  # fmt: skip


def exploration_record(found: Exploration) -> dict[str, Any]:
    """The exploration as a run record: the stated run's record plus every specification."""
    base = found.base
    if base is None or base.record is None or found.summary is None:
        raise UsageError(f"the stated setup of '{found.check.claim_id}' was not measured")
    record = dict(base.record)
    record["check"] = found.check.to_dict()
    if found.ended:  # the stated run ended first; the exploration ends with its last setup
        record["ended"] = found.ended
    record["verdict"] = {"label": found.stated.value, "explanation": found.summary.sentence}
    record["exploration"] = {
        "design": "stated setup on its grid; one factor at a time, then the grid's edges; the"
        " two most separating factors crossed",
        "setups": found.setups,
        "specifications": [s.to_dict() for s in found.specs],
        "summary": found.summary.to_dict(),
    }
    return record


def write(found: Exploration, options: RunOptions) -> Path:
    """Write the exploration record; returns its path."""
    record = exploration_record(found)
    if record["status"] != RunStatus.OK.value:
        raise UsageError(f"the stated setup of '{found.check.claim_id}' did not run: "
                         f"{record['verdict']['explanation']}")  # fmt: skip
    results = options.results_dir or paths.results_dir(paths.find_root())
    path = records.record_path(results, record["environment_id"], found.check.claim_id,
                               record["started"])  # fmt: skip
    record["record_id"] = path.stem
    records.write_record(record, path)
    found.path = path
    return path
