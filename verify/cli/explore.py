"""verify explore: each ratio claim judged in every reasonable setup (its multiverse)."""

from __future__ import annotations

import typer

from verify.cli.output import console, print_json, table

JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of text.")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the app."""
    app.command()(explore)


def explore(
    claim: list[str] = typer.Option(
        None, "--claim", metavar="ID", help="A ratio claim's id; repeat for several."
    ),
    every: bool = typer.Option(False, "--all", help="Every performance claim with a ratio check."),
    budget: float = typer.Option(
        None, "--budget", help="Seconds per claim (default: 600 for inference, 1200 for training)."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu or cuda."),
    json_out: bool = JSON,
) -> None:
    """Measure each claim in its multiverse of reasonable setups and write an exploration record.

    The claim as stated is measured on its grid; then every other API tier on each side, all
    physical cores, channels-last PyTorch and the other model, one at a time, and the grid one
    step beyond each edge; then the two factors that best separate holding from not holding,
    crossed. Only the claim as stated is sure to run; the budget bounds the rest. Each measured
    cell is a specification judged by the claim's own rule; the summary says in how many it holds,
    which factor it turns on, and whether the verdict is robust, fragile, mixed or reversed.
    """
    from verify.cli.runs import _progress_bar
    from verify.run.engine import explore_claims
    from verify.run.explore import nothing_measured

    bar = None if json_out else _progress_bar()

    def on_start(claim_id: str):  # type: ignore[no-untyped-def]
        if bar is None:
            return None
        task = bar.add_task(claim_id, total=1.0)
        return lambda done, message: bar.update(
            task, completed=done, description=f"{claim_id}: {message}"
        )

    if bar is not None:
        with bar:
            found = explore_claims(claim or [], every=every, budget=budget, device=device,
                                   on_start=on_start)  # fmt: skip
    else:
        found = explore_claims(claim or [], every=every, budget=budget, device=device)
    if json_out:
        print_json([{"claim_id": f.check.claim_id, "stated": f.stated.value,
                     "summary": f.summary.to_dict() if f.summary else None,
                     "specifications": [s.to_dict() for s in f.specs],
                     "record": str(f.path) if f.path else None} for f in found])  # fmt: skip
        return
    rows = [[f.check.claim_id, f.stated.value, f.summary.label.value if f.summary else "-",
             f.summary.sentence if f.summary else nothing_measured(f)] for f in found]  # fmt: skip
    out = console()
    out.print(table(["claim", "as stated", "robustness", "what it turns on"], rows))
    for f in found:
        if f.path:
            out.print(f"record: {f.path}", markup=False, highlight=False)
