"""A SPARQL worker process: it gives up the network, opens the store copy read-only, caps its own
memory, then answers one query at a time on the socket it inherited from the server: checks the
query for federation, runs it on Oxigraph and serialises at most `max_rows` rows.

The server kills a worker that runs past the time limit, so nothing here watches the clock.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pyoxigraph as ox

from kg import ns
from verify.serve import federation, sandbox
from verify.serve.errors import QueryRefused
from verify.serve.query import FORMATS, PREFIX_LINE, offered

# How the worker tells the server about itself and each answer: (status, payload).
READY, UNGUARDED, OK, REFUSED, OUT_OF_MEMORY = "ready", "unguarded", "ok", "refused", "memory"


@dataclass(frozen=True)
class QueryResult:
    """A serialised result: body, media type, whether rows were cut at the cap."""

    body: bytes
    media_type: str
    truncated: bool
    kind: str


def serve_worker(store_path: str, fd: int, memory_mib: int, require_guard: bool) -> None:
    """Worker process: guard, open, cap, then answer (query, kind, fmt, max_rows) messages on
    the socket `fd` until the server closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the server, which stops us
    conn = Connection(fd)
    missing = None
    try:
        sandbox.deny_network()
    except sandbox.SandboxUnavailable as e:
        if require_guard:
            conn.send((UNGUARDED, str(e)))
            return
        missing = str(e)
    # Queries yield the CPU to the server process, so the JSON API stays quick under load.
    os.nice(5)
    _exit_with_parent(os.getppid())
    store = ox.Store.read_only(store_path)
    cap_memory(memory_mib)
    conn.send((READY, missing))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        conn.send(answer(store, *request))


def answer(store: ox.Store, query: str, kind: str, fmt: str, max_rows: int) -> tuple[str, object]:
    """One message back to the server for one query: refused unless it passes the federation
    check, then its result or why it failed."""
    try:
        federation.refuse_federated(query)
        return OK, execute(store, query, kind, fmt, max_rows)
    except QueryRefused as e:
        return REFUSED, str(e)
    except MemoryError:
        return OUT_OF_MEMORY, None
    except SyntaxError as e:
        return REFUSED, "the query does not parse: " + _user_position(str(e))
    except Exception as e:  # noqa: BLE001 - the server turns it into a 400 with the message
        return REFUSED, f"the query failed: {type(e).__name__}: {e}"


def cap_memory(mib: int) -> None:
    """Limit this process's data segment to what it uses now plus `mib` MiB.

    RLIMIT_DATA (private writable memory: heap, anonymous maps, thread stacks) rather than
    RLIMIT_AS: measured on the 2-core machine, the opened store alone reserved 590-920 MB of
    address space (thread arenas and RocksDB maps; it varies from run to run and grows with the
    core count) while it used 100 MB of data and 52 MB resident, so an address-space cap either
    stops the store from opening or lets queries take far more than intended. With this cap at
    512 MiB, `ORDER BY RAND()` over a cross join was stopped after 1.5 s at 543 MiB resident
    (the cap plus the shared libraries), where unlimited it reached 1.5 GB in 3.7 s. The kernel
    enforces it at once, which a watchdog polling the worker's size from the server could not
    (such a query grows by 400 MB a second, and the poller would compete for the same CPUs).
    When an allocation fails Oxigraph aborts the process and Python raises MemoryError; the
    server answers 503 either way.
    """
    base = _data_bytes()
    if base is None:
        return  # no /proc: the endpoint runs here only when the guards were waived
    limit = base + (mib << 20)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _data_bytes() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) << 10
    except OSError:
        pass
    return None


def _exit_with_parent(parent: int) -> None:
    """Exit when the server dies, even in the middle of a query (Oxigraph releases the GIL while
    it evaluates, so this thread keeps running); an idle worker would see its socket close, but a
    busy one would go on for as long as its query takes."""

    def watch() -> None:
        """Poll the parent pid; a change means the server is gone."""
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


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
        kind, fmt = actual, offered(actual)[0]
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
        return QueryResult(_graph_body(rows, fmt), FORMATS[fmt], truncated, kind)
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


def _graph_body(triples: list, fmt: str) -> bytes:
    rdf = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
           "jsonld": ox.RdfFormat.JSON_LD}[fmt]  # fmt: skip
    if fmt == "turtle":
        return ox.serialize(triples, format=rdf, prefixes=ns.PREFIXES)
    return ox.serialize(triples, format=rdf)


def _term_json(t: object) -> dict:
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


def _term_csv(t: object) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.BlankNode):
        return "_:" + t.value
    return t.value if isinstance(t, ox.NamedNode | ox.Literal) else str(t)


def _user_position(message: str) -> str:
    """A parser message with line 1's column counted from the user's text, cut to a readable length."""
    fix = lambda m: f"error at 1:{int(m.group(1)) - len(PREFIX_LINE)}"  # noqa: E731
    message = re.sub(r"error at 1:(\d+)", fix, message)
    return message if len(message) <= 300 else message[:297] + "..."
