"""Rules on the whole corpus that SHACL Core cannot state: every claim has one kind, ids and IRIs
are unique and built from each other, the fwc: vocabulary is closed, no claim contradicts itself,
no block is written twice.

Where two files clash (one id, two claims), only the newer file (the one changed last) is blamed:
the older one was valid before it came along. The queries return only what has something to
report, so a valid corpus of 10^4 claims costs a few quick queries and no Python loop per claim.
"""

from __future__ import annotations

from pathlib import Path

from kg import ns, turtlecheck
from kg.errors import Problem
from kg.locate import Locator, find_line, find_text, prefixed
from kg.store import Corpus, display_path
from kg.textutil import close_matches

KINDS = " ".join(f"<{k}>" for k in ns.KINDS.values())
KIND_NAMES = ", ".join(prefixed(k) for k in ns.KINDS.values())
# Properties only a claim has: a subject with one of them but no kind lost its `a fwc:...Claim`.
CLAIM_ONLY = " ".join(
    f"<{iri}>"
    for iri in (
        ns.FWC + "category", ns.FWC + "favours", ns.FWC + "checkedBy", ns.FWC + "condition",
        ns.FWC + "notCheckableBecause", ns.FWC + "restsOn", ns.FWC + "lifecycle",
        ns.FWC + "contradicts", ns.SCHEMA + "appearance",
    )
)  # fmt: skip
RECORDS_GRAPH = ns.graph_iri("data/results/")


def problems(corpus: Corpus, loc: Locator) -> list[Problem]:
    """Every cross-file problem of the corpus but the duplicate definitions (`duplicates`)."""
    found = _ids(corpus, loc)
    found += _kinds(corpus, loc)
    found += _vocabulary(corpus, loc)
    found += _mistyped_namespaces(corpus, loc)
    found += _self_contradictions(corpus, loc)
    return found


def newest(root: Path, files: list[str]) -> str:
    """The file of `files` changed last (ties: the last in name order)."""

    def key(rel: str) -> tuple[int, str]:
        try:
            return (root / rel).stat().st_mtime_ns, rel
        except OSError:
            return 0, rel

    return max(files, key=key)


def _same_iri_in_files(corpus: Corpus, loc: Locator) -> list[Problem]:
    rows = corpus.query(
        "SELECT ?c ?g WHERE { { SELECT ?c WHERE { GRAPH ?h { ?c a ?k . VALUES ?k { %s } } }"
        " GROUP BY ?c HAVING (COUNT(DISTINCT ?h) > 1) }"
        " GRAPH ?g { ?c a ?k2 . VALUES ?k2 { %s } } }" % (KINDS, KINDS)
    )
    by_iri: dict[str, set[str]] = {}
    for r in rows:
        by_iri.setdefault(r["c"], set()).add(ns.graph_path(r["g"]))
    out = []
    for iri, files in by_iri.items():
        blamed = newest(corpus.root, sorted(files))
        older = ", ".join(
            f"{f}:{find_line(corpus.root / f, iri) or '?'}" for f in sorted(files) if f != blamed
        )
        out.append(
            Problem(
                blamed,
                find_line(corpus.root / blamed, iri),
                loc.label(iri),
                f"is already defined in {older}: keep one definition (delete this one, or merge"
                " it into the other)",
            )
        )
    return out


