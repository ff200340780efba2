"""Runs a claim's check in worker processes and turns what they measure into a verdict and a record.

Timed benchmarks run in fresh process pairs, one framework per process: pair i starts a subject
worker and a baseline worker, opens every condition cell on both, compares their reference outputs
(fairness: the same weights must give the same outputs), warms up, and then takes samples in
rounds, A B B A within a round and B A A B in the next, so slow drift (clock, heat, a neighbour)
falls on both sides alike. Calls per sample are calibrated in the first pair so one sample lasts at
least ``min_sample_s``. After ``min_pairs`` pairs the verdict is computed after every pair and the
run stops once it is decided (every CI clear of the decision boundary) or the budget is spent.

The budget is planned after the first pair's set-up: as many pairs (up to ``max_pairs``) as leave
each pair at least ``min_rounds`` rounds, each pair measuring for an equal slice of what is left.
``min_pairs`` pairs of ``min_rounds`` rounds always run, so a tiny budget can be exceeded.
"""

from __future__ import annotations

import base64
import tempfile
import time
from collections.abc import Callable

import numpy as np

from verify import oneshot, records
from verify.runstate import (
    ROLE,
    SIDES,
    CellData,
    CheckFailed,
    CheckState,
    RunOptions,
    RunResult,
    cell_title,
)
from verify.spawn import WorkerFailed, WorkerProcess, default_mem_cap_mb
from verify.verdicts import NOT_CHECKABLE, Verdict

Progress = Callable[[float, str], None]


def spawn(state: CheckState, side: str, pair: int) -> WorkerProcess:
    """A fresh worker for one side of one pair."""
    opts = state.options
    label = f"{state.tier(side)} ({ROLE[side]}, process {pair + 1})"
    cap = opts.mem_cap_mb or default_mem_cap_mb()
    return WorkerProcess(
        label, threads=opts.thread_count(), device=opts.device, mem_cap_mb=cap, python=opts.python
    )


def call(worker: WorkerProcess, op: str, timeout: float, **args: object):
    """One worker request; a failure becomes CheckFailed with the worker's reason."""
    try:
        return worker.call(op, timeout, **args)
    except WorkerFailed as e:
        raise CheckFailed(e.kind, e.reason, e.detail) from e


def describe(state: CheckState, worker: WorkerProcess) -> dict:
    """Ask a worker what the benchmark module is; check the rule's tiers exist."""
    desc = call(worker, "describe", state.options.setup_timeout, module=state.check["module"],
                params=state.check.get("parameters", {}))  # fmt: skip
    state.kind, state.tiers = desc["kind"], desc["tiers"]
    state.timed = desc["kind"] == "timed"
    if desc["kind"] != "probe":
        for side in SIDES:
            if state.tier(side) not in desc["tiers"]:
                raise CheckFailed(
                    "error",
                    f"the rule names tier '{state.tier(side)}', which {state.check['module']}"
                    f" does not have (it has: {', '.join(desc['tiers'])})",
                )
        state.cells = [CellData(cell) for cell in desc["cells"]]
    return desc


def _decode(ref: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(ref["data"]), dtype=np.float64).reshape(ref["shape"])


def _compare_outputs(state: CheckState, c: CellData, refs: dict[str, np.ndarray]) -> None:
    a, b = refs["A"], refs["B"]
    opts = state.options
    if a.shape != b.shape:
        c.agree = False
        raise CheckFailed(
            "error", f"outputs differ at {cell_title(c.cell)}: shapes {a.shape} and {b.shape}"
        )
    diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    c.max_abs_diff = max(diff, c.max_abs_diff or 0.0)
    c.agree = bool(np.allclose(a, b, rtol=opts.output_rtol, atol=opts.output_atol))
    if not c.agree:
        raise CheckFailed(
            "error",
            f"outputs differ at {cell_title(c.cell)}: max abs diff {diff:.3g} is beyond"
            f" rtol {opts.output_rtol:g} / atol {opts.output_atol:g}, so the two sides do not"
            " compute the same thing and timing them would not be fair",
        )


def call_both(workers: dict[str, WorkerProcess], op: str, timeout: float,
              args: dict[str, dict]) -> dict:  # fmt: skip
    """The same request to both sides at once (set-up only: nothing is timed while both run)."""
    try:
        for side in SIDES:
            workers[side].send(op, **args[side])
        return {side: workers[side].receive(op, timeout) for side in SIDES}
    except WorkerFailed as e:
        raise CheckFailed(e.kind, e.reason, e.detail) from e


