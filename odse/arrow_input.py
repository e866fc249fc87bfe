"""Turn whatever a caller hands a writer into a stream of record batches in the record's Arrow form.

Writers accept a list (or any iterable) of dicts, a ``pyarrow.Table``, a ``RecordBatch``, a
``RecordBatchReader``, an object that speaks the Arrow C stream protocol, or any iterable of
record batches (such as the transform engine's batch stream). :func:`record_batches` reads all
of these lazily: dicts are converted a chunk at a time, so the input is never held twice.

Every batch that comes out is *conformed*:

* ``timestamp`` is ``timestamp[us, tz=UTC]``: ISO 8601 text with ``Z`` or an offset is converted
  to UTC; text or Arrow timestamps without a zone are read as UTC; other units are converted.
* declared fields (see :func:`odse.records.field_type`) have their declared type;
* undeclared fields keep the type Arrow infers (dictionary-encoded and large types are decoded
  to their plain form, zoned timestamps are expressed in UTC);
* a column of type ``null`` (an undeclared field that is absent from every row) is dropped,
  because a null means "absent";
* columns follow the record's order: ``LEADING_FIELDS`` first, then the others as first seen.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.errors import OutputError
from odse.records import LEADING_FIELDS, TIMESTAMP_TYPE, field_type, format_timestamps

CHUNK_ROWS = 65_536
"""Rows converted or handed on at a time: big enough to amortise Arrow calls, small enough to
keep a chunk of Python dicts (the dominant memory cost) to a few tens of MB."""

_NAIVE_US = pa.timestamp("us")
_TEXT_TYPES = frozenset({str, type(None)})
# view types arrived in pyarrow 16; older versions have none to decode
_is_string_view = getattr(pa.types, "is_string_view", lambda _type: False)
_is_binary_view = getattr(pa.types, "is_binary_view", lambda _type: False)
_ZONE_SUFFIX = r"(?i)(z|[+-]\d\d(:?\d\d)?)$"
_HINT_TIMESTAMP = ("Timestamps must be ISO 8601 with a zone, e.g. 2026-02-09T12:00:00Z "
                   "or 2026-02-09T14:00:00+02:00; validate the records first "
                   "(odse.validate_batch) to find the bad ones")


@dataclass
class BatchSource:
    """A lazily read stream of conformed record batches, with what is known before reading it.

    ``schema`` is the conformed schema when the input declares one up front (Arrow data);
    ``columns`` lists every column in output order when it can be known without converting
    (a sequence of dicts, or Arrow data with a schema); both are None for bare iterators.
    """

    batches: Iterator[pa.RecordBatch]
    schema: pa.Schema | None = None
    columns: list[str] | None = None
    kind: str = "dicts"
    _peeked: list[pa.RecordBatch] = field(default_factory=list)

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while self._peeked:
            yield self._peeked.pop(0)
        yield from self.batches

    def peek(self) -> pa.RecordBatch | None:
        """Return the first non-empty batch without consuming it, or None when there is none."""
        if self._peeked:
            return self._peeked[0]
        for batch in self.batches:
            if batch.num_rows:
                self._peeked.append(batch)
                return batch
        return None


def record_batches(records: Any, *, chunk_rows: int | None = None) -> BatchSource:
    """Read records of any supported kind as a stream of conformed record batches.

    records: a list or iterable of dicts (the dict form), a ``pa.Table``, ``pa.RecordBatch``,
        ``pa.RecordBatchReader``, an object with ``__arrow_c_stream__``, or an iterable of
        ``pa.RecordBatch`` / ``pa.Table``.
    chunk_rows: rows per batch handed on [rows]; default :data:`CHUNK_ROWS`.
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    if isinstance(records, (str, bytes, bytearray, Mapping)):
        raise OutputError(
            f"records must be a list or iterable of dicts, or Arrow data; got {_kind(records)}",
            code="BAD_RECORDS",
            hint=("Wrap a single record in a list: [record]" if isinstance(records, Mapping)
                  else "Load the file first, e.g. with odse.transform(...)"),
        )
    if isinstance(records, pa.Table):
        schema = conform_schema(records.schema)
        return BatchSource(_conformed(records.to_batches(max_chunksize=chunk_rows), chunk_rows),
                           schema, schema.names, "arrow")
    if isinstance(records, pa.RecordBatch):
        schema = conform_schema(records.schema)
        return BatchSource(_conformed([records], chunk_rows), schema, schema.names, "arrow")
    if isinstance(records, pa.RecordBatchReader):
        schema = conform_schema(records.schema)
        return BatchSource(_conformed(records, chunk_rows), schema, schema.names, "arrow")
    if not isinstance(records, (Sequence, Iterator)) and hasattr(records, "__arrow_c_stream__"):
        from_stream = getattr(pa.RecordBatchReader, "from_stream", None)  # pyarrow >= 15
        reader = (from_stream(records) if from_stream is not None
                  else pa.table(records).to_reader())
        schema = conform_schema(reader.schema)
        return BatchSource(_conformed(reader, chunk_rows), schema, schema.names, "arrow")
    if not isinstance(records, Iterable):
        raise OutputError(
            f"records must be a list or iterable of dicts, or Arrow data; got {_kind(records)}",
            code="BAD_RECORDS",
        )
    declared = getattr(records, "schema", None)
    if isinstance(records, Sequence):
        if not len(records):
            return BatchSource(iter(()), None, None, "dicts")
        first = records[0]
        if isinstance(first, Mapping):
            columns = _sequence_columns(records)
            return BatchSource(_dict_chunks_of_sequence(records, chunk_rows), None, columns,
                               "dicts")
        return _batch_iterable(iter(records), first, declared, chunk_rows)
    iterator = iter(records)
    try:
        first = next(iterator)
    except StopIteration:
        if isinstance(declared, pa.Schema):
            schema = conform_schema(declared)
            return BatchSource(iter(()), schema, schema.names, "arrow")
        return BatchSource(iter(()), None, None, "dicts")
    if isinstance(first, Mapping):
        return BatchSource(_dict_chunks_of_iterator(first, iterator, chunk_rows), None, None,
                           "dicts")
    return _batch_iterable(itertools.chain([first], iterator), first, declared, chunk_rows)


