"""The SPARQL-compiled SHACL validator reports exactly what pyshacl reports, on valid and broken
corpora, and refuses shape features it does not compile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import shacl_fast, validate
from kg.errors import UsageError
from kg.load import parse_turtle, turtle_files
from kg.store import Corpus

REPO = Path(__file__).resolve().parent.parent
XSD = "http://www.w3.org/2001/XMLSchema#"
OPINION_APPEARANCE = """schema:appearance [ a fwc:Appearance ;
        schema:isPartOf src:course-notes-2025 ;
        fwc:locator "Learning Curve row" ] ;
"""
_FIXTURE = (Path(__file__).with_name("fixtures") / "two-claims.ttl").read_text()
CHECK_BLOCK = _FIXTURE[
    _FIXTURE.index("    fwc:checkedBy [") : _FIXTURE.index("fwc:quantifier fwc:UpTo ] ] .\n") + 30
]

# name -> (edits to claims/two-claims.ttl as (old, new), a phrase some violation must carry)
BROKEN = {
    "missing-category": (
        [("    fwc:category fwc:InferenceLatency ;\n", "")],
        "needs exactly one category",
    ),
    "two-categories": (
        [("fwc:category fwc:Usability", "fwc:category fwc:Memory, fwc:Usability")],
        "needs exactly one category",
    ),
    "bad-quantifier": ([("fwc:quantifier fwc:UpTo", "fwc:quantifier fwc:Roughly")], "quantifier"),
    "two-texts": (
        [
            (
                "fwc:category fwc:Usability ;",
                'fwc:category fwc:Usability ;\n    schema:text "A second statement of the same claim." ;',
            )
        ],
        "needs one statement",
    ),
    "text-with-language-tag": (
        [('to learn." ;', 'to learn."@en ;')],
        "needs one statement",
    ),
    "threshold-a-string": ([("fwc:threshold 2.0", 'fwc:threshold "2x"')], "positive number"),
    "threshold-ill-typed": (
        [("fwc:threshold 2.0", f'fwc:threshold "two"^^<{XSD}decimal>')],
        "positive number",
    ),
    "threshold-negative": ([("fwc:threshold 2.0", "fwc:threshold -1.0")], "positive number"),
    "tolerance-above-one": ([("fwc:tolerance 0.1", "fwc:tolerance 1.5")], "between 0 and 1"),
    "missing-appearance": ([(OPINION_APPEARANCE, "")], "needs at least one appearance"),
    "appearance-is-a-literal": (
        [(OPINION_APPEARANCE, 'schema:appearance "Learning Curve row" ;\n')],
        "an appearance needs exactly one document",
    ),
    "unknown-source-in-isPartOf": (
        [("schema:isPartOf src:course-notes-2025", "schema:isPartOf src:course-notes-2052")],
        "is not a known source",
    ),
    "locator-is-an-iri": (
        [('fwc:locator "Learning Curve row"', "fwc:locator src:course-notes-2025")],
        "needs fwc:locator",
    ),
    "bad-favours-value": ([('fwc:favours "pytorch"', 'fwc:favours "PyTorch"')], "fwc:favours"),
    "check-and-reason": (
        [
            (
                'fwc:favours "pytorch" ;',
                'fwc:favours "pytorch" ;\n    fwc:notCheckableBecause "a reason that is long enough" ;',
            )
        ],
        "not both and not neither",
    ),
    "performance-claim-without-check": (
        [(CHECK_BLOCK, '    fwc:notCheckableBecause "no benchmark fits this claim yet" .\n')],
        "so it needs a check",
    ),
    "wording-too-long": (
        [('fwc:wording "lower latency"', 'fwc:wording "' + "a long quotation " * 10 + '"')],
        "short phrase only",
    ),
    "non-kebab-id": (
        [('schema:identifier "fixture-opinion"', 'schema:identifier "Fixture_Opinion"')],
        "kebab-case id",
    ),
    "nothing-it-rests-on": (
        [('    fwc:restsOn "the author\'s judgement; no study cited" ;\n', "")],
        "must say what it rests on",
    ),
    "claim-is-a-blank-node": (
        [("claim:fixture-opinion a fwc:QualitativeClaim", "_:opinion a fwc:QualitativeClaim")],
        "must say what it rests on",
    ),
    "contradicts-unknown-claim": (
        [
            (
                "fwc:category fwc:Usability ;",
                "fwc:category fwc:Usability ;\n    fwc:contradicts claim:no-such-claim ;",
            )
        ],
        "must name another claim",
    ),
    "device-outside-list": ([("fwc:device fwc:AnyDevice", "fwc:device fwc:FPGA")], "fwc:device"),
    "check-of-wrong-class": (
        [("fwc:checkedBy [ a fwc:Check ;", "fwc:checkedBy [ a fwc:Conditions ;")],
        "typed fwc:Check",
    ),
    "source-without-role-and-bad-id": (
        [
            (
                "claim:fixture-opinion a",
                'src:Extra_Doc a schema:Article ; schema:identifier "Extra_Doc" ;'
                " fwc:role fwc:Memory .\n\nclaim:fixture-opinion a",
            ),
            ("schema:isPartOf src:course-notes-2025", "schema:isPartOf src:Extra_Doc"),
        ],
        "a source id must be kebab-case",
    ),
}


def _edit(project: Path, edits: list[tuple[str, str]]) -> None:
    path = project / "claims" / "two-claims.ttl"
    text = path.read_text()
    for old, new in edits:
        assert old in text, f"fixture no longer contains {old!r}"
        text = text.replace(old, new, 1)
    path.write_text(text)


def _corpus(root: Path) -> Corpus:
    """The parsed corpus, not yet validated."""
    store = ox.Store()
    files = turtle_files(root)
    assert parse_turtle(store, root, files) == []
    return Corpus(root, store, files)


def _both(corpus: Corpus) -> tuple[set, set]:
    return (
        set(validate.shacl_violations(corpus, "fast")),
        set(validate.shacl_violations(corpus, "pyshacl")),
    )


def test_shacl_fast_finds_nothing_in_the_real_corpus_like_pyshacl():
    fast, reference = _both(_corpus(REPO))
    assert fast == reference == set()


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_shacl_fast_reports_what_pyshacl_reports(project, name):
    edits, phrase = BROKEN[name]
    _edit(project, edits)
    corpus = _corpus(project)
    fast, reference = _both(corpus)
    assert {(v.focus, v.path, v.message) for v in fast} == {
        (v.focus, v.path, v.message) for v in reference
    }
    assert fast == reference  # values and constraint components agree too
    assert any(phrase in v.message for v in fast), sorted(fast, key=str)
    loc = validate.Locator(corpus)
    assert sorted(validate.shacl_problems(corpus, loc, "fast"), key=str) == sorted(
        validate.shacl_problems(corpus, loc, "pyshacl"), key=str
    )


def test_shacl_fast_reports_every_fault_of_a_corpus_broken_many_ways(project):
    for name in ("bad-quantifier", "missing-appearance", "wording-too-long", "non-kebab-id"):
        _edit(project, BROKEN[name][0])
    fast, reference = _both(_corpus(project))
    assert fast == reference
    assert len(fast) >= 4


def test_shacl_fast_matches_pyshacl_on_a_synthetic_corpus_with_faults(tmp_path):
    from synth import write_corpus

    write_corpus(tmp_path, claims=40, files=2, seed=3)
    first = tmp_path / "claims" / "synthetic-000.ttl"
    text = first.read_text()
    text = text.replace("fwc:quantifier fwc:About", "fwc:quantifier fwc:Maybe", 2)
    text = text.replace('fwc:favours "both"', 'fwc:favours "all"', 2)
    first.write_text(text.replace("fwc:locator", "fwc:place", 1))
    fast, reference = _both(_corpus(tmp_path))
    assert fast == reference
    assert len(fast) >= 3


def test_shacl_fast_refuses_a_shape_feature_it_does_not_compile(tmp_path):
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\n"
        "ex:S a sh:NodeShape ; sh:targetClass ex:C ;\n"
        '    sh:property [ sh:path ex:p ; sh:hasValue 1 ; sh:message "m" ] .\n'
    )
    with pytest.raises(shacl_fast.UnsupportedShape, match="sh:hasValue"):
        shacl_fast.validate(ox.Store(), shapes)


def test_shacl_fast_reads_shapes_from_the_file(tmp_path):
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix ex: <http://example.org/> .\n"
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ;\n"
        '    sh:property [ sh:path ex:p ; sh:maxCount 1 ; sh:message "one p only" ] .\n'
    )
    store = ox.Store()
    store.load(b"<http://example.org/a> <http://example.org/p> 1, 2 .", format=ox.RdfFormat.TURTLE)
    assert shacl_fast.validate(store, shapes) == [
        shacl_fast.Violation(
            "http://example.org/a",
            "http://example.org/p",
            "one p only",
            component="MaxCountConstraintComponent",
        )
    ]


def test_shacl_engine_follows_the_environment(monkeypatch, project):
    corpus = _corpus(project)
    calls = []
    monkeypatch.setattr(validate, "_pyshacl_violations", lambda c: calls.append(c) or [])
    monkeypatch.setenv("FWCLAIMS_SHACL", "pyshacl")
    assert validate.shacl_violations(corpus) == [] and calls == [corpus]
    monkeypatch.setenv("FWCLAIMS_SHACL", "fast")
    assert validate.shacl_violations(corpus) == [] and len(calls) == 1
    monkeypatch.setenv("FWCLAIMS_SHACL", "jena")
    with pytest.raises(UsageError, match="fast or pyshacl"):
        validate.shacl_violations(corpus)


def test_fast_validation_never_imports_rdflib(project):
    code = (
        "import sys; from pathlib import Path; from kg.load import load_corpus;"
        f" load_corpus(Path({str(project)!r}), use_cache=False);"
        " print(sorted(m for m in ('rdflib', 'pyshacl') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        env={"PATH": "", "FWCLAIMS_SHACL": "fast"},
    )
    assert out.stdout.strip() == "[]"


SUBSET_SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:targetNode ex:lonely ;
    sh:property [ sh:path ex:tag ; sh:minCount 2 ; sh:maxCount 3 ; sh:message "two or three tags" ] ;
    sh:property [ sh:path ex:code ; sh:pattern "^ab" ; sh:flags "i" ; sh:message "code: ab..." ] ;
    sh:property [ sh:path ex:size ; sh:minInclusive 1 ; sh:maxInclusive 10 ;
                  sh:message "size from 1 to 10" ] ;
    sh:property [ sh:path ex:link ; sh:nodeKind sh:BlankNodeOrIRI ; sh:message "link a node" ] ;
    sh:and ( [ sh:path ex:name ; sh:minCount 1 ] [ sh:path ex:name ; sh:maxCount 1 ] ) ;
    sh:not [ sh:path ex:banned ; sh:minCount 1 ] ;
    sh:message "one name and no ban" .
"""
SUBSET_DATA = """@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Sub rdfs:subClassOf ex:C .
ex:good a ex:C ; ex:tag 1, 2 ; ex:code "ABc" ; ex:size 10 ; ex:link [ ex:p 1 ] ; ex:name "g" .
ex:bad a ex:Sub ; ex:tag 1, 2, 3, 4 ; ex:code "xab" ; ex:size 0, 11, "7" ; ex:link "x" ;
    ex:name "a", "b" ; ex:banned true .
ex:lonely ex:tag 1 .
"""


def test_shacl_fast_matches_pyshacl_beyond_the_project_shapes(tmp_path, monkeypatch):
    shapes = tmp_path / "shapes.ttl"
    shapes.write_text(SUBSET_SHAPES)
    (tmp_path / "claims").mkdir()
    store = ox.Store()
    store.load(SUBSET_DATA.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:g"))
    corpus = Corpus(tmp_path, store, [])
    monkeypatch.setattr(validate, "SHAPES_FILE", shapes)
    fast = set(shacl_fast.validate(store, shapes))
    assert fast == set(validate.shacl_violations(corpus, "pyshacl"))
    bad = {v.component for v in fast if v.focus == "http://example.org/bad"}
    assert bad == {
        "MaxCountConstraintComponent",
        "PatternConstraintComponent",
        "MinInclusiveConstraintComponent",
        "MaxInclusiveConstraintComponent",
        "NodeKindConstraintComponent",
        "AndConstraintComponent",
        "NotConstraintComponent",
    }
    assert not any(v.focus == "http://example.org/good" for v in fast)
    assert {v.component for v in fast if v.focus == "http://example.org/lonely"} >= {
        "MinCountConstraintComponent"
    }
