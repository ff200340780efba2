"""Commands that read the claims graph: check, list, show, sources, audit, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from kg.model import Kind, plain, verdict_words
from kg.rows import Claim
from verify.cli import formats
from verify.cli.output import console, corpus, print_json, safe, table

KINDS = [k.value for k in Kind]
JSON = typer.Option(False, "--json", help="Print JSON for scripts instead of text.")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the app."""
    app.command()(check)
    app.command("list")(list_)
    app.command()(show)
    app.command()(sources)
    app.command()(audit)
    app.command()(export)


def check(json_out: bool = typer.Option(False, "--json", help="Print a JSON summary.")) -> None:
    """Validate every claim file and run record (Turtle syntax, SHACL shapes, ids, benchmarks,
    parameters, record schema).

    Prints one line per problem (file:line: claim: what to do) and exits 2 if there is any;
    writes nothing.
    """
    from kg import api

    c = corpus(use_cache=False, record_policy="strict", store="")  # the files, not a server
    claims = api.list_claims(c)
    summary = {
        "ok": True,
        "files": [p.name for p in c.files],
        "claims": len(claims),
        "checkable": sum(r.checkable for r in claims),
        "sources": len(api.sources(c)),
        "triples": len(c.store),
        "records": len(c.records),
    }
    if json_out:
        print_json(summary)
        return
    console().print(
        f"ok: {summary['claims']} claims ({summary['checkable']} with a check), "
        f"{summary['sources']} sources, {summary['records']} run records, "
        f"{summary['triples']} triples in {len(c.files)} files; no problems."
    )


