"""Run claims' checks on this machine: each in worker processes (verify.run.timed, .oneshot) or
against the cited snapshots (verify.run.datacheck), judged, and written as a run record.

A check that cannot finish still gives a record: "not checkable here" when something it needs is
missing, "inconclusive" with the reason when a worker failed. Only the CLI turns failures into
exit codes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import inspect
import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from kg import api, paths
from kg.environments import environment_id
from kg.errors import UsageError
from kg.load import load_corpus
from kg.model import Check, CheckType, Combine, Kind, Label, RunStatus, Verdict, combine
from kg.rows import Evidence
from kg.store import Corpus
from verify.judge.verdicts import not_checkable
from verify.run import cleanup, floors, gpusanity, oneshot, saving, timed
from verify.run import environment as env_mod
from verify.run.datacheck import judge_data
from verify.run.failures import RunFailure
from verify.run.options import RunOptions, RunResult
from verify.run.placement import place
from verify.run.shard import Shard
from verify.run.state import CheckState
from verify.run.workers import describe, spawn

P = ParamSpec("P")
T = TypeVar("T")

Progress = Callable[[float, str], None]
DEVICES = ("cpu", "cuda", "auto")


@dataclass(frozen=True)
class Selected:
    """A selected claim's checks (none for a claim without one) and how their verdicts combine."""

    checks: list[Check]
    combine: Combine = Combine.ALL
    evidence: list[Evidence] = field(default_factory=list)  # published figures bearing on it


def _measure(state: CheckState, scratch: str, progress: Progress) -> Verdict:
    """Describe the benchmark in a first worker, then run it the way its kind needs."""
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
            return timed.run_timed(state, first, ctx, progress)
    except BaseException:
        first.close()
        raise
    first.close()  # single-shot measurements need pristine processes
    return oneshot.run_single(state, ctx, progress)


def _judge(state: CheckState, progress: Progress) -> tuple[Verdict, RunStatus]:
    """The verdict of one check and its status; failures become verdicts, not exceptions."""
    if state.check.benchmark_type == CheckType.DATACHECK:
        today = dt.date.fromisoformat(state.started[:10])  # the run's own date, in UTC
        data = judge_data(state.check, paths.snapshots_dir(paths.find_root()), today)
        state.data = {"value": data.value, "data": data.data, "source": data.source}
        status = RunStatus.NOT_CHECKABLE if data.label == Label.NOT_CHECKABLE else RunStatus.OK
        return Verdict(data.label, data.explanation), status
    with cleanup.scratch_dir() as scratch:
        try:
            return _measure(state, scratch, progress), RunStatus.OK
        except RunFailure as e:
            return state.failed(e), e.status


def _floored(state: CheckState, env: dict[str, Any]) -> bool:
    """Give a benchmark check the variance floors `verify calibrate` measured in its environment;
    True when that changed them (the environment is known exactly only once workers report their
    framework versions)."""
    opts = state.options
    if not opts.variance_floor or state.check.benchmark_type != CheckType.BENCHMARK:
        return False
    env_id = environment_id({**env, "timing_threads": opts.thread_count()})
    if state.floors_env == env_id:
        return False
    before, state.floors_env = state.floors, env_id
    state.floors = floors.load(env_id, opts.calibration_dir)
    return state.floors != before


def measurement_key(check: Check, options: RunOptions) -> str | None:
    """What a timed or single-shot measurement depends on; two claims with the same key share
    one measurement in a run (probes and data checks are not shared)."""
    if check.benchmark_type != CheckType.BENCHMARK:
        return None
    rule = check.rule
    return json.dumps([check.module, check.parameters, rule.subject, rule.baseline, rule.metric,
                       rule.better, options.device, options.thread_count()], sort_keys=True)  # fmt: skip


