"""Render Arrow columns as JSON or CSV text, a whole column at a time.

Values are rendered with Arrow compute functions instead of a Python loop per record, which
is what keeps JSON Lines and CSV output within a small factor of Arrow's own speed. Types
without a vectorised rendering (lists, structs, binary, ...) fall back to ``json.dumps`` per
value. Text rules shared by both formats:

* timestamps: ISO 8601 in UTC ending in ``Z``, fractions only when non-zero;
* floats: the shortest text that reads back to the same double, with ``.0`` added to whole
  numbers so they read back as floats (``5.0``, not ``5``); NaN and infinities are absent
  values (JSON has no literal for them);
* booleans: ``true`` / ``false``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.records import TIMESTAMP_TYPE, format_timestamps

_NULL_TEXT = pa.scalar(None, pa.string())
# characters that JSON strings must escape (RE2 syntax)
_JSON_SPECIAL = r'["\\\x00-\x1f]'
_JSON_CONTROL = r"[\x00-\x1f]"
_JSON_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_CSV_SPECIAL = '[,"\r\n]'
_DICTIONARY_MIN_ROWS = 4096
_DICTIONARY_SAMPLE = 1024


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def float_text(column: pa.Array) -> pa.Array:
    """Render floats; NaN and infinities become null."""
    if not pa.types.is_float64(column.type):
        column = column.cast(pa.float64())
    text = column.cast(pa.string())
    finite = pc.is_finite(column)
    if not _any(pc.invert(pc.fill_null(finite, True))):
        finite = None
    whole = pc.invert(pc.match_substring_regex(text, r"[.en]"))
    if _any(pc.fill_null(whole, False)):
        text = pc.if_else(whole, pc.binary_join_element_wise(text, ".0", ""), text)
    if finite is not None:
        text = pc.if_else(finite, text, _NULL_TEXT)
    return text


def timestamp_text(column: pa.Array) -> pa.Array:
    """Render timestamps as ISO 8601; zoned ones in UTC with ``Z``, others without a zone."""
    if column.type.tz is None:
        text = format_timestamps(column.cast(pa.timestamp(column.type.unit, tz="UTC"))
                                 .cast(TIMESTAMP_TYPE, safe=False))
        return pc.utf8_rtrim(text, "Z")
    return format_timestamps(column.cast(TIMESTAMP_TYPE, safe=False))


def json_string(column: pa.Array) -> pa.Array:
    """Render text as JSON string literals (UTF-8 kept, specials escaped)."""
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    if _any(pc.fill_null(pc.match_substring_regex(column, _JSON_SPECIAL), False)):
        column = pc.replace_substring(column, "\\", "\\\\")
        column = pc.replace_substring(column, '"', '\\"')
        if _any(pc.fill_null(pc.match_substring_regex(column, _JSON_CONTROL), False)):
            for char in map(chr, range(0x20)):
                escaped = _JSON_SHORT_ESCAPES.get(char, f"\\u{ord(char):04x}")
                column = pc.replace_substring(column, char, escaped)
    return pc.binary_join_element_wise('"', column, '"', "")


def csv_string(column: pa.Array) -> pa.Array:
    """Render text as CSV cells: quoted only when needed; an empty string is ``""``."""
    if not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    special = pc.or_(pc.match_substring_regex(column, _CSV_SPECIAL),
                     pc.equal(pc.binary_length(column), 0))
    if not _any(pc.fill_null(special, False)):
        return column
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(column, '"', '""'), '"', "")
    return pc.if_else(special, quoted, column)


def csv_quote(text: str) -> str:
    """Quote one CSV cell in Python, by the same rule as :func:`csv_string`."""
    if text == "" or any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _few_distinct(column: pa.Array) -> bool:
    # Energy records repeat their text (error_type, asset_id, direction, channel): rendering
    # each distinct value once and gathering by index is several times faster then. A sample
    # decides, so unique text (ids, notes) takes the direct path without paying for a hash.
    rows = len(column)
    if rows < _DICTIONARY_MIN_ROWS:
        return False
    sample = column.slice(0, _DICTIONARY_SAMPLE)
    return pc.count_distinct(sample).as_py() * 8 <= len(sample)


def fragment_text(column: pa.Array, prefix: str, *, for_json: bool) -> pa.Array:
    """Render a column's values with ``prefix`` before each present one; null where absent."""
    kind = column.type
    if (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and _few_distinct(column):
        column = pc.dictionary_encode(column)
    if pa.types.is_dictionary(column.type):
        values = value_text(column.dictionary, for_json=for_json)
        if prefix:
            values = pc.binary_join_element_wise(prefix, values, "")
        return values.take(column.indices)
    text = value_text(column, for_json=for_json)
    return pc.binary_join_element_wise(prefix, text, "") if prefix else text


def value_text(column: pa.Array, *, for_json: bool) -> pa.Array:
    """Render a column's values as JSON values or CSV cells; null where absent."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return value_text(column.dictionary_decode(), for_json=for_json)
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return json_string(column) if for_json else csv_string(column)
    if pa.types.is_floating(kind):
        return float_text(column)
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind):
        return column.cast(pa.string())
    if pa.types.is_timestamp(kind):
        text = timestamp_text(column)
    elif pa.types.is_date(kind) or pa.types.is_time(kind):
        text = column.cast(pa.string())
    else:
        return _python_text(column, for_json=for_json)
    return pc.binary_join_element_wise('"', text, '"', "") if for_json else text


def _python_text(column: pa.Array, *, for_json: bool) -> pa.Array:
    # Nested and other rare types: JSON text per value (an object or array in JSON output,
    # the same text as one cell in CSV).
    values = [None if value is None else json.dumps(_finite(value), ensure_ascii=False,
                                                       separators=(",", ":"), default=str)
              for value in column.to_pylist()]
    text = pa.array(values, pa.string())
    return text if for_json else csv_string(text)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def json_lines(batch: pa.RecordBatch) -> pa.Array:
    """Render each row as one compact JSON object followed by a newline; nulls are left out."""
    rows = batch.num_rows
    fragments = []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if column.null_count == rows:
            continue
        key = "," + json.dumps(name, ensure_ascii=False) + ":"
        fragments.append(fragment_text(column, key, for_json=True))
    if not fragments:
        return pa.array(["{}\n"] * rows, pa.string())
    # Each present field renders as ',"name":value'; joining them with nulls as '' and turning
    # the first ',' into '{' gives the object. (null_handling="skip" would be simpler, but
    # pyarrow 26 drops rows whose inputs are all null under it.)
    joined = pc.binary_join_element_wise(*fragments, "", null_handling="replace",
                                         null_replacement="")
    opened = pc.binary_replace_slice(joined, 0, 1, "{")
    return pc.binary_join_element_wise(opened, "}\n", "")


def csv_lines(batch: pa.RecordBatch, columns: list[str]) -> pa.Array:
    """Render each row as one CSV line with the given columns; absent values are empty cells."""
    present = set(batch.schema.names)
    cells: list[Any] = []
    for name in columns:
        if name in present:
            cells.append(fragment_text(batch.column(name), "", for_json=False))
        else:
            cells.append(_NULL_TEXT)
    if len(columns) == 1:
        # a lone empty cell would be a blank line, which CSV readers skip
        only = cells[0]
        cells[0] = pc.fill_null(only, '""') if isinstance(only, pa.Array) else '""'
        if not isinstance(cells[0], pa.Array):
            return pa.array(['""\n'] * batch.num_rows, pa.string())
    if not any(isinstance(cell, pa.Array) for cell in cells):
        return pa.array([","* (len(columns) - 1) + "\n"] * batch.num_rows, pa.string())
    joined = pc.binary_join_element_wise(*cells, ",", null_handling="replace",
                                         null_replacement="")
    return pc.binary_join_element_wise(joined, "\n", "")


def csv_header(columns: list[str]) -> bytes:
    """Render the CSV header line."""
    return (",".join(csv_quote(name) for name in columns) + "\n").encode("utf-8")


def text_buffer(lines: pa.Array) -> pa.Buffer:
    """Return the bytes of all lines one after another, without copying when possible."""
    if len(lines) == 0:
        return pa.py_buffer(b"")
    if pa.types.is_string(lines.type) and lines.null_count == 0:
        _validity, offsets, data = lines.buffers()
        if data is not None:
            view = memoryview(offsets).cast("i")
            start, end = view[lines.offset], view[lines.offset + len(lines)]
            return data.slice(start, end - start)
    return pa.py_buffer("".join(lines.to_pylist()).encode("utf-8"))
