"""Timed benchmarks: fresh process pairs, one framework per process, interleaved samples.

Pair i starts a subject worker and a baseline worker, opens every condition cell on both, compares
their reference outputs (fairness: the same weights must give the same outputs), warms up, and
then takes samples in rounds, A B B A within a round and B A A B in the next, so slow drift (clock,
heat, a neighbour) falls on both sides alike. Calls per sample are calibrated in the first pair so
one sample lasts at least ``min_sample_s``. After ``min_pairs`` pairs the verdict is computed after
every pair and the run stops once it is decided (every CI clear of the decision boundary) or the
budget is spent.

The budget is planned after the first pair's set-up: as many pairs (up to ``max_pairs``) as leave
each pair at least ``min_rounds`` rounds, each pair measuring for an equal slice of what is left.
``min_pairs`` pairs of ``min_rounds`` rounds always run, so a tiny budget can be exceeded.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from kg.model import Label, Verdict
from verify.run.failures import CheckError
from verify.run.spawn import WorkerProcess
from verify.run.state import ROLE, SIDES, CellData, CheckState, cell_title
from verify.run.workers import call_both, spawn

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


def _set_up_pair(
    state: CheckState, workers: dict[str, WorkerProcess], pair: int, ctx: dict[str, Any]
) -> dict[str, list[int]]:
    """Open every cell on both sides, check outputs agree, warm up, calibrate (first pair)."""
    opts, check = state.options, state.check
    sids: dict[str, list[int]] = {s: [] for s in SIDES}
    base = {"module": check.module, "params": check.parameters, "ctx": ctx}
    for c in state.cells:
        opened = call_both(workers, "open", opts.setup_timeout,
                           {s: {**base, "tier": state.tier(s), "cell": c.cell} for s in SIDES})  # fmt: skip
        for side in SIDES:
            sids[side].append(opened[side]["sid"])
        only = {s: {"sid": opened[s]["sid"]} for s in SIDES}
        refs = call_both(workers, "reference", opts.setup_timeout, only)
        _compare_outputs(state, c, {s: _decode(refs[s]) for s in SIDES})
        warm = call_both(workers, "warmup", opts.setup_timeout, only)
        for side in SIDES:
            c.warmup[side].append(warm[side])
            c.samples[side].append([])
            c.cpu_samples[side].append([])
    if pair == 0:  # calibration times calls, so one side at a time
        for i, c in enumerate(state.cells):
            for side in SIDES:
                cal = workers[side].call("calibrate", opts.setup_timeout, sid=sids[side][i],
                                         target_s=opts.min_sample_s)  # fmt: skip
                c.calls[side], c.per_call[side] = cal["calls"], cal["per_call_s"]
    return sids


def _read_back(state: CheckState, workers: dict[str, WorkerProcess], sids: dict, pair: int) -> None:
    """After measuring: each session's own report (threads read back, layout, device)."""
    for i, c in enumerate(state.cells):
        info = call_both(workers, "info", 60, {s: {"sid": sids[s][i]} for s in SIDES})
        for side in SIDES:
            state.processes_info(pair, side, workers[side].pid)[c.label] = info[side]
    if pair == 0:
        found = call_both(workers, "frameworks", 60, {s: {} for s in SIDES})
        state.frameworks.update({ROLE[s]: found[s] for s in SIDES})


def _fraction(state: CheckState) -> float:
    return min(0.99, state.elapsed() / max(state.options.budget, 1e-9))


def _round_seconds(state: CheckState) -> float:
    return sum(2 * sum(c.calls[s] * c.per_call[s] for s in SIDES) for c in state.cells)


def plan(state: CheckState, setup_s: float) -> tuple[int, float]:
    """How many pairs to plan for and how long each pair measures, from the budget left."""
    opts = state.options
    remaining = opts.budget - state.elapsed()
    min_slice = opts.min_rounds * _round_seconds(state)
    for pairs in range(opts.max_pairs, opts.min_pairs - 1, -1):
        slice_s = (remaining - (pairs - 1) * setup_s) / pairs
        if slice_s >= min_slice:
            return pairs, slice_s
    return opts.min_pairs, min_slice


def _measure(state: CheckState, workers: dict, sids: dict, pair: int, slice_s: float,
             progress: Progress) -> int:  # fmt: skip
    """ABBA / BAAB rounds over all cells until the pair's slice is used; returns the rounds."""
    opts = state.options
    end, rnd = time.monotonic() + slice_s, 0
    while rnd < opts.min_rounds or time.monotonic() < end:
        pattern = "ABBA" if (pair + rnd) % 2 == 0 else "BAAB"
        for i, c in enumerate(state.cells):
            for side in pattern:
                expected = c.calls[side] * c.per_call[side]
                got = workers[side].call("sample", opts.sample_timeout + 20 * expected,
                                         sid=sids[side][i], calls=c.calls[side], n=1)  # fmt: skip
                c.samples[side][pair].append(got["wall"][0])
                c.cpu_samples[side][pair].append(got["cpu"][0])
                state.order.append([pair, i, side])
        rnd += 1
        progress(_fraction(state), f"pair {pair + 1}: measuring, round {rnd}")
    return rnd


def run_timed(
    state: CheckState, first: WorkerProcess, ctx: dict[str, Any], progress: Progress
) -> Verdict:
    """Process pairs until the verdict is decided or the budget is spent."""
    opts = state.options
    planned, slice_s, setup_s = opts.max_pairs, 0.0, 0.0
    verdict = Verdict(Label.INCONCLUSIVE, "No process pair completed.")
    pair = 0
    while pair < planned:
        t_pair = time.monotonic()
        order = ("A", "B") if pair % 2 == 0 else ("B", "A")
        workers: dict[str, WorkerProcess] = {}
        try:
            for side in order:
                workers[side] = first if pair == 0 and side == "A" else spawn(state, side, pair)
            progress(_fraction(state), f"pair {pair + 1}: starting, checking outputs, warming up")
            sids = _set_up_pair(state, workers, pair, ctx)
            t_measure = time.monotonic()
            if pair == 0:
                setup_s = t_measure - t_pair
                planned, slice_s = plan(state, setup_s)
            rounds = _measure(state, workers, sids, pair, slice_s, progress)
            state.pairs.append({"pair": pair, "setup_s": round(t_measure - t_pair, 3),
                                "measure_s": round(time.monotonic() - t_measure, 3),
                                "rounds": rounds})  # fmt: skip
            _read_back(state, workers, sids, pair)
        except BaseException:
            for w in workers.values():
                w.kill()  # a failed pair may still be busy with a request: do not wait for it
            raise
        finally:
            for w in workers.values():
                w.close()
        pair += 1
        if pair >= opts.min_pairs:
            verdict = state.judge()
            if verdict.decided or state.elapsed() + setup_s + slice_s > opts.budget:
                break
    return verdict
