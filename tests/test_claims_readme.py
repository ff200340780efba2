"""claims/README.md documents the claim format: every term it names exists, every property the
claims use is in it, and its worked examples, run as written, add exactly the claims they show."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import rdflib
from clikit import run_cli
from rdflib import namespace as vocabularies
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

from kg import api, ns
from kg.load import load_corpus
from kg.model import plain
from kg.paths import VOCAB_FILE

REPO = Path(__file__).resolve().parent.parent
README = REPO / "claims" / "README.md"
TERM = re.compile(r"`(fwc|schema|prov|dcterms|cito|rdfs|skos|xsd):([A-Za-z][A-Za-z0-9]*)`")
# rdflib bundles no CiTO namespace; these are the CiTO properties the README may name, as listed
# in the CiTO specification (http://purl.org/spar/cito).
CITO = {"cites", "citesAsEvidence", "citesAsDataSource", "citesForInformation", "reviews"}
STANDARD = {
    "schema": "SDO",
    "prov": "PROV",
    "dcterms": "DCTERMS",
    "rdfs": "RDFS",
    "skos": "SKOS",
    "xsd": "XSD",
}  # rdflib's closed namespaces, looked up when used
HEADER = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in ns.PREFIXES.items())


def documented() -> set[tuple[str, str]]:
    return set(TERM.findall(README.read_text(encoding="utf-8")))


def fwc_terms() -> set[str]:
    g = rdflib.Graph().parse(VOCAB_FILE)
    return {
        str(s)[len(ns.FWC) :] for s in g.subjects(RDFS.label, None) if str(s).startswith(ns.FWC)
    }


def _block(lang: str) -> str:
    text = README.read_text(encoding="utf-8")
    return re.search(rf"```{lang}\n(.*?)```", text, re.S).group(1)


def _short(iri: str) -> str:
    for prefix, base in ns.PREFIXES.items():
        if iri.startswith(base):
            return f"{prefix}:{iri[len(base) :]}"
    return iri


def used_properties() -> set[str]:
    """fwc: properties anywhere in claims/*.ttl, and every property of a claim and of the nodes
    nested in it (appearance, conditions, check, rule)."""
    out: set[str] = set()
    kinds = {rdflib.URIRef(k) for k in ns.KINDS.values()}
    for f in sorted((REPO / "claims").glob("*.ttl")):
        g = rdflib.Graph().parse(f)
        out |= {_short(str(p)) for p in g.predicates() if str(p).startswith(ns.FWC)}
        todo = [s for s, _, k in g.triples((None, RDF.type, None)) if k in kinds]
        while todo:
            node = todo.pop()
            for p, o in g.predicate_objects(node):
                out.add(_short(str(p)))
                if isinstance(o, rdflib.BNode):
                    todo.append(o)
    return out - {"rdf:type"}


def test_claims_readme_every_documented_term_exists():
    fwc = fwc_terms()
    unknown = []
    for prefix, name in sorted(documented()):
        if prefix == "fwc":
            ok = name in fwc
        elif prefix == "cito":
            ok = name in CITO
        else:
            # rdflib's schema.org is the https form; the names are the same
            vocab = getattr(vocabularies, STANDARD[prefix])
            ok = rdflib.URIRef(str(vocab._NS) + name) in vocab
        if not ok:
            unknown.append(f"{prefix}:{name}")
    assert unknown == []


def test_claims_readme_documents_every_property_the_claims_use():
    names = {f"{p}:{n}" for p, n in documented()}
    assert sorted(used_properties() - names) == []


def test_claims_readme_documents_the_new_evidence_properties():
    names = {f"{p}:{n}" for p, n in documented()}
    assert {"fwc:bearsOn", "fwc:measuredUnder", "fwc:hardware"} <= names


def test_claims_readme_worked_example_adds_exactly_the_claim_it_shows(
    monkeypatch, capsys, full_copy
):
    from verify.cli.app import main

    argv = shlex.split(_block("bash").replace("\\\n", " "))
    assert argv[:3] == ["verify", "claim", "new"]
    monkeypatch.setenv("FWCLAIMS_ROOT", str(full_copy))
    monkeypatch.setattr(sys, "argv", ["verify", "--root", str(full_copy), *argv[1:]])
    try:
        main()
    except SystemExit as e:
        assert e.code in (0, None), capsys.readouterr().err
    written = rdflib.Graph().parse(full_copy / "claims" / "user-claims.ttl")
    shown = rdflib.Graph().parse(data=HEADER + _block("turtle"), format="turtle")
    assert isomorphic(written, shown)
    check = plain(api.claim_checks(load_corpus(full_copy), "inference-latency-batch-4-cpu")[0])
    assert check["parameters"] == {
        "model": "small-cnn",
        "batch_sizes": [4],
        "input_sizes": [64],
        "channels": 3,
        "classes": 8,
    }
    assert check["rule"]["threshold"] == 2.0 and check["rule"]["quantifier"] == "at-least"


def test_claims_readme_several_checks_example_adds_exactly_the_claim_it_shows(full_copy):
    text = README.read_text(encoding="utf-8")
    bash = re.findall(r"```bash\n(.*?)```", text, re.S)[1]
    turtle = re.findall(r"```turtle\n(.*?)```", text, re.S)[1]
    argv = shlex.split(bash.replace("\\\n", " "))
    assert argv[:3] == ["verify", "claim", "new"] and "--check" in argv
    code, _, err = run_cli(full_copy, *argv[1:])
    assert code == 0, err
    written = rdflib.Graph().parse(full_copy / "claims" / "user-claims.ttl")
    assert isomorphic(written, rdflib.Graph().parse(data=HEADER + turtle, format="turtle"))
    claim = api.claim(load_corpus(full_copy, use_cache=False), "tf-compiled-beats-eager-batch-1")
    assert [(c.check_id, c.rule.subject, c.parameters["tiers"]) for c in claim.checks] == [
        ("tf-function", "tf-function", ["keras-call", "tf-function"]),
        ("tf-xla", "tf-xla", ["keras-call", "tf-xla"]),
    ]
    assert {c.stands_in for c in claim.checks} == {
        "the small CNN built here stands in for the models the course has in mind"
    }
