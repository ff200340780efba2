"""Commands that keep the survey current: `verify claim new`, `verify source new` and
`verify evidence import`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kg.model import plain
from verify.cli.output import console, print_json, safe

if TYPE_CHECKING:
    from kg.rows import Claim


def _opt(flag: str, help: str, default: Any = None) -> Any:
    return typer.Option(default, flag, help=help)


# The options of `claim new`, one per claim property (kg.scaffold.ClaimSpec), declared once here.
ID = _opt("--id", "Claim id, kebab-case (becomes claim:ID).")
STATEMENT = _opt("--statement", "The claim in your own words (20+ characters).")
KIND = _opt("--kind", "performance, capability, adoption or qualitative.")
CATEGORY = _opt("--category", "Category notation, e.g. inference-latency.")
SOURCE = _opt("--source", "Id of the document it appears in (`verify sources`).")
LOCATOR = _opt("--locator", "Where in the document: section, table row.")
WORDING = _opt("--wording", "A short quote of the source's words (<= 120 chars).")
DERIVED_FROM = _opt("--derived-from", "Id of a primary study or data set it rests on "
                    "(repeatable). Defaults to --source when that is a primary study or data set.",
                    [])  # fmt: skip
RESTS_ON = _opt("--rests-on", "What it rests on, in words, when no study is cited.")
FAVOURS = _opt("--favours", "pytorch, tensorflow, jax, both or neither.")
CONTRADICTS = _opt("--contradicts", "Id of a claim it contradicts (repeatable).", [])
DEVICE = _opt("--device", "cpu, gpu, tpu or any.")
PHASE = _opt("--phase", "training, inference or deployment.")
BATCH = _opt("--batch-regime", "e.g. 'batch 1 to 8'.")
INPUT = _opt("--input-regime", "e.g. '28 to 224 px'.")
MODEL = _opt("--model-family", "e.g. 'CNN image classifier'.")
TIER = _opt("--api-tier", "e.g. 'Keras predict vs PyTorch eager'.")
PRECISION = _opt("--precision", "e.g. fp32.")
SCALE = _opt("--scale", "e.g. 'one GPU'.")
BENCHMARK = _opt("--benchmark", "Benchmark, probe or data check id.")
PARAM = _opt("--param", "key=value, value read as JSON when it parses (batch_sizes=[1,4]);"
             " repeatable.", [])  # fmt: skip
PARAMS_JSON = _opt("--params-json", "All parameters as one JSON object.")
METRIC = _opt("--metric", "median_latency, p90_latency, epoch_time, throughput, peak_memory,"
              " gpu_memory_share, succeeds or share.")  # fmt: skip
BETTER = _opt("--better", "lower or higher (default: from the metric).")
SUBJECT = _opt("--subject", "The side the claim says wins (torch-eager, pytorch, ...).")
BASELINE = _opt("--baseline", "The side it is compared with.")
THRESHOLD = _opt("--threshold", "3 for 3x, 1.25 for 25%, 0.8 for a share.")
TOLERANCE = _opt("--tolerance", "Relative tolerance (default 0.1).")
QUANTIFIER = _opt("--quantifier", "up-to, at-least, about or exists.")
STANDS_IN = _opt("--stands-in", "What the first check runs in place of what the claim is about"
                 " (10 to 300 characters), e.g. 'the small CNN stands in for ResNet-50'; further"
                 " checks copy it.")  # fmt: skip
CHECK_ID = _opt("--check-id", "The first check's id, kebab-case (default: main).")
CHECK = typer.Option(
    [], "--check", metavar="'ID --OPTION VALUE ...'",
    help="A further check (repeatable), in one quoted value: its id, then the check options"
    " where it differs from the first check (--benchmark, --param, --params-json, the rule"
    " options, --stands-in); the rest is copied from the first. A parameter set to null is"
    " dropped. E.g. --check 'xla --subject tf-xla --param tiers=[\"keras-call\",\"tf-xla\"]'.",
)  # fmt: skip
COMBINE = _opt("--combine", "With --check: all (the default: every check must hold) or any"
               " (one holding check is enough).")  # fmt: skip
JSON_OUT = _opt("--json", "Print the added claim as JSON for scripts, as `verify show ID --json`"
                " has it (its checks listed), with the file it went to; never prompts.", False)  # fmt: skip
NOT_CHECKABLE = _opt("--not-checkable", "Why it cannot be checked, and what would settle it"
                     " (instead of --benchmark).")  # fmt: skip
FILE = _opt("--file", "Claims file to append to (default claims/user-claims.ttl).")
CONDITIONS = ("device", "phase", "batch_regime", "input_regime", "model_family", "api_tier",
              "precision", "scale")  # fmt: skip
RULE = ("metric", "better", "subject", "baseline", "threshold", "tolerance", "quantifier")


def register(app: typer.Typer) -> None:
    """Attach this module's commands (`claim new`, `source new`, `evidence import`) to the app."""
    claim_app = typer.Typer(name="claim", no_args_is_help=True, rich_markup_mode=None,
                            help="Add claims to the corpus without writing Turtle by hand.")  # fmt: skip
    evidence_app = typer.Typer(
        name="evidence",
        no_args_is_help=True,
        rich_markup_mode=None,
        help="Published measurements (primary studies' own numbers) recorded as evidence in "
        "the graph.",
    )
    source_app = typer.Typer(name="source", no_args_is_help=True, rich_markup_mode=None,
                             help="Add sources to the bibliography without writing Turtle.")  # fmt: skip
    source_app.command("new")(source_new)
    app.add_typer(source_app, name="source")
    claim_app.command("new")(new)
    evidence_app.command("import")(import_)
    evidence_app.command("pytest-benchmark")(pytest_benchmark)
    app.add_typer(claim_app, name="claim")
    app.add_typer(evidence_app, name="evidence")


