"""Rules on checks that SHACL Core cannot state: the benchmark a check names exists, its
parameters are a JSON object of the names and types the benchmark declares (``fwc:parameterName``,
``fwc:parameterSchema``), and the tiers it names (``"tiers"`` in the parameters, the rule's subject
and baseline) are tiers of that benchmark (``fwc:tier``); and a benchmark's declared multiverse
(``fwc:multiverse``, kg.multiverse) names only its own tiers and parameters.

Each problem points at the line of the triple it is about (fwc:parameters, fwc:subject, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kg import multiverse, ns, paramschema
from kg.errors import Problem
from kg.locate import Locator
from kg.store import Corpus, to_python
from kg.textutil import close_matches, did_you_mean

F = ns.FWC
CHECK = [F + "checkedBy"]
RULE = [F + "checkedBy", F + "rule"]
MAX_THRESHOLD = 1_000_000  # "1e999" reads as infinity, which no JSON (and no claim) can hold


@dataclass
class Spec:
    """What claims/benchmarks.ttl declares about one benchmark."""

    id: str
    names: set[str] = field(default_factory=set)
    tiers: set[str] = field(default_factory=set)
    schema: tuple[paramschema.Validator, dict[str, Any]] | None = None
    multiverse: str | None = None  # its fwc:multiverse, as written


Finding = tuple[str, list[str], str, str | None]  # property, path to it, message, value on its line


def benchmark_specs(corpus: Corpus, loc: Locator) -> tuple[dict[str, Spec], list[Problem]]:
    """Every benchmark's declared names, tiers and schema, and the problems of its declaration."""
    specs: dict[str, Spec] = {}
    for r in corpus.query(
        "SELECT ?b ?id WHERE { ?b schema:identifier ?id . "
        "VALUES ?t { fwc:Benchmark fwc:Probe fwc:DataCheck } ?b a ?t }"
    ):
        specs.setdefault(r["b"], Spec(str(r["id"])))
    for prop, attr in (("parameterName", "names"), ("tier", "tiers")):
        for r in corpus.query("SELECT ?b ?v WHERE { ?b fwc:%s ?v }" % prop):
            if r["b"] in specs:
                getattr(specs[r["b"]], attr).add(str(r["v"]))
    problems = []
    for r in corpus.query("SELECT ?b ?s WHERE { ?b fwc:parameterSchema ?s }"):
        spec = specs.get(r["b"])
        if spec is None:
            continue
        try:
            spec.schema = paramschema.compile_schema(str(r["s"]))
        except paramschema.SchemaProblem as e:
            f, line = loc.where(r["b"], F + "parameterSchema")  # located only when wrong
            problems.append(Problem(f, line, loc.label(r["b"]), f"fwc:parameterSchema {e}"))
            continue
        described = paramschema.names(spec.schema[1])
        if described != spec.names:
            f, line = loc.where(r["b"], F + "parameterSchema")
            problems.append(
                Problem(
                    f,
                    line,
                    loc.label(r["b"]),
                    "fwc:parameterSchema describes "
                    f"{', '.join(sorted(described)) or 'no parameter'} but fwc:parameterName lists"
                    f" {', '.join(sorted(spec.names)) or 'none'}: make the two name the same"
                    " parameters",
                )
            )
    for r in corpus.query("SELECT ?b ?m WHERE { ?b fwc:multiverse ?m }"):
        spec = specs.get(r["b"])
        if spec is None:
            continue
        spec.multiverse = str(r["m"])
        schema = spec.schema[1] if spec.schema else None
        for message in multiverse.problems(spec.multiverse, spec.names, spec.tiers, schema):
            f, line = loc.where(r["b"], F + "multiverse")  # located only when wrong
            problems.append(Problem(f, line, loc.label(r["b"]), message))
    return specs, problems


