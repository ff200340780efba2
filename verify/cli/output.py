"""What the commands share: loading the corpus, JSON for scripts, compact tables for people."""

from __future__ import annotations

import json
import re
import shutil
import sys
from typing import TYPE_CHECKING, Any

from kg.model import plain
from kg.textutil import INVISIBLE, is_control, visible

if TYPE_CHECKING:
    from kg.store import Corpus

# Terminal escape sequences: CSI (colours, cursor moves), OSC (titles, links) and two-byte ones.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_BIDI = {ch for ch, name in INVISIBLE.items() if name == "bidirectional control"}


def clean(value: Any) -> str:
    """Text from a file or a user as a terminal should get it: escape sequences, control
    characters (but line breaks and tabs) and direction overrides removed."""
    text = _ESCAPES.sub("", "" if value is None else str(value))
    return "".join(ch for ch in text if ch in "\n\t" or not (is_control(ch) or ch in _BIDI))


def safe(value: Any) -> str:
    """Text from a file or a user as rich prints it literally: cleaned (see `clean`) and with
    rich markup escaped, so `[/]` or `[ref]` in a claim is shown, not interpreted."""
    from rich.markup import escape

    return escape(clean(value))


def corpus(
    *,
    use_cache: bool = True,
    record_policy: str = "skip",
    store: str | None = None,
    warn: bool = True,
) -> Corpus:
    """The project's corpus (see kg.load.load_corpus; `store` "" forces the embedded one); run
    records left out are warned about."""
    from kg.load import load_corpus

    c = load_corpus(use_cache=use_cache, record_policy=record_policy, store=store)
    if warn:
        warn_skipped(c)
    return c


def warn(message: str) -> None:
    """One warning line on stderr."""
    print(f"warning: {visible(message)}", file=sys.stderr)


def warn_skipped(c: Corpus) -> None:
    """One warning line on stderr per run record that was left out as unreadable."""
    for e in c.skipped:
        warn(f"run record left out: {e}")


def print_json(data: Any) -> None:
    """Machine-readable output on stdout (rows as plain JSON, UTF-8, no NaN)."""
    text = json.dumps(plain(data), indent=2, ensure_ascii=False, sort_keys=False, allow_nan=False)
    sys.stdout.write(text + "\n")


def console(stderr: bool = False) -> Any:
    """A rich console; rich is imported only when something is printed for people."""
    from rich.console import Console

    # Piped output gets a wide page rather than rich's 80-column default.
    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((140, 24)).columns, 140)
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=width)


def table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> Any:
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
        t.add_row(*(safe(v) for v in r))
    return t


def this_environment() -> str:
    """This machine's environment id, as `verify env` reports it and `verify run` files records
    under: what the other commands mark as "this machine"."""
    from kg.environments import environment_id
    from verify.run.environment import collect

    return environment_id(collect())
