"""`verify serve`'s app: create_app puts together the JSON API, the SPARQL endpoint and the site
files in one FastAPI app, with the body cap in front and one JSON shape for every error.

Everything is read-only: no route writes a file, and paths cannot leave the site. The server
fetches nothing for a client: there is no /docs or /redoc page, because FastAPI's would load
their scripts from a CDN; the schema is at /openapi.json.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

import verify
from kg.store import Corpus
from verify.publish import sitedata
from verify.serve.claims_api import register_catalogue_api, register_claims_api
from verify.serve.endpoint import SparqlEndpoint
from verify.serve.limits import BodyLimit, Limits
from verify.serve.models import error
from verify.serve.sparql_api import register_sparql
from verify.serve.static import register_static

DESCRIPTION = ("Claims about PyTorch vs TensorFlow, their checks and verdicts: the JSON API and "
               "the read-only SPARQL endpoint behind the claims site.")  # fmt: skip


def create_app(site_dir: Path, corpus: Corpus, limits: Limits | None = None, *,
               allow_unsandboxed: bool = False, scratch: Path | None = None) -> FastAPI:  # fmt: skip
    """The server app for a published site folder and the corpus it was built from; raises
    SandboxUnavailable where SPARQL workers cannot be kept off the network, unless allowed."""
    limits = limits or Limits()
    site = Path(site_dir).resolve()
    data = sitedata.gather(corpus, documents=False)
    endpoint = SparqlEndpoint(corpus.embedded, limits, require_guard=not allow_unsandboxed,
                              scratch=scratch)  # fmt: skip

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        """Stop the workers and remove the store copy when the server stops."""
        yield
        endpoint.close()

    app = FastAPI(title="fwclaims", version=verify.__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)  # fmt: skip
    app.state.sparql = endpoint
    app.add_middleware(BodyLimit, max_body=limits.max_body)
    register_errors(app)
    register_claims_api(app, data)
    register_catalogue_api(app, data)
    register_sparql(app, endpoint)
    register_static(app, site)  # last: it takes every path the others do not
    return app


def register_errors(app: FastAPI) -> None:
    """Answer HTTP and validation errors in the API's one JSON error shape."""

    @app.exception_handler(HTTPException)
    async def http_error(_req, exc: HTTPException):
        """404, 405 and the rest, as JSON."""
        text = {404: "not found", 405: "method not allowed"}.get(exc.status_code, "bad request")
        return error(exc.status_code, text, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(_req, exc: RequestValidationError):
        """A parameter that fails its declared type or bounds: 422, with every problem."""
        return error(422, "invalid request", exc.errors())
