"""The project's exceptions. The CLI's one boundary (verify.cli.app.main) turns any FwcError
into a one-line message and its ``exit_code``: 2 for bad input, 1 for work that failed.

FwcError                      base: message names the file, the field and the fix
├── CorpusError               the claims corpus cannot be used as it is                   (2)
│   ├── TurtleSyntaxError     a file does not parse (file:line:column)
│   └── ValidationFailed      one or more Problems (SHACL or cross-file checks)
├── UnknownClaim              an id that no claim has (with the closest ids)              (2)
├── UnknownSource             an id that no source has                                    (2)
├── RecordError               a run record that cannot be read                            (2)
├── StoreError                a SPARQL store that cannot be reached or refused a request  (2)
├── UsageError                bad arguments that the parser could not catch               (2)
├── Unsatisfied               the command did its work and the outcome is the failure the
│                             caller asked to hear of: a check errored, a verdict flipped (1)
└── verify.run.failures.RunFailure   a check could not finish (errors, timeouts, memory)   (1)

Interrupted (a BaseException, so that no ``except Exception`` swallows it) is raised when a signal
stops a command, so that every ``finally`` runs and nothing is left behind (128 + the signal).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

from kg.textutil import close_matches, did_you_mean, visible


class FwcError(Exception):
    """Base class of every error fwclaims reports to a user."""

    exit_code = 2


class CorpusError(FwcError):
    """The claims corpus cannot be used as it is."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the corpus, as one line: where, which claim, what to do."""

    file: str
    line: int | None
    subject: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return visible(f"{where}: {self.subject}: {self.message}")


class TurtleSyntaxError(CorpusError):
    """A Turtle file does not parse."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problems = [problem]


class ValidationFailed(CorpusError):
    """The corpus parsed but breaks the rules; one Problem per violation."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.subject, p.message))
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the claims corpus:"
        super().__init__("\n".join([head, *map(str, self.problems)]))


class UnknownClaim(FwcError):
    """No claim has this id."""

    def __init__(self, claim_id: str, known: list[str]) -> None:
        self.claim_id = claim_id
        self.suggestions = close_matches(claim_id, known)
        super().__init__(
            f"no claim has the id '{claim_id}'.{did_you_mean(claim_id, known)}"
            " Run `verify list` to see every id."
        )


class UnknownSource(FwcError):
    """No source has this id."""

    def __init__(self, source_id: str, known: list[str]) -> None:
        super().__init__(
            f"no source has the id '{source_id}'.{did_you_mean(source_id, known)}"
            " Run `verify sources` to see every id."
        )


class RecordError(FwcError):
    """A run record cannot be read, or is of an unknown schema version, or breaks the schema."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path  # the record's file, when the error is about one


class StoreError(FwcError):
    """A SPARQL store that cannot be reached, or that refused a request."""


class UsageError(FwcError):
    """Arguments that are well-formed but cannot be used."""


class Unsatisfied(FwcError):
    """The work was done, and its outcome is one the caller asked to be told of with exit 1."""

    exit_code = 1


class Interrupted(BaseException):
    """A signal (SIGTERM, SIGHUP, SIGINT) stopped the command; clean-up runs as it unwinds."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")
