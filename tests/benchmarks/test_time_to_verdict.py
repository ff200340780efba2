"""Time to a verdict: `verify run --claim inference-latency-3x` end to end (a fresh corpus load,
process pairs started and set up in parallel, the timed pairs, the record), a few rounds.

Run on an idle machine:

    .venv/bin/pytest tests/benchmarks/test_time_to_verdict.py --benchmark-only

The target is at most 25 s on an idle 2-core machine with the deciding cell's interval half-width
at most 10% (the half-width is in the benchmark's extra_info, next to the time)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from kg.records import list_records

CLAIM = "inference-latency-3x"


@pytest.mark.benchmark(group="time-to-verdict", min_rounds=3, warmup=False)
def test_time_to_a_verdict_for_the_3x_claim(benchmark, tmp_path: Path):
    def once() -> None:
        subprocess.run([sys.executable, "-m", "verify", "run", "--claim", CLAIM, "--device", "cpu",
                        "--results-dir", str(tmp_path), "--json"],
                       check=True, capture_output=True, timeout=300)  # fmt: skip

    benchmark.pedantic(once, rounds=3, iterations=1)
    found, bad = list_records(tmp_path, CLAIM)
    assert len(found) == 3 and not bad
    widths: list[float | None] = []
    for _, record in found:
        cells = [c["summary"] for c in record["cells"] if c.get("summary")]
        if not cells:  # no estimate at all (inconclusive: the machine was busy): no width
            widths.append(None)
            continue
        deciding = max(cells, key=lambda s: s["ci_low"])  # the cell that reaches the claim first
        # half-width on the log scale, as a share: sqrt(high / low) - 1
        widths.append(math.sqrt(deciding["ci_high"] / deciding["ci_low"]) - 1)
    benchmark.extra_info["labels"] = [r["verdict"]["label"] for _, r in found]
    benchmark.extra_info["explanations"] = [r["verdict"].get("explanation") for _, r in found]
    benchmark.extra_info["deciding_half_width"] = [None if w is None else round(w, 4)
                                                   for w in widths]  # fmt: skip
    benchmark.extra_info["run_seconds"] = [r.get("duration_s") for _, r in found]
