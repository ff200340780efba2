"""Refuse federated queries: SERVICE anywhere in a query's algebra makes the query a request to
another server, which this endpoint never sends on anyone's behalf.

Oxigraph runs the queries but exposes no parsed form, so the query is parsed and translated
with rdflib's SPARQL parser and the whole algebra tree is walked: subqueries, OPTIONAL, UNION,
MINUS, GRAPH, FILTER EXISTS and NOT EXISTS, BIND expressions and the CONSTRUCT and DESCRIBE
parts all hang off it. A query that rdflib cannot parse or translate is refused too, even when
Oxigraph could run it: what cannot be checked is not run. This runs inside the worker process,
under its time and memory caps, because parsing a large query is slow.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from kg import ns
from verify.serve.errors import QueryRefused

# rdflib's grammar recurses once per triple and per nested bracket: the interpreter's default of
# 1000 stops at a basic graph pattern of about 150 triples. The worker's stack (8 MiB) holds this.
RECURSION_LIMIT = 20_000


def refuse_federated(query: str) -> None:
    """Raise QueryRefused when the query uses SERVICE, or cannot be parsed to be checked."""
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
    try:
        algebra = translateQuery(parseQuery(query), initNs=ns.PREFIXES).algebra
    except RecursionError:
        raise QueryRefused(
            "the query is nested too deeply to be checked; split it or flatten its patterns"
        ) from None
    except Exception as e:  # noqa: BLE001 - pyparsing and rdflib raise many kinds
        raise QueryRefused(
            f"the query does not parse as SPARQL 1.1, so it cannot be checked: {_message(e)}"
        ) from None
    for node in _walk(algebra):
        if getattr(node, "name", None) == "ServiceGraphPattern":
            where = node.get("term")
            raise QueryRefused(
                f"federated queries are not accepted: SERVICE {_show(where)} would make this"
                " server fetch from another; query this endpoint's own data only"
            )


def _walk(root: Any) -> Iterator[Any]:
    """Every node under `root`, depth first, without recursion (trees can be deep)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, dict):  # CompValue and Expr are dicts
            stack.extend(node.values())
        elif isinstance(node, list | tuple | set | frozenset):
            stack.extend(node)


def _show(term: Any) -> str:
    text = term.n3() if hasattr(term, "n3") else str(term)
    return text if len(text) <= 80 else text[:77] + "..."


def _message(e: Exception) -> str:
    text = " ".join(str(e).split())
    return text if len(text) <= 300 else text[:297] + "..."
