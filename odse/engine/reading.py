"""Running a variant over one input: CSV in streamed batches, a JSON document whole,
JSON Lines in blocks, a workbook sheet read whole and processed in slices. Each batch goes
through :mod:`odse.engine.stages`.
"""

from __future__ import annotations

import bisect
from collections.abc import Generator, Iterator

import pyarrow as pa
import pyarrow.compute as pc

from odse import limits
from odse.engine import json_numbers, rejects, stages
from odse.engine.frame import CsvFrame, WorkbookFrame, row_numbers
from odse.engine.run_context import RunContext
from odse.engine.variant import Variant
from odse.readers import csv_input, json_input, workbook_input
from odse.readers.inputs import InputData
from odse.readers.read_ahead import read_ahead


def run(variant: Variant, data: InputData, run: RunContext, root: pa.Array | None = None
        ) -> Iterator[pa.RecordBatch]:
    """Yield record batches for ``data``; fill ``run.report`` as it goes."""
    params = run.params
    if variant.format == "csv":
        yield from run_csv(variant, data, run)
    elif variant.format == "workbook":
        yield from run_workbook(variant, data, run, root)
    elif variant.format == "json":
        if root is None:
            root = json_input.read_document(data)
        frame = variant.json_frame(root, params)
        if not variant.time_is_text(frame):
            schema = variant.text_time_schema(root.type)
            root = json_input.read_document(data, schema, text_leaves=schema is None)
            frame = variant.json_frame(root, params)
        if json_numbers.rounded(frame, variant.columns):   # a number as written, not rounded
            root = json_input.read_document(data, text_leaves=True)
            frame = variant.json_frame(root, params)
        run.report.rows_read += frame.n
        out = stages.process(variant, frame, run)
        if out is not None and out.num_rows:
            yield out
    else:
        first_line = 1
        schema = None
        probe = next(json_input.iter_lines(data), None)
        if probe is not None and not variant.time_is_text(variant.json_frame(probe, params)):
            schema = variant.text_time_schema(probe.type)
        # sorting by time reads the input whole; rounded numbers are read again as text
        for block, frame in json_numbers.lines(variant, data, schema, params):
            empty = frame.empty_roots()
            lost = rejects.for_lines_without_records(empty, first_line) if empty else None
            first_line += len(block)
            run.report.rows_read += frame.n + len(empty)
            run.report.rows_rejected += len(empty)
            out = stages.process(variant, frame, run, lost)
            if out is not None and out.num_rows:
                yield out
    finish(variant, run)



class MalformedLines:
    """Lines with the wrong number of fields: Arrow skips them and reports only their text.

    This finds each one's data row, numbers the well-formed rows around all of them, and
    hands each to the batch whose rows it falls among (so that ``errors="raise"`` stops at
    the first bad row in file order).
    """

    def __init__(self, data: InputData, layout: csv_input.CsvLayout, encoding: str) -> None:
        self.found: list[csv_input.MalformedRow] = []      # filled by the CSV reader
        self.finder = csv_input.LineFinder(data, layout.data_offset)
        self.counter = csv_input.LineCounter(data, layout.data_offset)
        self.finder.data_encoding = encoding
        self.located = 0
        self.rows: list[int] = []                           # data rows of all of them
        self.reported = 0

    def number(self, first: int, n: int) -> pa.Array:
        """Return the data rows of ``n`` well-formed rows, the first the ``first``-th one."""
        # the reader may append more lines meanwhile (it reads ahead): take a fixed slice
        new = self.found[self.located:]
        for line in new:
            if line.row is None and line.offset is not None:   # taken out by the guard
                line.row = self.counter.row_at(line.offset)
            if line.row is None:   # reported by Arrow's reader: find it by its text
                line.row = self.finder.locate(line.text)
                line.text = limits.excerpt(line.text) or ""
            if line.row is not None:
                self.rows.append(line.row)
        self.located += len(new)
        self.rows.sort()
        return skip_rows(first, n, self.rows)

    def due(self, last_row: int | None) -> list[csv_input.MalformedRow]:
        """Return the lines not yet reported that lie before ``last_row`` (None: all)."""
        pending = sorted(self.found[self.reported:self.located],
                         key=lambda m: m.row if m.row is not None else 1 << 62)
        self.found[self.reported:self.located] = pending
        due = [m for m in pending if last_row is None or m.row is None or m.row <= last_row]
        if len(due) == len(pending):
            self.reported = self.located
            return due
        # report in file order: stop at the first line that lies further on
        due = []
        for m in pending:
            if m.row is not None and last_row is not None and m.row > last_row:
                break
            due.append(m)
        self.reported += len(due)
        return due


