"""The /sparql routes (SPARQL 1.1 Protocol, query operation only): read the query from the URL,
an application/sparql-query body or a form, and hand it to the endpoint; every refusal is a JSON
error that says what to change. The only SPARQL the server runs on a client's behalf goes
through here."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from verify.serve import models as m
from verify.serve.endpoint import SparqlEndpoint
from verify.serve.errors import SparqlError
from verify.serve.models import error

HOW = ("give the SPARQL query as ?query=... in the URL (URL-encoded), or POST it as an "
       "application/sparql-query body or as an application/x-www-form-urlencoded form with a "
       "query field")  # fmt: skip
READ_ONLY = "SPARQL Update is not accepted: read-only"
SPARQL_RESULTS = {
    200: {
        "description": "Query results: SELECT/ASK as SPARQL JSON or CSV, CONSTRUCT/DESCRIBE as "
        "Turtle, N-Triples or JSON-LD. `X-Result-Truncated: true` when rows were cut at the cap.",
        "content": {t: {"schema": {"type": "string"}} for t in (
            "application/sparql-results+json", "text/csv", "text/turtle",
            "application/n-triples", "application/ld+json")},
    },
    400: {"model": m.Error, "description": "No query, not a read query (SPARQL Update is "
          "refused), a federated query (SERVICE), one that does not parse, or a malformed "
          "Accept header"},
    406: {"model": m.Error, "description": "Accept names no format offered for this query"},
    413: {"model": m.Error, "description": "A request body larger than the cap (1 MiB)"},
    415: {"model": m.Error, "description": "A request body of an unsupported type"},
    503: {"model": m.Error, "description": "The query ran past the time limit or the memory "
          "cap, or every worker is busy and the queue is full"},
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


async def run_query(endpoint: SparqlEndpoint, request: Request, query: str | None,
                    fmt: str | None) -> Response:  # fmt: skip
    """Answer one query: its results, or the error the endpoint raised as JSON."""
    if not query or not query.strip():
        return error(400, "missing query", HOW)
    try:
        result = await endpoint.answer(query, fmt, request.headers.get("accept"))
    except SparqlError as e:
        return error(e.status, e.title, str(e))
    headers = {"X-Result-Truncated": "true" if result.truncated else "false",
               "X-Max-Rows": str(endpoint.limits.max_rows)}  # fmt: skip
    return Response(result.body, media_type=result.media_type, headers=headers)


def read_body(ctype: str, body: bytes) -> tuple[str | None, str | None] | Response:
    """(query, format) from a POST body, or the error answer for a body that has none."""
    if ctype == "application/sparql-update":
        return error(400, "query refused", READ_ONLY)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return error(400, "bad request", "the body is not UTF-8")
    if ctype == "application/sparql-query":
        return text, None
    if ctype == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(text, max_num_fields=10)
        except ValueError:
            return error(400, "bad request", "too many form fields")
        if "update" in form:
            return error(400, "query refused", READ_ONLY)
        return (form.get("query") or [None])[0], (form.get("format") or [None])[0]
    return error(415, "unsupported body", "send application/sparql-query or a form")


def register_sparql(app: FastAPI, endpoint: SparqlEndpoint) -> None:
    """Add GET and POST /sparql."""

    @app.get("/sparql", responses=SPARQL_RESULTS, tags=["sparql"])
    async def sparql_get(
        request: Request,
        query: str | None = Query(None, description="a SELECT, ASK, CONSTRUCT or DESCRIBE query"),
        format: str | None = Query(None, description="json, csv, turtle, ntriples or jsonld"),
    ):  # fmt: skip
        """Run a read-only SPARQL 1.1 query (the fwc:, schema:, prov: ... prefixes are known)."""
        return await run_query(endpoint, request, query, format)

    @app.post("/sparql", responses=SPARQL_RESULTS, tags=["sparql"], openapi_extra=FORM_BODY)
    async def sparql_post(request: Request, format: str | None = Query(None)):
        """The same, with the query in the body (application/sparql-query or a form)."""
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        parsed = read_body(ctype, await request.body())
        if isinstance(parsed, Response):
            return parsed
        query, form_format = parsed
        return await run_query(endpoint, request, query, format or form_format)
