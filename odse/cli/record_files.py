"""Read ODS-E records for ``odse validate``: files, folders, Parquet lakes and stdin, as Arrow.

Kinds, told from the extension and else from the first bytes:

* Parquet (``.parquet``, or ``PAR1`` magic): read file by file in batches. In a Hive layout
  (``asset_id=SITE-ALPHA/year=2026/...``) the folder names are partition values, not stored
  in the files: ``year``, ``month``, ``day`` and ``hour`` are derived from the timestamp and
  are dropped; any other key (``asset_id``) is a record field and is added back as text.
* JSON Lines (``.jsonl``, ``.ndjson``, or ``.json`` whose first line is a whole object),
  one JSON object, several objects, or a JSON array of objects.
* CSV with a header (``.csv``): an empty cell is an absent field; declared numeric and
  boolean fields are converted; other cells stay text.

Time fields (``timestamp``, ``settlement_period_start``, ...) are read as text, so that a
time without a zone is reported rather than silently read as UTC. A JSON null is an absent
field, as in Arrow and Parquet. When Arrow cannot type a piece (a field that is a number in
one record and text in another), that piece alone is parsed with Python into dicts, which
the validator checks value by value (``Piece.records``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.fs as pafs
import pyarrow.json as pajson
import pyarrow.parquet as pq

from odse import limits
from odse.errors import InputError, InputNotFoundError
from odse.filesystems import from_uri, is_uri
from odse.readers import json_input
from odse.readers.inputs import InputData, release
from odse.records import record_schema

PIECE_ROWS = 1 << 17
"""Records read at a time from one file."""
JSON_BLOCK = 8 << 20
RECORD_SUFFIXES = {".parquet": "parquet", ".jsonl": "json", ".ndjson": "json",
                   ".json": "json", ".csv": "csv"}
DERIVED_PARTITIONS = ("year", "month", "day", "hour")
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
STDIN = "-"
_BOM = b"\xef\xbb\xbf"


@dataclass
class Piece:
    """Records from one file: an Arrow table, or (for data Arrow cannot type) dicts.

    name: the file as shown in the report (``-`` for stdin).
    first_row: 1-based number, within the file, of the piece's first record.
    """

    name: str
    first_row: int
    table: pa.Table | None = None
    records: list[Any] | None = None

    @property
    def num_rows(self) -> int:
        """Number of records in the piece."""
        return self.table.num_rows if self.table is not None else len(self.records or [])


@dataclass(frozen=True)
class Source:
    """One file to read (or stdin), the input argument it came from, and its kind."""

    name: str
    given: str
    kind: str | None  # parquet, json, csv; None: tell from the bytes
    data: bytes | None = None
    fs: Any = None
    """The ``pyarrow.fs`` filesystem of a file named by URI (``path`` is inside it)."""
    path: str = ""

    def open(self) -> Any:
        """Return a binary stream over the file (Arrow readers take it as it is).

        A native Arrow file, not a Python one: Arrow's read-ahead threads would call back into
        Python, and one still reading after a parse error aborted the process at exit.
        """
        if self.fs is not None:
            return self.fs.open_input_stream(self.path)
        return pa.OSFile(self.name, "rb")


def expand(inputs: list[str], stdin: Any = None) -> Iterator[Source]:
    """Yield the files behind the input arguments: files as given, folders walked in order.

    stdin: a binary stream read (once, wholly) for the argument ``-``.
    """
    for given in inputs:
        if given == STDIN:
            raw = stdin.read() if stdin is not None else b""
            if not raw.strip():
                # an empty pipe usually means the command before it failed: never "all valid"
                raise InputError("stdin is empty: there is nothing to validate",
                                 code="INPUT_EMPTY",
                                 hint="Check the command before the pipe (its exit code and "
                                      "its Error: line); set -o pipefail in scripts")
            yield Source(STDIN, given, None, raw)
            continue
        if is_uri(given):
            yield from _remote(given)
            continue
        path = Path(given)
        if not path.exists():
            raise InputNotFoundError(f"file not found: {given}", file=given,
                                     hint="Check the path; validate takes files or folders "
                                          "of .parquet, .jsonl, .json or .csv records")
        if path.is_dir():
            found = list(_walk(path))
            if not found:
                raise InputError(
                    f"no record files in {given}", code="INPUT_EMPTY_FOLDER", file=given,
                    hint="validate reads *.parquet (a lake), *.jsonl, *.json and *.csv; "
                         "check that the transform wrote to this folder")
            for file in found:
                yield Source(str(file), given, RECORD_SUFFIXES[file.suffix.lower()])
            continue
        yield Source(given, given, RECORD_SUFFIXES.get(path.suffix.lower()))


def _remote(uri: str) -> Iterator[Source]:
    """The files behind a URI: one file, or a folder (a lake) walked in order."""
    try:
        fs, path = from_uri(uri)
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.Directory:
            infos = fs.get_file_info(pafs.FileSelector(path, recursive=True))
    except (ValueError, OSError) as exc:
        raise InputError(f"cannot open {uri}: {exc}", code="INPUT_URI", file=uri,
                         hint="Check the URI and the store's settings (for S3: AWS_PROFILE "
                              "or AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL)") from None
    if info.type == pafs.FileType.NotFound:
        raise InputNotFoundError(f"file not found: {uri}", file=uri,
                                 hint="Check the URI; validate takes files or folders of "
                                      ".parquet, .jsonl, .json or .csv records")
    if info.type != pafs.FileType.Directory:
        yield Source(uri, uri, RECORD_SUFFIXES.get(posixpath.splitext(path)[1].lower()),
                     fs=fs, path=path)
        return
    base = path.rstrip("/")
    found = []
    for item in infos:
        rel = item.path[len(base):].lstrip("/")
        suffix = posixpath.splitext(rel)[1].lower()
        if (item.type == pafs.FileType.File and suffix in RECORD_SUFFIXES
                and not any(part.startswith((".", "_")) for part in rel.split("/"))):
            found.append((rel, item.path, suffix))
    if not found:
        raise InputError(f"no record files in {uri}", code="INPUT_EMPTY_FOLDER", file=uri,
                         hint="validate reads *.parquet (a lake), *.jsonl, *.json and *.csv")
    where, mark, query = uri.partition("?")  # options (endpoint_override=...) stay last
    for rel, full, suffix in sorted(found):
        yield Source(f"{where.rstrip('/')}/{rel}{mark}{query}", uri, RECORD_SUFFIXES[suffix],
                     fs=fs, path=full)


def _walk(root: Path) -> Iterator[Path]:
    # hidden and underscore names are temporaries and markers (Spark's _SUCCESS, odse's
    # staging), never data, as every lake reader treats them
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for name in sorted(files):
            if name.startswith((".", "_")):
                continue
            if Path(name).suffix.lower() in RECORD_SUFFIXES:
                yield Path(folder) / name


def read(source: Source) -> Iterator[Piece]:
    """Yield the records of one source as pieces of at most ``PIECE_ROWS`` records."""
    head = source.data[:4096] if source.data is not None else _head(source)
    kind = source.kind or _sniff(head)
    if kind == "parquet":
        yield from _parquet(source)
    elif kind == "csv":
        yield from _csv(source, head)
    else:
        yield from _json(source, head)


def _head(source: Source) -> bytes:
    try:
        with source.open() as fh:
            return fh.read(4096)
    except OSError as exc:
        raise InputError(f"cannot read {source.name}: {exc.strerror or exc}",
                         file=source.name) from None


def _sniff(head: bytes) -> str:
    if head[:4] == b"PAR1":
        return "parquet"
    text = head[len(_BOM):] if head.startswith(_BOM) else head
    return "json" if text.lstrip()[:1] in (b"{", b"[") else "csv"


def _raw(source: Source) -> bytes:
    if source.data is not None:
        return source.data
    try:
        with source.open() as stream:
            return stream.read()
    except OSError as exc:
        raise InputError(f"cannot read {source.name}: {exc.strerror or exc}",
                         file=source.name) from None


# ------------------------------------------------------------------------------ Parquet

def _parquet(source: Source) -> Iterator[Piece]:
    target: Any = pa.BufferReader(source.data) if source.data is not None else source.name
    try:
        if source.fs is not None:
            target = source.fs.open_input_file(source.path)
        file = pq.ParquetFile(target)
        names = set(file.schema_arrow.names)
        extra = ({} if source.data is not None else _partition_values(
            source.path if source.fs is not None else os.path.abspath(source.name), names))
        row = 1
        for batch in file.iter_batches(batch_size=PIECE_ROWS):
            table = pa.Table.from_batches([batch])
            for key, value in extra.items():
                table = table.append_column(
                    key, pa.array([value] * table.num_rows, pa.string()))
            yield Piece(source.name, row, table)
            row += table.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"cannot read {source.name} as Parquet: {exc}", code="INPUT_PARQUET",
                         file=source.name,
                         hint="Check that the file is complete (not being written) and is "
                              "Parquet") from None


def _partition_values(path: str, stored: set[str]) -> dict[str, str | None]:
    """Return the Hive partition values in a file's folder names that are record fields."""
    values: dict[str, str | None] = {}
    folder = PurePosixPath(path.replace(os.sep, "/")).parent
    # the partition folders are the run of key=value names just above the file
    while "=" in folder.name:
        key, _, value = folder.name.partition("=")
        key = unquote(key)
        if key not in stored and key not in DERIVED_PARTITIONS and key not in values:
            values[key] = None if value == NULL_PARTITION else unquote(value)
        folder = folder.parent
    return dict(reversed(list(values.items())))


