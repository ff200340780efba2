"""Starting a check's worker processes and the requests every kind of check sends them."""

from __future__ import annotations

from typing import Any

from verify.run.failures import CheckError
from verify.run.spawn import WorkerProcess, default_mem_cap_mb
from verify.run.state import ROLE, SIDES, CellData, CheckState


def spawn(state: CheckState, side: str, pair: int) -> WorkerProcess:
    """A fresh worker for one side of one process pair (or one repetition)."""
    opts = state.options
    label = f"{state.tier(side)} ({ROLE[side]}, process {pair + 1})"
    cap = opts.mem_cap_mb or default_mem_cap_mb()
    return WorkerProcess(
        label, threads=opts.thread_count(), device=opts.device, mem_cap_mb=cap, python=opts.python
    )


def call_both(
    workers: dict[str, WorkerProcess], op: str, timeout: float, args: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The same request to both sides at once (set-up only: nothing is timed while both run)."""
    for side in SIDES:
        workers[side].send(op, **args[side])
    return {side: workers[side].receive(op, timeout) for side in SIDES}


def describe(state: CheckState, worker: WorkerProcess) -> dict[str, Any]:
    """Ask a worker what the benchmark module is; check that the rule's tiers exist."""
    check = state.check
    desc = worker.call("describe", state.options.setup_timeout, module=check.module,
                       params=check.parameters)  # fmt: skip
    state.kind, state.tiers = desc["kind"], desc["tiers"]
    state.timed = desc["kind"] == "timed"
    if desc["kind"] != "probe":
        for side in SIDES:
            if state.tier(side) not in desc["tiers"]:
                raise CheckError(
                    f"the rule names tier '{state.tier(side)}', which {check.module}"
                    f" does not have (it has: {', '.join(desc['tiers'])})"
                )
        state.cells = [CellData(cell) for cell in desc["cells"]]
    return desc
