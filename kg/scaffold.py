"""Write a new claim into claims/*.ttl from plain values, and keep it only if the corpus stays valid.

`verify claim new` gathers the values (flags or prompts); this module checks the ids against the
corpus, renders one Turtle block in the style of the hand-written files, appends it atomically,
re-validates the whole corpus, and puts the file back byte for byte if anything is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import ns, paths
from kg.errors import CorpusError, UsageError
from kg.load import load_corpus
from kg.store import Corpus
from kg.textutil import did_you_mean
from kg.turtle_text import appended, block, literal, long_literal, number, write_bytes

ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DEFAULT_FILE = "claims/user-claims.ttl"
CONDITIONS = {  # option name -> property; device and phase take concepts, the rest free text
    "device": "device",
    "phase": "phase",
    "batch_regime": "batchRegime",
    "input_regime": "inputRegime",
    "model_family": "modelFamily",
    "api_tier": "apiTier",
    "precision": "precision",
    "scale": "scale",
}
FAVOURS = ("pytorch", "tensorflow", "both", "neither")
LOWER_IS_BETTER = ("latency", "time", "memory")
REQUIRED_RULE = ("metric", "subject", "threshold", "quantifier")
PREFIXES_USED = ("fwc", "claim", "src", "bench", "schema", "prov")
HEADER = "Claims added with `verify claim new`."


class ClaimRejected(CorpusError):
    """The new claim would make the corpus invalid; its file was left as it was."""

    def __init__(self, path: str, error: CorpusError) -> None:
        self.problems = getattr(error, "problems", [])
        super().__init__(f"the claim was not added and {path} is unchanged. {error}")


@dataclass
class ClaimSpec:
    """Everything a new claim needs, as plain values (ids, notations, text, numbers)."""

    id: str | None = None
    statement: str | None = None
    category: str | None = None
    kind: str | None = None
    source: str | None = None
    locator: str | None = None
    wording: str | None = None
    derived_from: list[str] = field(default_factory=list)
    rests_on: str | None = None
    favours: str | None = None
    contradicts: list[str] = field(default_factory=list)
    conditions: dict[str, str] = field(default_factory=dict)
    benchmark: str | None = None  # "" means: asked, and there is none
    parameters: dict[str, Any] = field(default_factory=dict)
    rule: dict[str, Any] = field(default_factory=dict)
    not_checkable: str | None = None


@dataclass(frozen=True)
class Gap:
    """A value the spec still lacks: its field, the flag that gives it, and a question for a prompt."""

    name: str
    flag: str
    question: str
    default: str | None = None


class Vocab:
    """The ids a new claim may name, read from the loaded corpus."""

    def __init__(self, corpus: Corpus) -> None:
        concepts = corpus.query("SELECT ?c ?n ?s WHERE { ?c skos:inScheme ?s ; skos:notation ?n }")
        self.concepts: dict[str, dict[str, str]] = {}
        for r in concepts:
            scheme = r["s"][len(ns.FWC) :]
            self.concepts.setdefault(scheme, {})[r["n"]] = "fwc:" + r["c"][len(ns.FWC) :]
        self.sources = {
            r["id"]: r["role"]
            for r in corpus.query(
                "SELECT ?id ?role WHERE { ?s fwc:role/skos:notation ?role ; schema:identifier ?id }"
            )
        }
        self.benchmarks: dict[str, set[str]] = {}
        for r in corpus.query(
            "SELECT ?id ?p WHERE { ?b schema:identifier ?id ; a ?t . "
            "VALUES ?t { fwc:Benchmark fwc:Probe fwc:DataCheck } OPTIONAL { ?b fwc:parameterName ?p } }"
        ):
            self.benchmarks.setdefault(r["id"], set()).update([r["p"]] if r["p"] else [])
        kinds = " ".join(f"<{k}>" for k in ns.KINDS.values())
        self.claims = {
            r["id"]: r["g"][len(ns.GRAPH) :]
            for r in corpus.query(
                "SELECT ?id ?g WHERE { GRAPH ?g { ?c a ?k ; schema:identifier ?id } "
                "VALUES ?k { %s } }" % kinds
            )
        }

    def concept(self, scheme: str, notation: str, what: str) -> str:
        """The prefixed IRI of a concept given its notation (case-insensitive), or a UsageError."""
        known = self.concepts.get(scheme, {})
        key = notation.strip().lower().removeprefix("fwc:")
        by_name = {v[4:].lower(): v for v in known.values()}
        if key in known or key in by_name:
            return known.get(key) or by_name[key]
        raise UsageError(
            f"unknown {what} '{notation}'.{did_you_mean(key, sorted(known))} Use one of: "
            f"{', '.join(sorted(known))}."
        )


def parse_param(text: str) -> tuple[str, Any]:
    """'key=value' as (key, value); the value is read as JSON when it parses (batch_sizes=[1,4],
    year=2020, exact=true), else kept as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--param '{text}' is not key=value: write e.g. --param batch_sizes=[1,4]")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