# ------------------------------------------------------------------------------ JSON

def _time_fields() -> list[str]:
    props = record_schema()["properties"]
    return [name for name, prop in props.items() if prop.get("format") == "date-time"]


def _json(source: Source, head: bytes) -> Iterator[Piece]:
    text = head[len(_BOM):] if head.startswith(_BOM) else head
    first = text.lstrip()[:1]
    if first == b"[":
        yield from _json_array(source)
        return
    if first not in (b"{", b""):
        shown = first.decode("utf-8", errors="replace")
        raise InputError(f"{source.name} is not JSON records: it starts with {shown!r}",
                         code="INPUT_NOT_JSON", file=source.name,
                         hint="validate reads JSON Lines, a JSON object or array of objects, "
                              "CSV and Parquet")
    lines = [ln for ln in text.lstrip().splitlines() if ln.strip()]
    one_per_line = not lines or (lines[0].rstrip().endswith(b"}")
                                 and (len(lines) == 1 or lines[1].lstrip()[:1] == b"{"))
    # Arrow's JSON reader crashes the process on deep nesting: measure it first
    if one_per_line:
        json_input.check_lines_depth(InputData.of(
            source.data if source.data is not None
            else source.name if source.fs is not None  # a URI: read through its filesystem
            else Path(source.name)))
    else:
        json_input.check_depth(_raw(source), source.name)
    yield from _json_objects(source, multiline=not one_per_line)


