"""Commands that measure: run (checks -> verdicts + run records), env, calibrate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from kg.model import verdict_words
from verify.cli.output import console, print_json, safe, table
from verify.run.options import DEFAULT_BUDGET_S, RunOptions

JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of text.")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the app."""
    app.command()(run)
    app.command()(env)
    app.command()(calibrate)
    app.command()(reproduce)


def _line_progress(claim: list[str] | None, every: bool, part: Any, kind: list[str] | None) -> Any:
    """One line per finished check, for output that is not a terminal (a log, a pipe)."""
    from verify.run.engine import select
    from verify.run.progress import LineProgress

    checks = select(claim or [], every=every, shard=part, kinds=kind or ())
    total = sum(max(len(c.checks), 1) for c in checks.values() if c is not None)  # per check
    return LineProgress(total, lambda text: print(text, flush=True))


def _progress_bar() -> Any:
    """A rich progress bar with ETA, or None when stdout is not a terminal."""
    if not sys.stdout.isatty():
        return None
    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
        transient=True, console=console(),
    )  # fmt: skip


def run(
    claim: list[str] = typer.Option(
        None, "--claim", metavar="ID", help="A claim id; repeat for several."
    ),
    every: bool = typer.Option(False, "--all", help="Run every claim that has a check."),
    kind: list[str] = typer.Option(
        None, "--kind", metavar="KIND", help="Only claims of this kind (performance, capability, "
        "adoption); repeat for several. With --all: --all --kind performance times everything.",
    ),  # fmt: skip
    budget: float = typer.Option(
        DEFAULT_BUDGET_S,
        "--budget",
        help="Seconds per check; stops earlier once decided. 3 process pairs "
        "always run, so a tiny budget can be exceeded.",
    ),  # fmt: skip
    device: str = typer.Option("auto", "--device", help="cpu, cuda, or auto (CUDA if visible)."),
    threads: int = typer.Option(
        1, "--threads", help="Threads per framework, equal on both sides (0: physical cores)."
    ),
    precision: str = typer.Option(
        "fp32",
        "--precision",
        help="fp32: full single precision everywhere (TensorFloat-32 off on a GPU); "
        "tf32: each framework may use TensorFloat-32 on a GPU, as it would by default.",
    ),  # fmt: skip
    json_out: bool = JSON,
    results_dir: Path = typer.Option(
        None, "--results-dir", help="Where run records go (default: data/results/ of the project)."
    ),
    shard: str = typer.Option(
        None, "--shard", metavar="K/N", help="Run only the K-th of N parts of the selection "
        "(K from 1 to N), for one machine of a fleet: the split is by a hash of each claim id, "
        "so it is the same everywhere and adding a claim moves no other.",
    ),
    list_only: bool = typer.Option(
        False, "--list", help="Print the claim ids the selection would run, one a line; run nothing."
    ),
    outside_scope: bool = typer.Option(
        False, "--judge-outside-scope", help="Run claims stated for GPUs on this machine's CPU "
        "when it has no CUDA GPU (by default they are 'not checkable here: needs a CUDA GPU', "
        "with nothing measured); their verdicts then carry scope outside.",
    ),
) -> None:  # fmt: skip
    """Run claims' checks on this machine, judge each claim, write one run record per check.

    Exit codes: 0 every check ran (whatever its verdict, including not checkable here);
    1 some check errored (a worker raised, crashed, hung or ran out of memory, or outputs
    differed), or a record had to be kept elsewhere than its results folder (the message says
    where); 2 bad input (unknown claim id, bad option, a results folder that cannot be written).
    Ctrl+C or SIGTERM stop it and remove its workers and scratch folders.
    """
    from verify.run.engine import run_claims, select
    from verify.run.shard import Shard

    part = Shard.parse(shard) if shard else None
    if list_only:
        _print_selection(
            list(select(claim or [], every=every, shard=part, kinds=kind or ())), json_out
        )
        return

    if precision not in ("fp32", "tf32"):
        raise typer.BadParameter("use fp32 or tf32", param_hint="--precision")
    opts = RunOptions(budget=budget, threads=threads, results_dir=results_dir, precision=precision)
    found = _execute(lambda **kw: run_claims(claim or [], opts, every=every, device=device,
                                             shard=part, kinds=kind or (),
                                             outside_scope=outside_scope, **kw), json_out,
                     lambda: _line_progress(claim, every, part, kind))  # fmt: skip
    _print_found(found, json_out)
    _fail_if_unsatisfied(found)


def _execute(start: Any, json_out: bool, lines: Any = None) -> list[Any]:
    """Call ``start`` (run_claims with its selection bound) under a progress bar on a terminal,
    or, elsewhere, with the line progress ``lines()`` makes."""
    bar = None if json_out else _progress_bar()
    if bar is None:
        if json_out or lines is None:
            return list(start())
        log = lines()  # one line per finished check, for output that is not a terminal

        def on_line(claim_id: str) -> None:
            log.start(claim_id)

        found = list(start(on_start=on_line))
        log.close()
        return found

    def on_start(claim_id: str) -> Any:
        task = bar.add_task(claim_id, total=1.0)
        return lambda done, message: bar.update(
            task, completed=done, description=f"{claim_id}: {message}"
        )

    with bar:
        return list(start(on_start=on_start))


