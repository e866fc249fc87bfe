"""Read CSV exports as a stream of Arrow record batches of text columns.

The header region (a UTF-8 BOM, a ``sep=;`` first line, preamble lines, several header rows
such as device / serial / channel / unit) is read in Python from the first bytes; the data
rows are parsed by Arrow's streaming CSV reader, which only reads the columns a mapping
needs. Every value arrives as text (or null for the missing-value tokens) so that the
engine decides how to convert it and can report values it cannot use.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from odse.errors import InputError
from odse.readers.inputs import HEAD_BYTES, InputData

DEFAULT_NULLS = ("", "NaN", "nan", "NAN", "NULL", "null", "None", "N/A", "n/a", "NA", "#N/A",
                 "--", "-", "#VALUE!", "#DIV/0!")
BLOCK_SIZE = 1 << 21
_DELIMITERS = (",", ";", "\t", "|")


@dataclass
class CsvDialect:
    """How a variant's CSV files are laid out (from the spec's ``csv:`` block)."""

    delimiter: str | None = None      # None or "auto": the sep= line, else sniffed
    decimal: str = "."
    thousands: str = ""
    encoding: str = "utf-8"
    skip_lines: int = 0
    header_rows: int = 1
    names_row: int | None = None      # 1-based within the header rows; default: the last
    units_row: int | None = None
    null_values: tuple[str, ...] = DEFAULT_NULLS


@dataclass
class CsvLayout:
    """What the header region of one file says: names, units, where data starts."""

    delimiter: str
    names: list[str]
    units: dict[str, str] = field(default_factory=dict)
    data_offset: int = 0            # byte offset of the first data row
    header_lines: int = 0           # lines before the first data row


def read_layout(data: InputData, dialect: CsvDialect) -> CsvLayout:
    """Read the header region of ``data`` as ``dialect`` describes it."""
    head = data.head(HEAD_BYTES)
    offset = 0
    if head.startswith(codecs.BOM_UTF8):
        offset = len(codecs.BOM_UTF8)
    lines_consumed = 0
    delimiter = dialect.delimiter if dialect.delimiter not in (None, "auto") else None

    def next_line() -> bytes:
        nonlocal offset, lines_consumed
        end = head.find(b"\n", offset)
        if end < 0:
            if len(head) >= HEAD_BYTES:
                raise InputError("the CSV header is longer than 64 KiB", code="CSV_HEADER",
                                 file=data.name)
            end = len(head) - 1
        line = head[offset:end + 1]
        offset = end + 1
        lines_consumed += 1
        return line

    first_end = head.find(b"\n", offset)
    first = head[offset:first_end if first_end >= 0 else len(head)].strip()
    if first.lower().startswith(b"sep=") and len(first) in (5, 6):
        next_line()
        sep = first[4:5].decode("ascii", "replace")
        delimiter = delimiter or ("\t" if sep == "\\" else sep)
    for _ in range(dialect.skip_lines):
        next_line()
    rows: list[list[str]] = []
    for _ in range(dialect.header_rows):
        raw = next_line().decode(dialect.encoding, "replace")
        delimiter = delimiter or _sniff_delimiter(raw)
        rows.append(_split(raw, delimiter))
    if delimiter is None or not dialect.header_rows:
        peek_end = head.find(b"\n", offset)
        peek = head[offset:peek_end if peek_end > 0 else None].decode(dialect.encoding, "replace")
        delimiter = delimiter or _sniff_delimiter(peek)
        if not dialect.header_rows:
            rows.append([""] * len(_split(peek, delimiter)))
    names_row = (dialect.names_row or max(dialect.header_rows, 1)) - 1
    raw_names = rows[names_row] if names_row < len(rows) else []
    names = _unique([n.strip() for n in raw_names])
    units: dict[str, str] = {}
    if dialect.units_row:
        unit_cells = rows[dialect.units_row - 1] if dialect.units_row - 1 < len(rows) else []
        units = {n: u.strip() for n, u in zip(names, unit_cells, strict=False) if u.strip()}
    return CsvLayout(delimiter=delimiter, names=names, units=units, data_offset=offset,
                     header_lines=lines_consumed)


def _split(line: str, delimiter: str) -> list[str]:
    parsed = list(csv.reader(io.StringIO(line.rstrip("\r\n")), delimiter=delimiter))
    return parsed[0] if parsed else []


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def _unique(names: list[str]) -> list[str]:
    # empty header cells get a positional name; repeated names a numbered suffix
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, given in enumerate(names, start=1):
        name = given or f"column_{i}"
        if name in seen:
            seen[name] += 1
            out.append(f"{name} #{seen[name]}")
        else:
            seen[name] = 1
            out.append(name)
    return out


@dataclass
class MalformedRow:
    """A data line whose number of fields differs from the header's."""

    text: str
    expected: int
    actual: int
    row: int | None = None        # 1-based data row number, once located


