"""`verify results`: run records, newest first, as a table, JSON, CSV or Parquet; and `verify
results merge DIR...`, which gathers the records other machines wrote (a fleet's shards); and
`verify results refile`, which moves records to the environment id the current rule gives them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from kg.textutil import visible
from verify.cli import formats, output
from verify.cli.output import console, corpus, print_json, safe, table, warn

JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of text.")


def register(app: typer.Typer) -> None:
    """Attach `results` (a command with a `merge` subcommand) to the app."""
    group = typer.Typer(
        help=results.__doc__, invoke_without_command=True, no_args_is_help=False,
        rich_markup_mode=None,
    )  # fmt: skip
    group.callback()(results)
    group.command()(merge)
    group.command()(refile)
    group.command("pytest-benchmark")(pytest_benchmark)
    app.add_typer(group, name="results")


def _best(record: dict[str, Any]) -> str:
    sums = [c["summary"] for c in record.get("cells", []) if c.get("summary")]
    if not sums:
        return "-"
    s = max(sums, key=lambda x: x["ratio"])
    return f"{s['ratio']:.2f}x [{s['ci_low']:.2f}-{s['ci_high']:.2f}] {s['label']}"


def results(
    ctx: typer.Context,
    claim: str = typer.Option(None, "--claim", metavar="ID", help="Only records of this claim."),
    json_out: bool = JSON,
    fmt: str = formats.option(),
    results_dir: Path = typer.Option(None, "--results-dir", help="Default: data/results/."),
) -> None:
    """List run records, newest first: when, where, which claim, the verdict and the largest ratio.

    A record that cannot be read is named in a warning and left out. --format csv or parquet
    gives one row per run from the graph (kg.frames.runs). `verify results merge DIR...` copies
    other machines' records in."""
    if ctx.invoked_subcommand is not None:
        return
    from kg import paths
    from kg.records import list_records

    fmt = formats.resolve(fmt, json_out)
    if fmt in ("csv", "parquet"):
        _frame(fmt, claim, results_dir)
        return
    folder = results_dir or paths.results_dir(paths.find_root())
    found, bad = list_records(folder)
    for e in bad:
        warn(f"run record left out: {e}")
    names = _names(found)  # among every record's environment, as the site names them
    found = [(p, r) for p, r in found if claim is None or r["claim_id"] == claim]
    here = output.this_environment()
    if fmt == "json":
        keys = ("record_id", "claim_id", "status", "verdict", "started", "duration_s",
                "environment_id")  # fmt: skip
        print_json([{"path": str(p), **{k: r.get(k) for k in keys},
                     "environment_label": names[r["environment_id"]].display,
                     "environment_short": names[r["environment_id"]].short,
                     "here": r["environment_id"] == here, "best_cell": _best(r)}
                    for p, r in found])  # fmt: skip
        return
    rows = [[r["started"][:19], names[r["environment_id"]].label(here), r["claim_id"],
             r["verdict"]["label"], _best(r)] for _, r in found]  # fmt: skip
    out = console()
    out.print(table(["started (UTC)", "environment", "claim", "verdict", "largest ratio"], rows))
    shown = dict.fromkeys(r["environment_id"] for _, r in found)
    if shown:
        out.print("environments:")
        for env_id in shown:
            out.print(f"  {safe(names[env_id].label(here))}: {safe(env_id)}")


