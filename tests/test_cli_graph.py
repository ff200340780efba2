"""The graph commands as a user runs them: list, show, sources, audit, check, export."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import api, views
from kg.export import export

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "tensorflow", "keras", "jax")


def verify(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run the real console entry point in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "verify", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_list_json_has_every_claim_with_required_ids():
    out = verify("list", "--json")
    assert out.returncode == 0, out.stderr
    ids = {row["id"] for row in json.loads(out.stdout)}
    assert len(ids) >= 40
    assert {
        "inference-latency-3x",
        "training-cnn-25pct",
        "tf-gpu-memory-prealloc",
        "neurips-2023-pytorch-80pct",
    } <= ids


def test_list_filters_by_category_and_kind():
    out = verify("list", "--category", "adoption", "--kind", "adoption", "--json")
    rows = json.loads(out.stdout)
    assert rows and all(r["category"] == "adoption" and r["kind"] == "adoption" for r in rows)


def test_list_unknown_category_exits_2_with_choices():
    out = verify("list", "--category", "speed")
    assert out.returncode == 2
    assert "unknown category 'speed'" in out.stderr and "inference-latency" in out.stderr


def test_show_unknown_id_suggests_closest():
    out = verify("show", "inference-latency-3")
    assert out.returncode == 2
    assert "Did you mean: inference-latency-3x" in out.stderr


def test_show_json_has_check_and_citation_chain():
    c = json.loads(verify("show", "inference-latency-3x", "--json").stdout)
    (check,) = c["checks"]
    assert check["rule"]["quantifier"] == "up-to" and check["rule"]["threshold"] == 3.0
    assert check["check_id"] == "main" and c["combine"] == "all"
    assert ["inference-latency-3x", "survey-patterns-article", "becirovic-2025"] in c[
        "citation_chains"
    ]


def test_verify_list_imports_no_framework_and_nothing_it_does_not_need():
    """The start-up path stays short: no framework, and neither pandas (kg.frames) nor networkx
    (the citation chains), which `verify list` never uses."""
    code = (
        "import sys; from verify.cli.app import main; sys.argv=['verify','list','--json'];\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main()\n"
        "    except SystemExit: pass\n"
        f"print([m for m in {(*HEAVY, 'pandas', 'networkx')!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr


def test_check_on_broken_project_prints_one_line_per_problem_and_exits_2(project):
    path = project / "claims" / "two-claims.ttl"
    path.write_text(path.read_text().replace('fwc:favours "pytorch"', 'fwc:favours "PyTorch"'))
    out = verify("--root", str(project), "check")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert lines[0] == "error: 1 problem in the claims corpus:"
    assert (
        lines[1].startswith("claims/two-claims.ttl:") and "fwc:favours must be one of" in lines[1]
    )


def _canonical(text: str, fmt: ox.RdfFormat) -> list[str]:
    """The graph in `text` as sorted N-Triples with blank nodes renamed by RDF canonicalisation
    (RDFC-1.0: isomorphic graphs give the same lines) and decimals in one lexical form (JSON-LD
    writes decimal 0.0 as "0", which is the same value)."""
    ds = ox.Dataset()
    for t in ox.parse(text, format=fmt):
        o = t.object
        if isinstance(o, ox.Literal) and o.datatype.value.endswith("#decimal"):
            o = ox.Literal(format(Decimal(o.value).normalize(), "f"), datatype=o.datatype)
        ds.add(ox.Quad(t.subject, t.predicate, o))
    ds.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in ds)


def test_export_turtle_and_jsonld_round_trip_to_the_same_graph(corpus):
    ttl = _canonical(export(corpus, "turtle"), ox.RdfFormat.TURTLE)
    jsonld = _canonical(export(corpus, "jsonld"), ox.RdfFormat.JSON_LD)
    assert len(ttl) == len(jsonld) > 2000
    assert ttl == jsonld


def test_export_nquads_keeps_files_as_named_graphs(corpus):
    ds = ox.Dataset(ox.parse(export(corpus, "nquads"), format=ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name.value for q in ds}
    assert any(g.endswith("claims/performance.ttl") for g in graphs)


def test_export_is_deterministic(corpus):
    assert export(corpus, "nquads") == export(corpus, "nquads")


def test_export_to_file_writes_it(tmp_path):
    out = verify("export", "--format", "jsonld", "--output", str(tmp_path / "g.jsonld"))
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "g.jsonld").read_text())


def test_views_chain_single_source_and_contradictions(corpus):
    assert "performance-tie" in views.single_secondary_claims(corpus)
    groups = views.contradiction_groups(corpus)
    assert ["tf-static-graph-default", "tf2-eager-default"] in groups
    degree = views.primary_in_degree(corpus)
    assert degree["novac-2022"] >= 2 and degree["becirovic-2025"] >= 2


def test_sources_unknown_id_suggests(corpus):
    with pytest.raises(Exception, match="Did you mean: novac-2022"):
        api.source(corpus, "novak-2022")


def test_help_lists_every_command_with_a_whole_summary():
    import subprocess
    import sys

    from verify.cli.app import SUMMARIES, build

    app = build()
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups}
    assert names == set(SUMMARIES)
    out = subprocess.run([sys.executable, "-m", "verify", "--help"], capture_output=True,
                         text=True, timeout=60, env={"COLUMNS": "80", "PATH": "/usr/bin"})  # fmt: skip
    listed = out.stdout.split("Commands:")[1].strip().splitlines()
    assert len(listed) == len(SUMMARIES)
    assert all(not line.rstrip().endswith("...") and len(line) <= 80 for line in listed)
