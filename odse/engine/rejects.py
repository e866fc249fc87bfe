"""Reject entries: which input value could not be used, where it is, and why.

Every builder returns a table in ``REJECT_SCHEMA`` (row, line or JSON path, field, column,
raw value, code, reason, scope). ``account`` adds a batch's entries to the report and counts
the rows that made no record; ``record`` raises at the first entry when the caller asked for
``errors="raise"``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse import limits, records
from odse.engine.convert import to_text
from odse.engine.frame import CsvFrame, Frame, WorkbookFrame, row_numbers
from odse.engine.names import INDEX, PREVIOUS, ROW
from odse.engine.run_context import RunContext
from odse.engine.series import shift
from odse.engine.values import Col
from odse.errors import TransformError
from odse.readers import csv_input
from odse.report import REJECT_SCHEMA

# rows the reader counts itself, where it finds them (they never reach a frame)
COUNTED_BY_READER = ("MALFORMED_ROW", "NO_RECORDS")


def _table(n: int, **columns: Any) -> pa.Table:
    """A table of ``n`` rejects: arrays as given, scalars repeated, the rest null."""
    data = {}
    for field in REJECT_SCHEMA:
        value = columns.get(field.name)
        if value is None:
            data[field.name] = pa.nulls(n, field.type)
        elif isinstance(value, (pa.Array, pa.ChunkedArray)):
            data[field.name] = value
        elif isinstance(value, list):
            data[field.name] = pa.array(value, field.type)
        else:
            data[field.name] = pa.repeat(pa.scalar(value, field.type), n)
    data["value"] = _excerpts(data["value"])
    return pa.table(data, schema=REJECT_SCHEMA)


LOCATION_FIELD = pa.field("source_location", pa.string())
"""The lineage column: where in its input each record came from."""


def locations_of(table: pa.Table, frame: Frame) -> pa.Array:
    """Each record's place in the input: ``line 12`` (CSV) or its JSON path."""
    if isinstance(frame, CsvFrame):
        lines = pc.add(table.column(ROW).combine_chunks(), frame.header_lines)
        return pc.binary_join_element_wise("line ", pc.cast(lines, pa.string()), "")
    # JSON paths are built per record (only when lineage is asked for)
    return pa.array(frame.locations(table.column(INDEX).to_pylist()), pa.string())