class LineFinder:
    """Find the data row of each malformed line.

    Arrow's reader reports a malformed line's text but not where it is, so the input is
    scanned for it (only when there are malformed lines, and only forward).
    """

    def __init__(self, data: InputData, offset: int) -> None:
        self.data = data
        self.offset = offset
        self.stream: Any = None
        self.buffer = b""
        self.row = 0                # data rows before the start of ``buffer``
        self.done = False

    def locate(self, text: str) -> int | None:
        """Return the 1-based data row number of the next line equal to ``text``."""
        needle = text.encode(self.data_encoding)
        while True:
            start = 0
            while True:
                at = self.buffer.find(needle, start)
                if at < 0:
                    break
                end = at + len(needle)
                line_start = at == 0 or self.buffer[at - 1:at] == b"\n"
                line_end = self.buffer[end:end + 1] in (b"\n", b"\r") or \
                    (self.done and end == len(self.buffer))
                if line_start and line_end:
                    row = self.row + self.buffer.count(b"\n", 0, at) + 1
                    cut = self.buffer.find(b"\n", end)
                    cut = len(self.buffer) if cut < 0 else cut + 1
                    self.row += self.buffer.count(b"\n", 0, cut)
                    self.buffer = self.buffer[cut:]
                    return row
                start = at + 1
            if self.done:
                return None
            self._more()

    data_encoding = "utf-8"

    def _more(self) -> None:
        if self.stream is None:
            self.stream = self.data.open_at(self.offset)
        chunk = self.stream.read(1 << 20)
        if not chunk:
            self.done = True
            self.stream.close()
            return
        # keep a partial last line in the buffer; count and drop whole lines read past
        keep_from = self.buffer.rfind(b"\n")
        if keep_from >= 0 and len(self.buffer) > (1 << 22):
            self.row += self.buffer.count(b"\n", 0, keep_from + 1)
            self.buffer = self.buffer[keep_from + 1:]
        self.buffer += chunk


def _consumed(data: InputData, plain: int, plain_size: int | None) -> int:
    """Bytes of the input, as stored, that the batches so far cover (for progress).

    Arrow's reader reads the file far ahead of the batches it hands out, so the stream's
    position says little; each batch is one block, so blocks x block size is what was used.
    For gzip that share of the decompressed size is taken of the stored size.
    """
    size = data.size or 0
    if data.gzip:
        plain = int(plain / plain_size * size) if plain_size else 0
    return min(plain, size)


def iter_batches(data: InputData, layout: CsvLayout, dialect: CsvDialect,
                 columns: list[str] | None, malformed: list[MalformedRow],
                 block_size: int | None = None,
                 position: list[int] | None = None) -> Iterator[pa.RecordBatch]:
    """Yield record batches of text columns (only ``columns`` when given).

    Args:
        malformed: receives the lines whose field count is wrong; they are skipped.
        position: if given, its first item is set to the bytes read so far (for progress).
    """
    names = layout.names
    if not names:
        raise InputError("the CSV file has no header row", code="CSV_NO_HEADER", file=data.name,
                         hint="Set csv.header in the mapping to describe the header rows")
    include = [c for c in (columns or names) if c in names]

    def on_invalid(row: pacsv.InvalidRow) -> str:
        malformed.append(MalformedRow(row.text, row.expected_columns, row.actual_columns))
        return "skip"

    read_options = pacsv.ReadOptions(column_names=names, block_size=block_size or BLOCK_SIZE,
                                     encoding=dialect.encoding, use_threads=True)
    # quoted cells may hold line breaks (alarm texts, comments); costs nothing measurable
    parse_options = pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True,
                                       invalid_row_handler=on_invalid)
    # Cells stay text, missing-value tokens included: the frame turns the tokens into nulls
    # and keeps the raw text for reject messages ("N/A", "--").
    convert_options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in include}, include_columns=include,
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False)
    stream = data.open_at(layout.data_offset)
    try:
        reader = pacsv.open_csv(stream, read_options=read_options, parse_options=parse_options,
                                convert_options=convert_options)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return
        raise InputError(f"cannot parse {data.name} as CSV: {exc}", code="CSV_PARSE",
                         file=data.name) from None
    block = block_size or BLOCK_SIZE
    blocks = 0
    plain_size = data.plain_size() if position is not None else None
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                raise InputError(f"cannot parse {data.name} as CSV: {exc}", code="CSV_PARSE",
                                 file=data.name,
                                 hint="Check the delimiter and quoting of the file") from None
            blocks += 1
            if position is not None:
                position[0] = _consumed(data, layout.data_offset + blocks * block, plain_size)
            if batch.num_rows:
                yield batch
    finally:
        stream.close()
