"""The read-ahead helper: order, errors where they were reached, and an early stop."""

import threading

import pytest

from odse.readers.read_ahead import read_ahead


def test_yields_every_item_in_order():
    assert list(read_ahead(iter(range(1000)))) == list(range(1000))
    assert list(read_ahead(iter([]))) == []


def test_an_error_is_raised_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("line 3 is broken")

    seen = []
    with pytest.raises(ValueError, match="line 3 is broken"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_stops_the_helper_and_closes_the_source():
    closed = threading.Event()

    def items():
        try:
            yield from range(10**9)
        finally:
            closed.set()

    before = set(threading.enumerate())
    stream = read_ahead(items())
    assert next(stream) == 0
    stream.close()
    assert closed.is_set()
    assert set(threading.enumerate()) <= before  # the helper has ended
