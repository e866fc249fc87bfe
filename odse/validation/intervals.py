"""How long each record's interval is, read from the spacing of its series' timestamps.

A record's timestamp marks the start of its interval, so its interval runs to the next
timestamp of the same series (the same ``asset_id``, ``direction`` and ``channel``): the
interval is the gap to the next later timestamp of the series; the records at the series' last
timestamp take the gap from the timestamp before it. Duplicate timestamps share their
interval. A series with a single timestamp has no spacing: its records get null (the caller's
interval, or the documented fallback, applies there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

_US_PER_HOUR = 3_600 * 1_000_000


@dataclass
class SeriesFrame:
    """The records with a known time, each series contiguous and in time order.

    Parameters:
        n: Number of records in the batch.
        rows: Each row's index in the batch (int64), in series order.
        micros: Each row's time [us since the epoch] (int64), in series order.
        series: Each row's series number (int64) in series order, or None for one series.
    """

    n: int
    rows: pa.Array
    micros: pa.Array
    series: pa.Array | None
    _identity: bool | None = None

    def same_as_previous(self) -> pa.BooleanArray:
        """Return, per row, True when the row before it belongs to the same series."""
        if len(self.micros) == 0:
            return pa.array([], pa.bool_())
        if self.series is None:
            return pa.concat_arrays([pa.array([False]), _fill(len(self.micros) - 1, True)])
        same = pc.equal(self.series[1:], self.series[:-1])
        return pa.concat_arrays([pa.array([False]), same])

    def take(self, values: pa.Array) -> pa.Array:
        """Return a batch-ordered array in series order."""
        return values if self.identity else pc.take(values, self.rows)

    @property
    def identity(self) -> bool:
        """True when series order is batch order (every record has a time; no sort needed)."""
        if self._identity is None:
            self._identity = len(self.rows) == self.n and _is_identity(self.rows)
        return self._identity

    def batch_mask(self, flags: pa.BooleanArray) -> pa.BooleanArray:
        """Return a mask over the batch that is True at the rows ``flags`` selects."""
        if self.identity:
            return flags
        picked = pc.filter(self.rows, flags)
        if not len(picked):
            return _fill(self.n, False)
        return pc.is_in(_arange(self.n), value_set=picked)


def series_frame(times: pa.Array, keys: list[pa.Array]) -> SeriesFrame:
    """Return the records with a known time in series order (see :class:`SeriesFrame`).

    Parameters:
        times: Interval starts, ``timestamp[us, tz=UTC]``; null for records to leave out.
        keys: Columns that identify a series (string arrays, null = absent); may be empty.
    """
    n = len(times)
    known = pc.is_valid(times)
    rows = _arange(n)
    if known.true_count != n:
        times = pc.filter(times, known)
        keys = [pc.filter(k, known) for k in keys]
        rows = pc.filter(rows, known)
    micros = pc.cast(times, pa.int64())
    order, micros, series = _in_series_order(micros, _series_id(keys))
    if order is not None:
        rows = pc.take(rows, order)
    return SeriesFrame(n, rows, micros, series)


def spacing_hours(times: pa.Array, keys: list[pa.Array],
                  frame: SeriesFrame | None = None) -> pa.Array:
    """Return each record's interval from its series' timestamp spacing [h], null if unknown.

    Parameters:
        times: Interval starts, ``timestamp[us, tz=UTC]``; null for records to leave out.
        keys: Columns that identify a series (string arrays, null = absent); may be empty.
        frame: The same records as a :class:`SeriesFrame`, when the caller has built it.
    """
    n = len(times)
    if len(times) - times.null_count < 2:
        return pa.nulls(n, pa.float64())
    if frame is None:
        frame = series_frame(times, keys)
    micros, series = frame.micros, frame.series

    gaps = pc.subtract(micros[1:], micros[:-1])  # to the next record, in series order
    if series is not None:
        # -1 marks a series boundary, so that the fills below never cross one
        same = pc.equal(series[1:], series[:-1])
        gaps = pc.if_else(same, gaps, pa.scalar(-1, pa.int64()))
    edge = pa.array([-1], pa.int64())
    # a zero gap (a duplicate timestamp) says nothing: take the nearest positive gap instead
    gaps = pc.if_else(pc.equal(gaps, 0), pa.scalar(None, pa.int64()), gaps)
    after = pc.fill_null_backward(pa.concat_arrays([gaps, edge]))
    before = pc.fill_null_forward(pa.concat_arrays([edge, gaps]))
    chosen = pc.if_else(pc.greater(after, 0), after,
                        pc.if_else(pc.greater(before, 0), before, pa.scalar(None, pa.int64())))
    hours = pc.divide(pc.cast(chosen, pa.float64()), float(_US_PER_HOUR))
    if frame.identity:
        return hours
    # back to batch order: rows[i] is where the i-th hour belongs
    return pc.replace_with_mask(pa.nulls(n, pa.float64()), frame.batch_mask(_fill(
        len(frame.rows), True)), pc.take(hours, pc.sort_indices(frame.rows)))


def _arange(n: int) -> pa.Array:
    """Return 0, 1, ..., n - 1 as int64 (the set bits of an all-true mask: one fast pass)."""
    return pc.indices_nonzero(pa.repeat(pa.scalar(True), n)).cast(pa.int64()) if n \
        else pa.array([], pa.int64())

def _fill(n: int, value: bool) -> pa.BooleanArray:
    return pa.repeat(pa.scalar(value, pa.bool_()), n) if n else pa.array([], pa.bool_())


def _is_identity(rows: pa.Array) -> bool:
    if len(rows) < 2:
        return True
    return bool(pc.all(pc.equal(pc.subtract(rows[1:], rows[:-1]), 1)).as_py()) and \
        rows[0].as_py() == 0


def _series_id(keys: list[pa.Array]) -> pa.Array | None:
    """Return an integer per record naming its series, or None when there is one series.

    Each key column is dictionary-encoded and the codes are combined (mixed radix), so that
    comparing and sorting series costs integer work, not string work.
    """
    if not keys:
        return None
    encoded = [pc.dictionary_encode(k) for k in keys]
    if all(len(e.dictionary) == 1 and not e.null_count for e in encoded):
        return None  # one series (the usual single-asset file): nothing to tell apart
    sizes = [len(e.dictionary) + 1 for e in encoded]  # + 1: an absent part is a value too
    if math.prod(sizes) >= 2**62:  # too many combinations for one int64: join, then encode
        joined = pc.binary_join_element_wise(
            *[pc.fill_null(pc.cast(k, pa.string()), "") for k in keys],
            *[pc.cast(pc.is_valid(k), pa.string()) for k in keys], "\x1f")
        encoded, sizes = [pc.dictionary_encode(joined)], [0]
    if len(encoded) == 1:
        return pc.fill_null(encoded[0].indices, -1)
    code = None
    for enc, size in zip(encoded, sizes, strict=True):
        part = pc.fill_null(pc.add(pc.cast(enc.indices, pa.int64()), 1), 0)
        code = part if code is None else pc.add(pc.multiply(code, size), part)
    return code


def _in_series_order(micros: pa.Array, series: pa.Array | None
                     ) -> tuple[pa.Array | None, pa.Array, pa.Array | None]:
    """Return (order, times, series) with each series contiguous and in time order.

    ``order`` is None when the input already is (no sort needed), else the permutation.
    """
    if series is None:
        if _rising_within(micros, None):
            return None, micros, None
        order = pc.sort_indices(micros)
        return order, pc.take(micros, order), None
    if _rising_within(micros, series) and _contiguous(series):
        return None, micros, series
    # Interleaved series that are each in time order (several assets in one file) need only
    # a stable sort by series, which is a cheap integer sort.
    order = pc.sort_indices(series)
    sorted_micros, sorted_series = pc.take(micros, order), pc.take(series, order)
    if _rising_within(sorted_micros, sorted_series):
        return order, sorted_micros, sorted_series
    table = pa.table({"s": series, "t": micros})
    order = pc.sort_indices(table, sort_keys=[("s", "ascending"), ("t", "ascending")])
    return order, pc.take(micros, order), pc.take(series, order)


def _contiguous(series: pa.Array) -> bool:
    starts = 1 + (pc.sum(pc.cast(pc.not_equal(series[1:], series[:-1]), pa.int64())).as_py()
                  or 0)
    return starts == pc.count_distinct(series).as_py()


def _rising_within(micros: pa.Array, series: pa.Array | None) -> bool:
    rising = pc.greater_equal(micros[1:], micros[:-1])
    if series is not None:
        rising = pc.or_(rising, pc.not_equal(series[1:], series[:-1]))
    return bool(pc.all(rising).as_py())
