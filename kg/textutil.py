"""Small text helpers every layer shares: natural sort, did-you-mean, UTC time stamps."""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime


def natural_key(text: str | None) -> tuple[tuple[int, int | str], ...]:
    """Sort key in which runs of digits compare as numbers: 'b1-s28' before 'b1-s128',
    'TF 2.9' before 'TF 2.21'."""
    parts = re.split(r"(\d+)", text or "")
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def close_matches(word: str, known: list[str], n: int = 3, cutoff: float = 0.5) -> list[str]:
    """The known words closest to `word` (difflib), else those containing it or contained in it."""
    close = difflib.get_close_matches(word, known, n=n, cutoff=cutoff)
    return close or [k for k in known if word and (word in k or k in word)][:n]


def did_you_mean(word: str, known: list[str], n: int = 3) -> str:
    """' Did you mean: a, b?' for the closest known words, or '' when none is close."""
    close = close_matches(word, known, n)
    return f" Did you mean: {', '.join(close)}?" if close else ""


def utc_now() -> str:
    """The current UTC time as ISO 8601 with microseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def file_stamp(iso_time: str) -> str:
    """A sortable file-name stamp of an ISO time: '2026-11-21T18:45:04.1Z' -> '20261121T184504Z'."""
    stamp = iso_time.split(".")[0].replace("-", "").replace(":", "")
    return stamp if stamp.endswith("Z") else stamp + "Z"


# Characters that look like nothing, or like something else, in an editor: a claim file holding
# one parses differently from how it reads. Each is named in messages rather than shown.
INVISIBLE = {
    "\ufeff": "byte-order mark",
    "\u00a0": "no-break space",
    "\u202f": "narrow no-break space",
    "\u2007": "figure space",
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u2060": "word joiner",
    "\u00ad": "soft hyphen",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
    **{chr(c): "bidirectional control" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))},
}
LOOKALIKE = {
    "\u201c": "curly quote", "\u201d": "curly quote", "\u2018": "curly quote",
    "\u2019": "curly quote", "\u00ab": "angle quote", "\u00bb": "angle quote",
    "\u2013": "en dash", "\u2014": "em dash", "\u2212": "minus sign",
}  # fmt: skip


def is_control(ch: str) -> bool:
    """A C0 or C1 control character (escape sequences start with one)."""
    return ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0


def visible(text: str) -> str:
    """`text` with control and invisible characters written as \\uXXXX escapes, so a message
    shows them and a terminal never interprets them."""
    if text.isprintable() and not any(ch in INVISIBLE for ch in text):
        return text
    return "".join(f"\\u{ord(ch):04X}" if is_control(ch) or ch in INVISIBLE else ch for ch in text)


def odd_character(text: str, lookalikes: bool = False) -> tuple[int, str, str] | None:
    """The first invisible character in `text` (and, with `lookalikes`, the first curly quote or
    dash that Turtle does not read as ASCII): (0-based index, name, U+XXXX), or None."""
    for i, ch in enumerate(text):
        name = INVISIBLE.get(ch) or (LOOKALIKE.get(ch) if lookalikes else None)
        if name is None and is_control(ch) and ch not in "\t\n\r":
            name = "control character"
        if name is not None:
            return i, name, f"U+{ord(ch):04X}"
    return None


def odd_character_note(text: str) -> str:
    """' (it holds a no-break space, U+00A0, at character 8)' for a value with an invisible
    character, else ''."""
    found = odd_character(text)
    if found is None:
        return ""
    i, name, code = found
    return f" (it holds a {name}, {code}, at character {i + 1})"
