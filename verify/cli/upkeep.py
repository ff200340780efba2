"""Commands that keep the survey current: status (what needs a run), diff (which verdicts flipped),
matrix (one claim across TensorFlow versions, each in its own cached venv)."""

from __future__ import annotations

from typing import Any

import typer

from kg.changes import Comparison, RunSide
from kg.lifecycle import Lifecycle
from kg.model import plain
from verify.cli import output
from verify.cli.output import console, corpus, print_json, safe, table
from verify.run.options import DEFAULT_BUDGET_S

TITLES = {
    "never-checked": "Never checked anywhere",
    "not-checked-here": "Not yet checked in this environment",
    "older-versions": "Checked only on older framework versions than installed here",
    "check-changed": "Check changed since the newest run",
}


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the app."""
    app.command()(status)
    app.command()(diff)
    app.command()(matrix)


def status(json_out: bool = typer.Option(False, "--json", help="Print JSON for scripts.")) -> None:
    """What needs a run: claims never checked (anywhere, or in this environment), checked only on
    older torch / TensorFlow / Keras than installed here, or whose check (benchmark code,
    parameters, rule) changed since their newest run; and tools that are deprecated or superseded.
    Always exits 0."""
    from verify.run.status import staleness

    report = staleness(corpus())
    if json_out:
        print_json(report)
        return
    out, env, s = console(), report.environment, report.summary
    out.print(f"This environment: {safe(env.environment_id)} ({safe(env.label)})")
    for kind, title in TITLES.items():
        rows = [[_name(r), x.detail] for r in report.claims for x in r.reasons if x.kind == kind]
        if rows:
            out.print(f"\n[bold]{title} ({len(rows)})[/bold]")
            out.print(table(["claim", "why"], rows))
    moved = [[_name(r), r.label, _details(r.lifecycle)] for r in report.claims if r.lifecycle]
    moved += [[cid, "no check", _details(lc)] for cid, lc in report.lifecycle_unchecked.items()]
    if moved:
        out.print(f"\n[bold]Deprecated, superseded or in limited maintenance ({len(moved)})[/bold]")
        out.print(table(["claim", "verdict", "why"], moved))
    out.print(
        f"\n{s['checkable']} checkable claims ({s['checks']} checks): {s['up_to_date']} up to date, "
        f"{s['never-checked']} never checked, {s['not-checked-here']} not checked here, "
        f"{s['older-versions']} on older versions, {s['check-changed']} with a changed check."
        " `verify run --claim ID` checks one."
    )


def _name(row: Any) -> str:
    """A claim's id, with the check's id for a claim that has several ("tf-graph-speedup xla")."""
    several = row.check_id != "main"
    return f"{row.id} {row.check_id}" if several else row.id


def _details(lc: Lifecycle) -> str:
    return " ".join(dict.fromkeys(n.detail for n in lc.notes))


def _fmt_cells(side: RunSide) -> str:
    parts = []
    for m in side.measurements:
        if m.ratio is None:
            continue
        ci = f" [{m.ci_low:.2f}, {m.ci_high:.2f}]" if m.ci_low is not None else ""
        parts.append(f"{m.cell}: {m.ratio:.2f}x{ci}")
    return "; ".join(parts) or "no measurement"


def diff(
    a: str = typer.Argument(None, metavar="[A]", help="Environment id or unambiguous prefix."),
    b: str = typer.Argument(None, metavar="[B]", help="Environment id or unambiguous prefix."),
    versions: list[str] = typer.Option(
        None,
        "--versions",
        help="Compare version sets instead (give it twice): e.g. --versions "
        "torch=2.13.0,tensorflow=2.15 --versions torch=2.13.0,tensorflow=2.21.",
    ),
    fail_on_flip: bool = typer.Option(
        False, "--fail-on-flip", help="Exit 1 when any verdict differs."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Compare verdicts between two environments (or two version sets): every claim whose newest
    verdict differs, with both measurements (ratio and CI per cell) and both explanations."""
    from kg.changes import RunSelector, compare
    from kg.errors import Unsatisfied, UsageError

    if versions:
        if len(versions) != 2 or a or b:
            raise UsageError("give --versions exactly twice, and no environment ids with it")
        sa, sb = (RunSelector.parse_versions(v) for v in versions)
    elif a and b:
        sa, sb = RunSelector(environment=a), RunSelector(environment=b)
    else:
        raise UsageError("give two environments (verify diff A B) or --versions twice")
    report = compare(corpus(), sa, sb)
    here = output.this_environment()
    if json_out:
        print_json({**plain(report), "this_environment": here})
    else:
        _print_diff(report, here)
    if fail_on_flip and report.flips:
        raise Unsatisfied(
            f"{len(report.flips)} verdict(s) differ between {report.a} and {report.b}"
        )


