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
import pyarrow.compute as pc
import pyarrow.json as pajson

from odse import limits
from odse.errors import InputError
from odse.readers.inputs import InputData, release

ROOT_ARRAY_KEY = "@"
LINES_BLOCK = 8 << 20
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'"[]{}')))
_ONE_KIND = bytes.maketrans(b"{}", b"[]")   # depth does not care which kind of bracket


def _codes(text: bytes) -> pa.Array:
    return pa.Array.from_buffers(pa.uint8(), len(text), [None, pa.py_buffer(text)])


def nesting_depth(raw: bytes, limit: int) -> int:
    """Return the nesting depth of JSON text ``raw``, exactly when it is over ``limit``
    (within it, a bound that is itself within it).

    Arrow's JSON reader recurses once per level and crashes the process past a few thousand,
    so the depth is measured first: only the brackets and quotes are kept, brackets inside
    strings dropped, then innermost pairs are removed a few times (real documents are
    shallow) and what remains is summed. All of it runs in C, not per byte in Python.
    """
    if b"\\" in raw:   # escapes: an escaped quote is no quote
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = raw.translate(_ONE_KIND, _NOT_STRUCTURE)
    if text.count(b'""') * 2 == text.count(b'"'):
        # every string's quotes are adjacent here (the usual case: no bracket in any
        # string), so the quotes can simply go: two counts and a translate, no copies
        text = text.translate(None, b'"')
    else:
        # two adjacent quotes are an empty string or the end of one and the start of the
        # next: either way, what lies between quotes stays between quotes when they go
        text = text.replace(b'""', b"")
    if b'"' in text:
        codes = _codes(text)
        quote = pc.equal(codes, ord('"'))
        inside = pc.bit_wise_and(pc.cumulative_sum(pc.cast(quote, pa.int32())), 1)
        kept = pc.filter(codes, pc.and_(pc.invert(quote), pc.equal(inside, 0)))
        text = kept.buffers()[1].to_pybytes()[:len(kept)]
    passes = 0
    while len(text) > 2 * (limit - passes) and passes < 8:
        shorter = text.replace(b"[]", b"")   # every innermost pair: one level less
        if len(shorter) == len(text):
            break
        text, passes = shorter, passes + 1
    if len(text) <= 2 * (limit - passes):
        return passes + len(text) // 2
    # "[" has bit 1 set, "]" not: +1 and -1
    steps = pc.subtract(pc.cast(pc.bit_wise_and(_codes(text), 2), pa.int32()), 1)
    return passes + int(pc.max(pc.cumulative_sum(steps)).as_py() or 0)


def check_depth(raw: bytes, name: str, line: int | None = None) -> None:
    """Raise a LimitError when ``raw`` nests deeper than the json_depth limit."""
    limit = limits.current().json_depth
    if len(raw) <= 2 * limit:
        return
    depth = nesting_depth(raw, limit)
    if depth > limit:
        where = f"line {line} of {name}" if line else name
        raise limits.exceeded("json_depth", f"{where} nests {depth:,} levels deep",
                              file=name, line=line)


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
    if not data.depth_checked:
        check_depth(stripped, data.name)
        data.depth_checked = True
    if stripped[:1] == b"[":
        raw = b'{"' + ROOT_ARRAY_KEY.encode() + b'":' + stripped + b"}"
    elif stripped[:1] != b"{":
        raise InputError(f"{data.name} holds a JSON value that is neither an object nor an "
                         "array", code="INPUT_NOT_JSON", file=data.name,
                         hint="Records come from a JSON object or array (or JSON Lines)")
    if text_leaves:
        return _python_document(raw, data.name, text_leaves=True)
    # Arrow's reader refuses a key given twice in one object ("specified twice"); Python's
    # parser, which takes over from it, checks each object too (JSON_DUPLICATE_KEY)
    try:
        table = pajson.read_json(
            io.BytesIO(raw),
            read_options=pajson.ReadOptions(block_size=len(raw) + 64, use_threads=False),
            parse_options=pajson.ParseOptions(explicit_schema=schema, newlines_in_values=True,
                                              unexpected_field_behavior="infer"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowIndexError):
        return _python_document(raw, data.name)
    if table.num_rows != 1:
        return _python_document(raw, data.name)
    try:
        return table.to_struct_array().combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowIndexError):
        # a list of nulls only ([null, null]) comes back as a column Arrow cannot slice
        return _python_document(raw, data.name)


def no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for Python's json parser: a key given twice raises
    :class:`DuplicateKey` (turn it into the input error with :func:`duplicate_key_error`)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(key)
    return obj


