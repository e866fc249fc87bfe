"""Running a variant over one input: CSV in streamed batches, a JSON document whole,
JSON Lines in blocks. Each batch goes through :mod:`odse.engine.stages`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from odse.engine import rejects, stages
from odse.engine.frame import CsvFrame, row_numbers
from odse.engine.run_context import RunContext
from odse.readers import csv_input, json_input
from odse.readers.inputs import InputData

if TYPE_CHECKING:
    from odse.engine.variant import Variant


def run(variant: Variant, data: InputData, run: RunContext, root: pa.Array | None = None
        ) -> Iterator[pa.RecordBatch]:
    """Yield record batches for ``data``; fill ``run.report`` as it goes."""
    params = run.params
    if variant.format == "csv":
        yield from run_csv(variant, data, run)
    elif variant.format == "json":
        if root is None:
            root = json_input.read_document(data)
        frame = variant.json_frame(root, params)
        if not variant.time_is_text(frame):
            schema = variant.text_time_schema(root.type)
            root = json_input.read_document(data, schema, text_leaves=schema is None)
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
        for block in json_input.iter_lines(data, schema):
            frame = variant.json_frame(block, params, first_line)
            first_line += len(block)
            run.report.rows_read += frame.n
            out = stages.process(variant, frame, run)
            if out is not None and out.num_rows:
                yield out
    finish(variant, run)



def run_csv(variant: Variant, data: InputData, run: RunContext) -> Iterator[pa.RecordBatch]:
    """Read a CSV input batch by batch; number rows around malformed lines."""
    layout = variant.csv_layout(data)
    run.header_lines = layout.header_lines
    malformed: list[csv_input.MalformedRow] = []
    finder = csv_input.LineFinder(data, layout.data_offset)
    finder.data_encoding = variant.dialect.encoding
    located: list[int] = []            # data rows of malformed lines, ascending
    include = [c for c in variant.columns if c in layout.names]
    good = 0                           # well-formed rows so far
    position = [0]
    for batch in csv_input.iter_batches(data, layout, variant.dialect, include, malformed,
                                        position=position):
        run.report.bytes_read = position[0]
        for row in malformed[len(located):]:
            row.row = finder.locate(row.text)
            located.append(row.row if row.row is not None else 0)
        rows = skip_rows(good + 1, batch.num_rows, sorted(r for r in located if r))
        good += batch.num_rows
        frame = CsvFrame(batch, rows, layout.header_lines, layout.units, run.params,
                         variant.dialect.null_values)
        last = rows[-1].as_py() if len(rows) else None
        due = [m for m in malformed if m.row is None or last is None or m.row <= last]
        malformed[:] = [m for m in malformed if m not in due]
        located[:] = [m.row or 0 for m in malformed]
        run.report.rows_read += frame.n + len(due)
        run.report.rows_rejected += len(due)
        out = stages.process(variant, frame, run, rejects.for_malformed(due, layout.header_lines))
        if out is not None and out.num_rows:
            yield out
    if malformed:
        run.report.rows_read += len(malformed)
        run.report.rows_rejected += len(malformed)
        rejects.record(rejects.for_malformed(malformed, layout.header_lines), run)



def finish(variant: Variant, run: RunContext) -> None:
    """Reject the counters that never got a second reading."""
    pending = run.series.pending
    if not pending:
        return
    rows = list(pending.values())
    pending.clear()
    run.report.rows_rejected += len(rows)
    header = run.header_lines if variant.format == "csv" else None
    rejects.record(rejects.for_single_readings(rows, header), run)


def skip_rows(first: int, n: int, malformed: list[int]) -> pa.Array:
    """Return the data row numbers of ``n`` well-formed rows, the first being the
    ``first``-th well-formed one, skipping the rows of malformed lines."""
    rows = row_numbers(first, n)
    if not malformed:
        return rows
    shifted = rows
    for i, m in enumerate(malformed):
        # well-formed row k lies after the i-th malformed line when k >= m - i
        shifted = pc.add(shifted, pc.cast(pc.greater_equal(rows, m - i), pa.int64()))
    return shifted
