"""The fwc: vocabulary is closed: kg/fwc.ttl and kg/vocab.FWC list the same terms, all documented."""

from __future__ import annotations

import glob

import pytest
import rdflib
from rdflib.namespace import RDFS

from kg import ns
from kg.paths import VOCAB_FILE
from kg.vocab import FWC


def _defined() -> set[str]:
    g = rdflib.Graph().parse(VOCAB_FILE)
    return {str(s)[len(ns.FWC) :] for s in g.subjects() if str(s).startswith(ns.FWC)}


def test_vocab_python_and_turtle_list_the_same_terms():
    python_terms = {name for name in FWC.__annotations__}
    assert python_terms == _defined()


def test_vocab_every_term_has_label_and_comment():
    g = rdflib.Graph().parse(VOCAB_FILE)
    for term in _defined():
        iri = rdflib.URIRef(ns.FWC + term)
        assert g.value(iri, RDFS.label), term
        assert g.value(iri, RDFS.comment), term


def test_vocab_unknown_term_is_an_error():
    with pytest.raises(AttributeError):
        FWC.noSuchTerm  # noqa: B018


def test_vocab_corpus_uses_only_defined_fwc_terms():
    defined = _defined()
    used = set()
    for f in glob.glob(str(VOCAB_FILE.parent.parent / "claims" / "*.ttl")):
        g = rdflib.Graph().parse(f)
        for triple in g:
            used |= {str(t)[len(ns.FWC) :] for t in triple if str(t).startswith(ns.FWC)}
    assert used - defined == set()


def test_vocab_uses_http_schema_org():
    g = rdflib.Graph().parse(VOCAB_FILE)
    assert not any("https://schema.org/" in str(t) for triple in g for t in triple)