def _ids(corpus: Corpus, loc: Locator) -> list[Problem]:
    claim_ids = "GRAPH ?g { ?c a ?k . VALUES ?k { %s } ?c schema:identifier ?id }" % KINDS
    rows = corpus.query(
        "SELECT DISTINCT ?c ?id WHERE {"
        " { { SELECT ?id WHERE { %s } GROUP BY ?id HAVING (COUNT(DISTINCT ?c) > 1) } %s }"
        ' UNION { %s FILTER(!isIRI(?c) || STR(?c) != CONCAT("%s", STR(?id))) }'
        ' FILTER(STR(?id) != "") }' % (claim_ids, claim_ids, claim_ids, ns.CLAIM)
    )
    by_id: dict[str, set[str]] = {}
    for r in rows:
        by_id.setdefault(str(r["id"]), set()).add(r["c"])
    out = []
    for ident, iris in by_id.items():
        if len(iris) > 1:
            places = {iri: loc.where(iri) for iri in iris}
            blamed = _newest_place(corpus.root, places)
            others = ", ".join(
                f"{prefixed(i)} ({places[i][0]}:{places[i][1] or '?'})"
                for i in sorted(iris)
                if i != blamed
            )
            f, line = places[blamed]
            out.append(
                Problem(
                    f,
                    line,
                    f"claim '{ident}'",
                    f"id is already used by {others}: ids must be unique; choose another id",
                )
            )
        for iri in iris:
            if iri != ns.CLAIM + ident:
                f, line = loc.where(iri)
                out.append(
                    Problem(
                        f,
                        line,
                        f"claim '{ident}'",
                        f"IRI must be claim:{ident} (built from its id), not {prefixed(iri)}",
                    )
                )
    return out


def _newest_place(root: Path, places: dict[str, tuple[str, int | None]]) -> str:
    """The IRI written last: in the newest file, and there on the latest line."""
    latest = newest(root, sorted({f for f, _ in places.values()}))
    here = [i for i, (f, _) in places.items() if f == latest]
    return max(sorted(here), key=lambda i: places[i][1] or 0)


def _kinds(corpus: Corpus, loc: Locator) -> list[Problem]:
    out = []
    for r in corpus.query(
        "SELECT ?c (GROUP_CONCAT(DISTINCT STR(?k); separator=' ') AS ?ks) WHERE {"
        " ?c a ?k . VALUES ?k { %s } } GROUP BY ?c HAVING (COUNT(DISTINCT ?k) > 1)" % KINDS
    ):
        kinds = ", ".join(sorted(prefixed(k) for k in str(r["ks"]).split()))
        f, line = loc.where(r["c"])
        out.append(
            Problem(
                f,
                line,
                loc.label(r["c"]),
                f"is typed with more than one kind ({kinds}):"
                " a claim has exactly one kind; keep one",
            )  # fmt: skip
        )
    # Candidates by property (indexed): what only claims have, or an id or statement under
    # claim:, which a claim block keeps when its `a fwc:...Claim` is lost.
    rows = corpus.query(
        "SELECT DISTINCT ?c ?g WHERE { { GRAPH ?g { ?c ?p ?o VALUES ?p { %s } } }"
        " UNION { GRAPH ?g { ?c ?p ?o VALUES ?p { schema:identifier schema:text } }"
        ' FILTER(isIRI(?c) && STRSTARTS(STR(?c), "%s")) }'
        " MINUS { ?c a ?k . VALUES ?k { %s } } }" % (CLAIM_ONLY, ns.CLAIM, KINDS)
    )
    for r in rows:
        rel = ns.graph_path(r["g"])
        if not rel.startswith(("claims/", "data/snapshots/")):
            continue
        c = r["c"]
        out.append(
            Problem(
                rel,
                find_line(corpus.root / rel, c),
                loc.label(c),
                f"has the properties of a claim but no kind: add `a KIND ;` after {prefixed(c)},"
                f" with KIND one of {KIND_NAMES}",
            )
        )
    return out


def _terms(corpus: Corpus) -> list[str]:
    """Every property and class the graph uses (a few hundred, whatever its size)."""
    return corpus.memoised(
        "crossfile.terms",
        lambda: sorted(
            str(r["t"])
            for r in corpus.query("SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t } }")
        ),
    )


def _uses(corpus: Corpus, term: str) -> dict[str, str]:
    """For each claim or snapshot file using `term` as a property or class: one subject there."""
    rows = corpus.query(
        "SELECT ?s ?g WHERE { GRAPH ?g { { ?s ?t ?o } UNION { ?s a ?t } }"
        ' FILTER(?g != <%s> && !STRSTARTS(STR(?g), "%s")) }'
        % (ns.graph_iri("vocab"), RECORDS_GRAPH),
        t=term,
    )
    first: dict[str, str] = {}
    for r in rows:
        first.setdefault(ns.graph_path(r["g"]), r["s"])
    return dict(sorted(first.items()))