def parse_params(pairs: list[str], params_json: str | None) -> dict[str, Any]:
    """Parameters from --params-json (an object) overlaid with each --param key=value."""
    params: dict[str, Any] = {}
    if params_json:
        try:
            params = json.loads(params_json)
        except json.JSONDecodeError as e:
            raise UsageError(
                f"--params-json is not valid JSON ({e.msg} at character {e.pos})"
            ) from e
        if not isinstance(params, dict):
            raise UsageError('--params-json must be a JSON object, e.g. {"batch_sizes": [1, 8]}')
    for pair in pairs:
        key, value = parse_param(pair)
        params[key] = value
    return params


def gaps(spec: ClaimSpec, vocab: Vocab) -> list[Gap]:
    """The required values the spec still lacks, in the order a prompt should ask for them."""
    out = [
        Gap(name, flag, question)
        for name, flag, question in (
            ("id", "--id", "Claim id (kebab-case, e.g. inference-latency-batch-4)"),
            ("statement", "--statement", "The claim, in your own words"),
            ("kind", "--kind", f"Kind ({', '.join(ns.KINDS)})"),
            (
                "category",
                "--category",
                f"Category ({', '.join(sorted(vocab.concepts['categories']))})",
            ),
            (
                "source",
                "--source",
                "Source id of the document it appears in (see `verify sources`)",
            ),
            ("locator", "--locator", "Where in that document (section, table row)"),
        )
        if not getattr(spec, name)
    ]
    if out:
        return out
    if not _derived_from(spec, vocab) and not spec.rests_on:
        return [
            Gap(
                "rests_on",
                "--derived-from or --rests-on",
                "What the claim rests on, in words (no primary study is named)",
            )
        ]
    if spec.benchmark is None and not spec.not_checkable:
        return [
            Gap(
                "benchmark",
                "--benchmark or --not-checkable",
                "Benchmark or probe id (see claims/benchmarks.ttl; empty if none fits)",
                "",
            )
        ]
    if not spec.benchmark:
        return (
            []
            if spec.not_checkable
            else [
                Gap(
                    "not_checkable",
                    "--not-checkable",
                    "Why it cannot be checked, and what would settle it",
                )
            ]
        )
    return [
        Gap(f"rule.{k}", f"--{k}", f"Rule {k}")
        for k in REQUIRED_RULE
        if spec.rule.get(k) in (None, "")
    ]


def _derived_from(spec: ClaimSpec, vocab: Vocab) -> list[str]:
    # A claim that appears in a primary study or data set rests on it unless told otherwise.
    if spec.derived_from or spec.rests_on:
        return spec.derived_from
    role = vocab.sources.get(spec.source or "")
    return [spec.source or ""] if role in ("primary-study", "dataset") else []


def set_value(spec: ClaimSpec, name: str, value: str) -> None:
    """Fill one gap with a prompted answer."""
    if name.startswith("rule."):
        spec.rule[name[5:]] = value
    else:
        setattr(spec, name, value)


