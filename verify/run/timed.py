"""Timed benchmarks: fresh process pairs, one framework per process, interleaved samples.

Every pair is a subject worker and a baseline worker. The first ``min_pairs`` pairs are started
together, before anything is timed: their imports, model builds, output comparisons (fairness: the
same weights must give the same outputs) and warm-ups run while no sample is taken, since idle
workers do not disturb a measurement. Each worker goes through its cells one after another, and as
many cells are set up at once as the cores hold at the run's thread count (a warm-up on shared
cores is noisy, takes more calls to look steady and would misjudge the calls per sample); a free
core takes the next cell of the idle worker with the most left (verify.run.setupqueue). Each pair opens
its cells in an order of its own (shuffled from the run's seed), so no cell always follows the
same neighbours.

Then the pairs measure one after another, each for ``pair_seconds`` (at least ``min_rounds``
rounds): samples in rounds, A B B A within a round and B A A B in the next, so slow drift falls on
both sides alike, with the cells in a fresh order every round. With more than one thread the
runner pauses ``settle_s`` whenever the side changes: the worker that just sampled keeps its thread
pool spinning for a few milliseconds, and on the cores the run uses that would be load beside the
next sample (seen as 0.3-0.5 cores of "other work" on an idle 2-core machine). Calls per sample
come from the first pair's warm-up so one sample lasts at least ``min_sample_s``. After the first
pairs the verdict is computed; while it is open and the budget allows, one more pair is started and measured.
A pair measured while other work kept the machine busy (verify.run.machine) is left out of the
estimate and replaced, budget permitting.
"""

from __future__ import annotations

import base64
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kg.model import Verdict
from verify.run.failures import CheckError, NotCheckableHere
from verify.run.machine import pair_load
from verify.run.options import RunOptions, physical_cores
from verify.run.setupqueue import SetupQueue
from verify.run.spawn import WorkerProcess
from verify.run.state import ROLE, SIDES, CellData, CheckState, cell_title
from verify.run.workers import call_both, spawn

# how long the other side of a pair may take to say it is not checkable either
NOT_CHECKABLE_WAIT_S = 30.0

Progress = Callable[[float, str], None]


def _decode(ref: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(ref["data"]), dtype=np.float64).reshape(ref["shape"])


def _compare_outputs(state: CheckState, c: CellData, refs: dict[str, np.ndarray]) -> None:
    a, b = refs["A"], refs["B"]
    opts = state.options
    if a.shape != b.shape:
        c.agree = False
        raise CheckError(f"outputs differ at {cell_title(c.cell)}: shapes {a.shape} and {b.shape}")
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    c.max_abs_diff = max(diff, c.max_abs_diff or 0.0)
    c.agree = bool(np.allclose(a, b, rtol=opts.output_rtol, atol=opts.output_atol))
    if not c.agree:
        raise CheckError(
            f"outputs differ at {cell_title(c.cell)}: max abs diff {diff:.3g} is beyond"
            f" rtol {opts.output_rtol:g} / atol {opts.output_atol:g}, so the two sides do not"
            " compute the same thing and timing them would not be fair",
        )


def _start(state: CheckState, indices: list[int], first: WorkerProcess | None) -> list[Pair]:
    """Workers for these pair indices, started at once (the first pair may reuse a worker)."""
    pairs = []
    for i in indices:
        order = ("A", "B") if i % 2 == 0 else ("B", "A")
        workers = {}
        for side in order:
            reuse = first is not None and i == 0 and side == "A"
            workers[side] = first if reuse and first else spawn(state, side, i)
        pairs.append(Pair(i, workers))
    return pairs


@dataclass
class Pair:
    """One process pair: its index, its two workers, and each cell's session ids on them."""

    index: int
    workers: dict[str, WorkerProcess]
    sids: dict[str, dict[int, int]] = field(default_factory=lambda: {s: {} for s in SIDES})

    def close(self, kill: bool = False) -> None:
        """Stop both workers (at once when the pair failed mid-request)."""
        for w in self.workers.values():
            if kill:
                w.kill()
            w.close()


def _prepare_cell(
    worker: WorkerProcess, tier: str, cell: dict[str, Any], base: dict[str, Any], timeout: float
) -> tuple[int, Any, Any]:
    """Open one cell on a worker: its session id, reference output and warm-up report."""
    sid = worker.call("open", timeout, **base, tier=tier, cell=cell)["sid"]
    ref = worker.call("reference", timeout, sid=sid)
    return sid, ref, worker.call("warmup", timeout, sid=sid)