def list_(
    category: str = typer.Option(
        None, "--category", "-c", help="Only this category (e.g. inference-latency)."
    ),
    kind: str = typer.Option(None, "--kind", "-k", help=f"Only this kind: {', '.join(KINDS)}."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON rows instead of a table."),
    fmt: str = formats.option(),
) -> None:
    """List claims with their kind, category and check.

    --format csv or parquet gives every column of kg.frames.claims (the check's rule, sources,
    and one column per condition)."""
    from kg import api
    from kg.errors import UsageError

    fmt = formats.resolve(fmt, json_out)
    c = corpus()
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind '{kind}': use one of {', '.join(KINDS)}")
    if category is not None:
        known = [k.notation for k in api.categories(c)]
        if category not in known:
            raise UsageError(f"unknown category '{category}': use one of {', '.join(known)}")
    rows = api.list_claims(c, category=category, kind=kind)
    if fmt == "json":
        print_json([{**plain(r), "checkable": r.checkable} for r in rows])
        return
    if fmt in ("csv", "parquet"):
        from kg import frames

        df = frames.claims(c)
        formats.write_frame(df.loc[[r.id for r in rows]], fmt, index=True)
        return
    out = console()
    out.print(
        table(
            ["id", "kind", "category", "check", "claim"],
            [[r.id, r.kind, r.category, r.check or "-", r.text] for r in rows],
        )
    )
    out.print(
        f"{len(rows)} claims. `verify show ID` for one; `verify run --claim ID` to check one."
    )


def show(
    claim_id: str = typer.Argument(
        ..., metavar="ID", help="A claim id, as listed by `verify list`."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the claim as JSON."),
) -> None:
    """Show one claim: statement, where it appears, what it rests on, conditions, check."""
    from kg import api

    cp = corpus()
    c = api.claim(cp, claim_id)
    chains = api.citation_chains(cp, claim_id)
    verdicts = latest_verdicts(cp, c)
    if json_out:
        print_json({**plain(c), "citation_chains": chains, "latest_verdicts": verdicts})
        return
    _print_claim(c, chains)
    _print_verdicts(verdicts)


def latest_verdicts(cp: Any, c: Claim) -> list[dict[str, Any]]:
    """The claim's newest verdict per environment, this machine's (the newest run's) first:
    each check's, and for several checks the combined one."""
    from kg import api
    from kg.environments import machine_label, newest_environment, row_versions, versions_text
    from verify.judge.numbers import readable

    here = newest_environment(api.runs(cp))
    envs = {e.id: e for e in api.environments(cp)}
    latest = api.latest_check_runs(cp, c.id)
    ids = [ck.check_id for ck in c.checks]
    out = []
    for env_id in sorted(latest, key=lambda e: (e != here, e)):
        by_check, env = latest[env_id], envs.get(env_id)
        label = f"{machine_label(env)}, {versions_text(row_versions(env))}" if env else env_id
        checks = [{"check_id": k, "label": r.verdict.value, "qualifier": r.qualifier,
                   "scope": r.scope, "run": r.run, "ended": r.ended,
                   "explanation": readable(r.explanation or "")}
                  for k, r in sorted(by_check.items())]  # fmt: skip
        checks += [{"check_id": k, "label": None, "qualifier": None, "scope": None, "run": None,
                    "ended": None, "explanation": ""} for k in ids if k not in by_check]  # fmt: skip
        joint = c.combined(by_check)
        out.append({"environment": env_id, "environment_label": label, "here": env_id == here,
                    "checks": checks,
                    "combined": {"label": joint[0].value, "scope": "outside" if joint[1] else None}
                    if joint else None})  # fmt: skip
    return out


def _print_verdicts(verdicts: list[dict[str, Any]]) -> None:
    out, s = console(), safe
    out.print("[bold]Latest verdicts[/bold]")
    if not verdicts:
        out.print("  none yet: no run of this claim is recorded")
    for v in verdicts:
        where = ("this machine, " if v["here"] else "") + v["environment_label"]
        out.print(f"  {s(where)} {s('[' + v['environment'] + ']')}")
        for ck in v["checks"]:
            words = (
                verdict_words(ck["label"], ck["qualifier"], ck["scope"])
                if ck["label"]
                else "not run"
            )
            when = f" ({s((ck['ended'] or '')[:10])})" if ck["ended"] else ""
            out.print(f"    {s(ck['check_id'])}: [bold]{s(words)}[/bold]{when}")
            if ck["explanation"]:
                out.print(f"      {s(ck['explanation'])}")
        if v["combined"]:
            words = verdict_words(v["combined"]["label"], None, v["combined"]["scope"])
            out.print(f"    combined: [bold]{s(words)}[/bold]")


def _print_claim(c: Claim, chains: list[list[str]]) -> None:
    out, s = console(), safe
    out.print(f"[bold]{s(c.id)}[/bold]  ({s(c.kind)} claim, {s(c.category)})")
    out.print(s(c.text))
    out.print("\n[bold]Appears in[/bold]")
    for a in c.appearances:
        wording = f' — "{s(a.wording)}"' if a.wording else ""
        out.print(f"  {s(a.doc)} ({s(a.role)}), {s(a.locator)}{wording}")
    out.print("[bold]Rests on[/bold]")
    for d in c.derived_from:
        out.print(f"  {s(d.id)} ({s(d.role)}) {s(d.name)}" + (f" <{s(d.url)}>" if d.url else ""))
    if c.rests_on:
        out.print(f"  {s(c.rests_on)}")
    if chains:
        out.print("[bold]Citation chains[/bold]")
        for chain in chains:
            out.print("  " + " -> ".join(map(s, chain)))
    if c.conditions:
        out.print("[bold]Conditions[/bold]")
        for k, v in sorted(c.conditions.items()):
            out.print(f"  {s(k)}: {s(v)}")
    out.print("[bold]Check[/bold]" + (f"s (combined: {c.combine})" if len(c.checks) > 1 else ""))
    for ck in c.checks:
        rule = ck.rule
        params = json.dumps(ck.parameters, ensure_ascii=False)
        name = f"{s(ck.check_id)}: " if len(c.checks) > 1 else ""
        out.print(f"  {name}{s(ck.benchmark_type)} {s(ck.benchmark)} with {s(params)}")
        vs = f" vs {s(rule.baseline)}" if rule.baseline else ""
        out.print(
            f"  rule: {s(rule.metric)} ({s(rule.better)} is better), {s(rule.subject)}{vs}, "
            f"{s(rule.quantifier)} {rule.threshold:g} ± {rule.tolerance:.0%}"
        )
        if ck.stands_in:
            out.print(f"  stands in: {s(ck.stands_in)}")
    if c.checks:
        out.print(f"  run it: verify run --claim {s(c.id)}")
    else:
        out.print(f"  not checkable: {s(c.not_checkable_because)}")
    if c.contradicts:
        out.print(f"[bold]Contradicts[/bold] {', '.join(map(s, c.contradicts))}")


def sources(
    source_id: str = typer.Argument(None, metavar="[ID]", help="Show one source and its claims."),
    json_out: bool = JSON,
) -> None:
    """List the bibliography: surveys, articles, primary studies, data sets, documentation."""
    from kg import api, views

    c = corpus()
    if source_id:
        s, uses = api.source(c, source_id)
        if json_out:
            print_json({**plain(s), "claims": plain(uses)})
            return
        out = console()
        url = f" <{safe(s.url)}>" if s.url else ""
        out.print(f"[bold]{safe(s.id)}[/bold] ({safe(s.role)}) {safe(s.name)}{url}")
        for u in uses:
            out.print(f"  {u.how:<9} {safe(u.id)}")
        return
    rows = api.sources(c)
    degree = views.primary_in_degree(c)
    if json_out:
        print_json([{**plain(r), "cited_by": degree.get(r.id)} for r in rows])
        return
    console().print(
        table(
            ["id", "role", "date", "appears", "rests-on", "cited by", "title"],
            [
                [r.id, r.role, r.date, r.appears, r.supports, degree.get(r.id) or "", r.name]
                for r in rows
            ],
        )  # fmt: skip
    )


def audit(json_out: bool = JSON) -> None:
    """Weak spots of the evidence: claims on a single secondary source, contradictions,
    and how often each primary source is relied on."""
    from kg import views

    c = corpus()
    report = {
        "single_secondary_source": views.single_secondary_claims(c),
        "contradictions": views.contradiction_groups(c),
        "primary_in_degree": views.primary_in_degree(c),
    }
    if json_out:
        print_json(report)
        return
    out = console()
    weak = report["single_secondary_source"]
    out.print(
        f"[bold]Claims resting on one secondary source and no primary study ({len(weak)})[/bold]"
    )
    for cid in weak:
        out.print(f"  {safe(cid)}")
    out.print(f"[bold]Groups of contradicting claims ({len(report['contradictions'])})[/bold]")
    for g in report["contradictions"]:
        out.print("  " + " <-> ".join(map(safe, g)))
    out.print("[bold]Primary sources by in-degree[/bold]")
    for s, d in report["primary_in_degree"].items():
        out.print(f"  {d:>3}  {safe(s)}")


def export(
    fmt: str = typer.Option("turtle", "--format", "-f", help="turtle, jsonld or nquads."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Write to this file (default: stdout).", dir_okay=False
    ),
    to: str = typer.Option(
        None, "--to", metavar="URL", help="Load the graph into the SPARQL server at URL instead "
        "(e.g. http://127.0.0.1:7878 of `oxigraph serve`), replacing what it held; then "
        "FWCLAIMS_STORE=URL makes every reading command query it.",
    ),
) -> None:  # fmt: skip
    """Export the whole graph (claims, sources, benchmarks, runs) as Turtle, JSON-LD or N-Quads,
    or load it into a SPARQL server (--to URL)."""
    from kg.export import export as do_export
    from kg.export import to_server
    from kg.fsutil import write_atomic

    if to:
        from kg.load import store_url

        quads = to_server(corpus(store=""), store_url(to))
        console(stderr=True).print(f"loaded {quads:,} quads into {to}")
        return

    text = do_export(corpus(), fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        console(stderr=True).print(
            f"wrote {safe(output)} ({len(text.encode()):,} bytes, {safe(fmt)})"
        )
