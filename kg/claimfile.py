"""Write a new claim into claims/*.ttl (or a new source into claims/sources.ttl) and keep it
only if the corpus stays valid.

The claim (a kg.scaffold.ClaimSpec) is rendered as one Turtle block in the style of the
hand-written files, with one fwc:checkedBy node per check; the whole corpus with it appended is
validated, and only a valid result is written (atomically). If anything is wrong the file is not
touched and ClaimRejected carries the problems; a claim with several checks has each check
judged first, so that a problem names its check.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import api, checkrules, ns, paths
from kg.checkspec import CheckSpec
from kg.errors import CorpusError, UsageError
from kg.fsutil import locked
from kg.load import load_corpus
from kg.rows import Claim
from kg.scaffold import (
    CONDITIONS,
    LOWER_IS_BETTER,
    ClaimSpec,
    Vocab,
    all_checks,
    check_known,
    derived_sources,
    fill,
    gaps,
)
from kg.store import Corpus
from kg.turtle_text import appended, block, literal, long_literal, number, write_bytes

DEFAULT_FILE = "claims/user-claims.ttl"
PREFIXES_USED = ("fwc", "claim", "src", "bench", "schema", "prov")
HEADER = "Claims added with `verify claim new`."


class ClaimRejected(CorpusError):
    """The new claim would make the corpus invalid; its file was left as it was."""

    def __init__(self, path: str, error: CorpusError, what: str = "claim") -> None:
        self.problems = getattr(error, "problems", [])
        super().__init__(f"the {what} was not added and {path} is unchanged. {error}")


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
    derived = derived_sources(spec, vocab)
    if derived:
        props.append(("prov:wasDerivedFrom", ", ".join(f"src:{s}" for s in derived)))
    if spec.rests_on:
        props.append(("fwc:restsOn", literal(spec.rests_on)))
    if spec.contradicts:
        props.append(("fwc:contradicts", ", ".join(f"claim:{c}" for c in spec.contradicts)))
    cond = _conditions(spec, vocab)
    if cond:
        props.append(("fwc:condition", block("fwc:Conditions", cond, 1)))
    checks = all_checks(spec)
    if len(checks) > 1:
        props.append(("fwc:combine", literal(spec.combine or "all")))
    if checks:
        named = len(checks) > 1 or spec.check_id is not None
        nodes = [block("fwc:Check", _check(c, vocab, named), 1) for c in checks]
        props.append(("fwc:checkedBy", " ,\n      ".join(nodes)))
    else:
        props.append(("fwc:notCheckableBecause", literal(spec.not_checkable or "")))
    body = " ;\n".join(f"    {p} {o}" for p, o in props)
    return f"claim:{spec.id} a {kind_class} ;\n{body} .\n"


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


def _check(check: CheckSpec, vocab: Vocab, named: bool) -> list[tuple[str, str]]:
    rows = [("fwc:checkId", literal(check.id))] if named else []
    if check.stands_in:
        rows.append(("fwc:standsIn", literal(check.stands_in)))
    rows.append(("fwc:benchmark", f"bench:{check.benchmark}"))
    if check.parameters:
        text = json.dumps(check.parameters, ensure_ascii=False)
        rows.append(("fwc:parameters", long_literal(text)))
    rows.append(("fwc:rule", block("fwc:DecisionRule", _rule(check.rule, vocab), 2)))
    return rows


def _rule(r: dict[str, Any], vocab: Vocab) -> list[tuple[str, str]]:
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


@dataclass(frozen=True)
class Added:
    """A claim `add_claim` wrote: its file, and the claim as the validated corpus reads it."""

    path: Path
    claim: Claim


def add_claim(
    root: Path,
    spec: ClaimSpec,
    file: str | Path | None = None,
    vocab: Vocab | None = None,
    *,
    ask: Callable[..., str] | None = None,
) -> Added:
    """Fill in what the spec lacks (see `fill`), check that the corpus with the claim appended
    to its file is valid, and only then write the file; on any problem nothing is written and
    ClaimRejected carries the problems.

    The whole corpus is validated in a scratch copy of the project (links to its files, the
    changed file itself), so no reader ever sees a claim that is then refused, and there is
    nothing to take back. The claims folder is locked from reading what exists to the write,
    so commands adding claims at once take turns and none loses another's claim. Prompts are
    answered before the lock is taken."""
    vocab = vocab or Vocab(load_corpus(root))
    fill(spec, vocab, ask)
    path = claims_file(root, file)
    with locked(paths.claims_dir(root)):
        corpus = load_corpus(root)  # with the claims added meanwhile
        text = render(spec, Vocab(corpus))
        _refuse_bad_checks(corpus, spec)
        try:
            original = path.read_bytes() if path.exists() else None
            written = appended(original, text, PREFIXES_USED, HEADER)
        except (OSError, UnicodeDecodeError) as e:
            raise _cannot(path, e) from e
        rel = path.relative_to(root).as_posix()
        with _with_file(root, rel, written) as trial:
            try:
                claim = api.claim(load_corpus(trial, use_cache=False), spec.id or "")
            except CorpusError as e:
                raise ClaimRejected(rel, e) from e
        try:
            write_bytes(path, written)
        except OSError as e:
            raise _cannot(path, e) from e
    return Added(path, claim)


def _refuse_bad_checks(corpus: Corpus, spec: ClaimSpec) -> None:
    """For a claim with several checks, raise UsageError naming the first check whose benchmark,
    parameters or tiers `verify check` would refuse (its own rules, kg.checkrules); the trial
    load would report them too, but at the line of the first check's property of that name."""
    checks = all_checks(spec)
    if len(checks) < 2:
        return
    for i, check in enumerate(checks):
        found = checkrules.new_check_problems(
            corpus, check.benchmark or "", check.parameters,
            check.rule.get("subject"), check.rule.get("baseline"),
        )  # fmt: skip
        if found:
            where = f"--check {check.id}" if i else f"the first check ('{check.id}')"
            raise UsageError(f"{where}: {found[0]}")