def _excerpts(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Cut raw values longer than the reject_value_chars limit, saying how long they were."""
    size = limits.current().reject_value_chars
    if not len(values) or values.null_count == len(values):
        return values
    lengths = pc.utf8_length(values)
    # a value the reader already cut carries its note (a few dozen characters more)
    long = pc.fill_null(pc.greater(lengths, size + 64), False)
    if not pc.any(long).as_py():
        return values
    cut = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(values, 0, size), "... (",
        pc.cast(lengths, pa.string()), " characters in all)", "")
    return pc.if_else(long, cut, values)


def _places(frame: Frame, idx: pa.Array, rows: pa.Array) -> dict[str, Any]:
    # CSV rejects carry the line, JSON rejects the path of the record
    if isinstance(frame, WorkbookFrame):
        return {"line": pc.add(rows, frame.header_lines),
                "path": frame.locations(idx.to_pylist())}
    if isinstance(frame, CsvFrame):
        return {"line": pc.add(rows, frame.header_lines)}
    return {"path": frame.locations(idx.to_pylist())}


def for_values(frame: Frame, mask: pa.Array, name: str, col: Col, scope: str) -> pa.Table:
    """Reject entries for the rows of ``mask``: the field's raw value and first problem."""
    idx = pc.indices_nonzero(mask)
    count = len(idx)
    codes = pa.repeat(pa.scalar("MISSING_VALUE"), count)
    reasons = pa.repeat(pa.scalar(
        "no value (the cell is empty or a missing-value token)" if isinstance(frame, CsvFrame)
        else "no value (null or absent)"), count)
    for p in reversed(col.problems):
        hit = pc.take(p.mask, idx)
        codes = pc.if_else(hit, p.code, codes)
        reasons = pc.if_else(hit, p.reason, reasons)
    raw = col.raw if col.raw is not None else col.values
    values = to_text(pc.take(raw, idx)) if raw is not None and len(raw) == frame.n \
        else pa.nulls(count, pa.string())
    rows = pc.take(frame.rows, idx)
    column = pc.take(col.column, idx) if isinstance(col.column, pa.Array) else col.column
    return _table(count, row=rows, **_places(frame, idx, rows), field=name, column=column,
                  value=values, code=codes, reason=reasons, scope=scope)



def for_records(table: pa.Table, mask: pa.Array, frame: Frame, name: str, code: str,
                reason: str, scope: str = "record") -> pa.Table:
    """Reject entries for records of a batch found bad after evaluation."""
    idx = pc.indices_nonzero(mask)
    frame_index = pc.take(table.column(INDEX), idx).combine_chunks()
    rows = pc.take(table.column(ROW), idx).combine_chunks()
    value = None
    if name in table.column_names:
        col = pc.take(table.column(name).combine_chunks(), idx)
        value = records.format_timestamps(col) if pa.types.is_timestamp(col.type) \
            else to_text(col)
    return _table(len(idx), row=rows, **_places(frame, frame_index, rows), field=name,
                  value=value, code=code, reason=reason, scope=scope)


def for_malformed(rows: list[csv_input.MalformedRow], header_lines: int) -> pa.Table:
    """Reject entries for lines whose number of fields is wrong."""
    numbers = [r.row for r in rows]
    return _table(len(rows), row=numbers,
                  line=[n + header_lines if n else None for n in numbers],
                  value=[r.text for r in rows], code="MALFORMED_ROW", scope="record",
                  reason=[r.reason or f"the line has {r.actual} fields, the header "
                          f"{r.expected}" for r in rows])


def for_records_without_entry(frame: Frame) -> pa.Table:
    """Reject entries for rows of a batch none of whose unpivot entries found its column."""
    everyone = row_numbers(0, frame.n)
    return _table(frame.n, row=frame.rows, **_places(frame, everyone, frame.rows), field="kWh",
                  code="NO_ENERGY_COLUMN", scope="record",
                  reason="none of the energy columns of this source's unpivot entries is in "
                         "the input")


def for_lines_without_records(lines: list[int], first_line: int) -> pa.Table:
    """Reject entries for JSON Lines lines in which the spec's record path found nothing."""
    numbers = [first_line + i for i in lines]
    return _table(len(lines), line=numbers, path=[f"line {k} $" for k in numbers],
                  code="NO_RECORDS", reason="no record found in this line", scope="record")


def for_single_readings(rows: list[dict[str, Any]], header_lines: int | None) -> pa.Table:
    """Reject entries for counters that had one reading only."""
    return _table(len(rows), row=[r["row"] for r in rows],
                  line=[r["row"] + header_lines if header_lines is not None else None
                        for r in rows],
                  field="kWh", value=[str(r["value"]) for r in rows],
                  code="SINGLE_COUNTER_READING", scope="record",
                  reason="the only reading of this counter: energy needs two readings")


def dedupe(rejects: pa.Table) -> pa.Table:
    """Sort rejects by row and keep one entry per row, field, column and code.

    A bad value of a field that every unpivot entry shares is reported once, not once per
    entry.
    """
    rejects = rejects.take(pc.sort_indices(rejects, sort_keys=[("row", "ascending")]))
    if rejects.num_rows < 2:
        return rejects
    keys = [pc.fill_null(rejects.column(c).combine_chunks().cast(pa.string()), "")
            for c in ("row", "field", "column", "code")]
    joined = pc.binary_join_element_wise(*keys, "\x1f")
    first = pc.not_equal(joined, shift(joined))
    return rejects.filter(pc.fill_null(first, True))


def account(table: pa.Table | None, rejects: list[pa.Table], run: RunContext) -> None:
    """Record a batch's rejects and count the rows that made no record at all."""
    if not rejects:
        return
    merged = dedupe(pa.concat_tables(rejects))
    # malformed lines are counted where they are found; the others here
    record_scope = merged.filter(pc.and_(
        pc.equal(merged.column("scope"), "record"),
        pc.invert(pc.is_in(merged.column("code"), pa.array(COUNTED_BY_READER)))))
    bad_rows = pc.unique(record_scope.column("row").combine_chunks())
    # a row whose counter reading still waits for its pair is judged at the end of the input
    waiting = pa.array(sorted({p["row"] for p in run.series.pending.values()}), pa.int64())
    if table is None:
        out_rows = pa.array([], pa.int64())
    else:
        used = [table.column(ROW).combine_chunks()]
        if PREVIOUS in table.column_names:
            used.append(pc.drop_null(table.column(PREVIOUS).combine_chunks()))
        # the rows that made a record, among the few with a problem and the few waiting
        # (a set of those few, looked up by every output row, beats a set of all the rows)
        asked = pa.concat_arrays([bad_rows, waiting])
        out_rows = pa.concat_arrays([pc.filter(rows, pc.is_in(rows, value_set=asked))
                                     for rows in used]) if len(asked) else asked
        if len(waiting):
            contributed = set(pc.filter(waiting, pc.is_in(waiting, out_rows)).to_pylist())
            for entry in run.series.pending.values():
                entry["contributed"] = entry.get("contributed") or entry["row"] in contributed
    final = pc.invert(pc.or_(pc.is_in(bad_rows, out_rows), pc.is_in(bad_rows, waiting)))
    run.report.rows_rejected += len(pc.filter(bad_rows, final))
    record(merged, run)



def record(table: pa.Table, run: RunContext) -> None:
    """Add rejects to the report; with errors="raise", raise at the first one."""
    run.report.add_rejects(table)
    if run.errors == "raise" and table.num_rows:
        first = table.slice(0, 1).to_pylist()[0]
        location = first["path"] or (f"line {first['line']}" if first["line"] else None)
        raise TransformError(
            f"{first['reason']}", code=first["code"], file=run.report.input,
            row=first["row"], location=location, column=first["column"],
            field=first["field"], value=first["value"],
            hint="Fix the input, or call without errors='raise' to collect rejects")