def _json_options(multiline: bool) -> pajson.ParseOptions:
    schema = pa.schema([(name, pa.string()) for name in _time_fields()])
    return pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer",
                               newlines_in_values=multiline)


def _json_objects(source: Source, multiline: bool) -> Iterator[Piece]:
    """JSON Lines (or objects spread over lines), streamed in blocks by Arrow."""
    stream: Any = (pa.BufferReader(source.data) if source.data is not None
                   else source.open())
    done = 0
    reader = None
    try:
        try:
            reader = pajson.open_json(
                stream, read_options=pajson.ReadOptions(block_size=JSON_BLOCK),
                parse_options=_json_options(multiline))
            for batch in reader:
                if batch.num_rows:
                    yield Piece(source.name, done + 1, pa.Table.from_batches([batch]))
                    done += batch.num_rows
            return
        except pa.ArrowInvalid:
            pass  # a type Arrow cannot hold, or a syntax error: Python says which
    finally:
        release(reader)
        stream.close()
    yield from _python_objects(source, skip=done)


def _python_objects(source: Source, skip: int) -> Iterator[Piece]:
    text = _raw(source).decode("utf-8-sig", errors="replace")
    decoder = json.JSONDecoder(object_pairs_hook=json_input.no_duplicate_keys)
    chunk: list[Any] = []
    row, pos, end = 0, 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        try:
            value, pos = decoder.raw_decode(text, pos)
        except RecursionError:
            raise limits.exceeded("json_depth", f"{source.name} nests too deep "
                                             "for the JSON reader", file=source.name) from None
        except json_input.DuplicateKey as exc:   # as transform says it (Arrow's reader too)
            raise json_input.duplicate_key_error(exc, source.name,
                                                 text.count("\n", 0, pos) + 1) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", code="INVALID_JSON",
                             file=source.name, line=exc.lineno,
                             location=f"column {exc.colno}",
                             hint="Fix the file, or write it again (odse transform writes "
                                  "one JSON object a line)") from None
        row += 1
        if row <= skip:
            continue
        chunk.append(value)
        if len(chunk) >= PIECE_ROWS:
            yield Piece(source.name, row - len(chunk) + 1, records=chunk)
            chunk = []
    if chunk:
        yield Piece(source.name, row - len(chunk) + 1, records=chunk)


