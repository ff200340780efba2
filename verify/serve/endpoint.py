"""The read-only SPARQL endpoint's engine: refuse anything but queries, run each in a worker
process on a read-only copy of the store, cut it off after a time limit, cap its rows.

The corpus is copied once into an on-disk Oxigraph store in a temporary folder; workers open it
with `Store.read_only`, so even a query that slipped past the checks could not write. A worker that
runs past the limit is killed (a thread could not be stopped) and a fresh one takes its place.
"""

from __future__ import annotations

import csv
import io
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from kg import ns

READ_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_FORMS = (
    "INSERT",
    "DELETE",
    "LOAD",
    "CLEAR",
    "DROP",
    "CREATE",
    "ADD",
    "MOVE",
    "COPY",
    "WITH",
)
MAX_QUERY_CHARS = 100_000
FORMATS = {  # name -> media type
    "json": "application/sparql-results+json",
    "csv": "text/csv",
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
}
# The project's prefixes on one line before the user's text, so parse errors keep their line numbers
PREFIX_LINE = ns.SPARQL_PREFIXES.replace("\n", " ")
_MEDIA = {v: k for k, v in FORMATS.items()} | {"application/json": "json"}
_PROLOGUE = re.compile(
    r"""(?:\s+|\#[^\n]*\n?
       |BASE\s*<[^<>"{}|^`\\\x00-\x20]*>
       |PREFIX\s*(?:[A-Za-z][\w.-]*)?:\s*<[^<>"{}|^`\\\x00-\x20]*>)""",
    re.IGNORECASE | re.VERBOSE,
)


class QueryRefused(Exception):
    """A request this endpoint will not run (HTTP 400)."""


class QueryTimeout(Exception):
    """A query that ran past the time limit and was stopped (HTTP 503)."""


class EndpointBusy(Exception):
    """Every worker stayed busy for longer than the time limit (HTTP 503)."""


@dataclass(frozen=True)
class QueryResult:
    """A serialised result: body, media type, whether rows were cut at the cap."""

    body: bytes
    media_type: str
    truncated: bool
    kind: str


def query_form(query: str) -> str:
    """The query form (SELECT, ASK, CONSTRUCT, DESCRIBE) after the prologue; anything else,
    SPARQL Update above all, raises QueryRefused."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryRefused(f"the query is longer than {MAX_QUERY_CHARS} characters")
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


def pick_format(kind: str, fmt: str | None, accept: str | None) -> str:
    """The result format: the `format` parameter, else the first acceptable type in Accept."""
    graph = kind in ("CONSTRUCT", "DESCRIBE")
    allowed = ("turtle", "ntriples", "jsonld") if graph else ("json", "csv")
    if fmt:
        name = _MEDIA.get(fmt.lower(), fmt.lower())
        if name not in allowed:
            raise QueryRefused(
                f"format '{fmt}' is not offered for {kind}: use {', '.join(allowed)}"
            )
        return name
    ranked = []
    for i, part in enumerate((accept or "").split(",")):
        media, _, params = part.strip().partition(";")
        q = re.search(r"q=([0-9.]+)", params)
        ranked.append((-float(q.group(1)) if q else -1.0, i, media.strip().lower()))
    for _, _, media in sorted(ranked):
        if _MEDIA.get(media) in allowed:
            return _MEDIA[media]
    return allowed[0]


def _term_json(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype and t.datatype.value != ns.XSD + "string":
            out["datatype"] = t.datatype.value
        return out
    return {"type": "literal", "value": str(t)}


def _term_csv(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return "_:" + t.value
    return t.value if isinstance(t, ox.NamedNode | ox.Literal) else str(t)


def execute(store: ox.Store, query: str, kind: str, fmt: str, max_rows: int) -> QueryResult:
    """Run a read query on `store` and serialise at most `max_rows` rows (or triples)."""
    result = store.query(PREFIX_LINE + query, use_default_graph_as_union=True)
    # The result's type is the authority on the form; `kind` only chose the format.
    actual = (
        "ASK"
        if isinstance(result, ox.QueryBoolean)
        else "CONSTRUCT"
        if isinstance(result, ox.QueryTriples)
        else "SELECT"
    )
    if actual != kind:
        kind, fmt = actual, pick_format(actual, None, None)
    if kind == "ASK":
        value = bool(result)
        body = (
            json.dumps({"head": {}, "boolean": value})
            if fmt == "json"
            else f"_askResult\r\n{str(value).lower()}\r\n"
        )
        return QueryResult(body.encode(), FORMATS[fmt], False, kind)
    rows, truncated = [], False
    for item in result:
        if len(rows) == max_rows:
            truncated = True
            break
        rows.append(item)
    if kind in ("CONSTRUCT", "DESCRIBE"):
        rdf = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
               "jsonld": ox.RdfFormat.JSON_LD}[fmt]  # fmt: skip
        prefixes = ns.PREFIXES if fmt == "turtle" else None
        body = (
            ox.serialize(rows, format=rdf, prefixes=prefixes)
            if prefixes
            else ox.serialize(rows, format=rdf)
        )
        return QueryResult(body, FORMATS[fmt], truncated, kind)
    names = [v.value for v in result.variables]
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(names)
        for sol in rows:
            w.writerow([_term_csv(sol[n]) for n in names])
        return QueryResult(buf.getvalue().encode(), FORMATS[fmt], truncated, kind)
    bindings = [{n: _term_json(sol[n]) for n in names if sol[n] is not None} for sol in rows]
    doc = {"head": {"vars": names}, "results": {"bindings": bindings}}
    if truncated:
        doc["truncated"] = True  # outside the standard keys: clients that do not know it ignore it
    return QueryResult(json.dumps(doc, ensure_ascii=False).encode(), FORMATS[fmt], truncated, kind)


def serve_worker(store_path: str, fd: int) -> None:
    """Worker process: open the store read-only, then answer (query, kind, fmt, max_rows)
    messages on the socket `fd` until the parent closes it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which stops us
    conn = Connection(fd)
    store = ox.Store.read_only(store_path)
    conn.send(("ready", None))
    while True:
        try:
            query, kind, fmt, max_rows = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", execute(store, query, kind, fmt, max_rows)))
        except SyntaxError as e:
            conn.send(("refused", "the query does not parse: " + _user_position(str(e))))
        except Exception as e:  # noqa: BLE001 - the parent turns it into a 400 with the message
            conn.send(("refused", f"the query failed: {type(e).__name__}: {e}"))