def _with_position(batches: Generator[pa.RecordBatch, None, None],
                   position: list[int]) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Pair each batch with how far the reader had got when it was read (for progress):
    ``position`` itself runs ahead with the reading thread."""
    try:
        for batch in batches:
            yield batch, position[0]
    finally:
        batches.close()


def run_csv(variant: Variant, data: InputData, run: RunContext) -> Iterator[pa.RecordBatch]:
    """Read a CSV input batch by batch; number rows around malformed lines."""
    layout = variant.csv_layout(data)
    run.header_lines = layout.header_lines
    malformed = MalformedLines(data, layout, variant.dialect.encoding)
    include = [c for c in variant.columns if c in layout.names]
    good = 0                           # well-formed rows so far
    position = [0]
    # the next block is parsed (by Arrow, without the GIL) while this one goes through the
    # stages; an input of one block has nothing to read ahead (a thread per small file of a
    # fleet cost more than its parse)
    batches_read = csv_input.iter_batches(data, layout, variant.dialect, include,
                                          malformed.found, position=position)
    source = _with_position(batches_read, position)
    size = data.size
    one_block = size is not None and not data.gzip and size <= csv_input.BLOCK_SIZE
    ahead = source if one_block else read_ahead(source)
    batches: Iterator[tuple[pa.RecordBatch, int]] = ahead
    try:
        if variant.order == "time":
            # sorting by time needs every row: the input is read whole, then processed once
            whole = list(batches)
            batches = iter([(pa.concat_batches([b for b, _ in whole]), whole[-1][1])]
                           if whole else [])
        for batch, read_so_far in batches:
            run.report.bytes_read = read_so_far
            rows = malformed.number(good + 1, batch.num_rows)
            good += batch.num_rows
            frame = CsvFrame(batch, rows, layout.header_lines, layout.units, run.params,
                             variant.dialect.null_values)
            due = malformed.due(rows[-1].as_py() if len(rows) else None)
            run.report.rows_read += frame.n + len(due)
            run.report.rows_rejected += len(due)
            out = stages.process(variant, frame, run,
                                 rejects.for_malformed(due, layout.header_lines))
            if out is not None and out.num_rows:
                yield out
    finally:
        close = getattr(ahead, "close", None)  # a plain reader of one block has none
        if close is not None:
            close()  # stops the reading thread now when the caller stops or fails
    malformed.number(good + 1, 0)
    malformed.counter.close()
    rest = malformed.due(None)
    if rest:
        run.report.rows_read += len(rest)
        run.report.rows_rejected += len(rest)
        rejects.record(rejects.for_malformed(rest, layout.header_lines), run)


WORKBOOK_SLICE = 65536
"""Sheet rows taken through the stages at a time (the sheet itself is read whole)."""


def run_workbook(variant: Variant, data: InputData, run: RunContext,
                 sheet: workbook_input.Sheet | None = None) -> Iterator[pa.RecordBatch]:
    """Read one sheet of a workbook and take it through the stages in slices."""
    if not isinstance(sheet, workbook_input.Sheet):
        sheet = workbook_input.read_sheet(data, variant.workbook, variant.detect_groups)
    run.header_lines = sheet.header_row
    report = run.report
    report.sheet = sheet.name
    report.rows_read += sheet.blank + sheet.footer
    report.skip("blank row", sheet.blank)
    report.skip("footer row (workbook.skip_footer)", sheet.footer)
    table = sheet.table
    n = table.num_rows
    step = (n or 1) if variant.order == "time" else WORKBOOK_SLICE
    for start in range(0, n, step):
        part = table.slice(start, step).combine_chunks()
        batch = pa.RecordBatch.from_arrays([c.combine_chunks() for c in part.columns],
                                           names=part.column_names)
        frame = WorkbookFrame(batch, sheet.rows.slice(start, step), sheet.name,
                              sheet.header_row, run.params, variant.dialect.null_values)
        report.rows_read += frame.n
        report.bytes_read = data.size or 0
        out = stages.process(variant, frame, run)
        if out is not None and out.num_rows:
            yield out


def finish(variant: Variant, run: RunContext) -> None:
    """Reject the counters that never got a second reading."""
    pending = run.series.pending
    if not pending:
        return
    rows = list(pending.values())
    pending.clear()
    # one row may open several series (unpivot channels); and a row that made a record
    # through another channel is not a rejected row
    run.report.rows_rejected += len({r["row"] for r in rows if not r.get("contributed")})
    header = run.header_lines if variant.format in ("csv", "workbook") else None
    rejects.record(rejects.for_single_readings(rows, header), run)


def skip_rows(first: int, n: int, malformed: list[int]) -> pa.Array:
    """Return the data row numbers of ``n`` well-formed rows, the first being the
    ``first``-th well-formed one, skipping the rows of malformed lines."""
    if not malformed or not n:
        return row_numbers(first, n)
    # The k-th well-formed row is row k + (the malformed rows m_i, i from 0, with m_i - i <= k):
    # the batch spans the rows from its first to its last well-formed one, less the
    # malformed rows between them (one pass, however many malformed lines there are).
    steps = [m - i for i, m in enumerate(malformed)]
    low = first + bisect.bisect_right(steps, first)
    high = first + n - 1 + bisect.bisect_right(steps, first + n - 1)
    rows = row_numbers(low, high - low + 1)
    inside = malformed[bisect.bisect_left(malformed, low):bisect.bisect_right(malformed, high)]
    if inside:
        rows = pc.filter(rows, pc.invert(pc.is_in(rows, pa.array(inside, pa.int64()))))
    return rows
