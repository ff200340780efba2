"""Checks that are not timed loops: capability probes and single-shot measurements.

A probe runs once in one worker and is judged by ``exists``. A single-shot benchmark (peak memory)
gives one value per fresh process, so every value costs a process start: repetitions alternate
A B / B A per cell, at least ``min_pairs`` of them, more while the budget lasts and the verdict is
open.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kg.model import Label, Verdict
from verify.judge.verdicts import judge_probe
from verify.run.failures import CheckError
from verify.run.spawn import WorkerProcess
from verify.run.state import ROLE, CheckState
from verify.run.workers import spawn

MAX_REPETITIONS = 12


def run_probe(state: CheckState, worker: WorkerProcess, ctx: dict[str, Any]) -> Verdict:
    """Run a capability probe in the worker that described its module."""
    check = state.check
    probes = state.tiers
    name = state.rule.subject if state.rule.subject in probes else check.benchmark
    if name not in probes:
        raise CheckError(f"no probe named '{name}' in {check.module} (it has: {', '.join(probes)})")
    result = worker.call("probe", state.options.setup_timeout, module=check.module, name=name,
                         params=check.parameters, ctx=ctx)  # fmt: skip
    state.frameworks["probe"] = worker.call("frameworks", 30)
    state.processes.append(
        {"pair": 0, "side": "probe", "tier": name, "pid": worker.pid, "info": {}}
    )
    state.probe = result
    return judge_probe(result, f"The {name} probe", note=state.note(), context=state.context())


def measured_value(result: dict[str, Any], metric: str) -> float:
    """The number a single-shot result reports for the rule's metric."""
    for key in (metric, "value"):
        if isinstance(result.get(key), int | float) and not isinstance(result.get(key), bool):
            return float(result[key])
    numbers = [v for v in result.values() if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == 1:
        return float(numbers[0])
    raise CheckError(
        f"the measurement has no '{metric}' value (it reported: {', '.join(result) or 'nothing'})"
    )


def run_single(
    state: CheckState, ctx: dict[str, Any], progress: Callable[[float, str], None]
) -> Verdict:
    """Fresh-process repetitions, alternating side order, until decided or out of budget."""
    opts, check = state.options, state.check
    verdict = Verdict(Label.INCONCLUSIVE, "No repetition completed.")
    for c in state.cells:
        c.samples = {"A": [], "B": []}
    last = 0.0
    for rep in range(max(opts.min_pairs, MAX_REPETITIONS)):
        t_rep = time.monotonic()
        for i, c in enumerate(state.cells):
            for side in ("A", "B") if rep % 2 == 0 else ("B", "A"):
                worker = spawn(state, side, rep)
                try:
                    result = worker.call("measure_once", opts.setup_timeout, module=check.module,
                                         tier=state.tier(side), cell=c.cell,
                                         params=check.parameters, ctx=ctx)  # fmt: skip
                    if ROLE[side] not in state.frameworks:
                        state.frameworks[ROLE[side]] = worker.call("frameworks", 30)
                finally:
                    worker.close()
                c.measurements[side].append(result)
                c.samples[side].append([measured_value(result, state.rule.metric)])
                state.order.append([rep, i, side])
                state.processes.append({"pair": rep, "side": ROLE[side], "tier": state.tier(side),
                                        "pid": worker.pid, "info": {}})  # fmt: skip
        last = time.monotonic() - t_rep
        progress(min(0.99, state.elapsed() / max(opts.budget, 1e-9)), f"repetition {rep + 1}")
        if rep + 1 >= opts.min_pairs:
            verdict = state.judge()
            if verdict.decided or state.elapsed() + last > opts.budget:
                break
    return verdict