def _interactive() -> bool:
    """Prompt for missing values only when a person is at the keyboard."""
    return sys.stdin.isatty()


def new(
    claim_id: str = ID, statement: str = STATEMENT, kind: str = KIND, category: str = CATEGORY,
    source: str = SOURCE, locator: str = LOCATOR, wording: str = WORDING,
    derived_from: list[str] = DERIVED_FROM, rests_on: str = RESTS_ON, favours: str = FAVOURS,
    contradicts: list[str] = CONTRADICTS, device: str = DEVICE, phase: str = PHASE,
    batch_regime: str = BATCH, input_regime: str = INPUT, model_family: str = MODEL,
    api_tier: str = TIER, precision: str = PRECISION, scale: str = SCALE,
    benchmark: str = BENCHMARK, param: list[str] = PARAM, params_json: str = PARAMS_JSON,
    metric: str = METRIC, better: str = BETTER, subject: str = SUBJECT, baseline: str = BASELINE,
    threshold: float = THRESHOLD, tolerance: float = TOLERANCE, quantifier: str = QUANTIFIER,
    stands_in: str = STANDS_IN, check_id: str = CHECK_ID, check: list[str] = CHECK,
    combine: str = COMBINE, not_checkable: str = NOT_CHECKABLE, file: str = FILE,
    json_out: bool = JSON_OUT,
) -> None:  # fmt: skip
    """Add a claim: write it into claims/*.ttl, validate the whole corpus, keep it only if valid.

    Missing required values are asked for when run at a terminal; otherwise they are errors.
    On any problem the file is left exactly as it was and the command exits 2.

    The check options (--benchmark, --param, --params-json, --metric to --quantifier,
    --stands-in, --check-id) describe the claim's first check. Each --check adds one more, in
    one quoted value: its id, then the same options where it differs from the first check. A
    claim that tf.function and XLA both beat an eager Keras call has two checks:

    \b
      verify claim new --id tf-compiled-beats-eager ... --benchmark inference-latency \\
        --param 'tiers=["keras-call", "tf-function"]' --metric median_latency \\
        --subject tf-function --baseline keras-call --threshold 1 --quantifier at-least \\
        --check-id tf-function \\
        --check 'tf-xla --subject tf-xla --param tiers=["keras-call", "tf-xla"]'
    """
    from kg import checkspec, claimfile, paths, scaffold

    given = dict(locals())
    spec = scaffold.ClaimSpec(
        id=claim_id, statement=statement, category=category, kind=kind, source=source,
        locator=locator, wording=wording, derived_from=list(derived_from), rests_on=rests_on,
        favours=favours, contradicts=list(contradicts),
        conditions={k: given[k] for k in CONDITIONS if given[k]}, benchmark=benchmark,
        parameters=checkspec.parse_params(list(param), params_json),
        rule={k: given[k] for k in RULE if given[k] is not None}, not_checkable=not_checkable,
        stands_in=stands_in, check_id=check_id, combine=combine,
        more_checks=[checkspec.parse_check(text) for text in check],
    )  # fmt: skip
    root = paths.find_root()
    ask = typer.prompt if _interactive() and not json_out else None
    added = claimfile.add_claim(root, spec, file, ask=ask)
    rel = added.path.relative_to(root) if added.path.is_relative_to(root) else added.path
    if json_out:
        print_json({"file": rel.as_posix(), **plain(added.claim)})
        return
    _print_added(added.claim, rel)


