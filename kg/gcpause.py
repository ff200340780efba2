"""The cyclic garbage collector paused around bulk work: loading a corpus and publishing a site
build millions of long-lived objects (rows, terms, pages), none of them garbage, and every full
collection walks all of them (at 50,000 run records, about a quarter of a publish). Reference
counting still frees whatever is dropped; only cycles wait until the collector is back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, then as it was (nested blocks: the outer
    one turns it back on)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
