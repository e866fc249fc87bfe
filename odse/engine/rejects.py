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

from odse import records
from odse.engine.convert import to_text
from odse.engine.frame import CsvFrame, Frame
from odse.engine.names import INDEX, PREVIOUS, ROW
from odse.engine.run_context import RunContext
from odse.engine.series import shift
from odse.engine.values import Col
from odse.errors import TransformError
from odse.readers import csv_input
from odse.report import REJECT_SCHEMA

# rows the reader counts itself, where it finds them (they never reach a frame)
COUNTED_BY_READER = ("MALFORMED_ROW", "NO_RECORDS")


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
    if isinstance(frame, CsvFrame):
        lines = pc.add(rows, frame.header_lines)
        paths = pa.nulls(count, pa.string())
    else:
        lines = pa.nulls(count, pa.int64())
        paths = pa.array(frame.locations(idx.to_pylist()), pa.string())
    return pa.table({
        "row": rows, "line": lines, "path": paths,
        "field": pa.repeat(pa.scalar(name), count),
        "column": pc.take(col.column, idx) if isinstance(col.column, pa.Array)
        else pa.repeat(pa.scalar(col.column, pa.string()), count),
        "value": values, "code": codes, "reason": reasons,
        "scope": pa.repeat(pa.scalar(scope), count)}, schema=REJECT_SCHEMA)



def for_records(table: pa.Table, mask: pa.Array, frame: Frame, name: str, code: str,
                reason: str, scope: str = "record") -> pa.Table:
    """Reject entries for records of a batch found bad after evaluation."""
    idx = pc.indices_nonzero(mask)
    frame_index = pc.take(table.column(INDEX), idx).combine_chunks()
    count = len(idx)
    rows = pc.take(table.column(ROW), idx).combine_chunks()
    col = table.column(name).combine_chunks() if name in table.column_names else None
    value = to_text(pc.take(col, idx)) if col is not None and not pa.types.is_timestamp(
        col.type) else (records.format_timestamps(pc.take(col, idx)) if col is not None
                        else pa.nulls(count, pa.string()))
    if isinstance(frame, CsvFrame):
        lines, paths = pc.add(rows, frame.header_lines), pa.nulls(count, pa.string())
    else:
        lines = pa.nulls(count, pa.int64())
        paths = pa.array(frame.locations(frame_index.to_pylist()), pa.string())
    return pa.table({
        "row": rows, "line": lines, "path": paths,
        "field": pa.repeat(pa.scalar(name), count),
        "column": pa.nulls(count, pa.string()), "value": value,
        "code": pa.repeat(pa.scalar(code), count),
        "reason": pa.repeat(pa.scalar(reason), count),
        "scope": pa.repeat(pa.scalar(scope), count)}, schema=REJECT_SCHEMA)



def for_malformed(rows: list[csv_input.MalformedRow], header_lines: int) -> pa.Table:
    """Reject entries for lines whose number of fields is wrong."""
    numbers = [r.row for r in rows]
    return pa.table({
        "row": pa.array(numbers, pa.int64()),
        "line": pa.array([n + header_lines if n else None for n in numbers], pa.int64()),
        "path": pa.nulls(len(rows), pa.string()),
        "field": pa.nulls(len(rows), pa.string()),
        "column": pa.nulls(len(rows), pa.string()),
        "value": pa.array([r.text for r in rows], pa.string()),
        "code": pa.repeat(pa.scalar("MALFORMED_ROW"), len(rows)),
        "reason": pa.array([f"the line has {r.actual} fields, the header {r.expected}"
                            for r in rows], pa.string()),
        "scope": pa.repeat(pa.scalar("record"), len(rows)),
    }, schema=REJECT_SCHEMA)



def for_records_without_entry(frame: Frame) -> pa.Table:
    """Reject entries for rows of a batch none of whose unpivot entries found its column."""
    n = frame.n
    rows = frame.rows
    csv = isinstance(frame, CsvFrame)
    return pa.table({
        "row": rows, "line": pc.add(rows, frame.header_lines) if csv else pa.nulls(n, pa.int64()),
        "path": pa.nulls(n, pa.string()) if csv else pa.array(
            frame.locations(list(range(n))), pa.string()),
        "field": pa.repeat(pa.scalar("kWh"), n), "column": pa.nulls(n, pa.string()),
        "value": pa.nulls(n, pa.string()),
        "code": pa.repeat(pa.scalar("NO_ENERGY_COLUMN"), n),
        "reason": pa.repeat(pa.scalar(
            "none of the energy columns of this source's unpivot entries is in the input"), n),
        "scope": pa.repeat(pa.scalar("record"), n)}, schema=REJECT_SCHEMA)


def for_lines_without_records(lines: list[int], first_line: int, block: pa.Array) -> pa.Table:
    """Reject entries for JSON Lines lines in which the spec's record path found nothing."""
    n = len(lines)
    numbers = [first_line + i for i in lines]
    return pa.table({
        "row": pa.nulls(n, pa.int64()), "line": pa.array(numbers, pa.int64()),
        "path": pa.array([f"line {k} $" for k in numbers], pa.string()),
        "field": pa.nulls(n, pa.string()), "column": pa.nulls(n, pa.string()),
        "value": pa.nulls(n, pa.string()),
        "code": pa.repeat(pa.scalar("NO_RECORDS"), n),
        "reason": pa.repeat(pa.scalar("no record found in this line"), n),
        "scope": pa.repeat(pa.scalar("record"), n)}, schema=REJECT_SCHEMA)


def for_single_readings(rows: list[dict[str, Any]], header_lines: int | None) -> pa.Table:
    """Reject entries for counters that had one reading only."""
    return pa.table({
        "row": pa.array([r["row"] for r in rows], pa.int64()),
        "line": pa.array([r["row"] + header_lines if header_lines is not None else None
                          for r in rows], pa.int64()),
        "path": pa.nulls(len(rows), pa.string()),
        "field": pa.repeat(pa.scalar("kWh"), len(rows)),
        "column": pa.nulls(len(rows), pa.string()),
        "value": pa.array([str(r["value"]) for r in rows], pa.string()),
        "code": pa.repeat(pa.scalar("SINGLE_COUNTER_READING"), len(rows)),
        "reason": pa.repeat(pa.scalar(
            "the only reading of this counter: energy needs two readings"), len(rows)),
        "scope": pa.repeat(pa.scalar("record"), len(rows)),
    }, schema=REJECT_SCHEMA)


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
        out_rows = pc.unique(pa.concat_arrays(used))
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

