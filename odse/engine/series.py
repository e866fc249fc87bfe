"""Operations along each series (asset, direction, channel) that carry state across batches.

- resolve ambiguous local times by order: in an ordered series the first pass through a
  repeated hour is summer time, the second is winter time;
- the interval of each reading: fixed, or the median spacing of the series' readings;
- cumulative counters to interval energy: the difference from the previous reading of the
  series, a drop being a counter reset (the reading after it counts from zero). The record
  is labelled with the previous reading's time: it is the energy of the interval that
  starts there.

Rows are grouped by series with one stable sort; single-series batches skip the sort.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.engine.frame import row_numbers
from odse.records import SERIES_KEY

_SEP = "\x1f"
_FOLD_WINDOW_US = 2 * 3600 * 1_000_000


@dataclass
class SeriesState:
    """What one run remembers about each series between batches."""

    counters: dict[str, dict[str, tuple[int, float, int]]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)
    folds: dict[str, int] = field(default_factory=dict)
    spacing: dict[str, int] = field(default_factory=dict)
    last_time: dict[str, int] = field(default_factory=dict)


class Groups:
    """Rows of a batch grouped by series, in input order within each series."""

    def __init__(self, table: pa.Table) -> None:
        self.n = table.num_rows
        key_cols = [c for c in SERIES_KEY if c in table.column_names]
        self.keys: list[str] = [""]
        self.ids: pa.Array | None = None
        self.perm: pa.Array | None = None
        self._inverse: pa.Array | None = None
        if key_cols and self.n:
            parts = [pc.fill_null(table.column(c).combine_chunks().cast(pa.string()), "")
                     for c in key_cols]
            joined = parts[0] if len(parts) == 1 else \
                pc.binary_join_element_wise(*parts, _SEP)
            encoded = pc.dictionary_encode(joined)
            if len(encoded.dictionary) > 1:
                self.keys = encoded.dictionary.to_pylist()
                self.ids = encoded.indices.cast(pa.int64())
                self.perm = pc.sort_indices(
                    pa.table({"id": self.ids, "pos": row_numbers(0, self.n)}),
                    sort_keys=[("id", "ascending"), ("pos", "ascending")])
            else:
                self.keys = encoded.dictionary.to_pylist() or [""]

    def gather(self, values: pa.Array) -> pa.Array:
        """Return ``values`` in series order."""
        return values if self.perm is None else pc.take(values, self.perm)

    def scatter(self, values: pa.Array) -> pa.Array:
        """Return series-ordered ``values`` in input order again."""
        if self.perm is None:
            return values
        if self._inverse is None:
            self._inverse = pc.sort_indices(self.perm)
        return pc.take(values, self._inverse)

    def sorted_ids(self) -> pa.Array:
        """Series id of each row, in series order."""
        if self.ids is None:
            return pa.repeat(pa.scalar(0, pa.int64()), self.n)
        return pc.take(self.ids, self.perm)

    def starts(self) -> pa.Array:
        """True for the first row of each series, in series order."""
        ids = self.sorted_ids()
        if self.n == 0:
            return pa.array([], pa.bool_())
        return pc.fill_null(pc.not_equal(ids, shift(ids)), True)

    def ends(self) -> pa.Array:
        """True for the last row of each series, in series order."""
        ids = self.sorted_ids()
        if self.n == 0:
            return pa.array([], pa.bool_())
        following = pa.concat_arrays([ids.slice(1), pa.nulls(1, ids.type)])
        return pc.fill_null(pc.not_equal(ids, following), True)


def shift(values: pa.Array) -> pa.Array:
    """Return values moved one row down (the previous row's value; null first)."""
    if len(values) == 0:
        return values
    return pa.concat_arrays([pa.nulls(1, values.type), values.slice(0, len(values) - 1)])


# ----------------------------------------------------------------------------- daylight saving


def resolve_folds(utc: pa.Array, alt: pa.Array, local: pa.Array, groups: Groups,
                  state: SeriesState) -> pa.Array:
    """Use the winter reading of ambiguous local times seen a second time in a series."""
    where = pc.indices_nonzero(pc.is_valid(alt))
    if len(where) == 0:
        return utc
    ambiguous = where.to_pylist()
    local_us = pc.take(local, where).cast(pa.int64()).to_pylist()
    ids = pc.take(groups.ids, where).to_pylist() if groups.ids is not None else None
    second = []
    # only the readings inside a repeated hour are visited: a few per series and year
    for k, i in enumerate(ambiguous):
        key = groups.keys[ids[k]] if ids is not None else groups.keys[0]
        seen = state.folds.get(key)
        here = local_us[k]
        if seen is not None and here - seen > _FOLD_WINDOW_US:
            seen = None
        if seen is not None and here <= seen:
            second.append(i)
        state.folds[key] = here if seen is None else max(seen, here)
    if not second:
        return utc
    mask = pc.is_in(row_numbers(0, len(utc)), pa.array(second, pa.int64()))
    return pc.if_else(mask, alt, utc)


# ----------------------------------------------------------------------------- intervals


def median_spacing(utc: pa.Array, groups: Groups, state: SeriesState) -> pa.Array:
    """Return, per row, the median spacing (microseconds) of its series' readings.

    The spacing of a series' first reading in a batch is measured from its last reading in
    the batches before. A series with no spacing of its own yet takes its earlier median,
    else the median of all series in the batch.
    """
    t = groups.gather(utc.cast(pa.int64()))
    ids = groups.sorted_ids()
    keys = groups.keys
    starts = groups.starts()
    carried = pc.take(pa.array([state.last_time.get(k) for k in keys], pa.int64()), ids)
    step = pc.subtract(t, pc.if_else(starts, carried, shift(t)))
    step = pc.if_else(pc.greater(step, 0), step, pa.nulls(len(t), pa.int64()))
    medians = _exact_medians(ids, step, len(keys))
    overall = _exact_medians(pa.repeat(pa.scalar(0, pa.int64()), len(t)), step, 1)[0]
    per_series = []
    for i, key in enumerate(keys):
        median = medians[i]
        if median is not None:
            state.spacing[key] = median
        per_series.append(state.spacing.get(key, overall))
    ends = pc.indices_nonzero(groups.ends())
    for key_id, last in zip(pc.take(ids, ends).to_pylist(), pc.take(t, ends).to_pylist(),
                            strict=True):
        state.last_time[keys[key_id]] = last
    return groups.scatter(pc.take(pa.array(per_series, pa.int64()), ids))


def _exact_medians(ids: pa.Array, values: pa.Array, groups: int) -> list[int | None]:
    """Return the median (the lower middle one) of ``values`` per group id."""
    table = pa.table({"id": ids, "v": values}).filter(pc.is_valid(values))
    if table.num_rows == 0:
        return [None] * groups
    table = table.sort_by([("id", "ascending"), ("v", "ascending")])
    counts = pc.value_counts(table.column("id").combine_chunks())
    size = dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(),
                    strict=True))
    picks, which, start = [], [], 0
    for group in sorted(size):
        picks.append(start + (size[group] - 1) // 2)
        which.append(group)
        start += size[group]
    middle = pc.take(table.column("v"), pa.array(picks, pa.int64())).to_pylist()
    out: list[int | None] = [None] * groups
    for group, value in zip(which, middle, strict=True):
        out[group] = value
    return out


# ----------------------------------------------------------------------------- counters


@dataclass
class Differences:
    """Interval values made from counter readings, in input order."""

    values: pa.Array          # float64; null where no previous reading exists
    start: pa.Array           # timestamp of the previous reading (the interval start)
    previous_row: pa.Array    # row number of the previous reading
    resets: int               # drops to less than half the previous reading
    jitter: int               # smaller drops, read as no energy
    commit: Any = None        # call to remember this batch's last readings


# A counter that drops to less than this share of its previous reading was reset (or rolled
# over) and counts from zero; a smaller drop is meter jitter and the interval gets no energy.
RESET_SHARE = 0.5


def late(utc: pa.Array, groups: Groups, state: SeriesState, name: str) -> pa.Array:
    """Flag counter readings out of time order (input order).

    A reading dated after both its neighbours while they are in order (a clock glitch) is
    flagged alone; then each reading not later than every earlier reading of its series
    (this batch and the batches before) is flagged.
    """
    t = groups.gather(utc.cast(pa.int64()))
    n = len(t)
    if n == 0:
        return pa.array([], pa.bool_())
    ids = groups.sorted_ids()
    following = pa.concat_arrays([t.slice(1), pa.nulls(1, pa.int64())])
    same_next = pc.fill_null(pc.not_equal(
        pa.concat_arrays([ids.slice(1), pa.nulls(1, ids.type)]), ids), True)
    following = pc.if_else(same_next, pa.nulls(n, pa.int64()), following)
    previous = pc.if_else(groups.starts(), pa.nulls(n, pa.int64()), shift(t))
    spike = pc.and_(pc.fill_null(pc.greater(t, following), False),
                    pc.fill_null(pc.less(previous, following), True))
    spike = pc.and_(spike, pc.is_valid(following))
    if pc.any(spike).as_py():
        kept = pc.indices_nonzero(pc.invert(spike))
        rest = _later_than_before(pc.take(t, kept), pc.take(ids, kept), groups, state, name)
        flagged = pc.replace_with_mask(spike, pc.invert(spike), rest)
        return groups.scatter(flagged)
    return groups.scatter(_later_than_before(t, ids, groups, state, name))


def _later_than_before(t: pa.Array, ids: pa.Array, groups: Groups, state: SeriesState,
                       name: str) -> pa.Array:
    # series-ordered times and ids; True where a time is not after all earlier ones
    carry = state.counters.get(name, {})
    n = len(t)
    if n == 0:
        return pa.array([], pa.bool_())
    starts = pc.fill_null(pc.not_equal(ids, shift(ids)), True)
    rank = pc.rank(t, sort_keys="ascending", tiebreaker="dense").cast(pa.int64())
    # ranks offset by series keep a global running maximum inside each series
    keyed = pc.add(pc.multiply(ids, n + 1), rank)
    running = pc.cumulative_max(keyed)
    before = pc.if_else(starts, pa.nulls(n, pa.int64()), shift(running))
    before_rank = pc.subtract(before, pc.multiply(ids, n + 1))
    distinct = pc.unique(pc.take(t, pc.sort_indices(t)))      # time of each dense rank
    latest = pc.take(distinct, pc.subtract(before_rank, 1))
    carried = pc.take(pa.array([carry[k][0] if k in carry else None for k in groups.keys],
                               pa.int64()), ids)
    latest = pc.max_element_wise(latest, carried)
    return pc.fill_null(pc.less_equal(t, latest), False)


def difference(values: pa.Array, utc: pa.Array, rows: pa.Array, groups: Groups,
               state: SeriesState, name: str, primary: bool) -> Differences:
    """Turn counter readings into per-interval values, per series, with resets."""
    carry = state.counters.setdefault(name, {})
    v = groups.gather(values)
    t = groups.gather(utc.cast(pa.int64()))
    r = groups.gather(rows)
    starts = groups.starts()
    keys = groups.keys
    sorted_ids = groups.sorted_ids()
    carried = [carry.get(k) for k in keys]
    prev_v = pc.if_else(starts, pc.take(pa.array([c[1] if c else None for c in carried],
                                                 pa.float64()), sorted_ids), shift(v))
    prev_t = pc.if_else(starts, pc.take(pa.array([c[0] if c else None for c in carried],
                                                 pa.int64()), sorted_ids), shift(t))
    prev_r = pc.if_else(starts, pc.take(pa.array([c[2] if c else None for c in carried],
                                                 pa.int64()), sorted_ids), shift(r))
    delta = pc.subtract(v, prev_v)
    drop = pc.fill_null(pc.less(delta, 0), False)
    reset = pc.and_(drop, pc.fill_null(pc.less(v, pc.multiply(prev_v, RESET_SHARE)), False))
    jitter = pc.and_(drop, pc.invert(reset))
    energy = pc.if_else(reset, v, pc.if_else(jitter, 0.0, delta))

    def commit() -> None:
        # remember the last reading of each series for the next batch
        ends = pc.indices_nonzero(groups.ends())
        for key_id, tv, vv, rv in zip(pc.take(sorted_ids, ends).to_pylist(),
                                      pc.take(t, ends).to_pylist(), pc.take(v, ends).to_pylist(),
                                      pc.take(r, ends).to_pylist(), strict=True):
            carry[keys[key_id]] = (tv, vv, rv)
        if primary:
            _track_pending(state, groups, starts, prev_v, r, v)

    start = pc.cast(prev_t, pa.int64()).view(pa.timestamp("us", tz="UTC"))
    return Differences(groups.scatter(energy), groups.scatter(start), groups.scatter(prev_r),
                       _count(reset), _count(jitter), commit)


def _count(mask: pa.Array) -> int:
    return pc.sum(pc.cast(mask, pa.int64())).as_py() or 0


def _track_pending(state: SeriesState, groups: Groups, starts: pa.Array, prev_v: pa.Array,
                   r: pa.Array, v: pa.Array) -> None:
    # A series' first reading pairs with its next one; until then it is pending, and a
    # series that never gets a second reading is rejected at the end of the input.
    first = pc.indices_nonzero(starts)
    sizes = pc.value_counts(groups.sorted_ids())
    size_of = dict(zip(sizes.field("values").to_pylist(), sizes.field("counts").to_pylist(),
                       strict=True))
    for key_id, row, value, before in zip(
            pc.take(groups.sorted_ids(), first).to_pylist(), pc.take(r, first).to_pylist(),
            pc.take(v, first).to_pylist(), pc.take(prev_v, first).to_pylist(), strict=True):
        key = groups.keys[key_id]
        if before is None and size_of.get(key_id, 0) == 1:
            state.pending[key] = {"row": row, "value": value}
        else:
            state.pending.pop(key, None)
