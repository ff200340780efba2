"""Splitting `verify run --all` over machines: `--shard K/N` runs the K-th of N parts.

A claim's part comes from a hash of its id alone, so the split is the same on every machine,
needs no shared state, and adding or removing a claim moves no other claim to another part.
Any scheduler that hands out an index (a CI matrix, a SLURM array, a Kubernetes indexed Job)
runs one part per machine; `verify results merge` then gathers the records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kg.errors import UsageError


@dataclass(frozen=True)
class Shard:
    """The K-th of N parts (1 <= K <= N)."""

    k: int
    n: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """'2/4' -> Shard(2, 4); anything else is a UsageError that says what to write."""
        k, sep, n = text.partition("/")
        if not (sep and k.strip().isdigit() and n.strip().isdigit()):
            raise UsageError(f"--shard {text!r}: write K/N, e.g. --shard 1/4 (K from 1 to N)")
        shard = cls(int(k), int(n))
        if not 1 <= shard.k <= shard.n:
            raise UsageError(f"--shard {text}: K must be between 1 and N ({shard.n})")
        return shard

    def holds(self, claim_id: str) -> bool:
        """Whether this part runs the claim."""
        return part_of(claim_id, self.n) == self.k

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def part_of(claim_id: str, n: int) -> int:
    """The part (1..n) a claim falls in: the first 8 bytes of the SHA-256 of its id, mod n."""
    digest = hashlib.sha256(claim_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1