def _print_found(found: list[Any], json_out: bool) -> None:
    """Each check's verdict (or why it has none), the GPU check and the records written."""
    if json_out:
        print_json([r.to_dict() for r in found])
        return
    rows = []
    for i, r in enumerate(found):
        v = r.verdict
        rows.append([r.claim_id, r.check_id, verdict_words(v.label, v.qualifier, v.scope)
                     if v else r.status, v.explanation if v else r.reason])  # fmt: skip
        several = sum(1 for x in found if x.claim_id == r.claim_id) > 1
        last = i + 1 == len(found) or found[i + 1].claim_id != r.claim_id
        if several and last and r.combined:
            rows.append([r.claim_id, "combined", r.combined, "the claim's checks together"])
    out = console()
    out.print(table(["claim", "check", "verdict", "why"], rows))
    sanity = next((r.record["environment"].get("gpu_sanity") for r in found if r.record), None)
    if sanity:
        from verify.run.gpusanity import describe

        out.print(f"GPU check: {describe(sanity)}", markup=False, highlight=False)
    for r in found:
        if r.path:
            out.print(f"record: {safe(r.path)}")


def _print_selection(ids: list[str], json_out: bool) -> None:
    if json_out:
        print_json(ids)
    else:
        sys.stdout.write("".join(f"{i}\n" for i in ids))


def _fail_if_unsatisfied(found: list[Any]) -> None:
    """Exit 1 (Unsatisfied) when a record had to be kept elsewhere or a check errored."""
    from kg.errors import Unsatisfied
    from kg.model import RunStatus

    unsaved = [r.unsaved for r in found if r.unsaved]
    if unsaved:
        raise Unsatisfied(" ".join(unsaved))
    errored = [r.claim_id for r in found if r.status == RunStatus.ERROR]
    if errored:
        raise Unsatisfied(f"{len(errored)} check(s) errored: {', '.join(errored)}")


def env(json_out: bool = JSON) -> None:
    """Show this machine's environment and the id its run records are filed under."""
    from kg.environments import environment_id
    from verify.run.environment import collect

    info = collect()
    if json_out:
        print_json({"environment_id": environment_id(info), "environment": info})
        return
    gpus = ", ".join(f"{g['name']} (driver {g['driver']})" for g in info["gpus"]) or "none"
    rows = [
        ["id", environment_id(info)],
        ["cpu", f"{info['cpu']['model']} ({', '.join(info['cpu']['flags'])})"],
        ["cores", f"{info['cores_logical']} logical, {info['cores_physical']} physical"],
        ["memory", f"{info['ram_bytes'] / 2**30:.1f} GiB"],
        ["gpu", gpus],
        ["os", f"{info['os']['system']} {info['os']['release']}"],
        ["python", info["python"]],
        *[[name, version or "-"] for name, version in info["packages"].items()],
    ]
    console().print(table(["", "value"], rows))


def calibrate(
    runs: int = typer.Option(3, "--runs", help="Real A/A runs per tier (0: simulation only)."),
    budget: float = typer.Option(20.0, "--budget", help="Seconds per A/A run."),
    tier: list[str] = typer.Option(
        None, "--tier", metavar="TIER",
        help="A latency tier to put against itself (repeat for several; default torch-eager and"
        " keras-call): torch-eager, torch-compile, keras-predict, keras-call, tf-function,"
        " tf-xla, jax-jit, keras-jax-predict or keras-jax-call. A saved report's floors replace"
        " only those of the tiers it calibrated.",
    ),
    simulations: int = typer.Option(500, "--simulations", help="Synthetic A/A comparisons."),
    tolerance: float = typer.Option(0.1, "--tolerance", help="Tolerance of the 'about 1x' rule."),
    input_size: list[int] = typer.Option(
        None, "--input-size", metavar="PX",
        help="Input size of the A/A cells (repeat for several; default 28): each size class"
        " (up to 64 px, larger) gets a variance floor only where it was calibrated.",
    ),
    save: bool = typer.Option(
        True,
        "--save/--no-save",
        help="Keep the report under data/calibration/ (the site's method page shows it).",
    ),
    json_out: bool = JSON,
) -> None:  # fmt: skip
    """Measure how often the method reports a difference where there is none (A/A runs).

    Puts each tier named with --tier (default torch-eager and keras-call) against itself
    through the same runner and verdict logic, judged as "about 1.0x" and "at least 1.1x";
    simulates interleaved and blocked order on synthetic samples with drift; measures the harness
    overhead per timed call. From the A/A runs it estimates each tier's variance floor: saved,
    later timed runs in this environment give every cell's interval at least that spread, each
    tier's from the newest report that calibrated it.
    """
    from verify.run import calibrate as cal

    try:
        tiers = cal.aa_tiers(tier) if tier else cal.DEFAULT_AA
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--tier") from None
    say = None if json_out else (lambda message: console(stderr=True).print(message))
    params = {**cal.AA_PARAMS, "input_sizes": list(input_size)} if input_size else None
    report = cal.calibrate(runs, RunOptions(budget=budget, threads=1), simulations=simulations,
                           tolerance=tolerance, tiers=tiers, params=params,
                           on_progress=say)  # fmt: skip
    if save:
        saved = cal.save_report(report)
        if not json_out:
            console(stderr=True).print(f"saved {safe(saved)}")
    if json_out:
        print_json(report)
        return
    rows = [
        [r["order"], r.get("runs", "-"), _pct(r, "ci_excludes_one"), _pct(r, "about_false"),
         _pct(r, "at_least_false"), _pct(r, "about_holds"), _pct(r, "median_half_width"),
         _pct(r, "covered_by_first"), r.get("error", "")]
        for r in report["simulated"] + report["runner"]
    ]  # fmt: skip
    out = console()
    out.print(table(["A/A", "runs", "CI excludes 1", "false 'not about 1x'",
                     "false 'at least 1.1x'", "'about 1x' holds", "CI half-width",
                     "re-runs in 1st CI", "note"],
                    rows))  # fmt: skip
    for row in report.get("floors") or []:
        for cls, f in row["by_class"].items():
            loo = f["leave_one_out"]
            out.print(
                f"variance floor {row['tier']} ({cls} inputs): {f['sd']:.3f} per pair on the log"
                f" scale (within runs {f['within_sd']:.3f}, between runs {f['between_sd']:.3f};"
                f" {f['runs']} runs); each run re-judged with the other runs' floor: CIs"
                f" excluding 1 {loo['excludes_before']} -> {loo['excludes_after']} of"
                f" {loo['runs']}, re-run coverage {_pct(loo, 'coverage_before')} ->"
                f" {_pct(loo, 'coverage_after')}"
            )
    o = report["overhead"]
    out.print(
        f"harness overhead: {o['per_call_s'] * 1e9:.0f} ns per timed call (empty loop"
        f" {o['bare_loop_s'] * 1e9:.0f} ns); {o['round_trip_s'] * 1e6:.0f} us per sample request"
    )


