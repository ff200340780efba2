"""`verify serve`: the published site, a JSON API and a read-only SPARQL endpoint, in one
FastAPI app. Everything is read-only: no route writes a file, and paths cannot leave the site.

The API reads the same gathered data as the pages (verify.publish.sitedata over kg's read API), so a
page and its API answer always agree.
"""

from __future__ import annotations

import mimetypes
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

import verify
from kg.model import plain
from kg.store import Corpus
from verify.publish import claimpage, sitedata
from verify.serve import models as m
from verify.serve.endpoint import EndpointBusy, QueryRefused, QueryTimeout, SparqlEndpoint

TYPES = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".csv": "text/csv",
         ".xml": "application/atom+xml", ".js": "text/javascript", ".css": "text/css",
         ".svg": "image/svg+xml", ".json": "application/json", ".html": "text/html"}  # fmt: skip
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")  # fmt: skip
ERRORS = {400: {"model": m.Error}, 404: {"model": m.Error}, 422: {"model": m.Error}}
SPARQL_RESULTS = {
    200: {
        "description": "Query results: SELECT/ASK as SPARQL JSON or CSV, CONSTRUCT/DESCRIBE as "
        "Turtle, N-Triples or JSON-LD. `X-Result-Truncated: true` when rows were cut at the cap.",
        "content": {t: {"schema": {"type": "string"}} for t in (
            "application/sparql-results+json", "text/csv", "text/turtle",
            "application/n-triples", "application/ld+json")},
    },
    400: {"model": m.Error, "description": "Not a read query (SPARQL Update is refused), or "
          "it does not parse"},
    415: {"model": m.Error, "description": "A request body of an unsupported type"},
    503: {"model": m.Error, "description": "The query ran past the time limit, or every "
          "worker is busy"},
}  # fmt: skip
FORM_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/sparql-query": {"schema": {"type": "string"}},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}, "format": {"type": "string"}},
                    "required": ["query"],
                }
            },
        },
    }
}


