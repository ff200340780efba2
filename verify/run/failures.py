"""The one failure type of the engine, inside the project's error tree (kg.errors)::

    FwcError
    └── RunFailure            a check could not finish; ``reason`` is one sentence for a reader,
        │                     ``detail`` a traceback or the end of a worker's stderr
        ├── NotCheckableHere  a framework, device or data set is missing here (not an error)
        ├── CheckError        a worker raised or crashed, or the two sides' outputs differ
        ├── WorkerTimeout     a worker gave no answer in time and was stopped
        └── OutOfMemory       a worker grew past its memory cap and was stopped

A failed check still becomes a record: not checkable here, or inconclusive with the reason.
Commands see these only through kg.errors.FwcError, whose ``exit_code`` the CLI's boundary uses.
"""

from __future__ import annotations

from kg.errors import FwcError
from kg.model import RunStatus


class RunFailure(FwcError):
    """A check could not finish."""

    exit_code = 1
    status = RunStatus.ERROR

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


class NotCheckableHere(RunFailure):
    """What the check needs is missing here; its verdict is 'not checkable here'."""

    status = RunStatus.NOT_CHECKABLE


class CheckError(RunFailure):
    """A worker raised or crashed, or the check cannot be run fairly (outputs differ)."""


class WorkerTimeout(RunFailure):
    """A worker gave no answer within its deadline and was stopped."""


class OutOfMemory(RunFailure):
    """A worker grew past its memory cap and was stopped."""
