"""Write Turtle by hand, in the style of the claim files: escaped literals, decimals, typed blank
nodes, prefix lines, and an atomic append that never leaves a file half-written."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from pathlib import Path

from kg import ns
from kg.errors import UsageError
from kg.fsutil import write_atomic

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_PREFIX_LINE = re.compile(r"(?im)^\s*@?prefix\s+([\w.-]*):\s*<([^>]*)>")


def literal(text: str) -> str:
    """A one-line Turtle string literal: quotes, backslashes and line breaks escaped, other
    control characters as \\u escapes, everything else (including <, > and &) as it is."""
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def long_literal(text: str) -> str:
    """A triple-quoted literal, as the hand-written files use for JSON; falls back to a one-line
    literal when the text could end or break the triple quotes."""
    escaped = text.replace("\\", "\\\\")
    if '"""' in escaped or escaped.endswith('"') or any(ord(c) < 0x20 for c in escaped):
        return literal(text)
    return f'"""{escaped}"""'


def number(value: float) -> str:
    """A Turtle decimal (3.0, 0.1, 0.0000001): plain digits, never an exponent."""
    if not math.isfinite(value):
        raise UsageError(f"{value} is not a finite number")
    text = format(Decimal(repr(float(value))), "f")
    return text if "." in text else text + ".0"


def block(cls: str, rows: list[tuple[str, str]], depth: int) -> str:
    """A typed blank node "[ a CLS ; p o ; ... ]", one property per line, indented for `depth`."""
    pad = " " * (4 * (depth + 1))
    return f"[ a {cls} ;\n" + " ;\n".join(f"{pad}{p} {o}" for p, o in rows) + " ]"


def prefix_lines(names: tuple[str, ...]) -> str:
    """@prefix lines for the project's prefixes, aligned as in the claim files."""
    return "".join(f"@prefix {p + ':':<8}<{ns.PREFIXES[p]}> ." + "\n" for p in names)


def appended(original: bytes | None, text: str, needed: tuple[str, ...], header: str) -> bytes:
    """A file's bytes with `text` appended after a blank line; prefixes it lacks are declared just
    before it (Turtle allows that anywhere). A new file starts with `header` and all prefixes."""
    if original is None:
        return (f"# {header}\n" + prefix_lines(needed) + "\n" + text).encode("utf-8")
    old = original.decode("utf-8")
    declared = dict(_PREFIX_LINE.findall(old))
    for p in needed:
        if p in declared and declared[p] != ns.PREFIXES[p]:
            raise UsageError(
                f"the file binds {p}: to <{declared[p]}>, not <{ns.PREFIXES[p]}>: choose another --file"
            )
    missing = tuple(p for p in needed if p not in declared)
    sep = "" if old.endswith("\n") or not old else "\n"
    return (old + sep + "\n" + prefix_lines(missing) + text).encode("utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    """Replace a file's content atomically (temporary file + rename), keeping its mode."""
    write_atomic(path, data)