SOURCES_FILE = "claims/sources.ttl"
SOURCE_PREFIXES = ("fwc", "src", "schema", "cito", "xsd")
SOURCE_HEADER = "Sources added with `verify source new`."
ROLES = {"survey": ("Survey", "schema:ScholarlyArticle"),
         "secondary-article": ("SecondaryArticle", "schema:Article"),
         "primary-study": ("PrimaryStudy", "schema:ScholarlyArticle"),
         "dataset": ("DataSet", "schema:Dataset"), "documentation": ("Documentation", "schema:WebPage")}  # fmt: skip
_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


@dataclass
class SourceSpec:
    """A source as `verify source new` takes it (None: not given; asked for at a terminal)."""

    id: str | None = None
    name: str | None = None
    role: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    url: str | None = None
    description: str | None = None
    cites: list[str] = field(default_factory=list)  # sources it cites as evidence


def render_source(spec: SourceSpec, known: set[str]) -> str:
    """The source as a Turtle block in the style of claims/sources.ttl; bad input raises
    UsageError naming the flag."""
    sid, role = spec.id or "", spec.role or ""
    if not ns.is_claim_id(sid):
        raise UsageError(f"--id '{sid}': a source id is kebab-case, like becirovic-2025")
    if sid in known:
        raise UsageError(
            f"--id '{sid}': a source with that id exists already (verify sources {sid})"
        )
    if role not in ROLES:
        raise UsageError(f"--role '{role}': use one of {', '.join(ROLES)}")
    if not (spec.name or "").strip():
        raise UsageError("--name: a source needs its title")
    if spec.date and not _DATE.match(spec.date):
        raise UsageError(f"--date '{spec.date}': use YYYY, YYYY-MM or YYYY-MM-DD")
    if spec.url and not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", spec.url):
        raise UsageError(f"--url '{spec.url}': give an http:// or https:// address")
    unknown = [c for c in spec.cites if c not in known]
    if unknown:
        raise UsageError(f"--cites '{unknown[0]}' is not a known source (verify sources)")
    concept, cls = ROLES[role]
    rows = [("schema:identifier", literal(sid)), ("schema:name", literal(spec.name or ""))]
    rows += [("schema:author", literal(a)) for a in spec.authors]
    if len(spec.authors) > 1:  # the graph keeps schema:author as a set; the list keeps the order
        rows.append(("bibo:authorList", f"( {' '.join(literal(a) for a in spec.authors)} )"))
    if spec.date:
        kind = {4: "gYear", 7: "gYearMonth"}.get(len(spec.date), "date")
        rows.append(("schema:datePublished", f"{literal(spec.date)}^^xsd:{kind}"))
    if spec.url:
        rows.append(("schema:sameAs", f"<{spec.url}>"))
    rows.append(("fwc:role", f"fwc:{concept}"))
    if spec.description:
        rows.append(("schema:description", literal(spec.description)))
    if spec.cites:
        rows.append(("cito:citesAsEvidence", ", ".join(f"src:{c}" for c in spec.cites)))
    body = " ;\n".join(f"    {p} {o}" for p, o in rows)
    return f"src:{sid} a {cls} ;\n{body} .\n"


