"""One schema for everything a write produces, and for the lake across writes.

Batches of one input may differ: a chunk of dicts may lack a column that a later chunk has,
or see whole numbers where a later chunk sees fractions. :class:`BatchSchema` collects the
columns in the record's order and widens types the way a data engineer expects (integers
to float64 when fractions appear, anything to text when text appears); every batch is then
conformed to the final schema (missing columns as nulls).

Types already in the lake win: a column the lake stores as float64 stays float64, and an
incoming value that cannot be stored that way is an error naming the column, instead of a
silent change of type that readers would trip over.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa

from odse.arrow_input import cast_column, order_columns
from odse.errors import OdseError, OutputError


class BatchSchema:
    """The union of the columns of several batches, with their common types.

    fixed: column types already stored in the destination; they are kept as they are.
    """

    def __init__(self, fixed: Mapping[str, pa.DataType] | None = None) -> None:
        self._types: dict[str, pa.DataType] = {}
        self._fixed: dict[str, pa.DataType] = dict(fixed or {})

    @property
    def names(self) -> list[str]:
        """Every column seen so far, in the record's order."""
        return order_columns(self._types)

    def observe(self, schema: pa.Schema) -> bool:
        """Take in a batch's schema; return True when it changed the final schema."""
        changed = False
        for item in schema:
            known = self._types.get(item.name)
            if known is None:
                self._types[item.name] = item.type
                changed = True
            elif known != item.type:
                wider = widen(item.name, known, item.type)
                changed = changed or wider != known
                self._types[item.name] = wider
        return changed

    def fix(self, types: Mapping[str, pa.DataType]) -> None:
        """Add stored columns: they join the schema, and incoming data must follow their types.

        A lake's files keep the columns already stored (rows kept by a merge keep their
        values; new files have the same columns as old ones, nulls where absent).
        """
        for name, kind in types.items():
            if not pa.types.is_null(kind):  # an all-null column takes the first real type
                self._fixed.setdefault(name, kind)
            self._types.setdefault(name, kind)

    def schema(self) -> pa.Schema:
        """Return the final schema: every observed column, stored types first."""
        return pa.schema([pa.field(name, self._fixed.get(name, self._types[name]))
                          for name in self.names])

    def conform(self, batch: pa.RecordBatch | pa.Table, target: pa.Schema,
                ) -> pa.RecordBatch | pa.Table:
        """Give a batch (or table) exactly the columns and types of ``target``."""
        if batch.schema.equals(target):
            return batch
        present = set(batch.schema.names)
        arrays = []
        for item in target:
            if item.name not in present:
                arrays.append(pa.nulls(batch.num_rows, item.type))
                continue
            column = batch.column(item.name)
            if column.type != item.type:
                column = _cast(item.name, column, item.type, item.name in self._fixed)
            arrays.append(column)
        if isinstance(batch, pa.Table):
            return pa.Table.from_arrays(arrays, schema=target)
        return pa.RecordBatch.from_arrays(arrays, schema=target)


def _cast(name: str, column: pa.Array | pa.ChunkedArray, target: pa.DataType,
          stored: bool) -> pa.Array | pa.ChunkedArray:
    try:
        if isinstance(column, pa.ChunkedArray):
            return pa.chunked_array([cast_column(name, chunk, target) for chunk in column.chunks],
                                    target)
        return cast_column(name, column, target)
    except OdseError as exc:
        if not stored:
            raise
        raise OutputError(
            f"column '{name}' is stored as {target} in the lake, and this write's "
            f"{column.type} values cannot be stored that way",
            code="SCHEMA_CONFLICT", field=name,
            hint=(f"Convert '{name}' to {target} before writing, or write to a new lake "
                  f"path; a lake keeps one type per column"),
        ) from exc


def widen(name: str, first: pa.DataType, second: pa.DataType) -> pa.DataType:
    """Return a type that holds values of both types, or raise OutputError."""
    if first == second:
        return first
    if pa.types.is_null(first):
        return second
    if pa.types.is_null(second):
        return first
    if pa.types.is_integer(first) and pa.types.is_integer(second):
        return pa.int64()
    if _numeric(first) and _numeric(second):
        return pa.float64()
    if pa.types.is_string(first) or pa.types.is_string(second):
        other = second if pa.types.is_string(first) else first
        if _scalar(other):
            return pa.string()
    raise OutputError(
        f"column '{name}' has {first} values in one part of the input and {second} in another",
        code="SCHEMA_CONFLICT", field=name,
        hint=f"Give '{name}' one type throughout the records",
    )


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _scalar(kind: pa.DataType) -> bool:
    return (_numeric(kind) or pa.types.is_boolean(kind) or pa.types.is_timestamp(kind)
            or pa.types.is_date(kind) or pa.types.is_string(kind))
