"""What the SPARQL endpoint answers when it does not answer with results; each error carries
its HTTP status and a short title, and its message says what to change.

SparqlError              base: status, title, message
├── QueryRefused         400: not a read query, does not parse, federated, bad format
├── MalformedHeader      400: a header that does not follow its RFC (Accept)
├── NotAcceptable        406: none of the types in Accept is offered for this query
└── NotAnswered          503: try again, or ask for less
    ├── EndpointBusy     every worker is busy and the queue is full
    ├── QueryTimeout     the query ran past the time limit and was stopped
    └── QueryTooLarge    the query needed more memory than a worker may take
"""

from __future__ import annotations


class SparqlError(Exception):
    """A SPARQL request that gets an error answer instead of results."""

    status = 400
    title = "query refused"


class QueryRefused(SparqlError):
    """A request this endpoint will not run (HTTP 400)."""


class MalformedHeader(SparqlError):
    """A request header that does not follow its grammar (HTTP 400)."""

    title = "bad request"


class NotAcceptable(SparqlError):
    """The client accepts none of the formats offered for this query (HTTP 406)."""

    status = 406
    title = "not acceptable"


class NotAnswered(SparqlError):
    """The query was not answered this time (HTTP 503)."""

    status = 503
    title = "query not answered"


class EndpointBusy(NotAnswered):
    """Every worker is busy and the queue is full, or a worker could not be started."""


class QueryTimeout(NotAnswered):
    """A query that ran past the time limit and was stopped."""


class QueryTooLarge(NotAnswered):
    """A query that needed more memory than a worker may take, and was stopped."""
