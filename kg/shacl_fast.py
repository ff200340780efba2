"""SHACL validation compiled into SPARQL over the Oxigraph store, for the SHACL Core subset the
project's shapes use.

pyshacl walks every focus node in Python over an rdflib copy of the graph: about 90 s for the
3 x 10^5 triples of 10,000 claims. Here each shape with targets becomes one screening query that
evaluates every constraint as a SPARQL expression per focus node (a property shape's counts and
value constraints fold into one EXISTS test) and returns only the focus nodes that fail. Only
then are the offending values fetched, with one query per failing property shape, so a valid
corpus costs one query per shape. Results match pyshacl's (focus node, path, message, value,
constraint component); tests/test_shacl_fast.py compares the two on broken corpora.

The shapes are read from kg/shapes.ttl at run time. A shape feature outside the subset raises
UnsupportedShape rather than being skipped, and so does a shape without sh:message (pyshacl
would make up a generic one).

Supported: targets (sh:targetClass with subclasses, sh:targetNode, sh:targetObjectsOf,
sh:targetSubjectsOf, implicit class targets), sh:property with IRI paths, sh:minCount,
sh:maxCount, sh:datatype, sh:nodeKind, sh:class, sh:in, sh:pattern (+ sh:flags), sh:minLength,
sh:maxLength, sh:min/maxExclusive, sh:min/maxInclusive, sh:or, sh:xone, sh:and, sh:not, sh:message.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from kg import ns
from kg.errors import CorpusError
from kg.paths import SHAPES_FILE

SH = "http://www.w3.org/ns/shacl#"

TARGETS = {"targetClass", "targetNode", "targetObjectsOf", "targetSubjectsOf"}
COUNTS = {"minCount", "maxCount"}
VALUES = {
    "datatype",
    "nodeKind",
    "class",
    "in",
    "pattern",
    "minLength",
    "maxLength",
    "minExclusive",
    "minInclusive",
    "maxExclusive",
    "maxInclusive",
    "or",
    "xone",
    "and",
    "not",
}
OTHER = {"property", "path", "message", "flags", "name", "description", "order", "group"}
LISTS = {"in", "or", "xone", "and"}
COMPONENT = {p: p[0].upper() + p[1:] + "ConstraintComponent" for p in COUNTS | VALUES}
COMPARE = {"minExclusive": ">", "minInclusive": ">=", "maxExclusive": "<", "maxInclusive": "<="}
NODE_KINDS = {
    "IRI": "isIRI({v})",
    "BlankNode": "isBlank({v})",
    "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "(isBlank({v}) || isIRI({v}))",
    "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
# Literals of these datatypes must also be well-formed: a cast of their lexical form must succeed.
_TYPED = "integer decimal double float boolean date dateTime time gYear gYearMonth"
CASTABLE = {ns.XSD + t for t in _TYPED.split()}
CLASS_TYPES = {ns.RDFS + "Class", "http://www.w3.org/2002/07/owl#Class"}


class UnsupportedShape(CorpusError):
    """kg/shapes.ttl uses a SHACL feature the fast validator does not implement."""


@dataclass(frozen=True)
class Violation:
    """One SHACL validation result. Nodes are IRIs, '_:id' for blank nodes or a literal's text."""

    focus: str
    path: str | None
    message: str
    value: str | None = None
    value_kind: str | None = None  # "iri", "bnode" or "literal"
    component: str = ""


@dataclass
class Shape:
    """A node or property shape: its path, message, targets and constraint parameters."""

    node: ox.NamedNode | ox.BlankNode
    path: str | None = None
    message: str | None = None
    targets: dict[str, list] = field(default_factory=dict)
    params: dict[str, list] = field(default_factory=dict)  # constraint name -> values
    properties: list[Shape] = field(default_factory=list)


def validate(store: ox.Store, shapes_file: Path = SHAPES_FILE) -> list[Violation]:
    """Every violation of the shapes in `shapes_file` by the union of the store's graphs."""
    compiler = _Compiler(store)
    found: set[Violation] = set()
    for shape in load_shapes(shapes_file, shapes_file.stat().st_mtime_ns):
        found.update(compiler.check(shape))
    return sorted(found, key=lambda v: (v.focus, v.path or "", v.message, v.value or ""))


