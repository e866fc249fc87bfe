"""Long to wide: one record per time and device from one input entry per channel.

``pivot: {key: channelId, value: value, by: [time, deviceId]}`` groups the input rows by the
``by`` columns; each group becomes one row whose columns are the ``by`` columns plus one
column per ``key`` value the spec's fields read (``{column: Measurement.GridMs.TotW}``),
holding that entry's ``value``. All of it is vectorised: a group id per row from a
dictionary encoding of the ``by`` values, and one ``take`` per channel.

Accounting: a group counts as one input row (its first entry is where its rejects point);
entries of a channel no field reads, and repeats of a channel within one group (the first
is kept), are counted as skipped by the spec, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.engine.convert import to_text
from odse.engine.frame import Frame, row_numbers
from odse.report import Report


@dataclass(frozen=True)
class PivotSpec:
    """A variant's ``pivot:``."""

    key: str
    value: str
    by: tuple[str, ...]
    channels: tuple[str, ...]       # the key values the fields read


class PivotFrame(Frame):
    """The pivoted rows: ``by`` columns and one column per channel, by name."""

    def __init__(self, source: Frame, first: pa.Array, columns: dict[str, pa.Array]) -> None:
        self.source = source
        self.first = first               # index, in the source frame, of each group's entry
        self._columns = columns
        self.n = len(first)
        self.rows = pc.take(source.rows, first) if self.n else pa.array([], pa.int64())
        self.params = source.params

    def column(self, ref: str) -> pa.Array | None:
        return self._columns.get(ref)

    def has(self, ref: str) -> bool:
        return ref in self._columns

    def locations(self, indices: Sequence[int]) -> list[str]:
        picked = pc.take(self.first, pa.array(list(indices), pa.int64())).to_pylist()
        return self.source.locations(picked)


def apply(spec: PivotSpec, frame: Frame, report: Report,
          skipped: pa.Array | None = None) -> PivotFrame:
    """Pivot ``frame``; rows in ``skipped`` (the spec's where:) take no part."""
    n = frame.n
    key = frame.column(spec.key)
    key = to_text(key) if key is not None else pa.nulls(n, pa.string())
    values = frame.column(spec.value)
    values = values if values is not None else pa.nulls(n)
    wanted = pc.fill_null(pc.is_in(key, pa.array(list(spec.channels), pa.string())), False)
    if skipped is not None:
        unused = pc.and_(pc.invert(wanted), pc.invert(skipped))
        wanted = pc.and_(wanted, pc.invert(skipped))
    else:
        unused = pc.invert(wanted)
    report.skip(f"pivot: an entry of a {spec.key} no field reads",
                pc.sum(unused.cast(pa.int64())).as_py() or 0)
    kept = pc.indices_nonzero(wanted)
    parts = []
    for name in spec.by:
        column = frame.column(name)
        column = to_text(column) if column is not None else pa.nulls(n, pa.string())
        parts.append(pc.fill_null(pc.take(column, kept), "\x00"))
    group_text = pc.binary_join_element_wise(*parts, "\x1f") if parts else \
        pa.repeat(pa.scalar(""), len(kept))
    order = pc.unique(group_text)                      # groups in order of first entry
    group = pc.index_in(group_text, order)
    first = pc.take(kept, pc.index_in(order, group_text))
    count = len(order)
    groups = row_numbers(0, count)
    columns: dict[str, pa.Array] = {name: pc.take(frame.column(name), first)
                                    for name in spec.by if frame.column(name) is not None}
    kept_key = pc.take(key, kept)
    kept_values = pc.take(values, kept)
    repeats = 0
    for channel in spec.channels:
        mine = pc.equal(kept_key, channel)
        own_group = pc.filter(group, mine)
        repeats += len(own_group) - len(pc.unique(own_group))
        position = pc.index_in(groups, own_group)      # the first entry of each group
        columns[channel] = pc.take(pc.filter(kept_values, mine), position)
    report.skip(f"pivot: a repeated {spec.key} in one record (the first is kept)", repeats)
    # the entries merged into a group's row are in its record: a group is one row
    report.rows_read -= len(kept) - repeats - count
    return PivotFrame(frame, first, columns)


def compile_pivot(spec: dict[str, Any] | None, channels: Sequence[str]) -> PivotSpec | None:
    """Return the pivot of a variant spec, the channels being the columns its fields read."""
    if not spec:
        return None
    by = spec["by"]
    by = (by,) if isinstance(by, str) else tuple(by)
    named = [c for c in dict.fromkeys(channels) if c not in by and c not in
             (spec["key"], spec["value"])]
    return PivotSpec(spec["key"], spec["value"], by, tuple(named))