def _names(found: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """Each record environment's names among all of them (kg.environments.name_environments)."""
    from kg.environments import collected_row, name_environments

    rows: dict[str, Any] = {}
    for _, r in found:  # newest first: an environment as its newest record describes it
        rows.setdefault(
            r["environment_id"], collected_row(r["environment_id"], r.get("environment") or {})
        )
    return name_environments(list(rows.values()))


def _frame(fmt: str, claim: str | None, results_dir: Path | None) -> None:
    from kg import frames
    from kg.errors import UsageError

    if results_dir is not None:
        raise UsageError(
            f"--format {fmt} reads the project's graph, not a folder: drop --results-dir"
        )
    df = frames.runs(corpus())
    if claim is not None:
        df = df[df["claim_id"] == claim]
    formats.write_frame(df, fmt, index=False)


def merge(
    sources: list[Path] = typer.Argument(
        ..., metavar="DIR...", help="Results folders of other machines (their data/results/), "
        "or environment folders in them.", file_okay=False,
    ),
    results_dir: Path = typer.Option(
        None, "--results-dir", help="Where the records go (default: data/results/)."
    ),
    json_out: bool = JSON,
) -> None:  # fmt: skip
    """Copy run records from other machines into this project's results, as they are (a file
    copy): each is validated first; malformed records and records whose name is taken by a
    different record are rejected, and nothing is overwritten, so merging twice changes nothing.

    Exit codes: 0 every record was copied or already there; 1 some were rejected (the rest are
    copied); 2 bad input."""
    from kg import paths
    from kg.errors import Unsatisfied
    from kg.records import merge as do_merge

    dest = results_dir or paths.results_dir(paths.find_root())
    report = do_merge(sources, dest)
    if json_out:
        print_json({"copied": [str(p) for p in report.copied],
                    "unchanged": [str(p) for p in report.unchanged],
                    "rejected": [str(e) for e in report.rejected]})  # fmt: skip
    else:
        for e in report.rejected:
            print(f"rejected: {visible(str(e))}", file=sys.stderr)
        console().print(f"merged into {safe(dest)}: {len(report.copied)} copied, "
                        f"{len(report.unchanged)} already there, {len(report.rejected)} rejected")  # fmt: skip
    if report.rejected:
        raise Unsatisfied(f"{len(report.rejected)} record(s) rejected; the others were merged")


def refile(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would move; change nothing."),
    results_dir: Path = typer.Option(None, "--results-dir", help="Default: data/results/."),
    json_out: bool = JSON,
) -> None:
    """Move run records filed under an environment id that the current rule no longer gives
    their environment (for example a CPU with AVX-512 filed with one without it, before ids named
    the vector instruction set) to the folder of the id it gives now.

    A moved record keeps its file name, record_id and every measurement; its environment_id
    changes and a "refiled" entry says from which id, when and why. Calibration reports of such
    an environment get the same two changes and keep their names (records cite them by path).
    Everything is checked before anything is written; running it twice changes nothing.

    Exit codes: 0 done (or nothing to do); 1 some records could not be read (nothing was
    changed); 2 bad input."""
    from kg import paths
    from kg import refile as do
    from kg.errors import Unsatisfied

    root = paths.find_root()
    folder = results_dir or paths.results_dir(root)
    calib = None if results_dir else paths.calibration_dir(root)
    report = do.plan(folder, calib)
    if report.rejected:
        for e in report.rejected:
            print(f"cannot refile: {visible(str(e))}", file=sys.stderr)
        raise Unsatisfied(f"{len(report.rejected)} record(s) could not be read or moved; nothing"
                          " was changed: fix or remove them and run it again")  # fmt: skip
    if not dry_run:
        do.apply(report)
    if json_out:
        print_json({"done": report.done, "unchanged": report.unchanged, "moves": [
            {"from": str(m.source), "to": str(m.dest), "old_id": m.old_id, "new_id": m.new_id,
             "reason": m.reason, "kind": "record" if m in report.records else "calibration"}
            for m in [*report.records, *report.reports]]})  # fmt: skip
        return
    verb = "moved" if report.done else "would move"
    by_pair: dict[tuple[str, str], int] = {}
    for m in report.records:
        by_pair[(m.old_id, m.new_id)] = by_pair.get((m.old_id, m.new_id), 0) + 1
    for (old, new), n in sorted(by_pair.items()):
        console().print(f"{verb} {n} record(s): {safe(old)} -> {safe(new)}"
                        f" (the id now {do.difference(old, new)})")  # fmt: skip
    for m in report.reports:
        console().print(f"{'re-filed' if report.done else 'would re-file'} calibration report"
                        f" {safe(m.source.name)}: {safe(m.old_id)} -> {safe(m.new_id)}")  # fmt: skip
    console().print(
        f"{report.unchanged} record(s) already filed under the id their environment gives"
    )


def pytest_benchmark(
    record: Path = typer.Argument(..., metavar="RECORD", help="A run record file.",
                                  dir_okay=False, exists=True),
    output: Path = typer.Option(None, "--output", "-o", dir_okay=False,
                                help="Write to this file (default: stdout)."),
) -> None:  # fmt: skip
    """Write a run record as pytest-benchmark JSON (machine_info, commit_info, one benchmark per
    cell and tier with its stats), so `pytest-benchmark compare a.json b.json` compares runs
    and machines."""
    from kg.benchjson import export_record
    from kg.fsutil import write_atomic

    text = export_record(record)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        console(stderr=True).print(f"wrote {safe(output)}")