@lru_cache(maxsize=4)
def load_shapes(path: Path, mtime_ns: int = 0) -> tuple[Shape, ...]:
    """The shapes with targets, read from a Turtle file (cached per file version)."""
    props: dict = {}
    for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
        props.setdefault(t.subject, {}).setdefault(t.predicate.value, []).append(t.object)
    reader = _Reader(props, path)
    roots = [s for s, p in props.items() if any(SH + t in p for t in TARGETS)]
    roots += [
        s for s, p in props.items() if CLASS_TYPES & {o.value for o in p.get(ns.RDF + "type", [])}
    ]
    return tuple(reader.shape(s) for s in dict.fromkeys(roots))


class _Reader:
    """Turns the parsed shapes graph into Shape objects, refusing what it cannot compile."""

    def __init__(self, props: dict, path: Path) -> None:
        self.props, self.path = props, path

    def items(self, head) -> list:
        out = []
        while head.value != ns.RDF + "nil":
            p = self.props.get(head, {})
            out.append(p[ns.RDF + "first"][0])
            head = p[ns.RDF + "rest"][0]
        return out

    def shape(self, node) -> Shape:
        p = self.props.get(node, {})
        shape = Shape(node)
        if {o.value for o in p.get(ns.RDF + "type", [])} & CLASS_TYPES:
            shape.targets.setdefault("targetClass", []).append(node)
        for pred, objs in p.items():
            if not pred.startswith(SH):
                continue
            name = pred[len(SH) :]
            if name in TARGETS:
                shape.targets.setdefault(name, []).extend(objs)
            elif name == "path":
                if not isinstance(objs[0], ox.NamedNode):
                    raise self.unsupported(node, "a path that is not a single property")
                shape.path = objs[0].value
            elif name == "message":
                plain = [o for o in objs if not o.language] or objs
                shape.message = plain[0].value
            elif name == "property":
                shape.properties = [self.shape(o) for o in objs]
            elif name in LISTS:
                shape.params[name] = [self.items(o) for o in objs]
                if name != "in":
                    shape.params[name] = [
                        [self.shape(s) for s in lst] for lst in shape.params[name]
                    ]
            elif name == "not":
                shape.params[name] = [self.shape(o) for o in objs]
            elif name in COUNTS | VALUES:
                shape.params[name] = objs
            elif name not in OTHER:
                raise self.unsupported(node, f"sh:{name}")
        if "pattern" in shape.params:
            flags = p.get(SH + "flags", [None])[0]
            shape.params["pattern"] = [(pat, flags) for pat in shape.params["pattern"]]
        if shape.path is not None and shape.properties:
            raise self.unsupported(node, "sh:property inside a property shape")
        if shape.path is None and COUNTS & shape.params.keys():
            raise self.unsupported(node, "sh:minCount or sh:maxCount on a node shape")
        return shape

    def unsupported(self, node, what: str) -> UnsupportedShape:
        return UnsupportedShape(
            f"{self.path.name}: shape {node} uses {what}, which kg/shacl_fast.py does not compile:"
            " rewrite the shape within the supported subset, or validate with FWCLAIMS_SHACL=pyshacl"
        )


