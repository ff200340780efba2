"""The named queries of explorations (verify explore): one row per exploration, one per
specification. The read API (kg.api) is the way in."""

from __future__ import annotations

import json
from collections import defaultdict

from kg import ns
from kg.model import Label
from kg.rows import Exploration, Specification
from kg.store import Corpus


def explorations(corpus: Corpus) -> list[Exploration]:
    """Every exploration, newest first."""
    return corpus.memoised("explorations", lambda: _explorations(corpus))


def _explorations(corpus: Corpus) -> list[Exploration]:
    rows = corpus.query(
        """SELECT ?x ?claim ?env ?record ?started ?ended ?verdict ?robustness ?sentence ?outside WHERE {
             ?x a fwc:Exploration ; schema:about ?claim ; prov:used ?env ; fwc:rawRecord ?record ;
                fwc:robustness ?robustness .
             ?env a fwc:Environment .
             OPTIONAL { ?x fwc:verdict ?verdict } OPTIONAL { ?x schema:description ?sentence }
             OPTIONAL { ?x prov:startedAtTime ?started } OPTIONAL { ?x prov:endedAtTime ?ended }
             OPTIONAL { ?x fwc:outsideScope ?outside } }"""
    )
    out = {}
    for r in rows:
        run = r["x"][len(ns.RUN) :]
        out[run] = Exploration(
            run=run, claim_id=r["claim"][len(ns.CLAIM) :], environment=r["env"][len(ns.ENV) :],
            record=r["record"], started=r["started"], ended=r["ended"],
            stated=Label.from_concept(str(r["verdict"] or "").rsplit("#", 1)[-1]),
            robustness=r["robustness"], sentence=r["sentence"] or "",
            outside_scope=bool(r["outside"]),
        )  # fmt: skip
    return sorted(out.values(), key=lambda e: (e.ended or "", e.run), reverse=True)


def specifications(corpus: Corpus) -> dict[str, list[Specification]]:
    """Every exploration's specifications, keyed by its run id, in their recorded order."""
    return corpus.memoised("specifications", lambda: _specifications(corpus))


def _specifications(corpus: Corpus) -> dict[str, list[Specification]]:
    rows = corpus.query(
        """SELECT ?x ?s ?factors ?value ?low ?high ?verdict ?stated WHERE {
             ?s a fwc:Specification ; prov:wasGeneratedBy ?x ; fwc:factors ?factors ;
                schema:value ?value ; fwc:ciLow ?low ; fwc:ciHigh ?high .
             OPTIONAL { ?s fwc:verdict ?verdict } OPTIONAL { ?s fwc:stated ?stated } }"""
    )
    out: dict[str, list[Specification]] = defaultdict(list)
    for r in sorted(rows, key=lambda r: (r["x"], int(r["s"].rsplit("/", 1)[-1]))):
        out[r["x"][len(ns.RUN) :]].append(
            Specification(
                factors={str(k): str(v) for k, v in json.loads(r["factors"]).items()},
                ratio=float(r["value"]),
                ci_low=float(r["low"]),
                ci_high=float(r["high"]),
                label=Label.from_concept(str(r["verdict"] or "").rsplit("#", 1)[-1]),
                stated=bool(r["stated"]),
            )  # fmt: skip
        )
    return dict(out)