def _vocabulary(corpus: Corpus, loc: Locator) -> list[Problem]:
    # Properties and classes only: a misspelt value (fwc:FPGA as a device) is already reported
    # by the shape of the property that takes it, with the values it may be.
    known = {
        str(r["t"])
        for r in corpus.query(
            'SELECT DISTINCT ?t WHERE { GRAPH <%s> { ?t ?p ?o } FILTER(STRSTARTS(STR(?t), "%s")) }'
            % (ns.graph_iri("vocab"), ns.FWC)
        )
    }
    names = sorted(t[len(ns.FWC) :] for t in known)
    out = []
    for term in (t for t in _terms(corpus) if t.startswith(ns.FWC) and t not in known):
        name = term[len(ns.FWC) :]
        close = close_matches(name, names, n=2, cutoff=0.7)
        hint = f" (did you mean {', '.join('fwc:' + c for c in close)}?)" if close else ""
        out += _at_each_use(
            corpus,
            loc,
            term,
            [f"fwc:{name}", f"<{term}>"],
            f"fwc:{name} is not a term of the fwc: vocabulary{hint}: the vocabulary is"
            " closed (kg/fwc.ttl lists every term); use one of its terms",
        )
    return out


def _mistyped_namespaces(corpus: Corpus, loc: Locator) -> list[Problem]:
    # Properties and classes written as full IRIs in a mistyped namespace: the prefix lines are
    # checked when the files load, but <https://schema.org/text> needs no prefix.
    out = []
    for term in _terms(corpus):
        found = turtlecheck.mistyped_namespace(term)
        if found is None:
            continue
        prefix, right, local = found
        out += _at_each_use(
            corpus,
            loc,
            term,
            [f"<{term}>"],
            f"<{term}> is not in the {prefix}: namespace <{right}>: write {prefix}:{local}"
            f" or <{right}{local}>",
        )
    return out


def _at_each_use(
    corpus: Corpus, loc: Locator, term: str, spellings: list[str], message: str
) -> list[Problem]:
    """One problem per file using `term`, about the block that uses it there: at the first line
    that writes it as one of `spellings`, else at that block's line."""
    out = []
    for rel, subject in _uses(corpus, term).items():
        owner, _ = loc.owner(subject)
        path = corpus.root / rel
        line = find_text(path, spellings) or find_line(path, owner)
        out.append(Problem(rel, line, loc.label(owner), message))
    return out


def _self_contradictions(corpus: Corpus, loc: Locator) -> list[Problem]:
    out = []
    for r in corpus.query("SELECT ?c WHERE { ?c fwc:contradicts ?c }"):
        f, line = loc.where(r["c"], ns.FWC + "contradicts", value=r["c"])
        out.append(
            Problem(
                f,
                line,
                loc.label(r["c"]),
                "fwc:contradicts names the claim itself: a claim"
                " cannot contradict itself; name the other claim",
            )  # fmt: skip
        )
    return out


def duplicates(corpus: Corpus, loc: Locator) -> list[Problem]:
    """Subjects defined twice: in two files, or by a typed block (``claim:x a fwc:...``) written
    twice in one file (pasted twice). Their triples merge into one claim with doubled parts."""
    out = _same_iri_in_files(corpus, loc)
    for path in corpus.files[1:]:  # the vocabulary first, then the hand-edited files
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # reported when the file was loaded
        for name, at in turtlecheck.definition_lines(text).items():
            if len(at) < 2:
                continue
            iri = _expand(name)
            label = loc.label(iri) if iri else name
            rel = display_path(corpus.root, path)
            out.append(
                Problem(
                    rel,
                    at[1],
                    label,
                    f"is a duplicate definition: the block at line"
                    f" {at[0]} defines it already; keep one of the two",
                )  # fmt: skip
            )
    return out


def _expand(name: str) -> str | None:
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1]
    prefix, sep, local = name.partition(":")
    base = ns.PREFIXES.get(prefix)
    return base + local if sep and base else None
