"""Merge (upsert) by record key: the incoming row wins, every other row is kept.

A record's key is its ``timestamp`` plus ``asset_id``, ``direction`` and ``channel`` where the
data has those columns (``channel`` tells apart several records made from one source row,
such as production and consumption, which must not collapse into one). Partition columns
are constant within a partition and so need no comparing.

An absent ``asset_id``, ``direction`` or ``channel`` is a value like any other (two rows
without a direction have the same direction). A row without a timestamp has no identity:
it never replaces and is never replaced (SQL's rule for a null key), so nothing is lost;
validate records first to keep such rows out of a lake.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from odse.writers.partitions import differs_from_next

KEY_FIELDS = ("timestamp", "asset_id", "direction", "channel")


def key_columns(names: Sequence[str], partition_by: Sequence[str]) -> list[str]:
    """Return the key columns present in ``names``, timestamp first, partition columns left out."""
    present = set(names)
    return [name for name in KEY_FIELDS if name in present and name not in partition_by]


def same_as_next(arrays: Sequence[pa.Array], strict: Sequence[bool]) -> pa.Array | None:
    """Return, per row, whether the next row has the same key; None when no two rows do.

    arrays: key arrays, already sorted so that equal keys are adjacent.
    strict: per array, True when a null never equals anything (the timestamp).
    """
    rows = len(arrays[0]) if arrays else 0
    if rows < 2:
        return None
    same = None
    for array, never_equal in zip(arrays, strict, strict=True):
        equal = pc.invert(differs_from_next(array, null_equals_null=not never_equal))
        same = equal if same is None else pc.and_(same, equal)
    if same is None or not pc.any(same).as_py():
        return None
    return pa.concat_arrays([same, pa.array([False])])


def last_of_runs(arrays: Sequence[pa.Array], strict: Sequence[bool]) -> pa.Array | None:
    """Return a mask keeping the last row of each run of equal keys, or None to keep all."""
    same = same_as_next(arrays, strict)
    return None if same is None else pc.invert(same)


def sort_and_keep_last(table: pa.Table, keys: Sequence[str],
                       ) -> tuple[pa.Table, pa.Array | None]:
    """Sort a table by key (timestamp first, stable) and drop all but the last of equal keys.

    Returns the result and the keep-mask over the sorted rows (None when nothing was dropped).
    """
    if not keys or table.num_rows < 2:
        return table, None
    indices = pc.sort_indices(table, sort_keys=[(name, "ascending") for name in keys])
    table = table.take(indices)
    mask = last_of_runs([table.column(name).combine_chunks() for name in keys],
                        [name == "timestamp" for name in keys])
    if mask is None:
        return table, None
    return table.filter(mask), mask


def merge(existing: pa.Table | None, incoming: pa.Table, keys: Sequence[str], *,
          incoming_unique: bool = False) -> tuple[pa.Table, int, int]:
    """Upsert ``incoming`` into ``existing``: return (rows, existing replaced, incoming dropped).

    Both tables have the same schema; later incoming rows win over earlier ones, incoming
    rows over existing ones; existing rows whose key the write does not bring are kept as
    they are. The result is sorted by key, timestamp first.
    incoming_unique: the caller knows ``incoming`` has no two rows with the same key.
    """
    if existing is None or existing.num_rows == 0:
        merged, mask = sort_and_keep_last(incoming, keys)
        dropped = 0 if mask is None else incoming.num_rows - merged.num_rows
        return merged, 0, dropped
    if incoming_unique and list(keys) == ["timestamp"]:
        # The usual lake (partitioned by asset): the key is the timestamp alone, and a set
        # lookup is cheaper than sorting both sides together. A null never matches.
        hit = pc.is_in(existing.column("timestamp"),
                       value_set=incoming.column("timestamp").combine_chunks(), skip_nulls=True)
        kept = existing.filter(pc.invert(hit))
        both = pa.concat_tables([kept, incoming])
        order = pc.sort_indices(both, sort_keys=[("timestamp", "ascending")])
        return both.take(order), existing.num_rows - kept.num_rows, 0
    marker = "__odse_incoming"
    both = pa.concat_tables([
        existing.append_column(marker, pa.repeat(pa.scalar(False), existing.num_rows)),
        incoming.append_column(marker, pa.repeat(pa.scalar(True), incoming.num_rows)),
    ])
    if not keys:
        return both.drop_columns([marker]), 0, 0
    indices = pc.sort_indices(both, sort_keys=[(name, "ascending") for name in keys])
    both = both.take(indices)
    same = same_as_next([both.column(name).combine_chunks() for name in keys],
                        [name == "timestamp" for name in keys])
    if same is None:
        return both.drop_columns([marker]), 0, 0
    # Within a run of equal keys existing rows come first (stable sort). A run that ends with
    # an incoming row keeps only that row; a run of existing rows alone is left as it is
    # (merge replaces what the write brings and nothing else, even duplicates from appends).
    run_id = pc.subtract(pc.cumulative_sum(pc.cast(
        pa.concat_arrays([pa.array([True]), pc.invert(same.slice(0, len(same) - 1))]),
        pa.int64())), 1)
    run_end = pc.indices_nonzero(pc.invert(same)).take(run_id)
    ends_incoming = both.column(marker).combine_chunks().take(run_end)
    mask = pc.invert(pc.and_(same, ends_incoming))
    gone = both.filter(pc.invert(mask)).column(marker)
    incoming_dropped = pc.sum(pc.cast(gone, pa.int64())).as_py() or 0
    replaced = len(gone) - incoming_dropped
    return both.filter(mask).drop_columns([marker]), replaced, incoming_dropped