def multiverses(corpus: Corpus) -> dict[str, multiverse.Multiverse]:
    """Every benchmark's declared multiverse, by benchmark id (those with a problem left out:
    `verify check` reports them)."""

    def make() -> dict[str, multiverse.Multiverse]:
        specs, _ = benchmark_specs(corpus, Locator(corpus))
        out = {}
        for spec in specs.values():
            schema = spec.schema[1] if spec.schema else None
            if spec.multiverse is None or multiverse.problems(
                spec.multiverse, spec.names, spec.tiers, schema
            ):
                continue
            out[spec.id] = multiverse.design(spec.id, spec.multiverse, schema)
        return dict(sorted(out.items()))

    return corpus.memoised("multiverses", make)


def check_problems(corpus: Corpus, loc: Locator) -> list[Problem]:
    """Problems of every claim's check: benchmark, parameters, tiers."""
    specs, problems = benchmark_specs(corpus, loc)
    known = sorted(s.id for s in specs.values())
    rows = corpus.store.query(
        ns.SPARQL_PREFIXES + "SELECT ?c ?b ?params ?subject ?baseline WHERE { ?c fwc:checkedBy ?k ."
        " OPTIONAL { ?k fwc:benchmark ?b } OPTIONAL { ?k fwc:parameters ?params }"
        " OPTIONAL { ?k fwc:rule ?r OPTIONAL { ?r fwc:subject ?subject }"
        " OPTIONAL { ?r fwc:baseline ?baseline } } }",
        use_default_graph_as_union=True,
    )
    # Many checks share a benchmark, parameters and tiers: judge each combination once, and
    # locate a claim (a file scan) only when its combination has something to report.
    findings: dict[tuple[Any, ...], list[Finding]] = {}
    for sol in rows:
        key = tuple(to_python(sol[v]) for v in ("b", "params", "subject", "baseline"))
        if key not in findings:
            findings[key] = _findings(*key, specs=specs, known=known)
        if findings[key]:
            c = to_python(sol["c"])
            for prop, via, message, value in findings[key]:
                f, line = loc.where(c, prop, via=via, value=value)
                problems.append(Problem(f, line, loc.label(c), message))
    return problems + _threshold_problems(corpus, loc) + _check_id_problems(corpus, loc)


def new_check_problems(
    corpus: Corpus,
    benchmark: str,
    parameters: dict[str, Any],
    subject: str | None,
    baseline: str | None,
) -> list[str]:
    """What `verify check` would say about a check not written yet (a benchmark id, its
    parameters, the rule's subject and baseline), by the same rules, as messages."""
    specs, _ = benchmark_specs(corpus, Locator(corpus))
    raw = json.dumps(parameters) if parameters else None
    known = sorted(s.id for s in specs.values())
    found = _findings(ns.BENCH + benchmark, raw, subject, baseline, specs=specs, known=known)
    return [message for _, _, message, _ in found]


def _check_id_problems(corpus: Corpus, loc: Locator) -> list[Problem]:
    """A claim with several checks names each with its own fwc:checkId (records say which
    check they ran); the ids of one claim differ."""
    ids: dict[str, list[str | None]] = {}
    for r in corpus.store.query(
        ns.SPARQL_PREFIXES + "SELECT ?c ?k ?id WHERE { ?c fwc:checkedBy ?k ."
        " OPTIONAL { ?k fwc:checkId ?id } }",
        use_default_graph_as_union=True,
    ):
        ids.setdefault(to_python(r["c"]), []).append(to_python(r["id"]) if r["id"] else None)
    out = []
    for c, found in sorted(ids.items()):
        if len(found) < 2:
            continue
        named = [i for i in found if i]
        if len(named) < len(found) or len(set(named)) < len(named):
            f, line = loc.where(c, F + "checkedBy")
            out.append(Problem(f, line, loc.label(c),
                               f"has {len(found)} checks, so each needs its own fwc:checkId"
                               f" (found {', '.join(map(repr, named)) or 'none'}): name them,"
                               ' e.g. fwc:checkId "main" and fwc:checkId "xla"'))  # fmt: skip
    return out