def _pct(row: dict[str, Any], key: str) -> str:
    return f"{row[key] * 100:.1f}%" if row.get(key) is not None else "-"


def reproduce(
    claim: list[str] = typer.Option(
        None, "--claim", metavar="ID", help="A claim id; repeat for several."
    ),
    performance: bool = typer.Option(
        False, "--performance", help="Every performance claim that has a check."
    ),
    times: int = typer.Option(3, "--times", min=2, help="Runs per claim (each writes its record)."),
    budget: float = typer.Option(DEFAULT_BUDGET_S, "--budget", help="Seconds per run."),
    threads: int = typer.Option(1, "--threads", help="Threads per framework (0: physical cores)."),
    save: bool = typer.Option(
        True, "--save/--no-save", help="Keep the report under data/calibration/ for the site."
    ),
    json_out: bool = JSON,
) -> None:
    """Check claims several times in a row and report whether each verdict repeats: the labels,
    each cell's ratio range, and how often a run's interval covers the others.

    A decided label that does not repeat (holds once, does not hold another time) is a failure
    of the method; the report says so. Every run writes its record as `verify run` does."""
    from kg import api
    from kg.errors import UsageError
    from kg.model import Kind
    from verify.cli.output import corpus
    from verify.run import reproduce as rep

    c = corpus()
    ids = list(claim or [])
    if performance:
        ids += [r.id for r in api.list_claims(c, kind=Kind.PERFORMANCE) if r.checkable]
    if not ids:
        raise UsageError("name a claim with --claim ID, or use --performance")
    per_claim = {cid: api.claim_checks(c, cid) for cid in dict.fromkeys(ids)}
    missing = [cid for cid, found in per_claim.items() if not found]
    if missing:
        raise UsageError(f"these claims have no check: {', '.join(missing)}")
    opts = RunOptions(budget=budget, threads=threads)
    err = console(stderr=True)
    say = None if json_out else (lambda cid, i, n: err.print(f"{cid}: run {i} of {n}"))
    checks = [ck for found in per_claim.values() for ck in found]
    rows = rep.reproduce(checks, times, opts, on_progress=say)
    if save:
        saved = rep.save_report(rows, opts)
        if not json_out:
            err.print(f"saved {safe(saved)}")
    if json_out:
        print_json(rows)
        return
    table_rows = []
    for r in rows:
        if r.reason:
            table_rows.append([r.claim_id, f"not run here: {r.reason}", "", "", "", ""])
            continue
        word = "repeats" if r.repeats else ("FLIPS" if r.flips else "varies")
        for cell in r.cells:
            lo, hi = min(cell.ratios), max(cell.ratios)
            table_rows.append([r.claim_id, f"{' / '.join(r.labels)} ({word})", cell.label,
                               f"{lo:.2f}-{hi:.2f}x",
                               f"{cell.inside_first} of {len(cell.ratios) - 1}",
                               f"{cell.cover_median} of {len(cell.ratios)}"])  # fmt: skip
    console().print(table(["claim", "labels", "cell", "ratio range", "inside 1st CI",
                           "CI covers median"], table_rows))  # fmt: skip
