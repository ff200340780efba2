"""A run record cannot add triples of its own to the graph: ids that become IRIs are checked
against the id patterns, and every value goes through an RDF term. A record that tries is named
by `verify check` (exit 2), left out with a warning by the other commands, and adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from recordkit import minimal_record

from kg import api, ns, recordgraph
from kg.errors import RecordError
from kg.load import load_corpus

REPO = Path(__file__).resolve().parent.parent
ENV_ID = "x86-2core-cpu-test-abc123"
# N-Quads that close the run's triple and state a contradiction no claim file states.
PAYLOAD = (
    f"fixture-latency> <{ns.GRAPH}x> .\n<{ns.CLAIM}fixture-latency> <{ns.FWC}contradicts>"
    f" <{ns.CLAIM}fixture-opinion> <{ns.GRAPH}x> .\n<{ns.CLAIM}x"
)
# The same in a file name (no slash may be in one): IRIs with a scheme of their own.
NAME_PAYLOAD = "r> <g:x> .\n<claim:a> <fwc:contradicts> <claim:b> <g:x> .\n<x"


def _write(project: Path, name: str, record: dict) -> Path:
    folder = project / "data" / "results" / ENV_ID
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(record))
    return path


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "verify", *args],
        cwd=REPO,
        env={**os.environ, "FWCLAIMS_ROOT": str(project)},
        capture_output=True,
        text=True,
        timeout=120,
    )


CASES = {
    "claim_id": lambda: ("r1", minimal_record(claim_id=PAYLOAD, record_id="r1", env_id=ENV_ID)),
    "record_id": lambda: (
        NAME_PAYLOAD,
        minimal_record(claim_id="fixture-opinion", record_id=NAME_PAYLOAD, env_id=ENV_ID),
    ),
}


@pytest.mark.parametrize("field", sorted(CASES))
def test_injected_nquads_in_a_record_id_reach_no_graph(project, field):
    name, record = CASES[field]()
    path = _write(project, name, record)
    corpus = load_corpus(project, use_cache=False)
    assert not corpus.ask("ASK { ?a fwc:contradicts ?b }"), "the record added a triple"
    assert api.contradiction_pairs(corpus) == [] and api.runs(corpus) == []
    assert not corpus.ask("ASK { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), '%s')) }"
                          % ns.graph_iri("data/results/"))  # fmt: skip
    [skipped] = corpus.skipped
    assert skipped.path == str(path) and field in str(skipped)


@pytest.mark.parametrize("field", sorted(CASES))
def test_check_names_the_record_and_field_and_exits_2(project, field):
    name, record = CASES[field]()
    path = _write(project, name, record)
    out = _cli(project, "check")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    rel = path.relative_to(project).as_posix()
    lines = [ln for ln in out.stderr.splitlines() if "run record" in ln]
    assert len(lines) == 1 and f"run record: {field}: must " in lines[0]
    assert lines[0].startswith(rel.split("\n")[0])  # the name, with its line break made visible


@pytest.mark.parametrize("command", [["list"], ["show", "fixture-opinion"], ["status"]])
def test_other_commands_warn_and_leave_the_record_out(project, command):
    _write(project, "r1", minimal_record(claim_id=PAYLOAD, record_id="r1", env_id=ENV_ID))
    out = _cli(project, *command)
    assert out.returncode == 0, out.stderr
    [warning] = [ln for ln in out.stderr.splitlines() if ln.startswith("warning:")]
    assert f"data/results/{ENV_ID}/r1.json" in warning and "claim_id" in warning
    assert "contradicts" not in out.stdout.lower()


def test_recordgraph_refuses_an_id_that_is_not_one_even_past_the_schema():
    record = minimal_record(claim_id="fixture-latency", record_id="r1")
    record["claim_id"] = PAYLOAD  # as if the schema had let it through
    with pytest.raises(RecordError, match="claim_id .* is not an id"):
        recordgraph.record_quads(record, "data/results/x/r1.json")
