"""Commands that keep the survey current: `verify claim new` and `verify evidence import`."""

from __future__ import annotations

import sys

import typer

from verify.app import app
from verify.output import console

claim_app = typer.Typer(
    name="claim",
    help="Add claims to the corpus without writing Turtle by hand.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
evidence_app = typer.Typer(
    name="evidence",
    help="Published measurements (primary studies' own numbers) recorded as evidence in the graph.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(claim_app, name="claim")
app.add_typer(evidence_app, name="evidence")


def _interactive() -> bool:
    """Prompt for missing values only when a person is at the keyboard."""
    return sys.stdin.isatty()


@claim_app.command("new")
def new(
    claim_id: str = typer.Option(None, "--id", help="Claim id, kebab-case (becomes claim:ID)."),
    statement: str = typer.Option(
        None, "--statement", help="The claim in your own words (20+ characters)."
    ),
    kind: str = typer.Option(
        None, "--kind", help="performance, capability, adoption or qualitative."
    ),
    category: str = typer.Option(
        None, "--category", help="Category notation, e.g. inference-latency."
    ),
    source: str = typer.Option(
        None, "--source", help="Id of the document it appears in (`verify sources`)."
    ),
    locator: str = typer.Option(
        None, "--locator", help="Where in the document: section, table row."
    ),
    wording: str = typer.Option(
        None, "--wording", help="A short quote of the source's words (<= 120 chars)."
    ),
    derived_from: list[str] = typer.Option(
        [],
        "--derived-from",
        help="Id of a primary study or data set it rests on (repeatable). "
        "Defaults to --source when that is a primary study or data set.",
    ),
    rests_on: str = typer.Option(
        None, "--rests-on", help="What it rests on, in words, when no study is cited."
    ),
    favours: str = typer.Option(None, "--favours", help="pytorch, tensorflow, both or neither."),
    contradicts: list[str] = typer.Option(
        [], "--contradicts", help="Id of a claim it contradicts (repeatable)."
    ),
    device: str = typer.Option(None, "--device", help="cpu, gpu, tpu or any."),
    phase: str = typer.Option(None, "--phase", help="training, inference or deployment."),
    batch_regime: str = typer.Option(None, "--batch-regime", help="e.g. 'batch 1 to 8'."),
    input_regime: str = typer.Option(None, "--input-regime", help="e.g. '28 to 224 px'."),
    model_family: str = typer.Option(None, "--model-family", help="e.g. 'CNN image classifier'."),
    api_tier: str = typer.Option(None, "--api-tier", help="e.g. 'Keras predict vs PyTorch eager'."),
    precision: str = typer.Option(None, "--precision", help="e.g. fp32."),
    scale: str = typer.Option(None, "--scale", help="e.g. 'one GPU'."),
    benchmark: str = typer.Option(None, "--benchmark", help="Benchmark, probe or data check id."),
    param: list[str] = typer.Option(
        [],
        "--param",
        help="key=value, value read as JSON when it parses (batch_sizes=[1,4]); repeatable.",
    ),
    params_json: str = typer.Option(
        None, "--params-json", help="All parameters as one JSON object."
    ),
    metric: str = typer.Option(
        None,
        "--metric",
        help="median_latency, p90_latency, epoch_time, "
        "throughput, peak_memory, gpu_memory_share, succeeds or share.",
    ),
    better: str = typer.Option(
        None, "--better", help="lower or higher (default: from the metric)."
    ),
    subject: str = typer.Option(
        None,
        "--subject",
        help="The side the claim says wins (torch-eager, pytorch, ...).",
    ),
    baseline: str = typer.Option(None, "--baseline", help="The side it is compared with."),
    threshold: float = typer.Option(
        None, "--threshold", help="3 for 3x, 1.25 for 25%, 0.8 for a share."
    ),
    tolerance: float = typer.Option(None, "--tolerance", help="Relative tolerance (default 0.1)."),
    quantifier: str = typer.Option(None, "--quantifier", help="up-to, at-least, about or exists."),
    not_checkable: str = typer.Option(
        None,
        "--not-checkable",
        help="Why it cannot be checked, and what would settle it (instead of --benchmark).",
    ),
    file: str = typer.Option(
        None, "--file", help="Claims file to append to (default claims/user-claims.ttl)."
    ),
) -> None:
    """Add a claim: write it into claims/*.ttl, validate the whole corpus, keep it only if valid.

    Missing required values are asked for when run at a terminal; otherwise they are errors.
    On any problem the file is left exactly as it was and the command exits 2.
    """
    from kg import paths, scaffold
    from kg.errors import UsageError
    from kg.load import load_corpus

    conditions = {
        "device": device,
        "phase": phase,
        "batch_regime": batch_regime,
        "input_regime": input_regime,
        "model_family": model_family,
        "api_tier": api_tier,
        "precision": precision,
        "scale": scale,
    }
    rule = {
        "metric": metric,
        "better": better,
        "subject": subject,
        "baseline": baseline,
        "threshold": threshold,
        "tolerance": tolerance,
        "quantifier": quantifier,
    }
    spec = scaffold.ClaimSpec(
        id=claim_id,
        statement=statement,
        category=category,
        kind=kind,
        source=source,
        locator=locator,
        wording=wording,
        derived_from=list(derived_from),
        rests_on=rests_on,
        favours=favours,
        contradicts=list(contradicts),
        conditions={k: v for k, v in conditions.items() if v},
        benchmark=benchmark,
        parameters=scaffold.parse_params(list(param), params_json),
        rule={k: v for k, v in rule.items() if v is not None},
        not_checkable=not_checkable,
    )
    root = paths.find_root()
    vocab = scaffold.Vocab(load_corpus(root))
    scaffold.check_known(spec, vocab)
    while gaps := scaffold.gaps(spec, vocab):
        if not _interactive():
            raise UsageError(
                "missing " + ", ".join(g.flag for g in gaps) + ": give them as options"
                " (see `verify claim new --help`), or run at a terminal to be asked"
            )
        gap = gaps[0]
        answer = typer.prompt(gap.question, default=gap.default, show_default=False)
        scaffold.set_value(spec, gap.name, answer.strip())
        scaffold.check_known(spec, vocab)
    path = scaffold.add_claim(root, spec, file, vocab)
    out = console()
    rel = path.relative_to(root) if path.is_relative_to(root) else path
    out.print(f"added claim '{spec.id}' to {rel}; the corpus is valid.")
    if spec.benchmark:
        out.print(f"run it:  verify run --claim {spec.id}")
    else:
        out.print(f"it has no check; read it with:  verify show {spec.id}")


@evidence_app.command("import")
def import_(
    check_only: bool = typer.Option(
        False,
        "--check",
        help="Only report whether the committed file is up to date (exit 1 if not).",
    ),
) -> None:
    """Turn the DAWNBench entries in data/snapshots/dawnbench/ into data/snapshots/dawnbench-evidence.ttl."""
    from kg import paths
    from verify import evidence

    root = paths.find_root()
    target = evidence.evidence_file(root)
    if check_only:
        fresh = evidence.is_current(root)
        console().print(
            f"{target.relative_to(root)} is {'up to date' if fresh else 'out of date'}."
        )
        raise typer.Exit(0 if fresh else 1)
    n = evidence.write_evidence(root)
    console().print(f"wrote {n} measurements to {target.relative_to(root)}")
