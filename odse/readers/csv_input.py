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
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from odse import limits
from odse.errors import InputError
from odse.readers.inputs import HEAD_BYTES, InputData, StreamFilter, release

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
    if b"\r" in head and b"\n" not in head and len(head.split(b"\r")) > 2:
        raise InputError(f"{data.name} ends its lines with CR alone (classic Mac OS)",
                         code="CSV_CR_LINE_ENDS", file=data.name,
                         hint="Convert the line ends to LF or CRLF first, e.g. "
                              "tr '\\r' '\\n' < in.csv > out.csv")
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


def _python_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def _split(line: str, delimiter: str) -> list[str]:
    try:
        parsed = list(csv.reader(io.StringIO(line.rstrip("\r\n")), delimiter=delimiter))
    except csv.Error:
        # a header with a stray quote or a NUL byte: split it plainly
        return line.rstrip("\r\n").replace("\x00", "").split(delimiter)
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
    """A data line whose number of fields differs from the header's (or that the guard
    took out of the stream: a stray quote, a line past the csv_line_bytes limit)."""

    text: str
    expected: int
    actual: int
    row: int | None = None        # 1-based data row number, once located
    reason: str | None = None     # set by the guard; else the field counts say it
    offset: int | None = None     # where the guard found it: bytes into the data rows


GUARD_MIN_READ = 1 << 16
"""Bytes the guard reads from the input at least per call (read at call time: tests shrink
it to put block boundaries inside quoted cells)."""
_QUOTE_FREE = r'^(?:[^"]|"[^"\n]*")*$'
"""RE2: text in which every quoted part closes on its own line."""
_SPARSE_QUOTES = 4096


