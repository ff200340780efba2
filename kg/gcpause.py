"""The cyclic garbage collector paused around bulk work: loading a corpus and publishing a site
build millions of long-lived objects (rows, terms, pages), none of them garbage, and every full
collection walks all of them (at 50,000 run records, about a quarter of a publish). Reference
counting still frees whatever is dropped; only cycles wait until the collector is back.

When the block ends, what it made is moved to the oldest generation in one step (gc.freeze, then
gc.unfreeze: two list splices) before the collector is turned back on; otherwise the first
allocation after the block would start a young collection that walks every object the block made
(0.4 s after an incremental publish of 50,000 records, measured). Cycles among them are
collected by the next full collection, as those of any long-lived object are."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, then as it was (nested blocks: the outer
    one turns it back on, its objects moved to the oldest generation first)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            promote()
            gc.enable()


def promote() -> None:
    """Move every object the collector tracks to its oldest generation without walking them,
    unless something else froze objects (gc.freeze): those stay frozen, and the young ones
    stay where they are."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