def _threshold_problems(corpus: Corpus, loc: Locator) -> list[Problem]:
    """Thresholds too large to be a claimed factor, infinity among them (SHACL's bounds treat
    an ill-typed number differently across engines, so the upper bound is checked here)."""
    out = []
    for r in corpus.store.query(
        ns.SPARQL_PREFIXES + "SELECT ?c ?t WHERE { ?c fwc:checkedBy ?k . ?k fwc:rule ?r ."
        " ?r fwc:threshold ?t FILTER(isLiteral(?t) && ?t >= %d) }" % MAX_THRESHOLD,
        use_default_graph_as_union=True,
    ):
        c = to_python(r["c"])
        f, line = loc.where(c, F + "threshold", via=RULE)
        out.append(
            Problem(
                f,
                line,
                loc.label(c),
                f"fwc:threshold must be below {MAX_THRESHOLD}"
                f" (found {r['t'].value}): write the claimed factor, 3.0 for 3x",
            )  # fmt: skip
        )
    return out


def _findings(
    b: str | None,
    raw: Any,
    subject: Any,
    baseline: Any,
    *,
    specs: dict[str, Spec],
    known: list[str],
) -> list[Finding]:
    """What is wrong with one (benchmark, parameters, subject, baseline) combination."""
    out: list[Finding] = []
    spec = specs.get(b) if b else None
    if b and spec is None:
        name = b[len(ns.BENCH) :] if b.startswith(ns.BENCH) else b
        close = close_matches(name, known, n=2, cutoff=0.6)
        hint = f" (did you mean {', '.join('bench:' + c for c in close)}?)" if close else ""
        out.append(
            (
                F + "benchmark",
                CHECK,
                f"fwc:benchmark names unknown benchmark '{name}'{hint}:"
                f" use one defined in claims/benchmarks.ttl ({', '.join(known)})",
                None,
            )
        )
    if spec is not None and spec.tiers:
        for prop, tier in (("subject", subject), ("baseline", baseline)):
            if isinstance(tier, str) and tier not in spec.tiers:
                out.append(
                    (
                        F + prop,
                        RULE,
                        f"fwc:{prop} '{tier}' is not a tier of bench:{spec.id}."
                        f"{did_you_mean(tier, sorted(spec.tiers))} Use one of:"
                        f" {', '.join(sorted(spec.tiers))}",
                        tier,
                    )
                )
    if raw is not None:
        out += [(F + "parameters", CHECK, m, None)
                for m in _parameter_findings(raw, spec, subject, baseline)]  # fmt: skip
    return out


def _parameter_findings(raw: Any, spec: Spec | None, subject: Any, baseline: Any) -> list[str]:
    try:
        params = json.loads(str(raw))
    except json.JSONDecodeError as e:
        return [
            f"fwc:parameters is not valid JSON ({e.msg} at character {e.pos}): write a JSON"
            ' object like {"batch_sizes": [1, 8]}'
        ]
    if not isinstance(params, dict):
        return ["fwc:parameters must be a JSON object {...}"]
    if spec is None:
        return []
    unknown = sorted(set(params) - spec.names)
    if unknown:
        return [
            f"fwc:parameters has {', '.join(map(repr, unknown))}, which bench:{spec.id} does not"
            f" take: use {', '.join(sorted(spec.names)) or 'no parameters'}"
        ]
    out = []
    if spec.schema is not None:
        found = paramschema.problem(*spec.schema, params)
        if found:
            out.append(
                f"fwc:parameters: {found}: see the fwc:parameterSchema of bench:{spec.id} in"
                " claims/benchmarks.ttl"
            )
    tiers = params.get("tiers")
    if not isinstance(tiers, list):
        return out
    bad = [t for t in tiers if not isinstance(t, str) or t not in spec.tiers] if spec.tiers else []
    wanted = [t for t in (subject, baseline) if isinstance(t, str)]
    if bad:
        out.append(
            f"fwc:parameters: tiers names {', '.join(map(repr, bad))}, which bench:{spec.id}"
            f" does not have: use {', '.join(sorted(spec.tiers))}"
        )
    elif sorted(map(str, tiers)) != sorted(wanted):
        out.append(
            f"fwc:parameters: tiers lists {', '.join(map(repr, tiers)) or 'nothing'} but the rule"
            f" compares {' and '.join(map(repr, wanted)) or 'no tier'}: the tiers a check measures"
            " are its rule's fwc:subject and fwc:baseline, so list exactly those (a further tier"
            " is a further check with its own fwc:checkId)"
        )
    return out