class CsvGuard(StreamFilter):
    """The data rows on their way to Arrow's reader, with what would derail it taken out.

    * A quoted cell may span at most ``csv_quoted_lines`` physical lines: a line whose quote
      does not close within them holds a stray quote. It is taken out (a MALFORMED_ROW reject
      with its line) and reading goes on after it; without this, everything up to the next
      quote in the file, or the rest of the file, would become one bad row.
    * A line longer than ``csv_line_bytes`` is taken out the same way (Arrow's reader refuses
      the whole file when a row does not fit its block).

    Only text whose quotes might span lines is looked at line by line: a block without
    quotes, or whose quotes all close on their own line (one RE2 pass, or a few finds when
    quotes are few), goes through as it is.
    """

    def __init__(self, stream: Any, *, fields: int, encoding: str,
                 found: list[MalformedRow], line_bytes: int, quoted_lines: int,
                 excerpt_chars: int) -> None:
        super().__init__(stream)
        self.fields = fields
        self.encoding = encoding
        self.found = found
        self.line_bytes = line_bytes
        self.quoted_lines = quoted_lines
        self.excerpt_chars = excerpt_chars
        self.ready: bytes | memoryview = b""
        self.held = b""               # whole lines kept back: a quoted cell may close later
        self.carry = b""              # the start of a line not yet ended
        self.offset = 0               # bytes of data rows before ``held``
        self.skipping = False         # inside a line past the byte limit, up to its end
        self.eof = False
        self.consumed = 0             # bytes read from the input

    def read(self, size: int = -1) -> bytes | memoryview:
        if size is None or size < 0:
            size = BLOCK_SIZE
        while not self.ready and not (self.eof and not self.held and not self.carry):
            self._fill(max(size, GUARD_MIN_READ))
        if len(self.ready) <= size:
            out, self.ready = self.ready, b""
            return out
        # slices of a memoryview: handed to Arrow without another copy of the block
        view = memoryview(self.ready)
        out, self.ready = view[:size], view[size:]
        return out

    # ------------------------------------------------------------------ internals

    def _fill(self, size: int) -> None:
        chunk = self.stream.read(size) if not self.eof else b""
        self.consumed += len(chunk)
        if not chunk:
            self.eof = True
        if self.skipping:
            end = chunk.find(b"\n")
            if end < 0 and not self.eof:
                self.offset += len(chunk)
                return
            skipped = end + 1 if end >= 0 else len(chunk)
            chunk = chunk[skipped:]
            self.offset += skipped
            self.skipping = False
        buf = self.held + self.carry + chunk if self.held or self.carry else chunk
        self.held = b""
        cut = len(buf) if self.eof else buf.rfind(b"\n") + 1
        region, self.carry = (buf, b"") if cut == len(buf) else (buf[:cut], buf[cut:])
        overflow = 0
        if len(self.carry) > self.line_bytes:
            # a line still open past the limit: take it out now and skip to its end
            self._drop(self.offset + len(region), self.carry, self._too_long(), whole=False)
            overflow = len(self.carry)
            self.carry, self.skipping = b"", True
        if region:
            checked = self._check(region, final=bool(overflow))
            self.ready = bytes(self.ready) + checked if self.ready else checked
        self.offset += overflow

    def _too_long(self) -> str:
        return f"the line is longer than {self.line_bytes:,} bytes (limit csv_line_bytes)"

    def _check(self, region: bytes, final: bool = False) -> bytes:
        long_lines = len(region) > self.line_bytes and not self._short_lines(region)
        if not long_lines and self._valid_text(region) and self._quotes_close_per_line(region):
            self.offset += len(region)
            return region
        return self._by_line(region, final)

    def _valid_text(self, region: bytes) -> bool:
        if self.encoding != "utf-8" or region.isascii():
            return True
        try:
            region.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    def _short_lines(self, region: bytes) -> bool:
        # every window of half the limit holds a line break: no line reaches the limit
        half = max(self.line_bytes // 2, 1)
        return all(region.find(b"\n", at, at + half) >= 0
                   for at in range(0, len(region) - half, half))

    @staticmethod
    def _quotes_close_per_line(region: bytes) -> bool:
        if region.find(b'"') < 0:
            return True
        count = region.count(b'"')
        if count & 1:
            return False
        if count <= _SPARSE_QUOTES:
            at = region.find(b'"')
            while at >= 0:
                close = region.find(b'"', at + 1)
                if region.find(b"\n", at, close) >= 0:
                    return False
                at = region.find(b'"', close + 1)
            return True
        import pyarrow.compute as pc

        offsets = pa.array([0, len(region)], pa.int64()).buffers()[1]
        text = pa.Array.from_buffers(pa.large_binary(), 1,
                                     [None, offsets, pa.py_buffer(region)])
        return bool(pc.match_substring_regex(text, _QUOTE_FREE)[0].as_py())

    def _by_line(self, region: bytes, final: bool = False) -> bytes:
        ends = region.endswith(b"\n")
        lines = region.split(b"\n")
        if ends:
            lines.pop()
        starts = []
        at = self.offset
        for text in lines:
            starts.append(at)
            at += len(text) + 1
        keep = [True] * len(lines)
        for i, text in enumerate(lines):
            if len(text) > self.line_bytes:
                keep[i] = False
                self._drop(starts[i], text, self._too_long())
            elif self.encoding == "utf-8" and not text.isascii():
                try:
                    text.decode("utf-8")
                except UnicodeDecodeError as exc:
                    keep[i] = False
                    self._drop(starts[i], text, f"the line is not valid UTF-8 text "
                               f"(byte 0x{text[exc.start]:02x} at column {exc.start + 1}); "
                               "set csv.encoding in the mapping if the file is not UTF-8")
        odd = [i for i, text in enumerate(lines) if keep[i] and text.count(b'"') & 1]
        held = len(lines)
        k = 0
        while k < len(odd):
            opener = odd[k]
            closer = odd[k + 1] if k + 1 < len(odd) else None
            if closer is not None and closer - opener <= self.quoted_lines:
                k += 2      # a quoted cell over several lines
                continue
            if closer is None and not (self.eof or final) and \
                    len(lines) - opener <= self.quoted_lines:
                held = opener   # it may close in the next block: decide then
                break
            keep[opener] = False
            self._drop(starts[opener], lines[opener],
                       f"a quote opened on this line does not close within "
                       f"{self.quoted_lines} lines (limit csv_quoted_lines): a stray quote")
            k += 1
        if held < len(lines):
            self.held = b"\n".join(lines[held:]) + b"\n"
        self.offset = starts[held] if held < len(lines) else at
        kept = [text for i, text in enumerate(lines[:held]) if keep[i]]
        if not kept:
            return b""
        return b"\n".join(kept) + (b"\n" if ends or held < len(lines) else b"")

    def _drop(self, offset: int, text: bytes, reason: str, whole: bool = True) -> None:
        shown = text[:self.excerpt_chars * 4].decode(self.encoding, "replace")
        if len(text) > self.excerpt_chars:
            size = f"{len(text):,} bytes in all" if whole else f"over {len(text):,} bytes"
            shown = f"{shown[:self.excerpt_chars]}... ({size})"
        self.found.append(MalformedRow(shown, self.fields, -1, reason=reason, offset=offset))


class LineCounter:
    """The data row (physical line) at a byte offset of the data rows, counted on demand:
    only when the guard took a line out, and forward only (offsets come in order)."""

    def __init__(self, data: InputData, offset: int) -> None:
        self.data = data
        self.start = offset
        self.stream: Any = None
        self.pos = 0
        self.lines = 0

    def row_at(self, offset: int) -> int:
        """Return the 1-based data row that starts at ``offset``."""
        if self.stream is None or offset < self.pos:
            if self.stream is not None:
                self.stream.close()
            self.stream = self.data.open_at(self.start)
            self.pos = self.lines = 0
        while self.pos < offset:
            chunk = self.stream.read(min(1 << 20, offset - self.pos))
            if not chunk:
                break
            self.lines += chunk.count(b"\n")
            self.pos += len(chunk)
        return self.lines + 1

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None


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
                 position: list[int] | None = None) -> Generator[pa.RecordBatch, None, None]:
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

    bound = data.limits
    # a row must fit one of Arrow's blocks: a block holds at least two of the longest lines
    block = max(block_size or BLOCK_SIZE, 2 * bound.csv_line_bytes + 1024) \
        if block_size is None else block_size
    read_options = pacsv.ReadOptions(column_names=names, block_size=block,
                                     encoding=dialect.encoding, use_threads=True)
    # quoted cells may hold line breaks (alarm texts, comments); costs nothing measurable
    parse_options = pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True,
                                       invalid_row_handler=on_invalid)
    # Cells stay text, missing-value tokens included: the frame turns the tokens into nulls
    # and keeps the raw text for reject messages ("N/A", "--").
    convert_options = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in include}, include_columns=include,
        null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False)
    guard = CsvGuard(data.open_at(layout.data_offset), fields=len(names),
                     encoding=_python_encoding(dialect.encoding), found=malformed,
                     line_bytes=bound.csv_line_bytes, quoted_lines=bound.csv_quoted_lines,
                     excerpt_chars=bound.reject_value_chars)
    stream = pa.PythonFile(guard, mode="r")
    reader = None
    try:
        reader = pacsv.open_csv(stream, read_options=read_options, parse_options=parse_options,
                                convert_options=convert_options)
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return
        raise InputError(f"cannot parse {data.name} as CSV: {exc}", code="CSV_PARSE",
                         file=data.name) from None
    blocks = 0
    plain_size = data.plain_size() if position is not None else None
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                if "straddl" in str(exc):
                    raise limits.exceeded(
                        "csv_line_bytes", f"a row of {data.name} near byte "
                        f"{guard.offset + layout.data_offset:,} (its quoted cells over several "
                        "lines) does not "
                        f"fit a block of {block:,} bytes", file=data.name) from None
                raise InputError(f"cannot parse {data.name} as CSV: {exc}", code="CSV_PARSE",
                                 file=data.name,
                                 hint="Check the delimiter and quoting of the file") from None
            blocks += 1
            if position is not None:
                position[0] = _consumed(data, layout.data_offset + blocks * block, plain_size)
            if batch.num_rows:
                yield batch
    finally:
        release(reader)
        stream.close()
