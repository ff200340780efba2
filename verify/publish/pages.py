"""The site's pages: which template each uses and what it is given. Called by verify.publish.build."""

from __future__ import annotations

import csv
import hashlib
import io
import operator
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from kg.changes import Change
from kg.rows import CitationEdge, Run, Source
from verify.publish import claimpage, incremental, overview
from verify.publish.examples import EXAMPLES
from verify.publish.sitedata import (
    STATUS,
    SiteData,
    SourceClaim,
    cell_status,
    run_qualifier,
    safe_name,
    source_index,
    verdict_words,
)

FEED_EPOCH = "1970-01-01T00:00:00Z"  # `updated` of a feed with no change yet: fixed, not "now"
# the feed carries the newest changes only (a reader fetches it whole at every poll); the changes
# page lists them all
FEED_ENTRIES = 100
TABLES = (
    ("claims", "one row per claim, its check's rule and its conditions as columns"),
    ("runs", "one row per run"),
    (
        "measurements",
        "one row per run, cell and tier: median, p90, ratio, CI, batch and input size",
    ),
    ("verdicts", "claims by environments, the newest verdict in each"),
)


def write_all(w: Any, also: Callable[[], None] | None = None) -> None:
    """Render every page through the writer `w` (see verify.publish.build), and do `also` (the
    writer's other work that no page needs) while the downloads may still be written."""
    data: SiteData = w.data
    statuses = {cid: data.status(cid) for cid in data.claims}
    todo = [cid for cid in data.claims if not w.reused(cid)]
    # claim pages may be shared with helper processes (verify.publish.parallel), which start on
    # them at once while this process renders the pages that list everything first; the
    # downloads and the changes may go to a helper of their own (the writer's `beside`)
    side = w.beside([lambda: tables(w, data), lambda: changes(w, data)])
    with w.claim_pages(todo, lambda cid: claim(w, data, cid, statuses[cid])) as shared, side:
        index(w, data, statuses)
        sources(w, data, statuses)
        environments(w, data)
        method(w, data)
        w.render("queries.html", "queries.html", examples=EXAMPLES)
        for cid in shared.take():
            claim(w, data, cid, statuses[cid])
        if also is not None:
            also()
        side.join()
        files, rendered = shared.join()
    w.files, w.pages = w.files + files, w.pages + rendered


