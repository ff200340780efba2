"""The published site's files: one route that maps a URL path to a file inside the site folder,
never outside it, with the media type and a content security policy that allows no script or
style from anywhere but the site itself."""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePosixPath

from fastapi import FastAPI
from fastapi.responses import FileResponse, Response

from verify.serve.models import error

TYPES = {".ttl": "text/turtle", ".jsonld": "application/ld+json", ".csv": "text/csv",
         ".xml": "application/atom+xml", ".js": "text/javascript", ".css": "text/css",
         ".svg": "image/svg+xml", ".json": "application/json", ".html": "text/html"}  # fmt: skip
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'")  # fmt: skip


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


def register_static(app: FastAPI, site: Path) -> None:
    """Serve the files of `site` (resolved) for every path no other route takes."""

    # async: a file lookup is quick, and the shared thread pool is left to FileResponse.
    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def static(path: str) -> Response:
        """A file of the site, or a JSON 404."""
        target = site_file(site, path)
        if target is None:
            return error(404, "not found", path)
        media = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
        headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": CSP}
        return FileResponse(target, media_type=media or "application/octet-stream", headers=headers)