def _error(status: int, error: str, detail=None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": jsonable_encoder(detail)}, status_code=status)


def site_file(site: Path, path: str) -> Path | None:
    """The file a URL path names inside the site, or None: no '..', no hidden names, no
    absolute paths, nothing that resolves (through symlinks) outside the site."""
    if "\x00" in path or "\\" in path:
        return None
    parts = PurePosixPath(path).parts
    if path.startswith("/") or any(p in ("..", ".") or p.startswith(".") for p in parts):
        return None
    target = (site / path).resolve()
    if not target.is_relative_to(site):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def create_app(site_dir: Path, corpus: Corpus, *, query_timeout: float = 5.0,
               max_rows: int = 10_000, sparql_workers: int = 2) -> FastAPI:  # fmt: skip
    """The server app for a published site folder and the corpus it was built from."""
    site = Path(site_dir).resolve()
    data = sitedata.gather(corpus, documents=False)
    statuses = {cid: data.status(cid) for cid in data.claims}
    endpoint = SparqlEndpoint(corpus.store, timeout=query_timeout, max_rows=max_rows,
                              workers=sparql_workers)  # fmt: skip

    @asynccontextmanager
    async def lifespan(_app):
        yield
        endpoint.close()

    app = FastAPI(
        title="fwclaims",
        version=verify.__version__,
        description="Claims about PyTorch vs TensorFlow, their checks and verdicts: the JSON API "
        "and the read-only SPARQL endpoint behind the claims site.",
        lifespan=lifespan,
    )
    app.state.sparql = endpoint

    @app.exception_handler(HTTPException)
    async def http_error(_req, exc: HTTPException):
        text = {404: "not found", 405: "method not allowed"}.get(exc.status_code, "bad request")
        return _error(exc.status_code, text, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(_req, exc: RequestValidationError):
        return _error(422, "invalid request", exc.errors())

    def _verdicts(cid: str) -> dict[str, str]:
        latest = data.latest.get(cid, {})
        return {e: latest[e].verdict.value for e in data.env_order if e in latest}

    def _summary(cid: str) -> dict:
        c = data.claims[cid]
        return {**plain(c), "check": c.check.benchmark if c.check else None,
                "status": statuses[cid], "verdicts": _verdicts(cid),
                "page": f"/claims/{sitedata.safe_name(cid)}.html"}  # fmt: skip

    def _claim_or_404(cid: str) -> dict:
        if cid not in data.claims:
            import difflib

            close = difflib.get_close_matches(cid, list(data.claims), n=3, cutoff=0.5)
            raise HTTPException(404, {"claim": cid, "did_you_mean": close})
        return data.claims[cid]

    @app.get("/api/claims", response_model=list[m.ClaimSummary], responses=ERRORS, tags=["claims"])
    def list_claims(
        category: str | None = Query(None, description="only this category, e.g. inference-latency"),
        kind: str | None = Query(None, description="performance, capability, adoption, qualitative"),
        status: str | None = Query(None, description="overall status or a verdict in any environment"),
        q: str | None = Query(None, max_length=200, description="words in the claim text or id"),
    ):  # fmt: skip
        """Every claim with its overall status and newest verdict per environment."""
        words = (q or "").lower().split()
        out = []
        for cid, c in data.claims.items():
            if (category and c.category != category) or (kind and c.kind != kind):
                continue
            if status and status != statuses[cid] and status not in _verdicts(cid).values():
                continue
            if any(w not in f"{cid} {c.text}".lower() for w in words):
                continue
            out.append(_summary(cid))
        return out

    @app.get("/api/claims/{claim_id}", response_model=m.ClaimDetail, responses=ERRORS,
             tags=["claims"])  # fmt: skip
    def get_claim(claim_id: str):
        """One claim: statement, sources, citation chains, conditions, check, verdicts."""
        c = _claim_or_404(claim_id)
        latest = data.latest.get(claim_id, {})
        verdicts = [
            {"environment": e, "environment_label": data.env_label(e),
             "verdict": latest[e].verdict.value, "definition": data.definition(latest[e].verdict),
             "explanation": latest[e].explanation, "run": latest[e].run,
             "ended": latest[e].ended}
            for e in data.env_order if e in latest
        ]  # fmt: skip
        return {**plain(c), "citation_chains": data.chains.get(claim_id, []),
                "status": statuses[claim_id], "conclusion": claimpage.conclusion(data, claim_id),
                "verdicts": verdicts, "page": f"/claims/{sitedata.safe_name(claim_id)}.html"}  # fmt: skip

    @app.get("/api/claims/{claim_id}/runs", response_model=list[m.Run], responses=ERRORS,
             tags=["claims"])  # fmt: skip
    def get_runs(claim_id: str):
        """A claim's runs, newest first, with the measured ratio and CI of every cell."""
        _claim_or_404(claim_id)
        out = []
        for r in data.runs_by_claim.get(claim_id, []):
            href = claimpage.record_href(r.record)
            cells = plain(data.measurements.get(r.run, []))
            out.append({**plain(r), "record": f"/{href}" if href else None, "measurements": cells})
        return out

    @app.get("/api/sources", response_model=list[m.Source], tags=["sources"])
    def list_sources():
        """The bibliography with how many claims appear in or rest on each source."""
        return [{**plain(s), "page": f"/sources/{sitedata.safe_name(s.id)}.html"}
                for s in data.sources.values()]  # fmt: skip

    @app.get("/api/environments", response_model=list[m.Environment], tags=["environments"])
    def list_environments():
        """Every environment: hardware, framework versions, number of runs."""
        return [{**plain(data.environments[e]), "page": f"/environments/{sitedata.safe_name(e)}.html"}
                for e in data.env_order]  # fmt: skip

    async def _sparql(request: Request, query: str | None, fmt: str | None) -> Response:
        if not query:
            return _error(400, "missing query", "give the SPARQL query as ?query= or in the body")
        try:
            result = await run_in_threadpool(
                endpoint.run, query, fmt, request.headers.get("accept")
            )
        except QueryRefused as e:
            return _error(400, "query refused", str(e))
        except (QueryTimeout, EndpointBusy) as e:
            return _error(503, "query not answered", str(e))
        headers = {"X-Result-Truncated": "true" if result.truncated else "false",
                   "X-Max-Rows": str(endpoint.max_rows)}  # fmt: skip
        return Response(result.body, media_type=result.media_type, headers=headers)

    @app.get("/sparql", responses=SPARQL_RESULTS, tags=["sparql"])
    async def sparql_get(
        request: Request,
        query: str = Query(..., description="a SELECT, ASK, CONSTRUCT or DESCRIBE query"),
        format: str | None = Query(None, description="json, csv, turtle, ntriples or jsonld"),
    ):  # fmt: skip
        """Run a read-only SPARQL 1.1 query (the fwc:, schema:, prov: ... prefixes are known)."""
        return await _sparql(request, query, format)

    @app.post("/sparql", responses=SPARQL_RESULTS, tags=["sparql"], openapi_extra=FORM_BODY)
    async def sparql_post(request: Request, format: str | None = Query(None)):
        """The same, with the query in the body (application/sparql-query or a form)."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if ctype == "application/sparql-update":
            return _error(400, "query refused", "SPARQL Update is not accepted: read-only")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "bad request", "the body is not UTF-8")
        if ctype == "application/sparql-query":
            return await _sparql(request, text, format)
        if ctype == "application/x-www-form-urlencoded":
            try:
                form = parse_qs(text, max_num_fields=10)
            except ValueError:
                return _error(400, "bad request", "too many form fields")
            if "update" in form:
                return _error(400, "query refused", "SPARQL Update is not accepted: read-only")
            first = lambda k: (form.get(k) or [None])[0]  # noqa: E731
            return await _sparql(request, first("query"), format or first("format"))
        return _error(415, "unsupported body", "send application/sparql-query or a form")

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    def static(path: str):
        target = site_file(site, path)
        if target is None:
            return _error(404, "not found", path)
        media = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
        headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": CSP}
        return FileResponse(target, media_type=media or "application/octet-stream", headers=headers)

    return app
