"""Commands that build and serve the claims site: publish, serve."""

from __future__ import annotations

from pathlib import Path

import typer

from verify.cli.output import console, corpus, print_json, safe


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the app."""
    app.command()(publish)
    app.command()(serve)


def _default_out() -> Path:
    from kg import paths

    return paths.find_root() / "_site"


def publish(
    out: Path = typer.Option(
        None, "--out", help="Folder to write the site into (default: _site/ in the project).",
        file_okay=False,
    ),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    full: bool = typer.Option(False, "--full", help="Render every page again, even those of "
                              "claims that did not change since the previous site, into a new "
                              "folder that then replaces the old site (with 400 claims or more, "
                              "helper processes, one per spare core up to 3, render claim pages "
                              "beside the main one)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Canonicalise every claim's Turtle "
                                  "and JSON-LD again instead of taking unchanged ones from the "
                                  "cache, query every run record again instead of only "
                                  "those added since the previous publish, and render every "
                                  "row of the pages that list all claims or runs again."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid-records", help="Publish even when some run records cannot be "
        "read: leave them out, and name them on the site's index and method pages.",
    ),
) -> None:  # fmt: skip
    """Build the static claims site: index matrix, one page per claim, sources, environments,
    method, changes, an Atom feed and CSV downloads. Works from file:// with no network.
    Over a previous site, only the files that change are written, each put in place whole once
    every page is rendered (a failed publish leaves the old site); the files of claims whose
    inputs did not change stay as they are (the result is the same as with --full, which builds
    a new folder and swaps it in).
    Refuses (exit 2) when a run record cannot be read, unless --skip-invalid-records is given."""
    from verify.publish.build import publish as build

    result = build(corpus(), out or _default_out(), full=full, skip_invalid_records=skip_invalid,
                   cache=not no_cache)  # fmt: skip
    if json_out:
        print_json(result.to_dict())
        return
    console().print(
        f"published {result.pages} pages ({result.files} files, {result.claims} claims, "
        f"{result.reused} unchanged) to {safe(result.out)} in {result.seconds:.1f} s"
    )


def serve(
    site: Path = typer.Option(
        None, "--site", help="The published site folder (default: _site/ in the project; "
        "published first if missing).", file_okay=False,
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on.", min=0, max=65535),
    timeout: float = typer.Option(5.0, "--query-timeout", help="Seconds a SPARQL query may run."),
    max_rows: int = typer.Option(10_000, "--max-rows", help="Most SPARQL result rows returned.",
                                 min=1),
    memory: int = typer.Option(512, "--query-memory", help="MiB a SPARQL query may take; "
                               "past it the query is stopped (503).", min=16),
    workers: int = typer.Option(2, "--sparql-workers", help="SPARQL worker processes.", min=1),
    unsandboxed: bool = typer.Option(
        False, "--allow-unsandboxed-sparql", help="Run the SPARQL endpoint even where its "
        "workers cannot be kept off the network (anywhere but Linux on x86-64 or AArch64).",
    ),
) -> None:  # fmt: skip
    """Serve the site, a JSON API (/api/claims, /api/sources, /api/environments; its OpenAPI
    schema at /openapi.json, with no /docs or /redoc page, since those load scripts from the
    network) and a read-only SPARQL endpoint (/sparql) that refuses federated queries. Nothing
    a client sends writes anything or makes the server fetch anything."""
    import uvicorn

    from verify.publish.build import MARKER
    from verify.publish.build import publish as build
    from verify.serve.app import create_app
    from verify.serve.limits import Limits

    c = corpus()
    site = site or _default_out()
    if not (site / MARKER).is_file():
        result = build(c, site, skip_invalid_records=True)  # warned about above
        console(stderr=True).print(f"published {result.pages} pages to {safe(site)} first")
    limits = Limits(query_timeout=timeout, max_rows=max_rows, query_memory_mib=memory,
                    workers=workers)  # fmt: skip
    app_ = create_app(site, c, limits, allow_unsandboxed=unsandboxed)
    if app_.state.sparql.unguarded_because:
        console(stderr=True).print(
            "warning: SPARQL workers can reach the network:"
            f" {safe(app_.state.sparql.unguarded_because)}"
        )
    console(stderr=True).print(
        f"serving {safe(site)} on http://{safe(host)}:{port}/ (Ctrl+C stops)"
    )
    uvicorn.run(app_, host=host, port=port, log_level="warning")
