"""The serve process's cyclic collector: start-up objects frozen out of full collections, which run rarely."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from dunline.server import FULL_COLLECTION_EVERY, settle_collector


@pytest.fixture
def collector() -> Iterator[list[int]]:
    """The generations of the collections that run meanwhile; the collector as it was, afterwards."""
    threshold, seen = gc.get_threshold(), []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])
    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_item_1_settled_collector_leaves_startup_objects_out_and_runs_full_collections_rarely(
        collector: list[int]) -> None:
    gc.collect()  # a test process carries other tests' garbage: count only what lives
    before = len(gc.get_objects())
    settle_collector()
    assert gc.get_freeze_count() >= before * 0.9  # what start-up built is never walked again
    collector.clear()
    calls = [[(n, [n]) for n in range(200)] for _ in range(2000)]  # calls up: objects that outlive young sweeps
    del calls
    middle, full = collector.count(1), collector.count(2)
    assert middle >= 20
    assert full <= middle // FULL_COLLECTION_EVERY + 1  # the default runs one every 10 middle ones, walking all