class _Compiler:
    """Compiles shapes into SPARQL for one store and runs the queries."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store
        self.counter = itertools.count()
        self.closures: dict[str, list[str]] = {}

    def run(self, query: str) -> Iterator[ox.QuerySolution]:
        """Evaluate a SELECT over the union of all graphs (SHACL sees one data graph)."""
        yield from self.store.query(query, use_default_graph_as_union=True)

    def fresh(self) -> str:
        return f"?x{next(self.counter)}_"

    def subclasses(self, cls: ox.NamedNode) -> list[str]:
        """The class and its subclasses in the data, as SPARQL terms (SHACL instance semantics)."""
        if cls.value not in self.closures:
            q = f"SELECT DISTINCT ?c WHERE {{ ?c <{ns.RDFS}subClassOf>* {cls} }}"
            self.closures[cls.value] = sorted({str(r["c"]) for r in self.run(q)} | {str(cls)})
        return self.closures[cls.value]

    def foci(self, shape: Shape) -> str:
        """A subquery binding ?f to each focus node of the shape's targets, once."""
        parts = []
        classes = sorted(
            {c for t in shape.targets.get("targetClass", []) for c in self.subclasses(t)}
        )
        if classes:
            parts.append(f"?f a ?t_ . VALUES ?t_ {{ {' '.join(classes)} }}")
        if shape.targets.get("targetNode"):
            parts.append(f"VALUES ?f {{ {' '.join(map(str, shape.targets['targetNode']))} }}")
        for name, pattern in (
            ("targetObjectsOf", "?s_ ?p_ ?f"),
            ("targetSubjectsOf", "?f ?p_ ?o_"),
        ):
            if shape.targets.get(name):
                preds = " ".join(map(str, shape.targets[name]))
                parts.append(f"{pattern} . VALUES ?p_ {{ {preds} }}")
        union = " UNION ".join(f"{{ {p} }}" for p in parts)
        return f"{{ SELECT DISTINCT ?f WHERE {{ {union} }} }}"

    def check(self, shape: Shape) -> Iterator[Violation]:
        """Screen all focus nodes of a shape in one query: a flag per node-level constraint and
        per property shape. A valid corpus needs nothing more; value nodes and counts are then
        fetched only for the property shapes whose flag was down."""
        foci = self.foci(shape)
        flags: list[tuple[str, Shape, str]] = []  # (expression on ?f, shape, node-level parameter)
        props = [shape] if shape.path is not None else shape.properties
        if shape.path is None:
            flags += [(self.value_expr(n, a, "?f"), shape, n) for n, a in _params(shape)]
        # counts above 1 do not fit an EXISTS test: those properties always get the exact queries
        failed: dict[int, Shape] = {
            id(p): p for p in props if _count(p, "minCount", 0) > 1 or _count(p, "maxCount", 0) > 1
        }
        flags += [
            (e, p, "") for p in props if (e := self.property_expr(p, "?f", id(p) not in failed))
        ]
        if flags:
            binds = " ".join(
                f"BIND(COALESCE({e}, false) AS ?k{i})" for i, (e, *_) in enumerate(flags)
            )
            keys = [f"?k{i}" for i in range(len(flags))]
            q = f"SELECT ?f {' '.join(keys)} WHERE {{ {foci} {binds} FILTER(!({' && '.join(keys)})) }}"
            for row in self.run(q):
                for i, (_, owner, name) in enumerate(flags):
                    if row[f"k{i}"].value == "true":
                        continue
                    if name:
                        yield _violation(owner, row["f"], None, row["f"], name)
                    else:
                        failed[id(owner)] = owner
        for prop in failed.values():
            yield from self.count_violations(prop, foci)
            yield from self.value_violations(prop, foci)

    def property_expr(self, prop: Shape, v: str, counts: bool = True) -> str:
        """True when the node in `v` meets the property shape's counts (0 or 1 only) and every
        value meets its value constraints; one EXISTS test where the counts allow it."""
        p = f"<{prop.path}>"
        lo, hi = _count(prop, "minCount", 0), _count(prop, "maxCount", None)
        if counts and (lo > 1 or (hi or 0) > 1):
            raise UnsupportedShape(
                f"shape {prop.node}: counts above 1 inside sh:or/sh:and/sh:xone/sh:not"
            )
        lo, hi = (lo, hi) if counts else (0, None)
        x, y = self.fresh(), self.fresh()
        checks = [self.value_expr(n, a, x) for n, a in _params(prop)]
        bad = " || ".join(f"!COALESCE({c}, false)" for c in checks)
        if hi == 0:
            return f"NOT EXISTS {{ {v} {p} {x} }}"
        if hi == 1:
            other = f"EXISTS {{ {v} {p} {y} FILTER(!sameTerm({x}, {y})) }}"
            if lo == 1:
                good = f"!({bad}) && !{other}" if bad else f"!{other}"
                return f"EXISTS {{ {v} {p} {x} FILTER({good}) }}"
            return f"NOT EXISTS {{ {v} {p} {x} FILTER({bad + ' || ' if bad else ''}{other}) }}"
        tests = [f"EXISTS {{ {v} {p} {y} }}"] if lo == 1 else []
        if bad:
            tests.append(f"NOT EXISTS {{ {v} {p} {x} FILTER({bad}) }}")
        return " && ".join(tests)

    def value_expr(self, name: str, arg, v: str) -> str:
        """True when the node in `v` satisfies one value constraint parameter."""
        if name == "datatype":
            expr = f"(isLiteral({v}) && datatype({v}) = {arg})"
            return f"({expr} && isLiteral({arg}(str({v}))))" if arg.value in CASTABLE else expr
        if name == "nodeKind":
            return NODE_KINDS[arg.value[len(SH) :]].format(v=v)
        if name == "class":
            t = self.fresh()
            same = " || ".join(f"sameTerm({t}, {c})" for c in self.subclasses(arg))
            return f"EXISTS {{ {v} a {t} FILTER({same}) }}"
        if name == "in":
            return "(" + " || ".join(f"sameTerm({v}, {t})" for t in arg) + ")" if arg else "false"
        if name == "pattern":
            pattern, flags = arg
            extra = f", {flags}" if flags is not None else ""
            return f"(!isBlank({v}) && regex(str({v}), {pattern}{extra}))"
        if name == "minLength":
            n = int(arg.value)
            return "true" if n == 0 else f"(!isBlank({v}) && STRLEN(str({v})) >= {n})"
        if name == "maxLength":
            return f"(!isBlank({v}) && STRLEN(str({v})) <= {int(arg.value)})"
        if name in COMPARE:
            return f"(isLiteral({v}) && {v} {COMPARE[name]} {arg})"
        shapes = [arg] if name == "not" else arg
        parts = [f"COALESCE({self.conforms(s, v)}, false)" for s in shapes]
        if name == "or":
            return "(" + " || ".join(parts) + ")"
        if name == "and":
            return "(" + " && ".join(parts) + ")"
        if name == "not":
            return f"!{parts[0]}"
        return "((" + " + ".join(f"IF({p}, 1, 0)" for p in parts) + ") = 1)"  # xone

    def conforms(self, shape: Shape, v: str) -> str:
        """True when the node in `v` conforms to a shape nested in sh:or/sh:and/sh:xone/sh:not."""
        if shape.path is not None:
            return self.property_expr(shape, v) or "true"
        tests = [self.value_expr(n, a, v) for n, a in _params(shape)]
        tests += [e for p in shape.properties if (e := self.property_expr(p, v))]
        return "(" + " && ".join(f"COALESCE({t}, false)" for t in tests) + ")" if tests else "true"

    def count_violations(self, prop: Shape, foci: str) -> Iterator[Violation]:
        """Focus nodes with too few or too many values of the property."""
        lo, hi = _count(prop, "minCount", 0), _count(prop, "maxCount", None)
        tests = [f"COUNT(DISTINCT ?v) < {lo}"] if lo else []
        tests += [f"COUNT(DISTINCT ?v) > {hi}"] if hi is not None else []
        if not tests:
            return
        q = (
            f"SELECT ?f (COUNT(DISTINCT ?v) AS ?n) WHERE {{ {foci} OPTIONAL {{ ?f <{prop.path}> ?v }} }}"
            f" GROUP BY ?f HAVING ({' || '.join(tests)})"
        )
        for row in self.run(q):
            n = int(row["n"].value)
            for name, bad in (("minCount", n < lo), ("maxCount", hi is not None and n > hi)):
                if bad:
                    yield _violation(prop, row["f"], prop.path, None, name)

    def value_violations(self, prop: Shape, foci: str) -> Iterator[Violation]:
        """Each value of the property that breaks one of its value constraints."""
        checks = _params(prop)
        if not checks:
            return
        binds = " ".join(
            f"BIND(COALESCE({self.value_expr(n, a, '?v')}, false) AS ?k{i})"
            for i, (n, a) in enumerate(checks)
        )
        keys = [f"?k{i}" for i in range(len(checks))]
        q = (
            f"SELECT DISTINCT ?f ?v {' '.join(keys)} WHERE {{ {foci} ?f <{prop.path}> ?v {binds}"
            f" FILTER(!({' && '.join(keys)})) }}"
        )
        for row in self.run(q):
            for i, (name, _) in enumerate(checks):
                if row[f"k{i}"].value != "true":
                    yield _violation(prop, row["f"], prop.path, row["v"], name)


def _params(shape: Shape) -> list[tuple[str, object]]:
    """The shape's value constraints as (parameter, argument) pairs."""
    return [(name, a) for name, args in shape.params.items() if name in VALUES for a in args]


def _count(shape: Shape, name: str, default):
    return int(shape.params[name][0].value) if name in shape.params else default


def _node(term) -> tuple[str, str]:
    if isinstance(term, ox.NamedNode):
        return term.value, "iri"
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value, "bnode"
    return term.value, "literal"


def _violation(shape: Shape, focus, path: str | None, value, name: str) -> Violation:
    if shape.message is None:
        raise UnsupportedShape(
            f"shape {shape.node} has no sh:message: every shape must say what to do"
        )
    val, kind = _node(value) if value is not None else (None, None)
    return Violation(_node(focus)[0], path, shape.message, val, kind, COMPONENT[name])
