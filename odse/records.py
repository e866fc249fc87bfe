"""The ODS-E record in its two forms: Arrow columns and Python dicts.

Arrow form (tables, record batches, Parquet): ``timestamp`` is ``timestamp[us, tz=UTC]``,
``kWh`` and the other numeric fields are ``float64``, text fields are ``string``; a null
means the field is absent. Dict form (``transform()``, JSON, CSV): the timestamp is an ISO
8601 string ending in ``Z`` (fractions only when non-zero) and absent fields have no key.

The field types come from ``schemas/energy-timeseries.json``, the single source of truth.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Callable, Iterable, Iterator
from functools import cache, lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.resources import load_schema

RECORD_SCHEMA_FILE = "energy-timeseries.json"
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
ERROR_TYPES = ("normal", "warning", "critical", "fault", "offline", "standby", "unknown")
DIRECTIONS = ("generation", "consumption", "net")

# Fields that lead every record, in this order; others follow in the order the spec gives.
LEADING_FIELDS = ("timestamp", "kWh", "error_type", "error_code", "asset_id", "direction",
                  "channel")
# Fields that identify a series: counters are differenced and rows merged per series.
SERIES_KEY = ("asset_id", "direction", "channel")
EXACT_INTEGER_LIMIT = 2 ** 53
"""Integers from here on lose digits in a float64 (``kWh`` and the other readings)."""

_JSON_TO_ARROW = {
    "number": pa.float64(),
    "integer": pa.int64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
}


def record_schema() -> dict[str, Any]:
    """Return the ODS-E energy-timeseries JSON Schema (a dict; do not modify it)."""
    return load_schema(RECORD_SCHEMA_FILE)


@cache
def known_fields() -> dict[str, pa.DataType]:
    """Return the Arrow type of every field the record schema declares."""
    out: dict[str, pa.DataType] = {}
    for name, prop in record_schema()["properties"].items():
        out[name] = TIMESTAMP_TYPE if name == "timestamp" else _JSON_TO_ARROW[prop["type"]]
    return out


def field_type(name: str) -> pa.DataType | None:
    """Return the Arrow type of a declared field, or None for a field the schema lacks."""
    return known_fields().get(name)


def field_enum(name: str) -> tuple[str, ...] | None:
    """Return the allowed values of an enumerated field, or None."""
    prop = record_schema()["properties"].get(name, {})
    values = prop.get("enum")
    return tuple(values) if values else None


def field_bounds(name: str) -> tuple[float | None, float | None]:
    """Return the (minimum, maximum) the record schema sets for a numeric field."""
    prop = record_schema()["properties"].get(name, {})
    return prop.get("minimum"), prop.get("maximum")


def format_timestamps(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Render UTC timestamps as ISO 8601 text ending in ``Z`` (fractions only when non-zero)."""
    if isinstance(values, pa.ChunkedArray):
        return pa.chunked_array([format_timestamps(c) for c in values.chunks], pa.string())
    micros = values.cast(pa.int64())
    naive = micros.view(pa.timestamp("us"))
    seconds = pc.cast(naive, pa.timestamp("s"), safe=False).cast(pa.int64())
    low = pc.min(seconds).as_py()
    if low is None or low >= 0:
        text = _join_day_and_time(seconds)
    else:
        whole = pc.cast(seconds.view(pa.timestamp("s")), pa.string())
        text = pc.binary_join_element_wise(pc.binary_replace_slice(whole, 10, 11, "T"), "Z", "")
    fraction = pc.not_equal(pc.remainder(micros, 1_000_000), 0)
    if pc.any(fraction).as_py():
        # rare: keep the significant digits of the fraction
        full = pc.cast(naive, pa.string())
        full = pc.binary_replace_slice(full, 10, 11, "T")
        full = pc.replace_substring_regex(full, r"\.?0*$", "")
        full = pc.binary_join_element_wise(full, "Z", "")
        text = pc.if_else(fraction, full, text)
    return text


def _join_day_and_time(seconds: pa.Array) -> pa.Array:
    # Times since 1970: a batch spans few days, so each day's text is made once and taken
    # per row, the time of day taken from the table of all 86,400 (twice as fast as casting).
    days = pc.divide(seconds, 86_400)
    distinct = pc.unique(days)
    day_text = pc.cast(pc.cast(pc.multiply(distinct, 86_400), pa.timestamp("s")).cast(
        pa.date32()), pa.string())
    day_text = pc.binary_join_element_wise(day_text, "T", "")
    of_day = pc.subtract(seconds, pc.multiply(days, 86_400))
    return pc.binary_join_element_wise(pc.take(day_text, pc.index_in(days, distinct)),
                                       pc.take(_times_of_day(), of_day), "")