class DuplicateKey(ValueError):
    """A key given twice in one JSON object."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def duplicate_key_error(exc: DuplicateKey, name: str, line: int | None = None) -> InputError:
    """Return the ``JSON_DUPLICATE_KEY`` input error for ``exc`` found in ``name``."""
    where = f"line {line} of {name}" if line else name
    return InputError(f"{where} gives the key '{exc.key}' twice in one object",
                      code="JSON_DUPLICATE_KEY", file=name, line=line,
                      hint="Each key may appear once per object; fix the export (odse "
                           "would otherwise have to drop one of the values)")


def loads(raw: bytes | str, name: str, line: int | None = None, *,
          check_keys: bool = True) -> Any:
    """Parse JSON text with Python, numbers kept as their text; every failure an InputError.

    check_keys: a key given twice in one object is an error (``JSON_DUPLICATE_KEY``):
        keeping either value would drop the other without a word. (Checking costs a Python
        call per object; a caller whose text Arrow's reader has checked already skips it.)
    """
    where = f"line {line} of {name}" if line else name
    try:
        return json.loads(raw, parse_int=str, parse_float=str, parse_constant=str,
                          object_pairs_hook=no_duplicate_keys if check_keys else None)
    except DuplicateKey as exc:
        raise duplicate_key_error(exc, name, line) from None
    except RecursionError:
        raise limits.exceeded("json_depth", f"{where} nests too deep for the JSON reader",
                              file=name, line=line) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{where} is not valid JSON: {exc}", code="INPUT_NOT_JSON", file=name,
                         line=line,
                         hint="Check that the file is complete JSON (or JSON Lines)") from None


def _to_arrow(value: Any, name: str) -> pa.Array:
    try:
        return pa.array(value)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end] if isinstance(exc.object, str) else ""
        shown = bad.encode("unicode_escape").decode("ascii") if bad else "?"
        raise InputError(f"{name} holds text that is not valid Unicode (the escape {shown}, "
                         "a lone surrogate)", code="INPUT_BAD_TEXT", file=name,
                         hint="Such text cannot be written to any output; fix the export"
                         ) from None
    except RecursionError:
        raise limits.exceeded("json_depth", f"{name} nests too deep to convert",
                              file=name) from None


def _python_document(raw: bytes, name: str, *, text_leaves: bool = False) -> pa.StructArray:
    # Arrow's reader stops at a field that is a number in one record and text in another
    # (a real export's "N/A" among readings). Python's parser then reads numbers as text,
    # which the engine converts as it does CSV cells; it checks every object for a key
    # given twice, as Arrow's reader does (a Python call per object: this path only)
    obj = loads(raw, name)
    if not isinstance(obj, dict):
        raise InputError(f"{name} holds a JSON {type(obj).__name__}, not an object or array",
                         code="INPUT_NOT_JSON", file=name)
    if not text_leaves:
        try:
            return _to_arrow([obj], name)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    try:
        return _to_arrow([_leaves_as_text(obj)], name)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    try:
        # a list of plain values where other records hold one value: keep it as its text
        return _to_arrow([_leaves_as_text(obj, value_lists=True)], name)
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
    check_lines_depth(data)
    raw_stream = data.open_at(0)
    done = 0
    reader = None
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
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowIndexError):
        yield from _python_lines(data, skip=done)
    finally:
        release(reader)
        raw_stream.close()


PYTHON_LINES_BLOCK = 20_000


def check_lines_depth(data: InputData) -> None:
    """Measure the nesting of every line before Arrow's reader sees it (in blocks)."""
    if data.depth_checked:
        return
    limit = data.limits.json_depth
    stream = data.open_lines()
    before = 0                    # lines before the block
    rest = b""
    try:
        while True:
            chunk = stream.read(LINES_BLOCK)
            block = rest + chunk
            cut = block.rfind(b"\n") + 1 if chunk else len(block)
            block, rest = block[:cut], block[cut:]
            if len(block) > 2 * limit and nesting_depth(block, limit) > limit:
                for number, line in enumerate(block.splitlines(), start=before + 1):
                    check_depth(line, data.name, number)
            before += block.count(b"\n")
            if not chunk:
                data.depth_checked = True
                return
    finally:
        stream.close()


def lines_as_text(data: InputData, skip: int = 0) -> Iterator[pa.StructArray]:
    """Yield JSON Lines input parsed by Python, every leaf as text, after ``skip`` lines
    with content (for numbers Arrow's reader could only round)."""
    return _python_lines(data, skip)


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
            check_depth(line.encode("utf-8"), data.name, number)
            rows.append(_leaves_as_text(loads(line, data.name, number)))
            if len(rows) >= PYTHON_LINES_BLOCK:
                yield _as_array(rows, data.name)
                rows = []
    finally:
        stream.close()
    if rows:
        yield _as_array(rows, data.name)


def _as_array(rows: list[Any], name: str) -> pa.StructArray:
    try:
        return _to_arrow(rows, name)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{name} mixes objects and arrays at the same place: {exc}",
                         code="INPUT_JSON_SHAPE", file=name) from None
