"""The graph on a SPARQL 1.1 server instead of in this process (`FWCLAIMS_STORE=URL`).

``SparqlStore`` answers the part of ``pyoxigraph.Store`` that kg reads through (``query`` over
the union of the named graphs, ``quads_for_pattern``, ``dump``, ``len``), over the SPARQL 1.1
Protocol (queries) and the Graph Store Protocol (loading and dumping the whole dataset), so
kg.store.Corpus works the same on either. The URL is the server's base, laid out as Oxigraph's
server lays it out (``oxigraph serve``): ``URL/query``, ``URL/update`` and ``URL/store``.

Results come back as tab-separated SPARQL results (or N-Triples for CONSTRUCT) and are parsed by
Oxigraph itself, so values carry the same datatypes as from the embedded store. The union of the
named graphs is asked for per query (``union-default-graph``), so the server needs no option.
Only the standard library speaks HTTP here.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox

from kg.errors import StoreError

ACCEPT = (
    "text/tab-separated-values, application/sparql-results+json;q=0.9, application/n-triples;q=0.8"
)
RESULTS = {
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
}
NQUADS = "application/n-quads"


def is_url(text: str) -> bool:
    """Whether a --store value names a server (http or https URL) rather than nothing."""
    return text.startswith(("http://", "https://"))


class SparqlStore:
    """A read-write handle on the dataset of one SPARQL server."""

    def __init__(self, url: str, *, timeout: float = 300.0) -> None:
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(f"store URL {url!r} is not an http(s) URL: give the server's base,"
                             " e.g. http://127.0.0.1:7878")  # fmt: skip
        self.url, self.timeout = url.rstrip("/"), timeout
        self._parts = parts
        self._conn: http.client.HTTPConnection | None = None

    def __repr__(self) -> str:
        return f"SparqlStore({self.url!r})"

    # ------------------------------------------------------------------ HTTP

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            kind = (
                http.client.HTTPSConnection
                if self._parts.scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = kind(self._parts.hostname or "", self._parts.port, timeout=self.timeout)
        return self._conn

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[str, bytes]:
        """One request on a kept-alive connection (reopened once if the server closed it);
        returns the response's media type and body, or raises StoreError."""
        target = self._parts.path + path
        for attempt in (0, 1):
            conn = self._connection()
            try:
                conn.request(method, target, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                self.close()
                if attempt:
                    raise self._unreachable(e) from e
                continue
            except OSError as e:
                self.close()
                raise self._unreachable(e) from e
            if response.status >= 400:
                detail = data.decode("utf-8", "replace").strip().splitlines()
                raise StoreError(
                    f"the SPARQL store at {self.url} answered {response.status} to {method}"
                    f" {path.split('?')[0]}: {detail[0] if detail else response.reason}"
                )
            media = (response.getheader("Content-Type") or "").split(";")[0].strip()
            return media, data
        raise AssertionError("unreachable")

    def _unreachable(self, e: BaseException) -> StoreError:
        return StoreError(
            f"cannot reach the SPARQL store at {self.url} ({e}); start it (oxigraph serve"
            " --location DIR --bind HOST:PORT) or unset FWCLAIMS_STORE"
        )

    def close(self) -> None:
        """Close the kept-alive connection (a later request opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ what kg reads

    def query(self, sparql: str, *, use_default_graph_as_union: bool = False) -> Any:
        """Run a query: SELECT gives QuerySolutions, ASK a QueryBoolean, CONSTRUCT triples."""
        form: dict[str, str] = {"query": sparql}
        if use_default_graph_as_union:
            form["union-default-graph"] = ""
        media, data = self.request(
            "POST",
            "/query",
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT},
        )
        if media in RESULTS:
            return ox.parse_query_results(data, format=RESULTS[media])
        if media == "application/n-triples":
            return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        raise StoreError(f"the SPARQL store at {self.url} answered a query with {media!r}")

    def quads_for_pattern(
        self, subject: Any = None, predicate: Any = None, object: Any = None, graph_name: Any = None
    ) -> Iterator[ox.Quad]:
        """The quads matching a pattern (None matches anything), from every named graph."""
        names = ("s", "p", "o", "g")
        bound = {
            n: t
            for n, t in zip(names, (subject, predicate, object, graph_name), strict=True)
            if t is not None
        }
        values = "".join(f" VALUES ?{n} {{ {t} }}" for n, t in bound.items())
        rows = self.query(f"SELECT ?s ?p ?o ?g WHERE {{{values} GRAPH ?g {{ ?s ?p ?o }} }}")
        for row in rows:
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])

    def dump(self, output: Any = None, format: ox.RdfFormat = ox.RdfFormat.N_QUADS) -> bytes:
        """The whole dataset as N-Quads (Graph Store Protocol GET)."""
        if format != ox.RdfFormat.N_QUADS or output is not None:
            raise StoreError("a SPARQL store dumps only N-Quads, returned as bytes")
        return self.request("GET", "/store", headers={"Accept": NQUADS})[1]

    def __len__(self) -> int:
        rows = self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        return int(next(iter(rows))["n"].value)

    # ------------------------------------------------------------------ writing

    def replace(self, nquads: bytes) -> None:
        """Make the server's dataset exactly these quads (Graph Store Protocol PUT)."""
        self.request("PUT", "/store", nquads, {"Content-Type": NQUADS})

    def add(self, nquads: bytes) -> None:
        """Add these quads to the server's dataset (Graph Store Protocol POST)."""
        self.request("POST", "/store", nquads, {"Content-Type": NQUADS})
