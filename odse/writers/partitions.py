"""Partitioning: which rows go to which ``key=value/`` folder, and what the files keep.

:class:`Partitioning` is the one object a lake writer asks about its ``partition_by``: it
checks the names and the records' columns, computes each row's partition values, names the
folders, and says which columns live in folder names only.

* ``year``, ``month``, ``day`` and ``hour`` come from the UTC ``timestamp`` and are zero-padded
  (``year=2026/month=02/day=09/hour=05``); any other partition column is a record column,
  stored in folder names only (not inside the files).
* A row with no value for a partition column (a null or empty ``asset_id``, no timestamp for
  the time parts) is refused before anything is written: a ``__HIVE_DEFAULT_PARTITION__``
  folder reads back as null in some engines and breaks others (pandas cannot combine its
  dictionary of partition values with a null), so odse never makes one.
* Values are escaped as Hive and Spark escape them (``%`` and two hex digits for ``/ \\ : = % ?
  # * " ' [ ] { } ^``, DEL and control characters), so no value can add a folder level or leave
  the lake root: ``../x`` becomes ``asset_id=..%2Fx``. Readers decode the escapes.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.errors import OutputError, ParameterError
from odse.records import field_type, known_fields

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
DERIVED: dict[str, tuple[Any, int]] = {
    "year": (pc.year, 4),
    "month": (pc.month, 2),
    "day": (pc.day, 2),
    "hour": (pc.hour, 2),
}
_ESCAPED = frozenset('"#%\'*/:=?\\\x7f{[]^') | frozenset(map(chr, range(0x20)))
_MAX_SEGMENT_BYTES = 255


class Partitioning:
    """A lake's ``partition_by``: checked once, then asked for keys, folders and file columns.

    names: partition columns in folder order (None, a name, or a list of names).
    """

    def __init__(self, partition_by: Any = None) -> None:
        self.names = check_partition_by(partition_by)
        self.derived = tuple(name for name in self.names if name in DERIVED)
        self.record = tuple(name for name in self.names if name not in DERIVED)
        """Partition columns that are record columns (stored in folder names only)."""
        self._folders: dict[tuple[Any, ...], str] = {}

    def __bool__(self) -> bool:
        return bool(self.names)

    def check(self, schema: pa.Schema) -> None:
        """Refuse partition columns that the records cannot provide or that cannot name
        folders (call with the first batch's schema, and again when columns change)."""
        check_columns(self.names, schema)

    def keys(self, batch: pa.RecordBatch, first_row: int = 0) -> list[pa.Array]:
        """Return one array per partition column with each row's partition value.

        Raises OutputError (``PARTITION_MISSING``) when a row has no value for one of them:
        that row would land in a ``__HIVE_DEFAULT_PARTITION__`` folder, which some readers
        cannot read. first_row: the number of records before this batch (for the message).
        """
        if set(batch.schema.names).intersection(self.derived):
            self.check(batch.schema)
        arrays = key_arrays(batch, self.names)
        for name, array in zip(self.names, arrays, strict=True):
            if array.null_count:
                _missing(name, array, batch.num_rows, first_row)
        return arrays

    def folder(self, values: tuple[Any, ...]) -> str:
        """Return the partition folder, relative to the root, for one combination of values."""
        rel = self._folders.get(values)
        if rel is None:
            for name, value in zip(self.names, values, strict=True):
                if value == NULL_PARTITION:
                    raise OutputError(
                        f"a record's '{name}' is {NULL_PARTITION}, Hive's folder name for a "
                        "missing value, which readers would read back as null",
                        code="PARTITION_INVALID", field=name, value=value,
                        hint=f"Give those records a real '{name}'")
            rel = self._folders[values] = relative_path(self.names, values)
        return rel

    def file_columns(self, names: Iterable[str]) -> list[str]:
        """Return the columns that files store: ``names`` less the record partition columns."""
        return [name for name in names if name not in self.record]

    def strip(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Drop the record partition columns from a batch (they live in folder names)."""
        stored = [name for name in self.record if name in batch.schema.names]
        return batch.drop_columns(stored) if stored else batch

    def with_derived(self, batch: pa.RecordBatch, keys: list[pa.Array] | None = None,
                     ) -> pa.RecordBatch:
        """Return the batch with the time-part partition columns added as real columns (for
        table formats such as Delta, where partition values are columns)."""
        if not self.derived:
            return batch
        keys = self.keys(batch) if keys is None else keys
        for name, array in zip(self.names, keys, strict=True):
            if name in DERIVED:
                batch = batch.append_column(pa.field(name, pa.int32()), array.cast(pa.int32()))
        return batch


def _missing(name: str, array: pa.Array, rows: int, first_row: int) -> None:
    count = array.null_count
    row = first_row + pc.index(pc.is_null(array), True).as_py() + 1
    among = f"{count} of the {rows} records in its batch have none"
    if name in DERIVED:
        raise OutputError(
            f"a record has no timestamp, so no '{name}' partition ({among}); nothing was "
            "written",
            code="PARTITION_MISSING", field=name, row=row,
            hint="Validate the records first (a record without a timestamp is a reject), or "
                 "partition by columns every record has",
        )
    raise OutputError(
        f"a record has no '{name}' ({among}), and the lake is partitioned by '{name}'; "
        "nothing was written",
        code="PARTITION_MISSING", field=name, row=row,
        hint=("Give every record an asset_id (odse transform --asset-id ID, or asset_id= in "
              "transform()), or partition without it (--partition-by year,month,day, or "
              'partition_by=["year", "month", "day"])'
              if name == "asset_id" else
              f"Give every record a '{name}', or leave '{name}' out of partition_by"),
    )


def check_partition_by(partition_by: Any) -> tuple[str, ...]:
    """Validate ``partition_by`` (None, a column name, or a list of them); return a tuple."""
    if partition_by is None:
        return ()
    if isinstance(partition_by, str):
        partition_by = [partition_by]
    if not isinstance(partition_by, Sequence):
        raise ParameterError(
            f"partition_by must be a list of column names; got {type(partition_by).__name__}",
            hint='For example partition_by=["asset_id", "year", "month", "day"]',
        )
    names = tuple(partition_by)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ParameterError(f"partition_by holds {name!r}, which is not a column name",
                                 hint='For example partition_by=["asset_id", "year", "month"]')
        if name[0] in "._" or any(c in name for c in "/\\=") or name != name.strip():
            raise ParameterError(
                f"cannot partition by {name!r}: folder names starting with '.' or '_', or "
                "holding '/', '\\\\', '=' or edge spaces are hidden from or misread by readers",
                hint="Rename the column",
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ParameterError(f"partition_by names {', '.join(duplicates)} twice",
                             hint="List each partition column once")
    return names


def check_columns(partition_by: Sequence[str], schema: pa.Schema) -> None:
    """Reject partition columns that the records cannot provide or that cannot name folders."""
    present = set(schema.names)
    for name in partition_by:
        if name in DERIVED:
            if name in present:
                raise OutputError(
                    f"the records have a column '{name}', which clashes with the '{name}' "
                    "partition derived from the timestamp",
                    code="PARTITION_INVALID", field=name,
                    hint=f"Rename or drop the '{name}' column before writing",
                )
            continue
        if name not in present and field_type(name) is None:
            known = sorted(set(present) | set(known_fields()) | set(DERIVED))
            close = difflib.get_close_matches(name, known, n=1)
            raise OutputError(
                f"cannot partition by '{name}': the records have no such column",
                code="PARTITION_INVALID", field=name,
                hint=(f"Did you mean '{close[0]}'? " if close else "")
                     + "Use a record column or year, month, day, hour",
            )
        kind = schema.field(name).type if name in present else field_type(name)
        if not _partitionable(kind):
            raise OutputError(
                f"cannot partition by '{name}': its values are {kind}, and only text, "
                "integers, booleans and dates make stable folder names",
                code="PARTITION_INVALID", field=name,
                hint="Partition by an identifier or a time part (year, month, day, hour)",
            )


def _partitionable(kind: pa.DataType) -> bool:
    return (pa.types.is_string(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind)
            or pa.types.is_date(kind) or pa.types.is_null(kind))


def key_arrays(batch: pa.RecordBatch, partition_by: Sequence[str]) -> list[pa.Array]:
    """Return one array per partition column with each row's partition value (null = missing)."""
    rows = batch.num_rows
    names = batch.schema.names
    arrays = []
    for name in partition_by:
        if name in DERIVED:
            if "timestamp" in names:
                function, _width = DERIVED[name]
                arrays.append(function(_utc_wall_time(batch.column("timestamp"))))
            else:
                arrays.append(pa.nulls(rows, pa.int64()))
        elif name in names:
            column = batch.column(name)
            if pa.types.is_string(column.type):
                # an empty string names no folder; Hive and Spark treat it as null too
                column = pc.if_else(pc.equal(pc.binary_length(column), 0),
                                    pa.scalar(None, pa.string()), column)
            arrays.append(column)
        else:
            arrays.append(pa.nulls(rows, pa.string()))
    return arrays


def _utc_wall_time(values: pa.Array) -> pa.Array:
    # The stored instants read as UTC clock times: a zone-free view of them gives the same
    # year, month, day and hour three times faster than asking Arrow to apply the zone.
    kind = values.type
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return values.view(pa.timestamp(kind.unit))
    return values


def escape(text: str) -> str:
    """Escape a partition value the way Hive and Spark do, so it is one safe folder name."""
    if not any(char in _ESCAPED for char in text):
        return text
    return "".join(f"%{ord(char):02X}" if char in _ESCAPED else char for char in text)


def value_text(name: str, value: Any) -> str:
    """Render one partition value as the text after ``name=`` in a folder name."""
    if value is None:
        return NULL_PARTITION
    if name in DERIVED:
        return str(value).zfill(DERIVED[name][1])
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return escape(str(value))


def relative_path(partition_by: Sequence[str], values: Iterable[Any]) -> str:
    """Return the partition folder, relative to the lake root, for one combination of values."""
    segments = []
    for name, value in zip(partition_by, values, strict=True):
        segment = f"{name}={value_text(name, value)}"
        if len(segment.encode("utf-8")) > _MAX_SEGMENT_BYTES:
            raise OutputError(
                f"partition value of '{name}' is too long for a folder name "
                f"({len(segment.encode('utf-8'))} bytes, at most {_MAX_SEGMENT_BYTES})",
                code="PARTITION_INVALID", field=name, value=value,
                hint=f"Shorten the '{name}' values or partition by another column",
            )
        segments.append(segment)
    return "/".join(segments)


def differs_from_next(array: pa.Array, *, null_equals_null: bool = True) -> pa.Array:
    """Return, for rows 0..n-2, whether row i+1 differs from row i (nulls as the option says)."""
    rows = len(array)
    left, right = array.slice(0, rows - 1), array.slice(1)
    different = pc.not_equal(left, right)
    if array.null_count:
        if null_equals_null:
            one_null = pc.xor(pc.is_null(left), pc.is_null(right))
            different = pc.if_else(pc.is_null(different), one_null, different)
        else:
            different = pc.fill_null(different, True)
    return different


def group_rows(batch: pa.RecordBatch, keys: list[pa.Array], order: list[pa.Array] | None = None,
               ) -> tuple[pa.RecordBatch, list[pa.Array], list[tuple[tuple[Any, ...], int, int]]]:
    """Sort rows so each partition's rows are adjacent; return the batch, keys and runs.

    keys: partition value arrays (see :func:`key_arrays`).
    order: further arrays to sort by within a partition (stable: ties keep arrival order).
    Returns the (possibly reordered) batch, the reordered ``keys + order`` arrays, and
    ``(values, start, length)`` for each partition run.
    """
    rows = batch.num_rows
    columns = list(keys) + list(order or [])
    if columns and rows > 1 and not _in_order(columns):
        frame = pa.table({str(i): column for i, column in enumerate(columns)})
        indices = pc.sort_indices(frame, sort_keys=[(str(i), "ascending")
                                                   for i in range(len(columns))])
        if not _is_identity(indices):
            batch = batch.take(indices)
            columns = [column.take(indices) for column in columns]
    keys = columns[:len(keys)]
    return batch, columns, runs_of(keys, rows)


def runs_of(keys: list[pa.Array], rows: int) -> list[tuple[tuple[Any, ...], int, int]]:
    """Return ``(values, start, length)`` for each run of equal partition values."""
    if not keys:
        return [((), 0, rows)] if rows else []
    if rows == 0:
        return []
    change = None
    if rows > 1:
        for array in keys:
            different = differs_from_next(array)
            change = different if change is None else pc.or_(change, different)
    starts = [0]
    if change is not None:
        starts += [index + 1 for index in pc.indices_nonzero(change).to_pylist()]
    picked = pa.array(starts, pa.int64())
    values = list(zip(*(array.take(picked).to_pylist() for array in keys), strict=True))
    ends = [*starts[1:], rows]
    return [(value, start, end - start)
            for value, start, end in zip(values, starts, ends, strict=True)]


def _in_order(columns: list[pa.Array]) -> bool:
    """True when the rows are already sorted by ``columns`` (nulls last), as time-ordered
    input for one asset is: checking is cheaper than sorting."""
    ahead = None       # adjacent pairs already in order by an earlier column
    tied = None        # adjacent pairs equal in every column so far
    for column in columns:
        first, second = column.slice(0, len(column) - 1), column.slice(1)
        if column.null_count:
            # null sorts last: a value before a null is in order, a null before a value not
            less = pc.fill_null(pc.less(first, second), False)
            less = pc.or_(less, pc.and_(pc.is_valid(first), pc.is_null(second)))
            same = pc.fill_null(pc.equal(first, second), False)
            same = pc.or_(same, pc.and_(pc.is_null(first), pc.is_null(second)))
        else:
            less, same = pc.less(first, second), pc.equal(first, second)
        step = less if tied is None else pc.and_(tied, less)
        ahead = step if ahead is None else pc.or_(ahead, step)
        tied = same if tied is None else pc.and_(tied, same)
        if pc.all(pc.or_(ahead, tied)).as_py() and not pc.any(tied).as_py():
            return True      # every pair decided already
    return bool(pc.all(pc.or_(ahead, tied)).as_py())


def _is_identity(indices: pa.Array) -> bool:
    if len(indices) < 2:
        return True
    if indices[0].as_py() != 0:
        return False
    signed = indices.cast(pa.int64())
    steps = pc.subtract(signed.slice(1), signed.slice(0, len(signed) - 1))
    return bool(pc.all(pc.equal(steps, 1)).as_py())