def _print_added(claim: Claim, rel: Path) -> None:
    """What a person reads after `claim new`: where the claim went, its checks, what to run."""
    out = console()
    checks = claim.checks
    several = f" with {len(checks)} checks" if len(checks) > 1 else ""
    out.print(f"added claim '{safe(claim.id)}'{several} to {safe(rel)}; the corpus is valid.")
    if len(checks) > 1 or any(c.stands_in for c in checks):
        for c in checks:
            sides = " against ".join(x for x in (c.rule.subject, c.rule.baseline) if x)
            line = f"  check {safe(c.check_id)}: bench:{safe(c.benchmark)}, {safe(sides)}"
            out.print(line + (f"; {safe(c.stands_in)}" if c.stands_in else ""))
    if checks:
        out.print(f"run it:  verify run --claim {safe(claim.id)}")
    else:
        out.print(f"it has no check; read it with:  verify show {safe(claim.id)}")


def source_new(
    source_id: str = _opt("--id", "Source id, kebab-case (becomes src:ID), e.g. smith-2026."),
    name: str = _opt("--name", "The document's title."),
    role: str = _opt("--role", "survey, secondary-article, primary-study, dataset or documentation."),
    author: list[str] = _opt("--author", "An author (repeatable).", []),
    date: str = _opt("--date", "Publication date: YYYY, YYYY-MM or YYYY-MM-DD."),
    url: str = _opt("--url", "Where to read it (http or https)."),
    description: str = _opt("--description", "What it is, in your words."),
    cites: list[str] = _opt("--cites", "Id of a source it cites as evidence (repeatable).", []),
) -> None:  # fmt: skip
    """Add a source: append it to claims/sources.ttl, validate the whole corpus, keep it only if
    valid. Missing id, title and role are asked for at a terminal; otherwise they are errors.
    On any problem the file is left exactly as it was and the command exits 2."""
    from kg import claimfile, paths

    spec = claimfile.SourceSpec(id=source_id, name=name, role=role, authors=list(author),
                                date=date, url=url, description=description, cites=list(cites))  # fmt: skip
    root = paths.find_root()
    claimfile.add_source(root, spec, ask=typer.prompt if _interactive() else None)
    console().print(f"added source '{safe(spec.id)}' to {claimfile.SOURCES_FILE}; the corpus is"
                    f" valid. Cite it with:  verify claim new --source {safe(spec.id)} ...")  # fmt: skip


def import_(
    check_only: bool = typer.Option(
        False,
        "--check",
        help="Only report whether the committed file is up to date (exit 1 if not).",
    ),
) -> None:
    """Turn the DAWNBench entries in data/snapshots/dawnbench/ into data/snapshots/dawnbench-evidence.ttl."""
    from kg import evidence, paths
    from kg.errors import Unsatisfied

    root = paths.find_root()
    target = evidence.evidence_file(root).relative_to(root)
    if check_only:
        if not evidence.is_current(root):
            raise Unsatisfied(f"{target} is out of date: `verify evidence import` rewrites it")
        console().print(f"{safe(target)} is up to date.")
        return
    n = evidence.write_evidence(root)
    console().print(f"wrote {n} measurements to {safe(target)}")


def pytest_benchmark(
    file: Path = typer.Argument(..., metavar="FILE", help="A `pytest --benchmark-json` file.",
                                dir_okay=False, exists=True),
    claim: list[str] = typer.Option(..., "--claim", metavar="ID",
                                    help="The claim it bears on; repeat for several."),
    framework: str = typer.Option(None, "--framework", help="torch, tensorflow or jax, if the "
                                  "benchmarks exercise one framework."),
) -> None:  # fmt: skip
    """Import a team's own pytest-benchmark results as published evidence for claims: one
    measurement per benchmark (its median), the file's machine as the hardware, written to
    data/snapshots/pytest-benchmark-NAME.ttl and shown on the claims' pages. The corpus is
    validated with it; on a problem nothing is kept."""
    from kg import benchjson, paths

    root = paths.find_root()
    target = benchjson.import_file(root, file, list(claim), framework)
    rel = target.relative_to(root) if target.is_relative_to(root) else target
    console().print(f"wrote {safe(rel)}: evidence for {safe(', '.join(claim))}")