def run_check(
    check: Check,
    options: RunOptions | None = None,
    *,
    environment: dict[str, Any] | None = None,
    on_progress: Progress | None = None,
    measured: RunResult | None = None,
    evidence: list[Evidence] | None = None,
) -> RunResult:
    """Run one claim's check, judge it, write its record (unless ``options.write`` is off).

    With ``measured`` (an earlier result of this run with the same measurement_key) the samples
    are not taken again: the claim is judged by its own rule on that measurement, and its record
    says which record it shares it with."""
    options = options or RunOptions()
    progress = on_progress or (lambda fraction, message: None)
    machine = environment if environment is not None else env_mod.collect()
    if measured is not None and measured.state is not None:
        state = measured.state.sharing(check, measured.path.stem if measured.path else None)
        verdict, status = state.rejudge(measured), measured.status
    else:
        state = CheckState(check, options, evidence or [])
        _floored(state, machine)
        verdict, status = _judge(state, progress)
    env = {**env_mod.with_worker_versions(machine, state.frameworks),
           "timing_threads": options.thread_count()}  # fmt: skip
    if _floored(state, env) and status == RunStatus.OK and state.kind == "timed":
        verdict = state.judge()  # the floors of the environment the workers turned out to be
    progress(1.0, verdict.label)
    env_id = environment_id(env)
    record = state.to_record(verdict, status, env, env_id)
    path, unsaved = None, ""
    if options.write:
        root = None if options.results_dir else paths.find_root()
        results = options.results_dir or paths.results_dir(paths.find_root())
        path, unsaved = saving.save(record, results, env_id, check.claim_id, root)
    reason = state.errors[-1]["reason"] if state.errors else ""
    return RunResult(
        check.claim_id,
        status,
        verdict,
        record,
        path,
        reason,
        state,
        unsaved,
        check_id=check.check_id,
    )


@contextlib.contextmanager
def guarded(options: RunOptions) -> Iterator[None]:
    """Around the checks of one command: the results folder must take records before anything
    is measured; scratch folders of runs killed earlier are removed; a signal stops the checks
    with every worker and scratch folder cleaned up (see verify.run.cleanup)."""
    if options.write:
        saving.check_writable(options.results_dir or paths.results_dir(paths.find_root()))
    cleanup.remove_stale()
    with cleanup.signals_raise():
        yield


def guarding(entry: Callable[P, T]) -> Callable[P, T]:
    """A command's entry point run `guarded` by its ``options`` argument (default options when
    it is None), so each entry states its signature once."""
    signature = inspect.signature(entry)

    @functools.wraps(entry)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        options = signature.bind(*args, **kwargs).arguments.get("options")
        with guarded(options or RunOptions()):
            return entry(*args, **kwargs)

    return wrapper


def select(
    claim_ids: list[str],
    *,
    every: bool = False,
    shard: Shard | None = None,
    kinds: Collection[str] = (),
    corpus: Corpus | None = None,
) -> dict[str, Selected]:
    """The checks of the named claims (or of every checkable claim) of `corpus` (by default the
    project's), in order, only those of `shard` and of the claim `kinds` when given; unknown ids
    or kinds raise before anything runs."""
    if not claim_ids and not every:
        raise UsageError("name at least one claim with --claim ID, or use --all")
    unknown = sorted(set(kinds) - {k.value for k in Kind})
    if unknown:
        raise UsageError(
            f"unknown claim kind {unknown[0]!r}: use {', '.join(k.value for k in Kind)}"
        )
    corpus = corpus or load_corpus()
    ids = api.checkable_claim_ids(corpus) if every else list(dict.fromkeys(claim_ids))
    claims = {claim_id: api.claim(corpus, claim_id) for claim_id in ids}
    return {
        c: Selected(claim.checks, claim.combine, api.evidence(corpus, c))
        for c, claim in claims.items()
        if (shard is None or shard.holds(c))
        and (not kinds or (claim.checks and claim.kind in kinds))
    }