def _json_array(source: Source) -> Iterator[Piece]:
    """A JSON array of records, read whole by Arrow as one list (or by Python)."""
    raw = _raw(source)
    if raw.startswith(_BOM):
        raw = raw[len(_BOM):]
    json_input.check_depth(raw, source.name)
    wrapped = b'{"records":' + raw.strip() + b"}"
    item = pa.struct([(name, pa.string()) for name in _time_fields()])
    options = pajson.ParseOptions(explicit_schema=pa.schema([("records", pa.list_(item))]),
                                  unexpected_field_behavior="infer", newlines_in_values=True)
    try:
        table = pajson.read_json(
            io.BytesIO(wrapped),
            read_options=pajson.ReadOptions(block_size=len(wrapped) + 64, use_threads=False),
            parse_options=options)
        column = table.column("records").combine_chunks()
        records = pa.Table.from_struct_array(column.flatten()) if len(column) == 1 else None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        records = None
    if records is None:
        yield from _python_array(source, raw)
        return
    for start in range(0, max(records.num_rows, 1), PIECE_ROWS):
        yield Piece(source.name, start + 1, records.slice(start, PIECE_ROWS))


def _python_array(source: Source, raw: bytes) -> Iterator[Piece]:
    try:
        value = json.loads(raw.decode("utf-8", errors="replace"),
                           object_pairs_hook=json_input.no_duplicate_keys)
    except json_input.DuplicateKey as exc:
        raise json_input.duplicate_key_error(exc, source.name) from None
    except RecursionError:
        raise limits.exceeded("json_depth", f"{source.name} nests too deep for "
                                         "the JSON reader", file=source.name) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", code="INVALID_JSON", file=source.name,
                         line=exc.lineno, location=f"column {exc.colno}",
                         hint="Fix the file, or write it again") from None
    for start in range(0, max(len(value), 1), PIECE_ROWS):
        yield Piece(source.name, start + 1, records=value[start:start + PIECE_ROWS])


# ------------------------------------------------------------------------------ CSV

def _csv(source: Source, head: bytes) -> Iterator[Piece]:
    names = _csv_header(head)
    if not names:
        return
    props = record_schema()["properties"]
    stream: Any = (pa.BufferReader(source.data) if source.data is not None
                   else source.open())
    reader = None
    try:
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(block_size=JSON_BLOCK, encoding="utf8"),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=False))
        row = 1
        for batch in reader:
            if not batch.num_rows:
                continue
            table = pa.Table.from_batches([batch])
            typed = _typed(table, props)
            if typed is not None:
                yield Piece(source.name, row, typed)
            else:
                yield Piece(source.name, row, records=_csv_dicts(table, props))
            row += table.num_rows
    except pa.ArrowInvalid as exc:
        raise InputError(f"cannot read {source.name} as CSV: {exc}", code="INPUT_CSV",
                         file=source.name,
                         hint="Each line needs as many cells as the header") from None
    finally:
        release(reader)
        stream.close()


def _csv_header(head: bytes) -> list[str]:
    text = head[len(_BOM):] if head.startswith(_BOM) else head
    first = text.decode("utf-8", errors="replace").splitlines()[:1]
    if not first:
        return []
    return next(csv.reader(first))


def _typed(table: pa.Table, props: dict[str, Any]) -> pa.Table | None:
    """Convert the declared numeric and boolean columns; None when a cell does not convert."""
    for i, name in enumerate(table.column_names):
        kind = props.get(name, {}).get("type")
        target = {"number": pa.float64(), "integer": pa.float64(),
                  "boolean": pa.bool_()}.get(kind)
        if target is None:
            continue
        try:
            table = table.set_column(i, name, table.column(i).cast(target))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
    return table


def _csv_dicts(table: pa.Table, props: dict[str, Any]) -> list[dict[str, Any]]:
    # only for a piece whose cells Arrow cannot convert: each value typed on its own, so
    # that the validator reports the bad cells (TYPE_MISMATCH) and checks the others
    rows = table.to_pylist()
    for row in rows:
        for name in [k for k, v in row.items() if v is None]:
            del row[name]
        for name, value in row.items():
            kind = props.get(name, {}).get("type")
            if kind in ("number", "integer"):
                row[name] = _number_or_text(value)
            elif kind == "boolean" and value.strip().lower() in ("true", "false"):
                row[name] = value.strip().lower() == "true"
    return rows


def _number_or_text(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value