@cache
def _times_of_day() -> pa.Array:
    """``HH:MM:SSZ`` for every second of a day."""
    midnight = pa.array(range(86_400), pa.int64()).view(pa.timestamp("s"))
    text = pc.utf8_slice_codeunits(pc.cast(midnight, pa.string()), 11, 19)
    return pc.binary_join_element_wise(text, "Z", "")


def table_to_dicts(table: pa.Table | pa.RecordBatch) -> list[dict[str, Any]]:
    """Convert Arrow records to dicts: timestamps as ISO text, null fields left out.

    Keys follow the column order. Each column becomes Python values once (a text column
    with few distinct values shares one ``str`` per value), and one generated comprehension
    builds every dict with all its keys at once; the keys of null cells are then removed.
    """
    if isinstance(table, pa.Table):
        out: list[dict[str, Any]] = []
        for batch in table.to_batches():
            out.extend(_batch_to_dicts(batch))
        return out
    return _batch_to_dicts(table)


def _batch_to_dicts(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    n = batch.num_rows
    if len(set(batch.schema.names)) < batch.num_columns:
        return _dicts_with_repeated_names(batch)
    names: list[str] = []
    values: list[Iterable[Any]] = []
    holes: list[tuple[str, pa.Array]] = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        nulls = column.null_count
        if nulls == n:
            continue
        names.append(name)
        values.append(_python_values(column))
        if nulls:
            holes.append((name, pc.indices_nonzero(column.is_null())))
    if not names:
        return [{} for _ in range(n)]
    with collector_paused():
        out = _dict_builder(tuple(names))(*values)
    for name, rows in holes:
        for row in rows.to_pylist():
            del out[row][name]
    return out


def _dicts_with_repeated_names(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    # rare (records never have it): a name's later column wins where it is not null
    names = batch.schema.names
    columns = [_time_text(c).to_pylist() if pa.types.is_timestamp(c.type) else c.to_pylist()
               for c in batch.columns]
    return [{k: v for k, v in zip(names, row, strict=True) if v is not None}
            for row in zip(*columns, strict=True)]


def _time_text(column: pa.Array) -> pa.Array:
    if column.type != TIMESTAMP_TYPE:  # naive times are read as UTC
        column = column.cast(TIMESTAMP_TYPE)
    return format_timestamps(column)


def _python_values(column: pa.Array) -> Iterable[Any]:
    """The column's values as Python objects (a null's value is arbitrary)."""
    if pa.types.is_timestamp(column.type):
        return _time_text(column).to_pylist()
    if not pa.types.is_string(column.type) or len(column) < _FEW_DISTINCT_MIN_ROWS:
        return column.to_pylist()
    encoded = column.dictionary_encode()
    distinct = encoded.dictionary.to_pylist()
    if len(distinct) == 1 and not column.null_count:
        return itertools.repeat(distinct[0], len(column))
    if len(distinct) * _FEW_DISTINCT_RATIO > len(column):
        return column.to_pylist()
    indices = encoded.indices
    if indices.null_count:
        indices = indices.fill_null(0)
    return map(distinct.__getitem__, indices.to_pylist())


# a text column with at most one distinct value per this many rows shares its str objects
_FEW_DISTINCT_RATIO = 16
_FEW_DISTINCT_MIN_ROWS = 256


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector while making many dicts that cannot form cycles.

    Every 700 new containers would otherwise start a collection that walks the young dicts,
    and the growing list of them is walked whole again and again; reference counting still
    frees everything as usual, and the collector resumes (if it ran before) at the end.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@lru_cache(maxsize=64)
def _dict_builder(names: tuple[str, ...]) -> Callable[..., list[dict[str, Any]]]:
    """A function building one dict per row from one iterable per key.

    A dict display (``{'a': v0, 'b': v1}``) in a comprehension is the fastest way CPython
    has to make many small dicts, so one is compiled per set of keys; the keys enter the
    source as ``repr`` literals and nothing else from the data does.
    """
    params = ", ".join(f"c{i}" for i in range(len(names)))
    loop = ", ".join(f"v{i}" for i in range(len(names)))
    items = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names))
    source = f"def build({params}):\n    return [{{{items}}} for ({loop},) in zip({params})]\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<odse record dicts>", "exec"), namespace)
    return namespace["build"]
