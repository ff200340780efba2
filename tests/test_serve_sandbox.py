"""The SPARQL workers' network guard, tested on real processes: a sandboxed process opens no
socket of any family but keeps the socketpair it inherited, and a real worker with the federation
check taken out still cannot reach a listener on another loopback port."""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from serve_process import Listener
from site_project import make_project

from kg.load import load_corpus
from verify.serve import endpoint, sandbox, storecopy
from verify.serve import worker as w
from verify.serve.limits import Limits

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}  # fmt: skip
pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or os.uname().machine not in sandbox.ARCHES,
    reason="the seccomp guard exists on Linux x86-64 and AArch64 only",
)

PROBE = """
import json, socket, sys
ours, theirs = socket.socketpair()
from verify.serve import sandbox
sandbox.deny_network()
out = {}
for name in ("AF_INET", "AF_INET6", "AF_UNIX"):
    try:
        socket.socket(getattr(socket, name)).close()
        out[name] = "opened"
    except OSError as e:
        out[name] = e.errno
ours.sendall(b"ping")
out["pair"] = theirs.recv(4).decode()
print(json.dumps(out))
"""

# The worker's own entry point, with the federation check taken out (and, for the control run,
# the network guard too): what is left between a SERVICE query and the network is the guard.
WORKER = """
import sys
from verify.serve import federation, sandbox, worker
federation.refuse_federated = lambda query: None
if sys.argv[3] == "unguarded":
    sandbox.deny_network = lambda: None
worker.serve_worker(sys.argv[1], int(sys.argv[2]), 256, True)
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return load_corpus(
        make_project(tmp_path_factory.mktemp("sandbox") / "project"), use_cache=False
    )


@pytest.fixture(scope="module")
def store_copy(corpus, tmp_path_factory) -> Path:
    return storecopy.create(corpus.store, tmp_path_factory.mktemp("scratch")) / "store"


def _ask_worker(store: Path, mode: str, query: str) -> tuple[str, object]:
    """Start the worker in `mode`, send it one query over a socketpair, return its answer."""
    ours, theirs = socket.socketpair()
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(store), str(theirs.fileno()), mode],
        pass_fds=(theirs.fileno(),), env=ENV, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    theirs.close()
    conn = Connection(ours.detach())
    try:
        assert conn.poll(60), "the worker did not start"
        assert conn.recv()[0] == w.READY
        conn.send((query, "SELECT", "json", 10))
        assert conn.poll(30), "the worker did not answer"
        return conn.recv()
    finally:
        conn.close()
        proc.wait(timeout=10)


def test_sandbox_refuses_every_new_socket_and_keeps_the_inherited_pair():
    out = subprocess.run([sys.executable, "-c", PROBE], env=ENV, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    import errno

    assert json.loads(out.stdout) == {"AF_INET": errno.EACCES, "AF_INET6": errno.EACCES,
                                      "AF_UNIX": errno.EACCES, "pair": "ping"}  # fmt: skip


def test_sandboxed_worker_without_federation_check_reaches_no_listener(store_copy):
    listener = Listener()
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
    try:
        status, message = _ask_worker(store_copy, "guarded", query)
    finally:
        received = listener.close()
    assert received == []
    assert status == w.REFUSED and "Permission denied" in message


def test_unguarded_worker_does_reach_the_listener(store_copy):
    # The control for the test above: without the guard, Oxigraph really does fetch the URL,
    # and the listener sees the request.
    listener = Listener()
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
    try:
        _ask_worker(store_copy, "unguarded", query)
    finally:
        received = listener.close()
    assert len(received) == 1 and received[0].startswith(b"POST /sparql HTTP/1.1")


def test_sandbox_unavailable_on_an_unknown_architecture(monkeypatch):
    monkeypatch.setattr(sandbox.platform, "machine", lambda: "sparc64")
    with pytest.raises(sandbox.SandboxUnavailable, match="sparc64"):
        sandbox.deny_network()


def test_endpoint_will_not_start_where_workers_cannot_be_guarded(corpus, tmp_path, monkeypatch):
    # Workers that believe they run on an architecture the filter does not know.
    pretend = "import platform; platform.machine = lambda: 'sparc64'; "
    monkeypatch.setattr(endpoint, "WORKER_CODE", pretend + endpoint.WORKER_CODE)
    with pytest.raises(sandbox.SandboxUnavailable, match="--allow-unsandboxed-sparql"):
        endpoint.SparqlEndpoint(corpus.store, Limits(workers=1), scratch=tmp_path)
    gc.collect()
    assert list(tmp_path.iterdir()) == []  # the store copy went with the endpoint
    allowed = endpoint.SparqlEndpoint(corpus.store, Limits(workers=1), require_guard=False,
                                      scratch=tmp_path)  # fmt: skip
    try:
        assert "sparc64" in allowed.unguarded_because
        assert (
            allowed.run("ASK { ?s ?p ?o }", "ASK", "json").body == b'{"head": {}, "boolean": true}'
        )
    finally:
        allowed.close()
