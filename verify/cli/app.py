"""The `verify` command: one Typer app, and the one place that turns errors into exit codes.

The command modules (graph, runs, results, site, survey, upkeep) each define plain functions and a
``register(app)`` that attaches them; this module imports them and registers them, so nothing is
registered by the side effect of an import. Commands import heavy libraries inside their
functions so that start-up stays fast.

Exit codes: 0 success; 1 a check errored or a verdict flipped where asked (kg.errors.FwcError with
exit_code 1, e.g. verify.run.failures.RunFailure); 2 bad input (every other FwcError).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import typer

from kg.errors import FwcError, Interrupted
from kg.textutil import visible
from verify.cli import explore, graph, results, runs, site, survey, upkeep

HELP = (
    "fwclaims: check what the literature claims about PyTorch vs TensorFlow.\n\n"
    "Claims live in claims/*.ttl (RDF Turtle). `verify list` and `verify show ID` read them, "
    "`verify check` validates them, `verify run --claim ID` measures a claim on this machine."
    "\n\nExit codes: 0 success; 1 a check errored or a verdict flipped where asked; "
    "2 bad input (unknown id, invalid corpus, bad arguments)."
)


def _options(
    root: Path = typer.Option(
        None,
        "--root",
        help="Project folder holding claims/ and data/ (default: $FWCLAIMS_ROOT, else the "
        "nearest folder up from here that has claims/sources.ttl).",
        file_okay=False,
    ),
    store: str = typer.Option(
        None,
        "--store",
        metavar="URL",
        help="Read the graph from this SPARQL server (loaded by `verify export --to URL`) "
        "instead of building it here (default: $FWCLAIMS_STORE, else the embedded store).",
    ),
) -> None:
    if root is not None:
        os.environ["FWCLAIMS_ROOT"] = str(root)
    if store is not None:
        os.environ["FWCLAIMS_STORE"] = store


# What `verify --help` lists for each command: whole sentences that fit an 80-column terminal (the
# first line of a command's own help is often longer and would be cut with "...").
SUMMARIES = {
    "check": "Validate claim files and run records.",
    "list": "List claims with kind, category and check.",
    "show": "One claim: statement, sources, check, verdicts.",
    "sources": "The bibliography and how claims use it.",
    "audit": "Weak spots: single sources, contradictions.",
    "export": "The whole graph as Turtle, JSON-LD, N-Quads.",
    "run": "Run claims' checks here and record verdicts.",
    "env": "This machine's environment and its id.",
    "calibrate": "A/A runs: how often the method is wrong.",
    "reproduce": "Check claims repeatedly: do verdicts repeat?",
    "explore": "A claim in its multiverse of setups.",
    "publish": "Build the static claims site.",
    "serve": "Serve the site, a JSON API and SPARQL.",
    "status": "Claims never checked, stale or changed.",
    "diff": "Verdicts that differ between environments.",
    "matrix": "One claim under several TensorFlow versions.",
    "results": "Run records, newest first; merge; export.",
    "claim": "Add claims without writing Turtle.",
    "source": "Add sources without writing Turtle.",
    "evidence": "Published measurements as evidence.",
}


def _summarise(app: typer.Typer) -> None:
    for c in app.registered_commands:
        name = c.name or (c.callback.__name__ if c.callback else "")
        c.short_help = c.short_help or SUMMARIES.get(name.replace("_", "-"))
    for g in app.registered_groups:
        if g.typer_instance is not None and g.name in SUMMARIES:
            g.short_help = g.short_help or SUMMARIES[g.name]


def build() -> typer.Typer:
    """The app with every command registered."""
    app = typer.Typer(
        name="verify",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    app.callback()(_options)
    for module in (graph, runs, explore, results, site, survey, upkeep):
        module.register(app)
    _summarise(app)
    return app


app = build()


def main() -> None:
    """Entry point of the `verify` console script: the error boundary."""
    try:
        app()
    except FwcError as e:
        print(f"error: {_plain(str(e))}", file=sys.stderr)
        sys.exit(e.exit_code)
    except Interrupted as e:
        print(f"stopped: {e}; what it had started was cleaned up", file=sys.stderr)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        print("stopped: interrupted; what it had started was cleaned up", file=sys.stderr)
        sys.exit(128 + signal.SIGINT)
    except BrokenPipeError:  # `verify list | head`
        sys.exit(0)


def _plain(message: str) -> str:
    """An error message as a terminal should get it: one problem per line, nothing a terminal
    would interpret (an id or a file name can hold escape sequences)."""
    return "\n".join(visible(line) for line in message.splitlines())


if __name__ == "__main__":
    main()
