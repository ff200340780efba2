"""What a new claim needs: its values (ClaimSpec), the ids and notations it may use (Vocab), which
values are still missing (gaps) and whether the given ones are known (check_known).

`verify claim new` gathers the values (flags or prompts); kg.claimfile writes the claim into a
claims file and keeps it only if the corpus stays valid. A claim's first check comes from the
check options; each further check (a kg.checkspec.CheckSpec, read from one `--check` value) names
only what it changes, and `all_checks` fills in the rest from the first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kg import ns
from kg.checkspec import CHECK_ID_MAX, COMBINE, CheckSpec, is_check_id
from kg.errors import UsageError
from kg.model import MAIN_CHECK
from kg.store import Corpus
from kg.textutil import did_you_mean

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
FAVOURS = ("pytorch", "tensorflow", "jax", "both", "neither")
LOWER_IS_BETTER = ("latency", "time", "memory")
REQUIRED_RULE = ("metric", "subject", "threshold", "quantifier")


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
    check_id: str | None = None  # the first check's id (MAIN_CHECK when not given)
    stands_in: str | None = None  # what the first check runs in place of what the claim is about
    more_checks: list[CheckSpec] = field(default_factory=list)
    combine: str | None = None  # how several checks' verdicts make the claim's ("all", "any")


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
            r["id"]: ns.graph_path(r["g"])
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


def all_checks(spec: ClaimSpec) -> list[CheckSpec]:
    """The claim's checks in full, the first from the check options, then each further check as
    a copy of the first with its changes: a parameter given as null is left out, and a new
    --metric without --better lets `better` follow the metric again."""
    if not spec.benchmark:
        return []
    first = CheckSpec(
        spec.check_id or MAIN_CHECK,
        spec.benchmark,
        dict(spec.parameters),
        rule=dict(spec.rule),
        stands_in=spec.stands_in or None,
    )
    out = [first]
    for more in spec.more_checks:
        params = dict(more.parameters)
        if not more.replace_parameters:
            params = {**first.parameters, **params}
        rule = {**first.rule, **more.rule}
        if "metric" in more.rule and "better" not in more.rule:
            rule.pop("better", None)
        stands_in = first.stands_in if more.stands_in is None else more.stands_in or None
        kept = {k: v for k, v in params.items() if v is not None}
        out.append(CheckSpec(more.id, more.benchmark or first.benchmark, kept, rule=rule,
                             stands_in=stands_in))  # fmt: skip
    return out


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
    if not derived_sources(spec, vocab) and not spec.rests_on:
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


def derived_sources(spec: ClaimSpec, vocab: Vocab) -> list[str]:
    """The sources the claim rests on: those named, else its source when that is primary."""
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


def check_known(spec: ClaimSpec, vocab: Vocab) -> None:
    """Raise UsageError (with suggestions) for any id or notation given so far that the corpus
    does not know; values not given yet are not checked."""
    if spec.id and not ns.is_claim_id(spec.id):
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
    _check_checks(spec, vocab)


def _check_checks(spec: ClaimSpec, vocab: Vocab) -> None:
    """Raise UsageError for check ids, further checks and --combine that cannot be written."""
    if spec.check_id is not None and not is_check_id(spec.check_id):
        raise UsageError(
            f"--check-id '{spec.check_id}' is not kebab-case (lower-case letters, digits, single"
            f" hyphens, at most {CHECK_ID_MAX} characters), e.g. --check-id xla"
        )
    if (spec.not_checkable or spec.benchmark == "") and (
        spec.more_checks or spec.check_id or spec.stands_in
    ):
        raise UsageError(
            "--check, --check-id and --stands-in describe a claim's checks: give --benchmark"
            " and the rule for its first check, or leave them out with --not-checkable"
        )
    if spec.combine and spec.combine not in COMBINE:
        raise UsageError(f"--combine must be all or any, not '{spec.combine}'")
    if spec.combine and not spec.more_checks:
        raise UsageError(
            "--combine says how several checks make the claim's verdict: add a further check"
            " with --check, or leave --combine out"
        )
    ids = [spec.check_id or MAIN_CHECK]
    for more in spec.more_checks:
        where = f"--check {more.id}"
        if more.id in ids:
            raise UsageError(
                f"{where}: another check of the claim has the id '{more.id}' (the first check's"
                f" is '{ids[0]}', set with --check-id): give each check its own id"
            )
        ids.append(more.id)
        if more.benchmark and more.benchmark not in vocab.benchmarks:
            raise UsageError(
                f"{where}: unknown benchmark '{more.benchmark}'."
                f"{did_you_mean(more.benchmark, sorted(vocab.benchmarks))} Known: "
                f"{', '.join(sorted(vocab.benchmarks))} (claims/benchmarks.ttl)."
            )
        if more.rule.get("quantifier"):
            try:
                vocab.concept("quantifiers", str(more.rule["quantifier"]), "quantifier")
            except UsageError as e:
                raise UsageError(f"{where}: {e}") from None


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
