"""What a SPARQL request asks for, read before any worker sees it: the query form (SPARQL Update
is refused here, by its first keyword after the prologue) and the result format, from the
`format` parameter or the Accept header (RFC 9110 media ranges and q-values; a malformed header
is a 400, one that accepts nothing offered a 406)."""

from __future__ import annotations

import re

from kg import ns
from verify.serve.errors import MalformedHeader, NotAcceptable, QueryRefused

READ_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_FORMS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                "WITH")  # fmt: skip
FORMATS = {  # name -> media type
    "json": "application/sparql-results+json",
    "csv": "text/csv",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
}
GRAPH_FORMATS = ("turtle", "ntriples", "jsonld")
TABLE_FORMATS = ("json", "csv")
# The project's prefixes on one line before the user's text, so parse errors keep their line numbers
PREFIX_LINE = ns.SPARQL_PREFIXES.replace("\n", " ")
_MEDIA = {v: k for k, v in FORMATS.items()} | {"application/json": "json"}
_PROLOGUE = re.compile(
    r"""(?:\s+|\#[^\n]*\n?
       |BASE\s*<[^<>"{}|^`\\\x00-\x20]*>
       |PREFIX\s*(?:[A-Za-z][\w.-]*)?:\s*<[^<>"{}|^`\\\x00-\x20]*>)""",
    re.IGNORECASE | re.VERBOSE,
)
_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_RANGE = re.compile(rf"(?:\*/\*|{_TOKEN}/\*|{_TOKEN}/{_TOKEN})")
_PARAM = re.compile(rf'({_TOKEN})\s*=\s*({_TOKEN}|"(?:[^"\\]|\\.)*")')
_QVALUE = re.compile(r"(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)")
_SPLIT = r'(?:[^{sep}"]|"(?:[^"\\]|\\.)*")+'


def query_form(query: str, max_chars: int = 100_000) -> str:
    """The query form (SELECT, ASK, CONSTRUCT, DESCRIBE) after the prologue; anything else,
    SPARQL Update above all, raises QueryRefused."""
    if len(query) > max_chars:
        raise QueryRefused(f"the query is longer than {max_chars} characters")
    pos = 0
    while m := _PROLOGUE.match(query, pos):
        pos = m.end()
    word = re.match(r"[A-Za-z]+", query[pos:])
    keyword = word.group(0).upper() if word else ""
    if keyword in READ_FORMS:
        return keyword
    if keyword in UPDATE_FORMS:
        raise QueryRefused(f"SPARQL Update ({keyword}) is not accepted: this endpoint is read-only")
    found = f"'{query[pos : pos + 20]}'" if query[pos:].strip() else "nothing"
    raise QueryRefused(f"expected a SELECT, ASK, CONSTRUCT or DESCRIBE query, found {found}")


def offered(kind: str) -> tuple[str, ...]:
    """The format names a query of this form can be answered in, the default first."""
    return GRAPH_FORMATS if kind in ("CONSTRUCT", "DESCRIBE") else TABLE_FORMATS


def pick_format(kind: str, fmt: str | None, accept: str | None) -> str:
    """The result format: the `format` parameter, else the best type in Accept that is offered;
    raises QueryRefused for a bad parameter, MalformedHeader for a bad header, NotAcceptable
    when nothing offered is accepted."""
    allowed = offered(kind)
    if fmt:
        name = _MEDIA.get(fmt.lower(), fmt.lower())
        if name not in allowed:
            raise QueryRefused(
                f"format '{fmt}' is not offered for {kind}: use {', '.join(allowed)}"
            )
        return name
    ranges = parse_accept(accept or "")
    if not ranges:
        return allowed[0]
    best = max(((_weigh(name, ranges), -i, name) for i, name in enumerate(allowed)))
    (q, _), _, name = best
    if q <= 0:
        types = ", ".join(FORMATS[n] for n in allowed)
        raise NotAcceptable(f"Accept names none of the types offered for {kind}: {types}")
    return name


def parse_accept(header: str) -> list[tuple[str, float]]:
    """The media ranges of an Accept header with their q-values, in header order; raises
    MalformedHeader when the header does not follow RFC 9110."""
    ranges = []
    for part in re.findall(_SPLIT.format(sep=","), header):
        if not part.strip():
            continue  # the grammar allows empty list elements
        media, *params = (p.strip() for p in re.findall(_SPLIT.format(sep=";"), part))
        if not _RANGE.fullmatch(media):
            raise MalformedHeader(f"malformed Accept header: '{_cut(part)}' is no media range")
        ranges.append((media.lower(), _weight(params)))
    return ranges


def _weight(params: list[str]) -> float:
    """The q-value among a media range's parameters (1 when it has none)."""
    q = 1.0
    for param in params:
        if not param:
            continue  # `text/csv;` : RFC 9110 allows an empty parameter
        m = _PARAM.fullmatch(param)
        if not m:
            raise MalformedHeader(f"the Accept header is malformed: bad parameter '{_cut(param)}'")
        if m.group(1).lower() != "q":
            continue
        if not _QVALUE.fullmatch(m.group(2)):
            raise MalformedHeader(
                f"the Accept header is malformed: q={_cut(m.group(2))} is not a weight from 0"
                " to 1 with at most three decimals"
            )
        q = float(m.group(2))
    return q


def _weigh(name: str, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """(q, -position) of the most specific range that names one of this format's media types."""
    types = [t for t, n in _MEDIA.items() if n == name]
    best = None  # (specificity, q, -position)
    for i, (media, q) in enumerate(ranges):
        for t in types:
            spec = _specificity(media, t)
            if spec is not None and (best is None or spec > best[0]):
                best = (spec, q, -i)
    return (best[1], best[2]) if best else (0.0, 0)


def _specificity(media: str, t: str) -> int | None:
    """2 when the range names type `t` exactly, 1 as type/*, 0 as */*, None when it does not."""
    if media == t:
        return 2
    if media == "*/*":
        return 0
    return 1 if media.endswith("/*") and t.startswith(media[:-1]) else None


def _cut(text: str, n: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= n else text[: n - 3] + "..."
