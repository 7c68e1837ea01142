"""Comparing two training histories: what equal runs must share, and what they may not."""

# measured, not computed: two equal runs differ here (the process peak moves by a page or two with
# what else the test session has allocated)
TIMING = {"train_seconds", "sentences_per_second", "peak_rss_mb"}


def same_records(a: list[dict], b: list[dict]) -> None:
    """Two histories epoch by epoch: every logged value equal, timings aside."""
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b]
    for ra, rb in zip(a, b):
        assert {k: v for k, v in ra.items() if k not in TIMING} == {k: v for k, v in rb.items() if k not in TIMING}
