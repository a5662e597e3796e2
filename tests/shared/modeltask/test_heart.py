"""Fed-Heart-Disease preparation: FLamby's counts, and a golden set no hospital trains on."""

from __future__ import annotations

import numpy as np

from shared.modeltask import heart
from shared.modeltask.registry import get_task


def test_complete_rows_per_centre_match_flamby():
    counts = heart.read_raw().groupby("dataset").size().to_dict()
    assert counts == {"Cleveland": 304, "Hungary": 260, "Switzerland": 46, "VA Long Beach": 130}


def test_thirteen_features_after_one_hot_encoding():
    data = heart.load()
    assert len(heart.FEATURES) == 13
    assert all(c.train.x.shape[1] == 13 for c in data.centres)


def test_every_usable_row_lands_in_exactly_one_of_train_test_or_golden():
    data = heart.load()
    total = sum(len(c.train) + len(c.test) for c in data.centres) + len(data.golden)
    assert total == 740


def test_golden_rows_appear_in_no_train_or_test_set():
    data = heart.load()
    others = np.concatenate([np.concatenate([c.train.x, c.test.x]) for c in data.centres])
    golden = {row.tobytes() for row in data.golden.x}
    # Duplicates in the raw data could collide by value; none of the golden rows may.
    assert not golden & {row.tobytes() for row in others}


def test_preparation_is_reproducible():
    heart.load.cache_clear()
    first = heart.load().golden.x.copy()
    heart.load.cache_clear()
    assert np.array_equal(first, heart.load().golden.x)


def test_probe_and_background_sets_are_disjoint_golden_rows():
    task = get_task("heart-mlp")
    probe = {r.tobytes() for r in task.probe.x}
    background = {r.tobytes() for r in task.background}
    assert len(probe) == 48 and len(background) == 24 and not probe & background
