"""`--format table|json|csv|parquet` for the commands that list rows (list, results).

CSV and Parquet come from kg.frames' DataFrames, so a notebook, a script and the site see the
same columns; pandas (and pyarrow, for Parquet) is imported only when one of them is asked for,
so `verify list` starts as fast as before.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from kg.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("table", "json", "csv", "parquet")


def option() -> Any:
    """The --format option (with --json kept as the short way to say --format json)."""
    return typer.Option(
        "table", "--format", "-f", metavar="FORMAT",
        help="table (for people), json, csv or parquet (binary: redirect it to a file; needs "
        "pyarrow, in the `frames` extra).",
    )  # fmt: skip


def resolve(fmt: str, json_out: bool) -> str:
    """The format asked for; --json wins as it always has."""
    if json_out:
        return "json"
    if fmt not in FORMATS:
        raise UsageError(f"unknown format '{fmt}': use one of {', '.join(FORMATS)}")
    return fmt


def write_frame(df: pd.DataFrame, fmt: str, *, index: bool) -> None:
    """Write a frame to stdout as CSV or Parquet."""
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=index, lineterminator="\n"))
        return
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError(
            "--format parquet needs pyarrow: pip install 'fwclaims[frames]' (or pip install"
            " pyarrow), or use --format csv"
        ) from None
    if sys.stdout.isatty():
        raise UsageError("Parquet is binary: redirect it to a file (verify ... --format parquet"
                         " > rows.parquet)")  # fmt: skip
    sys.stdout.flush()
    df.to_parquet(sys.stdout.buffer, index=index)
    sys.stdout.buffer.flush()