def _at_once(opts: RunOptions, jobs: int) -> int:
    """How many workers set up at the same time: as many as the cores hold at the run's thread
    count. More would only share the cores, and a warm-up timed on shared cores is noisy, so it
    takes more calls to look steady."""
    return max(1, min(jobs, physical_cores() // max(1, opts.thread_count())))


def _set_up_failure(pairs: list[Pair], queue: SetupQueue) -> Exception:
    """What a failed set-up raises. Where a side is not checkable here, the other side of its
    pair gets a moment to say whether it is missing something too, so that the reason names each
    side that is (in side order, whichever worker got there first); then every worker is stopped,
    since the others would finish their cells for nothing."""
    if all(isinstance(e, NotCheckableHere) for e in queue.errors.values()):
        queue.wait_partners(NOT_CHECKABLE_WAIT_S)
    # read before any worker is stopped: a stopped worker's "died" must not hide the real cause
    errors = dict(queue.errors)
    missing = sorted((i, SIDES.index(s), e.reason) for (i, s), e in errors.items()
                     if isinstance(e, NotCheckableHere))  # fmt: skip
    for p in pairs:
        for w in p.workers.values():
            w.kill()
    queue.join()
    if missing:
        return NotCheckableHere("; ".join(dict.fromkeys(reason for _, _, reason in missing)))
    error = next(iter(errors.values()))
    return error if isinstance(error, Exception) else CheckError(f"set-up stopped: {error!r}")


def _set_up(state: CheckState, pairs: list[Pair], ctx: dict[str, Any]) -> None:
    """Open every cell on every worker of these pairs, compare outputs, warm up: the cores take
    the next cell of whichever idle worker has the most left (verify.run.setupqueue), so none
    stays idle while one slow worker finishes alone; nothing is timed meanwhile."""
    opts, check = state.options, state.check
    base = {"module": check.module, "params": check.parameters, "ctx": ctx}
    for p in pairs:
        order = list(range(len(state.cells)))
        random.Random(f"{opts.seed}:{p.index}").shuffle(order)
        state.cell_orders[p.index] = order
    by_index = {p.index: p for p in pairs}

    def run(job: tuple[int, str], step: int) -> tuple[int, Any, Any]:
        i, side = job
        cell = state.cells[state.cell_orders[i][step]].cell
        return _prepare_cell(by_index[i].workers[side], state.tier(side), cell, base,
                             opts.setup_timeout)  # fmt: skip

    steps = {(p.index, s): len(state.cells) for p in pairs for s in SIDES}
    queue = SetupQueue(steps, run, _at_once(opts, len(steps)),
                       partner=lambda j: (j[0], "B" if j[1] == "A" else "A"))  # fmt: skip
    queue.start()
    if not queue.wait():
        raise _set_up_failure(pairs, queue)
    queue.join()
    for p in pairs:
        for step, k in enumerate(state.cell_orders[p.index]):
            got = {s: queue.results[(p.index, s)][step] for s in SIDES}
            for side in SIDES:
                p.sids[side][k] = got[side][0]
            _compare_outputs(state, state.cells[k], {s: _decode(got[s][1]) for s in SIDES})
            for side in SIDES:
                state.cells[k].set_warmup(p.index, side, got[side][2])
    for _ in pairs:  # pairs are set up in index order, so list positions are pair indices
        for c in state.cells:
            c.add_pair()


def _calls_per_sample(state: CheckState, pair: Pair) -> None:
    """Calls per sample so one sample lasts at least min_sample_s: from the first pair's steady
    per-call time where its warm-up reported one, else timed on that pair, one side at a time."""
    opts = state.options
    for k, c in enumerate(state.cells):
        for side in SIDES:
            steady = c.warmup[side][pair.index].get("steady_call_s")
            if steady:
                c.per_call[side] = float(steady)
                c.calls[side] = max(1, math.ceil(opts.min_sample_s / float(steady)))
                continue
            cal = pair.workers[side].call("calibrate", opts.setup_timeout, sid=pair.sids[side][k],
                                          target_s=opts.min_sample_s)  # fmt: skip
            c.calls[side], c.per_call[side] = cal["calls"], cal["per_call_s"]


def _read_back(state: CheckState, pair: Pair) -> None:
    """After measuring: each session's own report (threads read back, layout, device)."""
    for i, c in enumerate(state.cells):
        info = call_both(pair.workers, "info", 60, {s: {"sid": pair.sids[s][i]} for s in SIDES})
        for side in SIDES:
            state.processes_info(pair.index, side, pair.workers[side].pid)[c.label] = info[side]
    if not state.frameworks:
        found = call_both(pair.workers, "frameworks", 60, {s: {} for s in SIDES})
        state.frameworks.update({ROLE[s]: found[s] for s in SIDES})


def _fraction(state: CheckState) -> float:
    return min(0.99, state.elapsed() / max(state.options.budget, 1e-9))


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def _measure(state: CheckState, pair: Pair, slice_s: float, progress: Progress) -> int:
    """ABBA / BAAB rounds over all cells, in a fresh order each round, for the pair's slice of
    time (at least min_rounds rounds), pausing opts.settle() whenever the side changes; returns
    the rounds taken."""
    opts, i = state.options, pair.index
    end, rnd, settle, last = time.monotonic() + slice_s, 0, opts.settle(), ""
    rng = random.Random(f"{opts.seed}:{i}:rounds")
    while rnd < opts.min_rounds or time.monotonic() < end:
        pattern = "ABBA" if (i + rnd) % 2 == 0 else "BAAB"
        cells = list(range(len(state.cells)))
        rng.shuffle(cells)
        for k in cells:
            c = state.cells[k]
            for side in pattern:
                if settle and last and side != last:
                    _pause(settle)
                last = side
                expected = c.calls[side] * c.per_call[side]
                got = pair.workers[side].call("sample", opts.sample_timeout + 20 * expected,
                                              sid=pair.sids[side][k], calls=c.calls[side], n=1)  # fmt: skip
                c.record_sample(side, i, got)
                state.order.append([i, k, side])
        rnd += 1
        progress(_fraction(state), f"pair {i + 1}: measuring, round {rnd}")
    return rnd


def _slice(state: CheckState, setup_s: float) -> float:
    """Seconds each pair measures: pair_seconds, less when the budget cannot hold the first pairs
    at that length (min_rounds rounds still run)."""
    opts = state.options
    return max(0.0, min(opts.pair_seconds, (opts.budget - setup_s) / opts.min_pairs))


def _measure_pair(state: CheckState, pair: Pair, progress: Progress, setup_s: float) -> None:
    t0 = time.monotonic()
    rounds = _measure(state, pair, _slice(state, setup_s), progress)
    state.pairs.append({"pair": pair.index, "setup_s": round(setup_s, 3),
                        "measure_s": round(time.monotonic() - t0, 3), "rounds": rounds})  # fmt: skip
    _read_back(state, pair)
    load = pair_load(pair.index, state.cells, ROLE, state.options.busy_cores)
    if load is not None:
        state.loads.append(load)


def _worth_another(state: CheckState, verdict: Verdict, setup_s: float, measured: int) -> bool:
    """Whether to start one more pair: the verdict is open, pairs and budget are left."""
    opts = state.options
    quiet = measured - len(state.busy_pairs())
    if verdict.decided and quiet >= opts.min_pairs:
        return False
    if measured >= opts.max_pairs + len(state.busy_pairs()):
        return False
    return state.elapsed() + setup_s + _slice(state, setup_s) <= opts.budget


def run_timed(
    state: CheckState, first: WorkerProcess, ctx: dict[str, Any], progress: Progress
) -> Verdict:
    """Process pairs until the verdict is decided or the budget is spent."""
    opts = state.options
    progress(0.0, f"starting {opts.min_pairs} process pairs, checking outputs, warming up")
    t0 = time.monotonic()
    pending = _start(state, list(range(opts.min_pairs)), first)
    try:
        _set_up(state, pending, ctx)
        setup_s = time.monotonic() - t0
        _calls_per_sample(state, pending[0])
        measured = 0
        while pending:
            pair = pending.pop(0)
            try:
                _measure_pair(state, pair, progress, setup_s)
            finally:
                pair.close()
            measured += 1
            if pending:
                continue
            verdict = state.judge()
            if not _worth_another(state, verdict, setup_s, measured):
                return verdict
            progress(_fraction(state), f"pair {measured + 1}: starting, warming up")
            t1 = time.monotonic()
            pending = _start(state, [measured], None)
            _set_up(state, pending, ctx)
            setup_s = time.monotonic() - t1
    except BaseException:
        for p in pending:
            p.close(kill=True)  # a failed pair may still be busy with a request: do not wait
        raise
    return state.judge()