def _batch_iterable(items: Iterator[Any], first: Any, declared: Any,
                    chunk_rows: int) -> BatchSource:
    if not isinstance(first, (pa.RecordBatch, pa.Table)):
        raise OutputError(
            f"records must be dicts or Arrow record batches; the first item is {_kind(first)}",
            code="BAD_RECORDS",
        )
    schema = conform_schema(declared) if isinstance(declared, pa.Schema) else None
    return BatchSource(_conformed(_flatten_tables(items), chunk_rows), schema,
                       schema.names if schema is not None else None, "arrow")


def _flatten_tables(items: Iterable[Any]) -> Iterator[pa.RecordBatch]:
    for index, item in enumerate(items):
        if isinstance(item, pa.RecordBatch):
            yield item
        elif isinstance(item, pa.Table):
            yield from item.to_batches()
        else:
            raise OutputError(
                f"records mix Arrow batches with {_kind(item)} (item {index})",
                code="BAD_RECORDS",
                hint="Pass either dicts or Arrow record batches, not both",
            )


def _conformed(batches: Iterable[pa.RecordBatch], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    for raw in batches:
        batch = conform_batch(raw)
        if batch.num_rows <= chunk_rows:
            yield batch
            continue
        for start in range(0, batch.num_rows, chunk_rows):
            yield batch.slice(start, chunk_rows)


# ---------------------------------------------------------------------------------------------
# dicts -> Arrow


def _dict_chunks_of_sequence(records: Sequence[Any], chunk_rows: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, len(records), chunk_rows):
        yield conform_batch(dicts_to_batch(records[start:start + chunk_rows], offset=start))


def _dict_chunks_of_iterator(first: Mapping[str, Any], rest: Iterator[Any],
                             chunk_rows: int) -> Iterator[pa.RecordBatch]:
    chunk = [first, *itertools.islice(rest, chunk_rows - 1)]
    offset = 0
    while chunk:
        yield conform_batch(dicts_to_batch(chunk, offset=offset))
        offset += len(chunk)
        chunk = list(itertools.islice(rest, chunk_rows))


def _sequence_columns(records: Sequence[Any]) -> list[str]:
    # A set union runs in C and is cheap next to the conversion itself; the order (leading
    # fields, then first seen) only needs a scan when rows disagree on their keys.
    try:
        return order_columns(_keys_in_order(records))
    except (TypeError, AttributeError):
        _check_dicts(records, 0)
        raise


def _check_dicts(rows: Sequence[Any], offset: int) -> None:
    if set(map(type, rows)) == {dict}:
        return
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise OutputError(
                f"records must all be dicts; record {offset + index} is {_kind(row)}",
                code="BAD_RECORDS", row=offset + index,
            )


def _keys_in_order(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    keys = list(rows[0])
    union = set().union(*rows)
    if len(union) == len(keys):
        return keys
    missing = union.difference(keys)
    for row in rows:
        for key in row:
            if key in missing:
                keys.append(key)
                missing.discard(key)
        if not missing:
            break
    return keys


def dicts_to_batch(rows: Sequence[Mapping[str, Any]], offset: int = 0) -> pa.RecordBatch:
    """Convert records in the dict form to one record batch (not yet conformed).

    rows: the records; a key absent from some of them becomes a null there.
    offset: index of ``rows[0]`` in the whole input, for error messages [records].
    """
    _check_dicts(rows, offset)
    names = _keys_in_order(rows)
    # when every row has every key (the usual case), C-level item getters are twice as fast
    complete = set(map(len, rows)) == {len(names)}
    arrays = []
    for name in names:
        values = (list(map(itemgetter(name), rows)) if complete
                  else [row.get(name) for row in rows])
        arrays.append(_dict_column(name, values, offset))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _dict_column(name: str, values: list[Any], offset: int) -> pa.Array:
    declared = field_type(name)
    if name == "timestamp":
        return _timestamps_from_values(values, offset)
    if declared is None:
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # Mixed kinds in an undeclared field (numbers and text, ...): keep every value as
            # text rather than fail or guess; JSON text for numbers, booleans and containers.
            return pa.array([_as_text(v) for v in values], pa.string())
    try:
        return pa.array(values, type=declared)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    if pa.types.is_string(declared):
        # numbers or booleans in a text field (e.g. an OEM code 512): their text is lossless
        converted = []
        for index, value in enumerate(values):
            if value is None or isinstance(value, str):
                converted.append(value)
            elif isinstance(value, (bool, int, float)):
                converted.append(json.dumps(value))
            else:
                _raise_bad_value(name, declared, offset + index, value)
        return pa.array(converted, pa.string())
    for index, value in enumerate(values):
        try:
            pa.array([value], type=declared)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            _raise_bad_value(name, declared, offset + index, value)
    raise AssertionError("a value failed as a column but not alone")  # pragma: no cover


def _raise_bad_value(name: str, declared: pa.DataType, row: int, value: Any) -> None:
    raise OutputError(
        f"field '{name}' must be {_type_word(declared)}",
        code="RECORD_INVALID", row=row, field=name, value=value,
        hint="Fix the value or validate the records first (odse.validate_batch)",
    )


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def _timestamps_from_values(values: list[Any], offset: int) -> pa.Array:
    if set(map(type, values)) <= _TEXT_TYPES:
        return parse_timestamps(pa.array(values, pa.string()), offset)
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # datetimes mixed with text: render the datetimes as ISO text and parse it all
        text = [v.isoformat() if hasattr(v, "isoformat") else v for v in values]
        if set(map(type, text)) <= _TEXT_TYPES:
            return parse_timestamps(pa.array(text, pa.string()), offset)
        array = None
    if array is not None and pa.types.is_timestamp(array.type):
        return _timestamps_to_utc(array)
    bad = next(i for i, v in enumerate(values)
               if v is not None and not isinstance(v, str) and not hasattr(v, "isoformat"))
    raise OutputError(
        "field 'timestamp' must be ISO 8601 text or a datetime",
        code="RECORD_INVALID", row=offset + bad, field="timestamp", value=values[bad],
        hint=_HINT_TIMESTAMP,
    )


def parse_timestamps(text: pa.Array, offset: int = 0) -> pa.Array:
    """Parse ISO 8601 text to ``timestamp[us, tz=UTC]``; text without a zone is read as UTC.

    text: a string array; nulls stay null.
    offset: index of the first value in the whole input, for error messages [records].
    """
    if pa.types.is_large_string(text.type) or _is_string_view(text.type):
        text = text.cast(pa.string())
    try:
        return text.cast(TIMESTAMP_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Slow path, only for unusual text: lower-case z, a space before the offset, nanosecond
    # fractions (truncated to microseconds), or times without a zone (read as UTC).
    tidy = pc.replace_substring_regex(text, r"z$", "Z")
    tidy = pc.replace_substring_regex(tidy, r"\s+([+-]\d\d:?\d\d)$", r"\1")
    tidy = pc.replace_substring_regex(tidy, r"(\.\d{6})\d+", r"\1")
    zoned = pc.match_substring_regex(tidy, _ZONE_SUFFIX)
    try:
        with_zone = pc.if_else(zoned, tidy, pa.scalar(None, pa.string())).cast(TIMESTAMP_TYPE)
        naive = pc.if_else(zoned, pa.scalar(None, pa.string()), tidy).cast(_NAIVE_US)
        return pc.coalesce(with_zone, naive.cast(TIMESTAMP_TYPE))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values = tidy.to_pylist()
    for index, value in enumerate(values):
        if value is None:
            continue
        try:
            target = TIMESTAMP_TYPE if zoned[index].as_py() else _NAIVE_US
            pa.array([value]).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise OutputError(
                "field 'timestamp' is not an ISO 8601 date-time",
                code="RECORD_INVALID", row=offset + index, field="timestamp",
                value=text[index].as_py(), hint=_HINT_TIMESTAMP,
            ) from None
    raise AssertionError("a timestamp failed as a column but not alone")  # pragma: no cover


def _timestamps_to_utc(array: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    # Arrow stores zoned timestamps as UTC instants, so changing the zone is metadata only; a
    # timestamp without a zone is read as UTC. Finer units are truncated to microseconds.
    unit = array.type.unit
    if array.type.tz != "UTC":
        array = array.cast(pa.timestamp(unit, tz="UTC"))
    if unit != "us":
        array = array.cast(TIMESTAMP_TYPE, safe=unit != "ns")
    return array


# ---------------------------------------------------------------------------------------------
# conforming Arrow data


def union_fields(schemas: Iterable[pa.Schema]) -> dict[str, pa.Field]:
    """The fields of several schemas by name, in the order they first appear; where a name
    has several types, the first one wins."""
    fields: dict[str, pa.Field] = {}
    for schema in schemas:
        for item in schema:
            fields.setdefault(item.name, item)
    return fields


def order_columns(names: Iterable[str]) -> list[str]:
    """Return column names in the record's order: leading fields first, then the rest as given."""
    names = list(names)
    present = set(names)
    leading = [name for name in LEADING_FIELDS if name in present]
    lead = set(leading)
    return leading + [name for name in names if name not in lead]


def target_type(name: str, current: pa.DataType) -> pa.DataType | None:
    """Return the type a column is conformed to, or None when the column is dropped."""
    declared = field_type(name)
    if name == "timestamp":
        return TIMESTAMP_TYPE
    if declared is not None:
        return declared
    plain = _plain_type(current)
    if pa.types.is_null(plain):
        return None
    return plain


def _plain_type(current: pa.DataType) -> pa.DataType:
    if pa.types.is_dictionary(current):
        return _plain_type(current.value_type)
    if pa.types.is_large_string(current) or _is_string_view(current):
        return pa.string()
    if pa.types.is_large_binary(current) or _is_binary_view(current):
        return pa.binary()
    if pa.types.is_timestamp(current) and current.tz is not None:
        return pa.timestamp("us" if current.unit == "ns" else current.unit, tz="UTC")
    return current


def conform_schema(schema: pa.Schema) -> pa.Schema:
    """Return the schema that :func:`conform_batch` gives batches of ``schema``."""
    _check_unique(schema.names)
    fields = {}
    for item in schema:
        target = target_type(item.name, item.type)
        if target is not None:
            fields[item.name] = pa.field(item.name, target)
    return pa.schema([fields[name] for name in order_columns(fields)])


def conform_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Give a batch the record's Arrow form: types, column order, no schema metadata."""
    _check_unique(batch.schema.names)
    arrays: dict[str, pa.Array] = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        target = target_type(name, column.type)
        if target is None:
            continue
        arrays[name] = cast_column(name, column, target)
    names = order_columns(arrays)
    return pa.RecordBatch.from_arrays([arrays[name] for name in names], names=names)


def cast_column(name: str, column: pa.Array, target: pa.DataType) -> pa.Array:
    """Convert a column to ``target`` the way records are conformed; OutputError if impossible.

    Timestamps become UTC; timestamps converted to text become ISO 8601 ending in ``Z``;
    dictionary columns are decoded; other conversions are Arrow's safe casts.
    """
    if column.type == target:
        return column
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
        if column.type == target:
            return column
    if name == "timestamp":
        if pa.types.is_timestamp(column.type):
            return _timestamps_to_utc(column)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            return parse_timestamps(column)
        if pa.types.is_date(column.type):
            return column.cast(_NAIVE_US).cast(TIMESTAMP_TYPE)
        raise OutputError(
            f"column 'timestamp' has type {column.type}; expected timestamps or ISO 8601 text",
            code="RECORD_INVALID", field="timestamp", hint=_HINT_TIMESTAMP,
        )
    if pa.types.is_timestamp(column.type) and pa.types.is_string(target):
        return format_timestamps(_timestamps_to_utc(column))
    if pa.types.is_timestamp(column.type) and pa.types.is_timestamp(target):
        return _timestamps_to_utc(column)
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise OutputError(
            f"column '{name}' has type {column.type}, which cannot be converted to "
            f"{_type_word(target)}: {exc}",
            code="RECORD_INVALID", field=name,
            hint="Fix the column's type or validate the records first (odse.validate_batch)",
        ) from None


def _check_unique(names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise OutputError(f"column '{name}' appears twice", code="RECORD_INVALID",
                              field=name, hint="Give every column a distinct name")
        seen.add(name)


def _type_word(arrow_type: pa.DataType) -> str:
    if pa.types.is_floating(arrow_type) or pa.types.is_integer(arrow_type):
        return "a number"
    if pa.types.is_string(arrow_type):
        return "text"
    if pa.types.is_boolean(arrow_type):
        return "true or false"
    return str(arrow_type)


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a single dict"
    if isinstance(value, (str, bytes, bytearray)):
        return f"{type(value).__name__} {value[:40]!r}"
    return f"a {type(value).__module__}.{type(value).__qualname__}"