def _set_up_pair(
    state: CheckState, workers: dict[str, WorkerProcess], pair: int, ctx: dict
) -> dict:
    """Open every cell on both sides, check outputs agree, warm up, calibrate (first pair)."""
    opts, check = state.options, state.check
    sids: dict[str, list[int]] = {s: [] for s in SIDES}
    base = {"module": check["module"], "params": check.get("parameters", {}), "ctx": ctx}
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
                cal = call(workers[side], "calibrate", opts.setup_timeout, sid=sids[side][i],
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
                got = call(workers[side], "sample", opts.sample_timeout + 20 * expected,
                           sid=sids[side][i], calls=c.calls[side], n=1)  # fmt: skip
                c.samples[side][pair].append(got["wall"][0])
                c.cpu_samples[side][pair].append(got["cpu"][0])
                state.order.append([pair, i, side])
        rnd += 1
        progress(_fraction(state), f"pair {pair + 1}: measuring, round {rnd}")
    return rnd


def run_timed(state: CheckState, first: WorkerProcess, ctx: dict, progress: Progress) -> Verdict:
    """Process pairs until the verdict is decided or the budget is spent."""
    opts = state.options
    planned, slice_s, setup_s = opts.max_pairs, 0.0, 0.0
    verdict = Verdict("inconclusive", "No process pair completed.")
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


def _run(state: CheckState, scratch: str, progress: Progress) -> Verdict:
    ctx = state.options.context(scratch).to_dict()
    first = spawn(state, "A", 0)
    try:
        desc = describe(state, first)
        if desc["kind"] == "probe":
            try:
                return oneshot.run_probe(state, first, ctx)
            finally:
                first.close()  # a probe's worker is done once it has answered
        if desc["kind"] == "timed":
            return run_timed(state, first, ctx, progress)
    except BaseException:
        first.close()
        raise
    first.close()  # single-shot measurements need pristine processes
    return oneshot.run_single(state, ctx, progress)


def run_check(
    check: dict,
    options: RunOptions | None = None,
    *,
    environment: dict | None = None,
    on_progress: Progress | None = None,
) -> RunResult:
    """Run one claim's check (a kg.api.claim_check dict), judge it, write its record."""
    from verify import environment as env_mod

    options = options or RunOptions()
    claim_id = str(check["claim_id"])
    progress = on_progress or (lambda fraction, message: None)
    state = CheckState(check, options)
    status = "ok"
    data = None
    if check.get("benchmark_type") == "datacheck":
        # Adoption claims are judged against cited snapshots, not measured; the record keeps the rows.
        data = _judge_data(check)
        verdict = Verdict(data["label"], data["explanation"])
        status = "not-checkable" if data["label"] == NOT_CHECKABLE else "ok"
    else:
        with tempfile.TemporaryDirectory(prefix="fwclaims-") as scratch:
            try:
                verdict = _run(state, scratch, progress)
            except CheckFailed as e:
                status = "not-checkable" if e.kind == "not-checkable" else "error"
                verdict = state.failed(e)
    progress(1.0, verdict.label)
    env = environment if environment is not None else env_mod.collect()
    env = env_mod.with_worker_versions(env, state.frameworks)
    env_id = env_mod.environment_id(env)
    record = state.to_record(verdict, status, env, env_id)
    if data is not None:
        record["data"] = {k: data[k] for k in ("value", "data", "source")}
    path = None
    if options.write:
        results = options.results_dir or _default_results_dir()
        path = records.record_path(results, env_id, claim_id, state.started)
        record["record_id"] = path.stem
        records.write_record(record, path)
    reason = state.errors[-1]["reason"] if state.errors else ""
    return RunResult(claim_id, status, verdict, record, path, reason)


def _judge_data(check: dict) -> dict:
    """An adoption check judged against the project's cited snapshots."""
    from kg.paths import find_root, snapshots_dir
    from verify.adoption import judge_adoption

    return judge_adoption(check, snapshots_dir(find_root()))


def _default_results_dir():
    from kg.paths import find_root, results_dir

    return results_dir(find_root())


def resolve_device(requested: str, claim_device: str) -> str:
    """The device a check runs on: `auto` takes CUDA when a GPU is visible and the claim allows."""
    from verify.environment import has_cuda

    if requested != "auto":
        return requested
    return "cuda" if claim_device in ("gpu", "any") and has_cuda() else "cpu"


def run_claims(
    claim_ids: list[str],
    options: RunOptions,
    *,
    every: bool = False,
    device: str = "auto",
    on_start: Callable[[str], Progress] | None = None,
) -> list[RunResult]:
    """Run the checks of some claims (or every checkable claim), in order; one result each.

    Unknown ids raise kg.errors.UnknownClaim before anything runs. `on_start(claim_id)` may return
    a progress callback for that check.
    """
    import dataclasses

    from kg import api
    from kg.errors import UsageError
    from kg.load import load_corpus
    from verify import environment as env_mod

    if device not in ("cpu", "cuda", "auto"):
        raise UsageError(f"unknown device '{device}': use cpu, cuda or auto")
    if not claim_ids and not every:
        raise UsageError("name at least one claim with --claim ID, or use --all")
    corpus = load_corpus()
    ids = api.checkable_claim_ids(corpus) if every else list(dict.fromkeys(claim_ids))
    checks = {
        claim_id: api.claim_check(corpus, claim_id) for claim_id in ids
    }  # raises UnknownClaim
    environment = env_mod.collect()
    results = []
    for claim_id, check in checks.items():
        if check is None:
            results.append(RunResult(claim_id, "skipped", None, reason="the claim has no check"))
            continue
        claim_device = str(check.get("conditions", {}).get("device", "any"))
        opts = dataclasses.replace(options, device=resolve_device(device, claim_device))
        progress = on_start(claim_id) if on_start else None
        results.append(run_check(check, opts, environment=environment, on_progress=progress))
    return results
