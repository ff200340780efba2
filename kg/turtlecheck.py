"""Problems a claim file's text shows before its triples mean anything: a prefix bound to the wrong
namespace, an invisible or look-alike character where Turtle expects syntax, a block pasted twice.

A wrong prefix turns every property it spells into a different property, so SHACL would report
each claim of the file as missing everything; one line about the prefix says what is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

from kg import ns
from kg.errors import Problem
from kg.textutil import odd_character

_PREFIX = re.compile(
    r"^[ \t]*(@prefix|PREFIX)[ \t]+([A-Za-z][\w.-]*)?:[ \t]*<([^>]*)>", re.IGNORECASE | re.MULTILINE
)
_DEFINES = re.compile(r"^(\S+)[ \t]+(a|rdf:type)\s", re.MULTILINE)


def key(iri: str) -> str:
    """A namespace with the differences people get wrong taken out: scheme, case, the last / or #."""
    return re.sub(r"^https?://", "", iri.lower()).rstrip("/#")


_NEAR = {key(iri): (prefix, iri) for prefix, iri in ns.PREFIXES.items()}


def near_miss(iri: str) -> tuple[str, str] | None:
    """(prefix, right namespace) when `iri` is a mistyped form of a project namespace."""
    found = _NEAR.get(key(iri))
    return found if found and found[1] != iri else None


def prefix_problems(rel: str, text: str) -> list[Problem]:
    """One problem per prefix declaration binding a project prefix, or a mistyped form of a
    project namespace, to the wrong namespace, each at its line."""
    problems = []
    for m in _PREFIX.finditer(text):
        name, iri = m.group(2) or "", m.group(3)
        right = ns.PREFIXES.get(name)
        miss = near_miss(iri)
        if right is not None and right != iri:
            miss = (name, right)
        if miss is not None:
            what = f"prefix {name}" if name else "the empty prefix"
            line = text.count("\n", 0, m.start()) + 1
            problems.append(Problem(rel, line, what, _prefix_fix(iri, miss[0], miss[1])))
    return problems


def mistyped_namespace(iri: str) -> tuple[str, str, str] | None:
    """(prefix, right namespace, local name) for an IRI written in a mistyped form of a project
    namespace (``https://schema.org/text`` for ``http://schema.org/text``), else None."""
    rest = re.sub(r"^https?://", "", iri, flags=re.IGNORECASE)
    for prefix, right in ns.PREFIXES.items():
        stem = key(right)
        if iri.startswith(right) or not rest.lower().startswith((stem + "/", stem + "#")):
            continue
        return prefix, right, rest[len(stem) + 1 :]
    return None


def _prefix_fix(iri: str, prefix: str, right: str) -> str:
    why = " (http, as in the JSON-LD context)" if right == ns.SCHEMA else ""
    return (
        f"is bound to <{iri}>, but the project's {prefix}: namespace is <{right}>{why}:"
        f" fix this @prefix line, or nothing written with it is recognised"
    )


def syntax_hint(path: Path, e: SyntaxError) -> str | None:
    """What is wrong with a line Turtle would not parse, when an invisible or look-alike character
    where the parser stopped explains it: 'a no-break space (U+00A0) at column 5: ...'; else None."""
    line = e.lineno
    if not line:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = next((t for n, t in enumerate(fh, 1) if n == line), None)
    except OSError:
        return None
    if text is None:
        return None
    text = text.rstrip("\n")
    found = odd_character(text, lookalikes=True)
    if found is None:
        return None
    col, name, code = found
    # Only a character where the parser stopped explains the error: a curly quote inside a
    # string literal is text, and the mistake is elsewhere.
    start, end = (e.offset or 1) - 1, (e.end_offset or len(text) + 1) - 1
    if not (start - 1 <= col <= end + 1) and not odd_character(str(e.msg), lookalikes=True):
        return None
    if name == "byte-order mark" and line == 1 and col == 0:
        return f"the file starts with a byte-order mark ({code}): save it as UTF-8 without one"
    if name in ("curly quote", "angle quote"):
        fix = 'type a straight quote (") instead'
    elif name.endswith("dash") or name == "minus sign":
        fix = "type a plain hyphen-minus (-) instead"
    elif "space" in name and not name.startswith("zero-width"):
        fix = "type a plain space instead"
    else:
        fix = "delete it"
    return f"a {name} ({code}) at column {col + 1}, where Turtle expects syntax: {fix}"


def definition_lines(text: str) -> dict[str, list[int]]:
    """For each name that opens a typed statement block (``NAME a ...`` in column 0), the
    1-based lines where it does: more than one is the same definition written twice."""
    found: dict[str, list[int]] = {}
    line, at = 1, 0
    for m in _DEFINES.finditer(text):
        line += text.count("\n", at, m.start())
        at = m.start()
        found.setdefault(m.group(1), []).append(line)
    return found
