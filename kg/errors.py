"""The project's exceptions. The CLI turns any FwcError into a message and exit code 2.

FwcError                      base: message names the file, the field and the fix
├── CorpusError               the claims corpus cannot be used as it is
│   ├── TurtleSyntaxError     a file does not parse (file:line:column)
│   └── ValidationFailed      one or more Problems (SHACL or cross-file checks)
├── UnknownClaim              an id that no claim has (with the closest ids)
├── UnknownSource             an id that no source has
├── RecordError               a run record that cannot be read
└── UsageError                bad arguments that the parser could not catch
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass


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
        return f"{where}: {self.subject}: {self.message}"


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


def _suggest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=3, cutoff=0.5)
    if not close:
        close = [k for k in known if word in k or k in word][:3]
    return f" Did you mean: {', '.join(close)}?" if close else ""


class UnknownClaim(FwcError):
    """No claim has this id."""

    def __init__(self, claim_id: str, known: list[str]) -> None:
        self.claim_id = claim_id
        self.suggestions = difflib.get_close_matches(claim_id, known, n=3, cutoff=0.5)
        super().__init__(
            f"no claim has the id '{claim_id}'.{_suggest(claim_id, known)}"
            " Run `verify list` to see every id."
        )


class UnknownSource(FwcError):
    """No source has this id."""

    def __init__(self, source_id: str, known: list[str]) -> None:
        super().__init__(
            f"no source has the id '{source_id}'.{_suggest(source_id, known)}"
            " Run `verify sources` to see every id."
        )


class RecordError(FwcError):
    """A run record cannot be read or is of an unknown schema version."""


class UsageError(FwcError):
    """Arguments that are well-formed but cannot be used."""
