"""The `verify` command: one Typer app, and the one place that turns errors into exit codes.

Command modules under verify/commands/ register themselves on `app`; they import heavy libraries
inside their functions so that start-up stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from kg.errors import FwcError

app = typer.Typer(
    name="verify",
    help=(
        "fwclaims: check what the literature claims about PyTorch vs TensorFlow.\n\n"
        "Claims live in claims/*.ttl (RDF Turtle). `verify list` and `verify show ID` read them, "
        "`verify check` validates them, `verify run --claim ID` measures a claim on this machine."
        "\n\nExit codes: 0 success; 1 a check errored or a verdict flipped where asked; "
        "2 bad input (unknown id, invalid corpus, bad arguments)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _options(
    root: Path = typer.Option(
        None,
        "--root",
        help="Project folder holding claims/ and data/ (default: $FWCLAIMS_ROOT, else the "
        "nearest folder up from here that has claims/sources.ttl).",
        file_okay=False,
    ),
) -> None:
    if root is not None:
        os.environ["FWCLAIMS_ROOT"] = str(root)


def _register() -> None:
    """Import the command modules so their commands attach to `app`."""
    import importlib

    for name in ("graph", "runs", "site", "survey", "upkeep"):
        try:
            importlib.import_module(f"verify.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"verify.commands.{name}":
                raise


def main() -> None:
    """Entry point of the `verify` console script."""
    _register()
    try:
        app()
    except FwcError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except BrokenPipeError:  # `verify list | head`
        sys.exit(0)


if __name__ == "__main__":
    # `python -m verify.app`: command modules register on the importable module's `app`,
    # not on this __main__ copy, so run that one.
    from verify.app import main as _main

    _main()