def _user_position(message: str) -> str:
    """A parser message with line 1's column counted from the user's text, cut to a readable length."""
    fix = lambda m: f"error at 1:{int(m.group(1)) - len(PREFIX_LINE)}"  # noqa: E731
    message = re.sub(r"error at 1:(\d+)", fix, message)
    return message if len(message) <= 300 else message[:297] + "..."


class _Worker:
    """One worker process and the socket to it. A plain subprocess rather than multiprocessing:
    it needs nothing from the parent's main module and starts the same way under any launcher."""

    def __init__(self, store_path: str, start_timeout: float) -> None:
        ours, theirs = socket.socketpair()
        code = "import sys; from verify.serve.endpoint import serve_worker; serve_worker(sys.argv[1], int(sys.argv[2]))"
        package_root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [package_root, os.environ.get("PYTHONPATH")]))}  # fmt: skip
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, store_path, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip
        theirs.close()
        self.conn = Connection(ours.detach())
        if not self.conn.poll(start_timeout):
            self.kill()
            raise EndpointBusy("the SPARQL worker did not start")
        try:
            self.conn.recv()
        except EOFError:
            self.kill()
            raise EndpointBusy("the SPARQL worker failed to start") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.conn.close()


class SparqlEndpoint:
    """Runs read-only queries with a time limit and a row cap in a small pool of processes."""

    def __init__(self, store: ox.Store, *, timeout: float = 5.0, max_rows: int = 10_000,
                 workers: int = 2, start_timeout: float = 60.0) -> None:  # fmt: skip
        self.timeout, self.max_rows, self.start_timeout = timeout, max_rows, start_timeout
        self._dir = tempfile.mkdtemp(prefix="fwclaims-sparql-")
        copy = ox.Store(str(Path(self._dir) / "store"))
        copy.bulk_extend(store.quads_for_pattern(None, None, None, None))
        copy.flush()
        del copy  # closes it; workers open it read-only
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(max(1, workers)):
            self._idle.put(None)  # a slot: the worker starts on first use
        self._all: set[_Worker] = set()
        self._finalizer = weakref.finalize(self, _cleanup, self._all, self._dir)

    def run(self, query: str, fmt: str | None = None, accept: str | None = None) -> QueryResult:
        """Check, run and serialise one query; raises QueryRefused, QueryTimeout, EndpointBusy."""
        kind = query_form(query)
        name = pick_format(kind, fmt, accept)
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            raise EndpointBusy("every SPARQL worker is busy; try again shortly") from None
        try:
            if worker is None:
                worker = _Worker(str(Path(self._dir) / "store"), self.start_timeout)
                self._all.add(worker)
            worker.conn.send((query, kind, name, self.max_rows))
            if not worker.conn.poll(self.timeout):
                self._retire(worker)
                worker = None
                raise QueryTimeout(
                    f"the query ran longer than {self.timeout:g} s and was stopped;"
                    " add a LIMIT or narrow its patterns"
                )
            status, payload = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            self._retire(worker)
            worker = None
            raise QueryTimeout(
                "the query worker stopped (out of memory?); try a smaller query"
            ) from None
        finally:
            self._idle.put(worker)
        if status != "ok":
            raise QueryRefused(payload)
        return payload

    def _retire(self, worker: _Worker | None) -> None:
        if worker is not None:
            worker.kill()
            self._all.discard(worker)

    def close(self) -> None:
        """Stop the workers and remove the store copy."""
        self._finalizer()


def _cleanup(workers: set, folder: str) -> None:
    for w in list(workers):
        w.kill()
    workers.clear()
    shutil.rmtree(folder, ignore_errors=True)