def render(spec: ClaimSpec, vocab: Vocab) -> str:
    """The claim as a Turtle block in the hand-written style; unknown ids raise UsageError."""
    check_known(spec, vocab)
    missing = gaps(spec, vocab)
    if missing:
        raise UsageError("missing " + ", ".join(g.flag for g in missing))
    kind_class = "fwc:" + ns.KINDS[spec.kind or ""][len(ns.FWC) :]
    props: list[tuple[str, str]] = [
        ("schema:identifier", literal(spec.id or "")),
        ("schema:text", literal(spec.statement or "")),
        ("fwc:category", vocab.concept("categories", spec.category or "", "category")),
    ]
    if spec.favours:
        props.append(("fwc:favours", literal(spec.favours)))
    appearance = [
        ("schema:isPartOf", f"src:{spec.source}"),
        ("fwc:locator", literal(spec.locator or "")),
    ]
    if spec.wording:
        appearance.append(("fwc:wording", literal(spec.wording)))
    props.append(("schema:appearance", block("fwc:Appearance", appearance, 1)))
    derived = _derived_from(spec, vocab)
    if derived:
        props.append(("prov:wasDerivedFrom", ", ".join(f"src:{s}" for s in derived)))
    if spec.rests_on:
        props.append(("fwc:restsOn", literal(spec.rests_on)))
    if spec.contradicts:
        props.append(("fwc:contradicts", ", ".join(f"claim:{c}" for c in spec.contradicts)))
    cond = _conditions(spec, vocab)
    if cond:
        props.append(("fwc:condition", block("fwc:Conditions", cond, 1)))
    if spec.benchmark:
        check = [("fwc:benchmark", f"bench:{spec.benchmark}")]
        if spec.parameters:
            check.append(
                ("fwc:parameters", long_literal(json.dumps(spec.parameters, ensure_ascii=False)))
            )
        check.append(("fwc:rule", block("fwc:DecisionRule", _rule(spec, vocab), 2)))
        props.append(("fwc:checkedBy", block("fwc:Check", check, 1)))
    else:
        props.append(("fwc:notCheckableBecause", literal(spec.not_checkable or "")))
    body = " ;\n".join(f"    {p} {o}" for p, o in props)
    return f"claim:{spec.id} a {kind_class} ;\n{body} .\n"


def check_known(spec: ClaimSpec, vocab: Vocab) -> None:
    """Raise UsageError (with suggestions) for any id or notation given so far that the corpus
    does not know; values not given yet are not checked."""
    if spec.id and not ID_PATTERN.match(spec.id):
        raise UsageError(
            f"claim id '{spec.id}' is not kebab-case: use lower-case letters, digits "
            "and single hyphens, e.g. inference-latency-batch-4"
        )
    if spec.id in vocab.claims:
        raise UsageError(
            f"a claim with the id '{spec.id}' already exists in {vocab.claims[spec.id]}:"
            " choose another id"
        )
    if spec.kind and spec.kind not in ns.KINDS:
        raise UsageError(
            f"unknown kind '{spec.kind}'.{did_you_mean(spec.kind or '', list(ns.KINDS))}"
            f" Use one of: {', '.join(ns.KINDS)}."
        )
    if spec.category:
        vocab.concept("categories", spec.category, "category")
    for name in ("device", "phase"):
        if spec.conditions.get(name):
            vocab.concept(name + "s", spec.conditions[name], name)
    if spec.rule.get("quantifier"):
        vocab.concept("quantifiers", str(spec.rule["quantifier"]), "quantifier")
    for sid in [s for s in (spec.source, *spec.derived_from) if s]:
        if sid not in vocab.sources:
            raise UsageError(
                f"unknown source '{sid}'.{did_you_mean(sid or '', sorted(vocab.sources))}"
                " Run `verify sources` to see every id, or add it to claims/sources.ttl."
            )
    for cid in spec.contradicts:
        if cid not in vocab.claims:
            raise UsageError(
                f"--contradicts names unknown claim '{cid}'."
                f"{did_you_mean(cid, sorted(vocab.claims))} Run `verify list`."
            )
    if spec.favours and spec.favours not in FAVOURS:
        raise UsageError(f"--favours must be one of {', '.join(FAVOURS)}, not '{spec.favours}'")
    if spec.benchmark and spec.benchmark not in vocab.benchmarks:
        raise UsageError(
            f"unknown benchmark '{spec.benchmark}'."
            f"{did_you_mean(spec.benchmark, sorted(vocab.benchmarks))} Known: "
            f"{', '.join(sorted(vocab.benchmarks))} (claims/benchmarks.ttl)."
        )
    if spec.benchmark and spec.not_checkable:
        raise UsageError(
            "give either --benchmark (a check) or --not-checkable (a reason), not both"
        )