def tables(w: Any, data: SiteData) -> None:
    """The site-wide CSV downloads, from kg.frames' rows (the columns a DataFrame has), or as
    already formatted (the runs and measurements, see verify.publish.runcsv). The claims' table
    is made of the claim files alone, so the previous site's stays while they are unchanged."""
    for name, _ in TABLES:
        rel = f"data/{name}.csv"
        if name == "claims" and w.reused_page(rel, incremental.group_digest(w.kept.shared, rel,
                                                                            [])):  # fmt: skip
            continue
        text = data.text(name)
        if text is not None:
            w.write(rel, text)
            continue
        columns, rows = data.table(name)
        w.write(rel, csv_text(columns, rows))


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """The rows as CSV under a header of `columns`, byte for byte as csv.DictWriter writes them
    (a missing value, or None, empty; other keys left out), each row's values taken in one step."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(columns)
    try:
        pick = operator.itemgetter(*columns)
        out.writerows(map(pick, rows) if len(columns) > 1 else ([pick(r)] for r in rows))
    except KeyError:  # a row without some column: start again, value by value
        buf.seek(0)
        buf.truncate()
        out.writerow(columns)
        out.writerows([row.get(c, "") for c in columns] for row in rows)
    return buf.getvalue()


def _env_columns(data: SiteData) -> list[dict[str, Any]]:
    return [{"id": e, "label": data.env_label(e), "short": data.environments[e].short,
             "here": e == data.here, "page": safe_name(e)} for e in data.env_order]  # fmt: skip


def verdict_values(run: Any) -> tuple[str, str, str]:
    """What the verdict macro shows of a run (or a claim's combined verdict): its status on the
    site, its label and its qualifier's words."""
    return cell_status(run), str(run.verdict), run_qualifier(run)


def _joined(pieces: list[str]) -> Markup:
    """Pieces rendered by the macros of rows.html (escaped there), as markup for a page."""
    return Markup("".join(pieces))


def index(w: Any, data: SiteData, statuses: dict[str, str]) -> None:
    """This machine's verdicts first: the claims x environments matrix, the most informative
    claims first, with counts and filters that share one definition (SiteData.status), the
    heat-map of the same verdicts and the counts per category."""
    cells = Counter(cell_status(v) for per_env in data.combined.values() for v in per_env.values())
    order = data.informative_order()
    envs = _env_columns(data)
    here = next((e for e in envs if e["here"]), None)
    others = [e for e in envs if not e["here"]]
    shorts = tuple(e["short"] for e in others)
    row = w.env.get_template("rows.html").module.index_row
    pieces = []
    for cid in order:
        c = data.claims[cid]
        explored = data.explorations.get(cid)
        combined = data.combined.get(cid, {})
        here_run = combined.get(data.here or "")
        cells_of = tuple(None if (v := combined.get(e["id"])) is None
                         else (cell_status(v), run_qualifier(v)) for e in others)  # fmt: skip
        values = (cid, safe_name(cid), c.category, str(c.kind), c.text, statuses[cid],
                  here is not None, data.here_status(cid),
                  verdict_values(here_run) if here_run is not None else None, cells_of, shorts,
                  explored.robustness if explored else None,
                  explored is not None and explored.outside_scope)  # fmt: skip
        pieces.append(w.fragments.piece("index-row", values, row))
    w.render(
        "index.html",
        "index.html",
        rows_html=_joined(pieces),
        total=len(order),
        here=here,
        others=others,
        checked=sum(1 for c in data.claims.values() if c.checks),
        cell_counts=[(s, cells[s]) for s in STATUS if cells.get(s)],
        status_counts=data.status_counts(),
        heatmap=overview.heatmap(data, order),
        environments=len(data.env_order),
        category_bars=overview.category_bars(data),
        categories=sorted({c.category for c in data.claims.values()}),
        kinds=sorted({c.kind.value for c in data.claims.values()}),
        verdicts=data.verdicts,
        extra=data.definition,
        skipped=data.skipped,
        tables=TABLES,
    )


def claim(w: Any, data: SiteData, cid: str, status: str) -> None:
    """One claim's page and its downloads (Turtle, JSON-LD, runs CSV)."""
    c = data.claims[cid]
    name = safe_name(cid)
    sentence = claimpage.conclusion(data, cid)
    latest = data.latest.get(cid, {})
    w.render(
        f"claims/{name}.html",
        "claim.html",
        c=c,
        name=name,
        status=status,
        status_definition=data.definition(status),
        sentence=sentence,
        here={
            "run": latest.get(data.here or ""),
            "status": data.here_status(cid),
            "explanation": data.explanation(latest[data.here]) if data.here in latest else "",
        },  # fmt: skip
        chains=data.chains.get(cid, []),
        sources=data.sources,
        history=claimpage.history(data, cid),
        jsonld=claimpage.script_json(claimpage.claim_review(data, cid, sentence)),
        envs={e: safe_name(e) for e in data.environments},
        exploration=claimpage.exploration(data, cid),
        **claimpage.page_parts(data, cid),
    )
    if cid in data.documents:
        turtle, jsonld = data.documents[cid]
        w.write(f"claims/{name}.ttl", turtle)
        w.write(f"claims/{name}.jsonld", jsonld)
    w.write(f"claims/{name}.runs.csv", claimpage.runs_csv(data, cid))


@dataclass(frozen=True)
class SourceRow:
    """One source as the bibliography lists it: what it claims and how much of that holds."""

    s: Source
    page: str
    claims: list[SourceClaim]
    counts: list[tuple[str, int]]
    distinct: int


def sources(w: Any, data: SiteData, statuses: dict[str, str]) -> None:
    """The bibliography and one page per source: what it claims and how much of it holds."""
    by_source = source_index(data)
    cites: dict[str, list[CitationEdge]] = defaultdict(list)
    cited_by: dict[str, list[CitationEdge]] = defaultdict(list)
    for e in data.edges:
        if e.rel in ("cites", "reviews"):
            cites[e.source].append(e)
            cited_by[e.target].append(e)
    rows = []
    for sid, s in data.sources.items():
        claims = by_source.get(sid, [])
        distinct = {r.id for r in claims}
        counts = Counter(statuses[cid] for cid in distinct)
        rows.append(SourceRow(s, safe_name(sid), claims,
                              [(k, counts[k]) for k in STATUS if counts.get(k)], len(distinct)))  # fmt: skip
    w.render("sources/index.html", "sources.html", rows=rows)
    for row in rows:
        rel = f"sources/{row.page}.html"  # made of claim files and its claims' statuses
        claim_digests = [w.kept.claims.get(cid, "") for cid in sorted({r.id for r in row.claims})]
        if w.reused_page(rel, incremental.group_digest(w.kept.shared, rel, claim_digests)):
            continue
        w.render(
            rel,
            "source.html",
            row=row,
            statuses=statuses,
            claims=data.claims,
            cites=cites.get(row.s.id, []),
            cited_by=cited_by.get(row.s.id, []),
            pages={k: safe_name(k) for k in data.sources},
        )


def environments(w: Any, data: SiteData) -> None:
    """Every environment: hardware, versions, and what ran there."""
    runs_by_env: dict[str, list[Run]] = defaultdict(list)
    for r in data.runs:
        runs_by_env[r.environment].append(r)
    envs = [(data.environments[e], safe_name(e)) for e in data.env_order]
    w.render("environments/index.html", "environments.html", envs=envs)
    w.fragments.live("environment-run.", {page for _, page in envs})
    for env, page in envs:
        runs = runs_by_env.get(env.id, [])
        rel = f"environments/{page}.html"  # made of the environment's row and its runs
        digest = incremental.runs_digest(w.kept.shared, repr(env), runs, data.root, w.kept.seen)
        if w.reused_page(rel, digest):
            continue
        row = w.env.get_template("rows.html").module.environment_run
        pieces = []  # kept per environment, as only the pages of changed ones are rendered
        for r in runs:
            href = claimpage.record_href(r.record)
            values = (r.ended, r.claim_id, safe_name(r.claim_id), r.benchmark,
                      verdict_values(r), href)  # fmt: skip
            pieces.append(w.fragments.piece(f"environment-run.{page}", values, row))
        w.render(
            rel,
            "environment.html",
            env=env,
            rows_html=_joined(pieces),
            counts=sorted(Counter(r.verdict.value for r in runs).items()),
        )


def method(w: Any, data: SiteData) -> None:
    """How measurements and verdicts work, with the A/A calibration when it has been run."""
    w.render("method.html", "method.html", verdicts=data.verdicts, calibration=data.calibration,
             floors=data.floors, repeatability=data.repeatability,
             multiverses=data.multiverses, skipped=data.skipped)  # fmt: skip


def changes(w: Any, data: SiteData) -> None:
    """Verdicts that flipped between consecutive runs on a machine, as a page and an Atom feed."""
    flips: list[tuple[Change, str, str]] = [
        (
            f,
            safe_name(f.claim_id),
            data.claims[f.claim_id].text if f.claim_id in data.claims else "",
        )
        for f in data.flips
    ]
    updated = max((f.when for f in data.flips if f.when), default=None)
    if updated is None:
        updated = max((r.ended for r in data.runs if r.ended), default=FEED_EPOCH)
    # made of the flips' runs (each told by its record) and the feed's time
    what = "\n".join([str(updated), *(f"{f.claim_id} {f.machine} {f.when}" for f in data.flips)])
    digest = incremental.runs_digest(w.kept.shared, what, [s for f in data.flips
                                                          for s in (f.before, f.after)],
                                     data.root, w.kept.seen)  # fmt: skip
    if not w.reused_page("changes.html", digest):
        row = w.env.get_template("rows.html").module.change_row
        pieces = []
        for f, page, _ in flips:
            values = (f.when, f.claim_id, page, f.machine, verdict_values(f.before),
                      f.before.environment_label, verdict_values(f.after),
                      f.after.environment_label, f.both_decided)  # fmt: skip
            pieces.append(w.fragments.piece("change-row", values, row))
        w.render("changes.html", "changes.html", flips=flips, rows_html=_joined(pieces),
                 feed_entries=FEED_ENTRIES)  # fmt: skip
    if not w.reused_page("changes.xml", digest):
        entries = _feed_entries(w, data, flips[:FEED_ENTRIES], updated)
        w.render("changes.xml", "changes.xml", updated=updated, entries=_joined(entries))


def _feed_entries(
    w: Any, data: SiteData, flips: list[tuple[Change, str, str]], updated: str
) -> list[str]:
    """The feed's entries, one per flip given; an entry is kept under what its after-run's
    explanation is made of (its text, its cells and the sources' names) rather than the
    explanation."""
    entry = w.env.get_template("rows.html").module.feed_entry
    names = hashlib.sha256(repr([(k, s.name) for k, s in data.sources.items()]).encode()).digest()
    out = []
    for f, page, text in flips:
        before, after = f.before, f.after
        cells = tuple((m.cell, m.ratio, m.ci_low, m.ci_high)
                      for m in data.measurements.get(after.run, []))  # fmt: skip
        shown = (after.run, f.claim_id, verdict_words(before), verdict_words(after), f.machine,
                 f.when or updated, page, text, before.environment_label,
                 after.environment_label)  # fmt: skip

        def made(shown: tuple[Any, ...] = shown, after: Any = after) -> tuple[Any, ...]:
            return (*shown, data.explanation(after))

        values = (*shown, after.explanation, cells, names)
        out.append(w.fragments.piece("feed-entry", values, entry, made))
    return out
