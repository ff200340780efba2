"""The server's caps, in one place: how long a query may run, how much memory and how many rows
it may take, how many run or wait at once, and how large a request body may be; with the two
that are enforced in the server process itself, the body cap (an ASGI middleware) and admission
(which turns SPARQL requests away at once when every worker is busy and the queue is full).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from verify.serve.errors import EndpointBusy

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Limits:
    """Every cap of the server; the defaults are those of `verify serve`."""

    query_timeout: float = 5.0  # seconds one SPARQL query may run, parsing included
    max_rows: int = 10_000  # rows (or triples) of one result
    workers: int = 2  # SPARQL worker processes
    queue: int = 4  # SPARQL requests that may wait for a worker; more are answered 503 at once
    query_memory_mib: int = 512  # memory one worker may take beyond its opened store
    max_body: int = 1 << 20  # bytes of one request body
    max_query_chars: int = 100_000


class Admission:
    """At most `slots` requests inside at once; the next is refused at once rather than queued,
    so that a burst of slow queries costs the server neither threads nor memory."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._used = 0
        self._lock = threading.Lock()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block; raises EndpointBusy when none is free."""
        with self._lock:
            if self._used >= self.slots:
                raise EndpointBusy(
                    f"{self.slots} SPARQL queries are already running or waiting; try again shortly"
                )
            self._used += 1
        try:
            yield
        finally:
            with self._lock:
                self._used -= 1


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Answers 413 to a request whose body is longer than `max_body` bytes, without reading it:
    a declared Content-Length is checked before the app runs, and a chunked body is counted as
    it streams and cut off at the cap."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None:
            await _reply(send, 400, "bad request", "the Content-Length header is not a number")
            return
        if declared > self.max_body:
            await _reply(send, 413, "body too large", self._detail())
            return
        seen = 0
        started = False

        async def counted() -> Message:
            """The next body message, counted against the cap."""
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            """Send on, noting whether the response has started."""
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:
                raise
            await _reply(send, 413, "body too large", self._detail())

    def _detail(self) -> str:
        return f"the request body may be at most {self.max_body} bytes"


def _content_length(scope: Scope) -> int | None:
    """The declared body length (0 when none is declared), or None when it is not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return 0


async def _reply(send: Send, status: int, error: str, detail: str) -> None:
    # Connection: close, because the rest of the body is left unread on the socket.
    body = json.dumps({"error": error, "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
