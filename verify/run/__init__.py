"""The parent side of the engine: run a claim's check in worker processes, collect what they
measure, have it judged (verify.judge), and write the run record (kg.records).

engine     run_check / run_claims: the driver, one check after another
timed      process pairs of a timed benchmark, interleaved A B B A, until decided or out of budget
oneshot    capability probes and single-shot (fresh-process) measurements
workers    starting workers and talking to them; spawn holds the process itself (and ends
           everything it started)
cleanup    scratch folders named by process, signals raised as exceptions, stale folders removed
saving     a writable results folder before measuring; a record kept elsewhere if it cannot be
           written where it belongs
state      what a check accumulates, and the record it becomes
options    RunOptions and RunResult
failures   the one failure type of the engine (errors, not checkable, timeouts, out of memory)
environment, codehash   what a record says about the machine and the code that measured
datacheck  adoption checks judged against the cited snapshots
calibrate, matrix, venvs, status   A/A calibration, version matrix, what needs a run
floors     the variance floors `verify calibrate` measured in this environment, for the judge
"""