@guarding
def run_claims(
    claim_ids: list[str],
    options: RunOptions,
    *,
    every: bool = False,
    device: str = "auto",
    on_start: Callable[[str], Progress | None] | None = None,
    shard: Shard | None = None,
    kinds: Collection[str] = (),
    outside_scope: bool = False,
) -> list[RunResult]:
    """Run the checks of some claims (or every checkable claim), in order, only those of `shard`
    when given; one result each, `guarded` (nothing measured into a folder that refuses records,
    nothing left behind). `on_start(claim_id)` may return a progress callback."""
    if device not in DEVICES:
        raise UsageError(f"unknown device '{device}': use {', '.join(DEVICES)}")
    selected = select(claim_ids, every=every, shard=shard, kinds=kinds)
    environment = env_mod.collect()
    cuda = env_mod.has_cuda()
    placed = {
        (c, k.check_id): place(k, options, device, cuda=cuda, outside_scope=outside_scope)
        for c, sel in selected.items()
        for k in sel.checks
    }
    if any(p.options is not None and p.options.device == "cuda" for p in placed.values()):
        gpus = environment.get("gpus") or []  # a health figure for the card, in every record
        environment["gpu_sanity"] = gpusanity.measure(
            options.python, gpu_name=gpus[0]["name"] if gpus else None
        )
    results = []
    done: dict[str, RunResult] = {}  # measurement key -> the first result measured with it
    for claim_id, sel in selected.items():
        if not sel.checks:
            results.append(
                RunResult(claim_id, RunStatus.SKIPPED, None, reason="the claim has no check")
            )
            continue
        mine = []
        for check in sel.checks:
            where = placed[(claim_id, check.check_id)]
            if where.options is None:  # not run here: no measurement, no record
                mine.append(RunResult(claim_id, RunStatus.NOT_CHECKABLE,
                                      not_checkable(where.reason), reason=where.reason,
                                      check_id=check.check_id))  # fmt: skip
                continue
            progress = on_start(claim_id) if on_start else None
            key = measurement_key(check, where.options)
            result = run_check(check, where.options, environment=environment,
                               on_progress=progress, measured=done.get(key) if key else None,
                               evidence=sel.evidence)  # fmt: skip
            if key and key not in done:
                done[key] = result
            mine.append(result)
        joint = combine([r.verdict.label for r in mine if r.verdict], sel.combine)
        results += [dataclasses.replace(r, combined=joint) for r in mine]
    return results


@guarding
def explore_claims(
    claim_ids: list[str],
    *,
    every: bool = False,
    budget: float | None = None,
    device: str = "cpu",
    options: RunOptions | None = None,
    on_start: Callable[[str], Progress | None] | None = None,
) -> list[Any]:
    """Explore the multiverse of some ratio claims (or of every one stated for this device); one
    Exploration each, its record written, `guarded` as run_claims is. A claim is explored from
    its main (first) ratio check: its other checks are tiers of the same benchmark, which the
    multiverse varies anyway. A named claim without a ratio check is a usage error."""
    from verify.run import explore

    if device not in ("cpu", "cuda"):
        raise UsageError(f"unknown device '{device}': use cpu or cuda")
    corpus = load_corpus()
    selected = select(claim_ids, every=every, kinds=("performance",) if every else (),
                      corpus=corpus)  # fmt: skip
    designs = api.multiverses(corpus)  # what each benchmark lets an exploration vary
    ratio = {c: k for c, sel in selected.items() for k in sel.checks[:1]
             if k.benchmark in designs and k.rule.baseline}  # fmt: skip
    if every:  # --all explores only the claims stated for this kind of device
        ratio = {
            c: k
            for c, k in ratio.items()
            if k.device in ("any", "gpu" if device == "cuda" else "cpu")
        }
    for claim_id in claim_ids:
        if claim_id not in ratio:
            raise UsageError(
                f"claim '{claim_id}' has no ratio check (latency or training) to explore"
            )
    opts = dataclasses.replace(options or RunOptions(), device=device)
    environment = env_mod.collect()
    measured: dict[str, RunResult] = {}  # claims that share a setup share its measurement

    def run(check: Check, o: RunOptions) -> RunResult:
        key = measurement_key(check, o)
        result = run_check(check, o, environment=environment,
                           measured=measured.get(key) if key else None)  # fmt: skip
        if key and key not in measured:
            measured[key] = result
        return result

    found = []
    for claim_id, check in ratio.items():
        progress = on_start(claim_id) if on_start else None
        result = explore.explore(
            check, designs[check.benchmark], opts, run, budget=budget, on_progress=progress
        )
        stated_ok = result.base is not None and result.base.status == RunStatus.OK
        if result.summary is not None and stated_ok and opts.write:
            explore.write(result, opts)
        found.append(result)
    return found
