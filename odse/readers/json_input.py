"""Read JSON documents and JSON Lines into Arrow without building Python objects per record.

A document is parsed by Arrow's JSON reader into one row of nested structs and lists; a
top-level array is read as the list under the key ``@``. The mapping's time fields are
declared as text in an explicit schema so that Arrow does not turn zoned times into naive
ones. If Arrow cannot type the document (a field that is a number in one place and text in
another), the document is parsed with Python's json module instead and every leaf value is
kept as text, which the engine converts the same way as CSV cells.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson

from odse.errors import InputError
from odse.readers.inputs import InputData

ROOT_ARRAY_KEY = "@"
LINES_BLOCK = 8 << 20


def read_document(data: InputData, schema: pa.Schema | None = None,
                  *, text_leaves: bool = False) -> pa.StructArray:
    """Return the document as a struct array of length one.

    Args:
        schema: fields whose Arrow type must be fixed (time fields as text).
        text_leaves: parse with Python and keep every leaf as text, for documents whose
            time fields sit under keys that are data (and so cannot be declared).
    """
    raw = data.read_all()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    stripped = raw.lstrip()
    if not stripped:
        raise InputError("the JSON input is empty", code="INPUT_EMPTY", file=data.name)
    if stripped[:1] == b"[":
        raw = b'{"' + ROOT_ARRAY_KEY.encode() + b'":' + stripped + b"}"
    if text_leaves:
        return _python_document(raw, data.name, text_leaves=True)
    try:
        table = pajson.read_json(
            io.BytesIO(raw),
            read_options=pajson.ReadOptions(block_size=len(raw) + 64, use_threads=False),
            parse_options=pajson.ParseOptions(explicit_schema=schema, newlines_in_values=True,
                                              unexpected_field_behavior="infer"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _python_document(raw, data.name)
    if table.num_rows != 1:
        return _python_document(raw, data.name)
    return table.to_struct_array().combine_chunks()


def _python_document(raw: bytes, name: str, *, text_leaves: bool = False) -> pa.StructArray:
    # Arrow's reader stops at a field that is a number in one record and text in another
    # (a real export's "N/A" among readings). Python's parser then reads numbers as text,
    # which the engine converts as it does CSV cells.
    try:
        obj = json.loads(raw, parse_int=str, parse_float=str, parse_constant=str)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{name} is not valid JSON: {exc}", code="INPUT_NOT_JSON", file=name,
                         hint="Check that the file is complete JSON (or JSON Lines)") from None
    if not isinstance(obj, dict):
        raise InputError(f"{name} holds a JSON {type(obj).__name__}, not an object or array",
                         code="INPUT_NOT_JSON", file=name)
    if not text_leaves:
        try:
            return pa.array([obj])
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    try:
        return pa.array([_leaves_as_text(obj)])
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    try:
        # a list of plain values where other records hold one value: keep it as its text
        return pa.array([_leaves_as_text(obj, value_lists=True)])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{name} mixes objects and arrays at the same place: {exc}",
                         code="INPUT_JSON_SHAPE", file=name) from None


def _leaves_as_text(value: Any, value_lists: bool = False) -> Any:
    # the fallback for documents whose leaves change type; structure is kept
    if isinstance(value, dict):
        return {k: _leaves_as_text(v, value_lists) for k, v in value.items()}
    if isinstance(value, list):
        if value_lists and not any(isinstance(v, (dict, list)) for v in value):
            return json.dumps(value)
        return [_leaves_as_text(v, value_lists) for v in value]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def iter_lines(data: InputData, schema: pa.Schema | None = None) -> Iterator[pa.StructArray]:
    """Yield JSON Lines input as struct arrays, one element per line, in blocks.

    Arrow's reader fixes each field's type on the first block; when a later line changes a
    type (a real log's "N/A" among numbers), the lines not yet read are parsed with Python,
    numbers kept as text, in blocks too.
    """
    raw_stream = data.open_at(0)
    done = 0
    try:
        reader = pajson.open_json(
            raw_stream,
            # the module constant is read here, not at import, so tests can shrink it
            read_options=pajson.ReadOptions(block_size=LINES_BLOCK, use_threads=True),
            parse_options=pajson.ParseOptions(explicit_schema=schema,
                                              unexpected_field_behavior="infer"))
        for batch in reader:
            if batch.num_rows:
                done += batch.num_rows
                yield batch.to_struct_array()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        yield from _python_lines(data, skip=done)
    finally:
        raw_stream.close()


PYTHON_LINES_BLOCK = 20_000


def _python_lines(data: InputData, skip: int = 0) -> Iterator[pa.StructArray]:
    rows: list[Any] = []
    seen = 0
    stream = data.open_lines()
    try:
        for number, raw in enumerate(stream, start=1):
            line = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
            if not line.strip():
                continue
            seen += 1
            if seen <= skip:
                continue
            try:
                rows.append(_leaves_as_text(json.loads(line)))
            except ValueError as exc:
                raise InputError(f"line {number} of {data.name} is not valid JSON: {exc}",
                                 code="INPUT_NOT_JSON", file=data.name) from None
            if len(rows) >= PYTHON_LINES_BLOCK:
                yield _as_array(rows, data.name)
                rows = []
    finally:
        stream.close()
    if rows:
        yield _as_array(rows, data.name)


def _as_array(rows: list[Any], name: str) -> pa.StructArray:
    try:
        return pa.array(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{name} mixes objects and arrays at the same place: {exc}",
                         code="INPUT_JSON_SHAPE", file=name) from None
