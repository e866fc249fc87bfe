"""The ODS-E record in its two forms: Arrow columns and Python dicts.

Arrow form (tables, record batches, Parquet): ``timestamp`` is ``timestamp[us, tz=UTC]``,
``kWh`` and the other numeric fields are ``float64``, text fields are ``string``; a null
means the field is absent. Dict form (``transform()``, JSON, CSV): the timestamp is an ISO
8601 string ending in ``Z`` (fractions only when non-zero) and absent fields have no key.

The field types come from ``schemas/energy-timeseries.json``, the single source of truth.
"""

from __future__ import annotations

from functools import cache
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
    whole = pc.cast(pc.cast(naive, pa.timestamp("s"), safe=False), pa.string())
    text = pc.binary_replace_slice(whole, 10, 11, "T")
    text = pc.binary_replace_slice(text, 19, 19, "Z")
    fraction = pc.not_equal(pc.remainder(micros, 1_000_000), 0)
    if pc.any(fraction).as_py():
        # rare: keep the significant digits of the fraction
        full = pc.cast(naive, pa.string())
        full = pc.binary_replace_slice(full, 10, 11, "T")
        full = pc.replace_substring_regex(full, r"\.?0*$", "")
        full = pc.binary_join_element_wise(full, "Z", "")
        text = pc.if_else(fraction, full, text)
    return text


def table_to_dicts(table: pa.Table | pa.RecordBatch) -> list[dict[str, Any]]:
    """Convert Arrow records to dicts: timestamps as ISO text, null fields left out."""
    names = list(table.schema.names)
    n = table.num_rows
    if not names:
        return [{} for _ in range(n)]
    columns = []
    for i in range(len(names)):
        col = table.column(i)
        if pa.types.is_timestamp(col.type):
            col = format_timestamps(col.cast(TIMESTAMP_TYPE) if col.type.tz is None else col)
        columns.append(col)
    sparse = [i for i, col in enumerate(columns) if col.null_count]
    if not sparse:
        return _zip_rows(names, [c.to_pylist() for c in columns], n)
    # Rows fall into a few null patterns; build each pattern's dicts in one pass.
    pattern = _null_pattern([columns[i] for i in sparse], n)
    distinct = pc.unique(pattern).to_pylist()

    def kept(row: int) -> list[int]:
        # the columns with a value in the rows of one pattern, read off one of its rows
        return [i for i in range(len(names)) if i not in sparse or columns[i][row].is_valid]

    if len(distinct) == 1:
        keep = kept(0)
        return _zip_rows([names[i] for i in keep], [columns[i].to_pylist() for i in keep], n)
    out: list[dict[str, Any]] = [None] * n  # type: ignore[list-item]
    for code in distinct:
        rows = pc.indices_nonzero(pc.equal(pattern, code))
        keep = kept(rows[0].as_py())
        dicts = _zip_rows([names[i] for i in keep],
                          [pc.take(columns[i], rows).to_pylist() for i in keep], len(rows))
        for index, record in zip(rows.to_pylist(), dicts, strict=True):
            out[index] = record
    return out


def _null_pattern(columns: list[Any], n: int) -> pa.Array:
    """Return, per row, an int64 whose bit k says whether column k has a value.

    More than 62 columns are first reduced to distinct patterns through text keys.
    """
    if len(columns) <= 62:
        pattern = pa.repeat(pa.scalar(0, pa.int64()), n)
        for bit, col in enumerate(columns):
            pattern = pc.add(pattern, pc.multiply(pc.cast(pc.is_valid(col), pa.int64()),
                                                  1 << bit))
        return pattern
    flags = [pc.if_else(pc.is_valid(col), "1", "0") for col in columns]
    keys = pc.binary_join_element_wise(*flags, "")
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.combine_chunks()
    return pc.dictionary_encode(keys).indices.cast(pa.int64())


def _zip_rows(names: list[str], values: list[list[Any]], n: int) -> list[dict[str, Any]]:
    if not names:
        return [{} for _ in range(n)]
    return [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