def _print_diff(report: Comparison, here: str) -> None:
    out = console()
    out.print(f"A: {safe(report.a)}\nB: {safe(report.b)}")
    for f in report.flips:
        out.print(f"\n[bold]{safe(f.claim_id)}[/bold]: {f.before.verdict} -> {f.after.verdict}")
        for name, side in (("A", f.before), ("B", f.after)):
            mark = " (this machine)" if side.environment == here else ""
            where = f"{side.environment_label}{mark} [{side.environment}]"
            out.print(f"  {name} {safe(where)}: {safe(_fmt_cells(side))}")
            out.print(f"    {safe(side.explanation or '')}")
    out.print(
        f"\n{len(report.flips)} of {report.compared} claims checked on both sides differ"
        f" ({len(report.only_a)} only in A, {len(report.only_b)} only in B)."
    )


def matrix(
    claim_id: str = typer.Option(..., "--claim", help="The claim to run across versions."),
    tf: str = typer.Option(
        "2.15,2.16,2.19,2.21",
        "--tf",
        help="TensorFlow versions, comma-separated (2.16 = newest 2.16.x).",
    ),
    torch: str = typer.Option("2.13.0", "--torch", help="The torch version every venv pins."),
    budget: float = typer.Option(
        DEFAULT_BUDGET_S, "--budget", help="Seconds per version (a minimum always runs)."
    ),
    isolated: bool = typer.Option(
        False, "--isolated", help="Use a venv even for versions this interpreter already has."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
) -> None:
    """Run one claim's check under several TensorFlow versions, each in a venv (python -m venv +
    pip) cached under .fwclaims-cache/venvs/; every run writes a record tagged with its versions."""
    from kg import api, paths
    from kg.errors import UsageError
    from verify.run import environment
    from verify.run import matrix as m

    c = corpus()
    checks = api.claim_checks(c, claim_id)
    if not checks:
        raise UsageError(f"claim '{claim_id}' has no check, so there is nothing to run")
    check = checks[0]  # the claim's main check; its other checks are run by verify run
    cells = m.plan(m.parse_versions(tf), torch, environment.package_versions(), isolated)
    err = console(stderr=True)
    rows = m.run_matrix(check, cells, cache=paths.cache_dir(c.root), project_root=c.root,
                        budget=budget, results_dir=paths.results_dir(c.root),
                        progress=lambda msg: err.print(safe(msg)))  # fmt: skip
    if json_out:
        print_json(rows)
        return
    out = console()
    out.print(
        table(["", *(f"TF {r['tensorflow'] or r['tf_requested']}" for r in rows)], _grid(rows))
    )
    for r in rows:
        out.print(
            f"TF {safe(r['tensorflow'])} / Keras {safe(r['keras'])} / torch {safe(r['torch'])}:"
            f" {safe(r['verdict'])}; {safe(r['explanation'] or '')} Record:"
            f" {safe(r['record'] or 'none')}"
        )


def _grid(rows: list[dict]) -> list[list[str]]:
    """Cells down, versions across: 'ratio [CI]' in each slot, then the verdicts."""
    by_version = [{c["cell"]: c for c in r["cells"] if c["ratio"] is not None} for r in rows]
    labels = list(dict.fromkeys(c["cell"] for r in rows for c in r["cells"]))
    grid = [
        [label]
        + [
            f"{m[label]['ratio']:.2f}x [{m[label]['ci_low']:.2f}, {m[label]['ci_high']:.2f}]"
            if label in m
            else "-"
            for m in by_version
        ]
        for label in labels
    ]
    return grid + [["verdict", *(r["verdict"] or r["status"] for r in rows)]]
