"""verify.run.setupqueue: workers' cells in order, the busiest idle worker first, failures."""

from __future__ import annotations

import threading
import time

import pytest

from verify.run.setupqueue import SetupQueue


def _queue(steps, slots, run, partner=lambda j: None):
    q = SetupQueue(dict(steps), run, slots, partner=partner)
    q.start()
    return q


def test_every_step_runs_once_in_its_jobs_order_never_two_of_one_job_at_once():
    lock, running, peak, seen = threading.Lock(), set(), [0], []

    def run(job, step):
        with lock:
            assert job not in running
            running.add(job)
            peak[0] = max(peak[0], len(running))
            seen.append((job, step))
        time.sleep(0.002)
        with lock:
            running.discard(job)
        return f"{job}{step}"

    q = _queue({"a": 4, "b": 1, "c": 3}, 2, run)
    assert q.wait()
    q.join()
    assert q.results == {"a": ["a0", "a1", "a2", "a3"], "b": ["b0"], "c": ["c0", "c1", "c2"]}
    assert peak[0] == 2 and len(seen) == 8


def test_the_idle_job_with_most_steps_left_goes_first():
    # one slot: a whole-job order would run a, a, a, b, c; most-left-first interleaves them, so
    # that on more slots the last job does not finish alone
    order = []
    q = _queue({"a": 3, "b": 2, "c": 1}, 1, lambda j, s: order.append((j, s)))
    assert q.wait()
    q.join()
    assert order == [("a", 0), ("a", 1), ("b", 0), ("a", 2), ("b", 1), ("c", 0)]


def test_a_failure_stops_new_steps_but_lets_the_partner_take_its_first():
    ran = []

    def run(job, step):
        ran.append((job, step))
        if job == "x":
            raise LookupError("no framework")
        return step

    q = _queue({"x": 3, "y": 3, "z": 3}, 1, run, partner=lambda j: {"x": "y"}.get(j))
    assert not q.wait()
    q.wait_partners(5)
    q.join()
    assert isinstance(q.errors["x"], LookupError)
    assert ran == [("x", 0), ("y", 0)]  # y (x's partner) had its first step; z none
    assert q.results["y"] == [0]


def test_waiting_for_a_partner_is_bounded():
    release = threading.Event()

    def run(job, step):
        if job == "x":
            raise LookupError("gone")
        release.wait(5)

    q = _queue({"x": 1, "y": 1}, 2, run, partner=lambda j: "y" if j == "x" else None)
    assert not q.wait()
    t0 = time.monotonic()
    q.wait_partners(0.2)
    assert 0.15 < time.monotonic() - t0 < 3
    release.set()
    q.join()


@pytest.mark.parametrize("slots", [0, 1, 3])
def test_no_steps_at_all_finishes(slots):
    q = _queue({"a": 0}, slots, lambda j, s: None)
    assert q.wait()
    q.join()
    assert q.results == {"a": []}
