import numpy as np

from samesense.train.samplers import group_batches, sentence_batches


def test_sentence_batches_cover_every_sentence_once_and_repeat_by_seed():
    batches = sentence_batches(105, 10, seed=3, epoch=1)
    assert [len(b) for b in batches] == [10] * 10 + [5]
    assert sorted(np.concatenate(batches).tolist()) == list(range(105))
    again = sentence_batches(105, 10, seed=3, epoch=1)
    assert all((a == b).all() for a, b in zip(batches, again))
    assert not (sentence_batches(105, 10, seed=3, epoch=2)[0] == batches[0]).all()


def test_group_batches_hold_whole_groups_and_hard_negatives():
    labels = np.repeat(np.arange(21), [1] + [4] * 20)  # group 0 has one sentence: never batched
    hard = {3: np.array([100, 101]), 7: np.array([102])}
    batches = group_batches(labels, batch_size=9, per_group=2, seed=0, epoch=1, hard_negatives=hard)
    seen_groups = []
    for rows in batches:
        groups = labels[rows[rows < len(labels)]]
        counts = np.bincount(groups)
        assert set(counts[counts > 0]) == {2}  # two sentences of each group in the batch
        assert len(set(groups)) >= 2  # never a batch with one group only
        for group in set(groups):
            if group in hard:
                assert set(rows[rows >= len(labels)]) & set(hard[group])
        seen_groups += sorted(set(groups))
    assert sorted(seen_groups) == list(range(1, 21))  # every group once an epoch, group 0 never
    again = group_batches(labels, 9, 2, 0, 1, hard)
    assert all((a == b).all() for a, b in zip(batches, again))


def test_group_batches_join_a_lone_last_group():
    labels = np.repeat(np.arange(7), 2)
    batches = group_batches(labels, batch_size=6, per_group=2, seed=0, epoch=0)
    assert [len(b) for b in batches] == [6, 8]  # 3 + 4 groups, not 3 + 3 + 1
