"""The worker pool: every piece of work done once, and a worker held up does not hold the others' share."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lessonpress.workers import BLOCKS_PER_WORKER, can_fork, fan_out

pytestmark = pytest.mark.skipif(not can_fork(), reason="the pool forks, and threads are running")


def test_every_index_is_done_once_whatever_the_split() -> None:
    for count, workers in ((1, 2), (7, 3), (100, 2), (1000, 4)):
        results = dict(fan_out(count, lambda index: index * index, workers))
        assert results == {index: index * index for index in range(count)}


def test_a_worker_held_up_leaves_the_rest_to_the_others(tmp_path: Path) -> None:
    count, workers = 2 * BLOCKS_PER_WORKER * 10, 2
    done = tmp_path / "last-done"

    def work(index: int) -> int:
        if index == 0:
            # As if another program took this worker's core: it finishes only after all the rest.
            deadline = time.monotonic() + 120
            while not done.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        if index == count - 1:
            done.touch()
        return os.getpid()

    by_index = dict(fan_out(count, work, workers))
    held = by_index[0]
    # The held-up worker did its first block only (10 pieces); the other did everything else.
    assert sorted(index for index, pid in by_index.items() if pid == held) == list(range(10))
