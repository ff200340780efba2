"""Whether the machine was busy while a pair measured: evidence from the whole machine, not from
the measured process.

Each sample brings, beside its wall and CPU time, the CPU seconds other processes used over the
same span and the time the hypervisor stole (verify.benchmarks.worker reads /proc/stat; a
sample's figure is signed, since /proc/stat counts whole ticks, and only a pair's sum is clipped
at zero: clipping each short sample would turn rounding into a phantom load). A
pair whose samples saw other work use more than ``BUSY_CORES`` cores on average, or steal more
than ``BUSY_STEAL`` of the time, was measured on a busy machine: its samples are kept in the record
but left out of the estimate, and the runner measures another pair if the budget allows. /proc/stat
counts in ticks (10 ms on Linux), so over a short span one or two stray ticks are a large share: a
figure counts as over its threshold only when it is over by more than ``RESOLUTION_TICKS`` ticks
over the pair's span (0.067 at 0.3 s of samples, 0.003 at 6 s).

A measured process's own off-CPU time (wall above CPU time with nothing else running) is not a
busy machine: it is the framework waiting on its own threads, reported per side as such.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

BUSY_CORES = 0.25  # other work using a quarter of a core on average disturbs a 1-thread timing
BUSY_STEAL = 0.05
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
RESOLUTION_TICKS = 2  # what counting in whole ticks can add to a pair's figures by itself


@dataclass(frozen=True)
class PairLoad:
    """What the rest of the machine did while one pair measured."""

    pair: int
    span_s: float  # seconds the pair's samples lasted
    others_cores: float  # other processes' CPU seconds per second of sampling
    steal_share: float  # share of the sampling time stolen by the hypervisor
    own_off_cpu: dict[str, float]  # per side: share of wall time the process was off the CPU
    threshold: float | None = BUSY_CORES  # other work above this many cores: busy (None: never)

    @property
    def resolution(self) -> float:
        """How far the figures can be off from counting whole ticks over this span alone."""
        return RESOLUTION_TICKS * TICK_S / self.span_s if self.span_s > 0 else float("inf")

    @property
    def busy(self) -> bool:
        """Whether other work was heavy enough to disturb the pair's timings: a figure over its
        threshold by more than the counting resolution."""
        if self.threshold is None:
            return False
        return self.others_cores > self.threshold + self.resolution or self.stolen

    @property
    def stolen(self) -> bool:
        """Whether the hypervisor took more than ``BUSY_STEAL`` of the time (beyond the counting
        resolution): the host ran something else on this virtual machine's CPUs."""
        return self.steal_share > BUSY_STEAL + self.resolution

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for the record."""
        return {"pair": self.pair, "span_s": round(self.span_s, 3),
                "others_cores": round(self.others_cores, 4),
                "steal_share": round(self.steal_share, 4),
                "own_off_cpu": {k: round(v, 4) for k, v in self.own_off_cpu.items()},
                "threshold_cores": self.threshold, "resolution": round(self.resolution, 4),
                "busy": self.busy}  # fmt: skip


def pair_load(
    pair: int, cells: list[Any], roles: dict[str, str], threshold: float | None = BUSY_CORES
) -> PairLoad | None:
    """The load over one pair's samples (cells are verify.run.state.CellData), or None when the
    samples carry no machine figures (not Linux)."""
    span = others = steal = 0.0
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for c in cells:
        for side in roles:
            if pair >= len(c.samples[side]):
                continue
            calls = c.calls.get(side, 1)
            wall[side] = wall.get(side, 0.0) + sum(c.samples[side][pair]) * calls
            cpu[side] = cpu.get(side, 0.0) + sum(c.cpu_samples[side][pair]) * calls
            if pair < len(c.others[side]):
                span += sum(c.spans[side][pair])
                others += sum(c.others[side][pair])
                steal += sum(c.steals[side][pair])
    if span <= 0:
        return None
    off = {roles[s]: max(0.0, 1.0 - cpu[s] / wall[s]) for s in wall if wall[s] > 0}
    # the samples' figures are signed (tick rounding); only their sum is clipped at zero
    return PairLoad(pair, span, max(0.0, others / span), steal / span, off, threshold)


def busy_sentence(loads: list[PairLoad]) -> str:
    """One sentence saying how busy the machine was in the pairs left out, or ''."""
    busy = [p for p in loads if p.busy]
    if not busy:
        return ""
    stolen = [p for p in busy if p.stolen]
    others = [p for p in busy if not p.stolen]
    causes = []
    if stolen:  # no process here did it
        worst = max(stolen, key=lambda p: p.steal_share)
        causes.append(f"in {len(stolen)} the hypervisor took up to {worst.steal_share:.0%} of the"
                      " CPU time from this virtual machine")  # fmt: skip
    if others:
        worst = max(others, key=lambda p: p.others_cores)
        causes.append(f"in {len(others)} other processes used up to {worst.others_cores:.2f}"
                      " cores")  # fmt: skip
    return (
        f" The machine was busy in {len(busy)} of {len(loads)} process pairs ({'; '.join(causes)}),"
        " so those pairs were left out."
    )