def _conditions(spec: ClaimSpec, vocab: Vocab) -> list[tuple[str, str]]:
    out = []
    for name, prop in CONDITIONS.items():
        value = spec.conditions.get(name)
        if not value:
            continue
        if name in ("device", "phase"):
            out.append((f"fwc:{prop}", vocab.concept(name + "s", value, name)))
        else:
            out.append((f"fwc:{prop}", literal(value)))
    return out


def _rule(spec: ClaimSpec, vocab: Vocab) -> list[tuple[str, str]]:
    r = spec.rule
    metric = str(r.get("metric", ""))
    better = r.get("better") or ("lower" if any(w in metric for w in LOWER_IS_BETTER) else "higher")
    rows = [
        ("fwc:metric", literal(metric)),
        ("fwc:better", literal(str(better))),
        ("fwc:subject", literal(str(r.get("subject", "")))),
    ]
    if r.get("baseline"):
        rows.append(("fwc:baseline", literal(str(r["baseline"]))))
    for key in ("threshold", "tolerance"):
        raw = r.get(key, 0.1 if key == "tolerance" else None)
        try:
            rows.append((f"fwc:{key}", number(float(raw))))
        except (TypeError, ValueError) as e:
            raise UsageError(f"--{key} must be a number, not '{raw}'") from e
    q = vocab.concept("quantifiers", str(r.get("quantifier", "")), "quantifier")
    rows.append(("fwc:quantifier", q))
    return rows


def claims_file(root: Path, file: str | Path | None) -> Path:
    """The Turtle file to write: a name ('adoption'), or a path relative to the project root, that
    must lie in claims/ and end in .ttl (other files are not loaded)."""
    raw = str(file or DEFAULT_FILE)
    path = Path(raw) if "/" in raw else Path("claims") / raw
    path = path if path.suffix == ".ttl" else path.with_name(path.name + ".ttl")
    path = path if path.is_absolute() else root / path
    if path.resolve().parent != paths.claims_dir(root).resolve():
        raise UsageError(
            f"--file {raw}: claims are loaded from {paths.claims_dir(root)}/*.ttl only;"
            " name a file there, e.g. --file claims/user-claims.ttl"
        )
    return path


def fill(spec: ClaimSpec, vocab: Vocab, ask: Callable[..., str] | None) -> None:
    """Ask for each missing value with `ask(question, default=..., show_default=False)` (a
    terminal prompt); without `ask`, a UsageError names every missing option."""
    check_known(spec, vocab)
    while missing := gaps(spec, vocab):
        if ask is None:
            raise UsageError(
                "missing " + ", ".join(g.flag for g in missing) + ": give them as options"
                " (see `verify claim new --help`), or run at a terminal to be asked"
            )
        gap = missing[0]
        set_value(
            spec, gap.name, ask(gap.question, default=gap.default, show_default=False).strip()
        )
        check_known(spec, vocab)


def add_claim(
    root: Path,
    spec: ClaimSpec,
    file: str | Path | None = None,
    vocab: Vocab | None = None,
    *,
    ask: Callable[..., str] | None = None,
) -> Path:
    """Fill in what the spec lacks (see `fill`), append the claim to its file and validate the
    whole corpus; on any problem the file is put back exactly as it was and ClaimRejected carries
    the problems."""
    vocab = vocab or Vocab(load_corpus(root))
    fill(spec, vocab, ask)
    path = claims_file(root, file)
    text = render(spec, vocab)
    original = path.read_bytes() if path.exists() else None
    write_bytes(path, appended(original, text, PREFIXES_USED, HEADER))
    try:
        load_corpus(root, use_cache=False)
    except BaseException as e:
        if original is None:
            path.unlink(missing_ok=True)
        else:
            write_bytes(path, original)
        if isinstance(e, CorpusError):
            raise ClaimRejected(path.relative_to(root).as_posix(), e) from e
        raise
    return path