def add_source(root: Path, spec: SourceSpec, *, ask: Callable[..., str] | None = None) -> Path:
    """Append a source to claims/sources.ttl as add_claim appends a claim: missing id, title and
    role asked for (when `ask` is given), the corpus validated with it in a scratch copy under
    the claims folder's lock, and the file written only if the result is valid."""
    for name, prompt in (("id", "Source id (kebab-case)"), ("name", "Title"),
                         ("role", f"Role ({', '.join(ROLES)})")):  # fmt: skip
        if not getattr(spec, name) and ask is not None:
            setattr(spec, name, ask(prompt))
    path = root / SOURCES_FILE
    with locked(paths.claims_dir(root)):
        text = render_source(spec, {s.id for s in api.sources(load_corpus(root))})
        try:
            original = path.read_bytes() if path.exists() else None
            written = appended(original, text, SOURCE_PREFIXES, SOURCE_HEADER)
        except (OSError, UnicodeDecodeError) as e:
            raise _cannot(path, e) from e
        with _with_file(root, SOURCES_FILE, written) as trial:
            try:
                load_corpus(trial, use_cache=False)
            except CorpusError as e:
                raise ClaimRejected(SOURCES_FILE, e, "source") from e
        try:
            write_bytes(path, written)
        except OSError as e:
            raise _cannot(path, e) from e
    return path


def _cannot(path: Path, e: Exception) -> UsageError:
    return UsageError(
        f"cannot add to {path} ({getattr(e, 'strerror', None) or e}): choose another --file, or"
        " make that one a writable UTF-8 file; nothing was added"
    )


@contextmanager
def _with_file(root: Path, rel: str, data: bytes) -> Iterator[Path]:
    """A scratch project that is `root` with the file `rel` holding `data`: the claims and
    snapshot files are links to the real ones (run records are not needed to judge claims).
    Named like a run's scratch folder, so one left by a killed command is removed later."""
    stamp = f"fwclaims-claim-{os.getpid()}-{int(time.time() * 1000)}-"
    with tempfile.TemporaryDirectory(prefix=stamp) as tmp:
        trial = Path(tmp)
        for folder in (paths.claims_dir(root), paths.snapshots_dir(root)):
            if not folder.is_dir():
                continue
            mirror = trial / folder.relative_to(root)
            mirror.mkdir(parents=True)
            for f in folder.glob("*.ttl"):
                (mirror / f.name).symlink_to(f.absolute())
        target = trial / rel
        target.unlink(missing_ok=True)
        target.write_bytes(data)
        yield trial
