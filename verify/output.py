"""Printing helpers shared by the commands: JSON for scripts, compact tables for people."""

from __future__ import annotations

import json
import sys
from typing import Any

from kg.fsutil import write_atomic  # noqa: F401  (re-exported for the commands)


def print_json(data: Any) -> None:
    """Machine-readable output on stdout (stable key order, UTF-8)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def console(stderr: bool = False):
    """A rich console; rich is imported only when something is printed for people."""
    import shutil

    from rich.console import Console

    # Piped output gets a wide page rather than rich's 80-column default.
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((140, 24)).columns, 140)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def table(columns: list[str], rows: list[list[Any]], title: str | None = None):
    """A borderless rich table with the given columns (the last one wraps)."""
    from rich import box
    from rich.table import Table

    t = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for i, c in enumerate(columns):
        last = i == len(columns) - 1
        t.add_column(
            c,
            overflow="fold",
            no_wrap=not last,
            min_width=24 if last else None,
            ratio=1 if last else None,
        )
    for r in rows:
        t.add_row(*("" if v is None else str(v) for v in r))
    return t
