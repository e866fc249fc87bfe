"""One input shape of a source: how to recognise it, read it, and turn its rows into records.

A variant is compiled once from its spec. Running it reads the input in Arrow batches and
takes each batch through the same stages:

1. evaluate every field (and every unpivot entry) with the compiled expressions;
2. reject rows whose required fields have no usable value (each reject keeps its row, place,
   field, column, raw value and reason); drop unusable optional values the same way;
3. per series: resolve repeated local hours, work out intervals, turn power into energy and
   counters into interval energy, move end-of-interval labels to the interval start;
4. check what every record must satisfy (finite, non-negative energy unless net);
5. emit a record batch in the record's Arrow form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse import records
from odse.engine import series
from odse.engine.compile_ctx import Ctx, Param, RunState
from odse.engine.convert import to_text
from odse.engine.fields import FieldProgram, TimeCol, columns_of, compile_field
from odse.engine.frame import CsvFrame, Frame, JsonFrame, Level, row_numbers, split_path
from odse.engine.timestamps import check_zone
from odse.engine.values import Col
from odse.errors import InputError, ParameterError, TransformError
from odse.readers import csv_input, json_input
from odse.readers.inputs import InputData
from odse.report import REJECT_SCHEMA, Report

ROW = "__row"
ENTRY = "__entry"
ALT = "__alt"
LOCAL = "__local"
SCALE = "__scale_"
PREVIOUS = "__previous_row"


@dataclass
class Entry:
    """One record made from each input row: the base fields, or one unpivot entry."""

    index: int
    fields: dict[str, FieldProgram]
    optional: bool = False
    own_columns: list[list[str]] = field(default_factory=list)


@dataclass
class RunContext:
    """What one run of a variant carries from batch to batch."""

    params: dict[str, Any]
    report: Report
    errors: str = "collect"
    state: RunState = field(default_factory=RunState)
    series: series.SeriesState = field(default_factory=series.SeriesState)
    header_lines: int = 0


class Variant:
    """A compiled input shape."""

    def __init__(self, spec: dict[str, Any], ctx: Ctx, params: dict[str, Param],
                 index: int) -> None:
        self.spec = spec
        self.index = index
        self.name = spec.get("name") or f"variant_{index + 1}"
        self.description = spec.get("description", "")
        self.format = spec["format"]
        self.params = params
        self.zone = spec.get("timezone")
        if self.zone and (message := check_zone(self.zone)):
            raise ctx.error(message, None, "timezone")
        self.order = spec.get("order", "input")
        self.interval = spec.get("interval")
        self.dialect = self._dialect(spec.get("csv") or {}, ctx.at("csv"))
        self.levels = self._levels((spec.get("json") or {}).get("records", "@"), ctx)
        ctx = Ctx(ctx.spec, ctx.path, params, self.format, self.dialect.decimal,
                  self.dialect.thousands)
        self._check_interval(ctx)
        base_specs: dict[str, Any] = dict(spec["fields"])
        base_specs.setdefault("asset_id", {"param": "asset_id"})
        base = {name: compile_field(name, s, ctx.at("fields", name))
                for name, s in base_specs.items()}
        self.entries: list[Entry] = []
        for i, entry_spec in enumerate(spec.get("unpivot") or []):
            overrides = {k: v for k, v in entry_spec.items() if k != "optional"}
            compiled = {name: compile_field(name, s, ctx.at("unpivot", i, name))
                        for name, s in overrides.items()}
            merged = {**base, **compiled}
            own = [_column_names(s) for s in overrides.values()
                   if isinstance(s, dict) and "column" in s]
            self.entries.append(Entry(i, merged, bool(entry_spec.get("optional")), own))
        if not self.entries:
            self.entries.append(Entry(0, base))
        for entry in self.entries:
            if "kWh" not in entry.fields:
                where = ("unpivot", entry.index) if spec.get("unpivot") else ("fields",)
                raise ctx.error("no kWh field: every record needs its energy", "Add kWh: "
                                "{column: ..., unit: ...} to fields (or to each unpivot entry)",
                                *where)
        self.output_fields = _output_order(self.entries)
        self.columns = sorted(set(columns_of(spec.get("fields"))) |
                              set(columns_of(spec.get("unpivot"))) |
                              set(columns_of({"column": _detect_columns(spec)})))
        self.detect_groups = self._detect_groups(spec, base_specs)
        self.needs_interval = any(
            p.measure == "power" or (p.kind == "timestamp" and p.label == "end")
            for e in self.entries for p in e.fields.values())
        self.examples = spec.get("examples") or []
        self.has_counters = any(p.measure == "counter" for e in self.entries
                                for p in e.fields.values())

    # ------------------------------------------------------------------ compile helpers

    @staticmethod
    def _dialect(spec: dict[str, Any], ctx: Ctx) -> csv_input.CsvDialect:
        header = spec.get("header") or {}
        rows = header.get("rows", 1)
        for key in ("names", "units"):
            if header.get(key) is not None and header[key] > rows:
                raise ctx.error(f"header.{key} is row {header[key]}, but there are only "
                                f"{rows} header rows", None, "header", key)
        nulls = tuple(spec.get("null_values", csv_input.DEFAULT_NULLS))
        return csv_input.CsvDialect(
            delimiter=spec.get("delimiter"), decimal=spec.get("decimal", "."),
            thousands=spec.get("thousands", ""), encoding=spec.get("encoding", "utf-8"),
            skip_lines=spec.get("skip_lines", 0), header_rows=rows,
            names_row=header.get("names"), units_row=header.get("units"), null_values=nulls)

    @staticmethod
    def _levels(spec: Any, ctx: Ctx) -> list[Level]:
        if isinstance(spec, str):
            return [Level(spec)]
        levels = []
        for i, s in enumerate(spec):
            if s.get("match"):
                try:
                    re.compile(s["match"])
                except re.error as exc:
                    raise ctx.error(f"invalid regular expression: {exc}", None, "json",
                                    "records", i, "match") from None
            levels.append(Level(s["path"], s.get("as"), bool(s.get("entries")), s.get("key"),
                                s.get("match")))
        return levels

    def _check_interval(self, ctx: Ctx) -> None:
        interval = self.interval
        if isinstance(interval, dict) and interval["param"] not in self.params:
            raise ctx.error(f"interval uses the undeclared parameter '{interval['param']}'",
                            "Declare it under params:", "interval", "param")

    def _detect_groups(self, spec: dict[str, Any], base_specs: dict[str, Any]) -> list[list[str]]:
        groups = [_column_names(c) for c in (spec.get("detect") or {}).get("columns", [])]
        groups += [[p] for p in (spec.get("detect") or {}).get("paths", [])]
        required = [s for name, s in base_specs.items()
                    if (name in ("timestamp", "kWh") or (isinstance(s, dict) and s.get("required")))
                    and not (isinstance(s, dict) and "default" in s)]
        for s in required:
            if isinstance(s, dict) and "column" in s:
                groups.append(_column_names(s["column"]))
        for entry in self.entries:
            if not entry.optional:
                groups += entry.own_columns[:1]
        return groups

    # ------------------------------------------------------------------ recognising input

    def missing(self, present: set[str] | Frame) -> list[list[str]]:
        """Return the detection groups of which no column is present."""
        def has(name: str) -> bool:
            return present.has(name) if isinstance(present, Frame) else name in present
        return [g for g in self.detect_groups if not any(has(n) for n in g)]

    def csv_layout(self, data: InputData) -> csv_input.CsvLayout:
        """Read the header region of ``data`` the way this variant expects it."""
        return csv_input.read_layout(data, self.dialect)

    def json_frame(self, root: pa.Array, params: dict[str, Any], first_row: int = 1) -> JsonFrame:
        """Locate this variant's records in a parsed document."""
        return JsonFrame(root, self.levels, first_row, params,
                         line_numbers=self.format == "jsonl")

    def text_time_schema(self, inferred: pa.DataType) -> pa.Schema | None:
        """Return the inferred document type with the time field turned back into text.

        Arrow's JSON reader turns ISO-looking text into timestamps and, in doing so, drops
        whether the text carried a zone; re-reading with this schema keeps the text.
        """
        names = _column_names(self.spec["fields"].get("timestamp", {}).get("column", []))
        typ = inferred
        for name in names:
            parts = split_path(name)
            if parts and parts[0] == "$":
                route = [("path", p) for p in parts[1:]]
            else:
                bound = [i for i, lv in enumerate(self.levels) if parts and lv.name == parts[0]]
                upto = bound[0] + 1 if bound else len(self.levels)
                rest = parts[1:] if bound else parts
                route = []
                for lv in self.levels[:upto]:
                    route += [("path", p) for p in split_path(lv.path)]
                    route.append(("entries" if lv.entries else "items", None))
                route += [("path", p) for p in rest]
            typ = _retype(typ, route)
        if typ == inferred or not pa.types.is_struct(typ):
            return None
        return pa.schema(list(typ))

    def time_is_text(self, frame: Frame) -> bool:
        """True unless Arrow already turned the time field into a timestamp type."""
        names = _column_names(self.spec["fields"].get("timestamp", {}).get("column", []))
        for name in names:
            values = frame.column(name)
            if values is not None and pa.types.is_timestamp(values.type):
                return False
        return True

    # ------------------------------------------------------------------ running

    def run(self, data: InputData, run: RunContext, root: pa.Array | None = None
            ) -> Iterator[pa.RecordBatch]:
        """Yield record batches for ``data``; fill ``run.report`` as it goes."""
        params = run.params
        if self.format == "csv":
            yield from self._run_csv(data, run)
        elif self.format == "json":
            if root is None:
                root = json_input.read_document(data)
            frame = self.json_frame(root, params)
            if not self.time_is_text(frame):
                schema = self.text_time_schema(root.type)
                root = json_input.read_document(data, schema, text_leaves=schema is None)
                frame = self.json_frame(root, params)
            run.report.rows_read += frame.n
            out = self.process(frame, run)
            if out is not None and out.num_rows:
                yield out
        else:
            first_line = 1
            schema = None
            probe = next(json_input.iter_lines(data), None)
            if probe is not None and not self.time_is_text(self.json_frame(probe, params)):
                schema = self.text_time_schema(probe.type)
            for block in json_input.iter_lines(data, schema):
                frame = self.json_frame(block, params, first_line)
                first_line += len(block)
                run.report.rows_read += frame.n
                out = self.process(frame, run)
                if out is not None and out.num_rows:
                    yield out
        self._finish(run)

    def _run_csv(self, data: InputData, run: RunContext) -> Iterator[pa.RecordBatch]:
        layout = self.csv_layout(data)
        run.header_lines = layout.header_lines
        malformed: list[csv_input.MalformedRow] = []
        finder = csv_input.LineFinder(data, layout.data_offset)
        finder.data_encoding = self.dialect.encoding
        located: list[int] = []            # data rows of malformed lines, ascending
        include = [c for c in self.columns if c in layout.names]
        good = 0                           # well-formed rows so far
        position = [0]
        for batch in csv_input.iter_batches(data, layout, self.dialect, include, malformed,
                                            position=position):
            run.report.bytes_read = position[0]
            for row in malformed[len(located):]:
                row.row = finder.locate(row.text)
                located.append(row.row if row.row is not None else 0)
            rows = _skip_rows(good + 1, batch.num_rows, sorted(r for r in located if r))
            good += batch.num_rows
            frame = CsvFrame(batch, rows, layout.header_lines, layout.units, run.params,
                             self.dialect.null_values)
            last = rows[-1].as_py() if len(rows) else None
            due = [m for m in malformed if m.row is None or last is None or m.row <= last]
            malformed[:] = [m for m in malformed if m not in due]
            located[:] = [m.row or 0 for m in malformed]
            run.report.rows_read += frame.n + len(due)
            run.report.rows_rejected += len(due)
            out = self.process(frame, run, self._malformed(due, layout.header_lines))
            if out is not None and out.num_rows:
                yield out
        if malformed:
            run.report.rows_read += len(malformed)
            run.report.rows_rejected += len(malformed)
            self._add_rejects(self._malformed(malformed, layout.header_lines), run)

    def _malformed(self, rows: list[csv_input.MalformedRow], header_lines: int) -> pa.Table:
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

    def _finish(self, run: RunContext) -> None:
        pending = run.series.pending
        if not pending:
            return
        rows = list(pending.values())
        pending.clear()
        run.report.rows_rejected += len(rows)
        table = pa.table({
            "row": pa.array([r["row"] for r in rows], pa.int64()),
            "line": pa.array([r["row"] + run.header_lines if self.format == "csv" else None
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
        self._add_rejects(table, run)

    def _add_rejects(self, table: pa.Table, run: RunContext) -> None:
        run.report.add_rejects(table)
        if run.errors == "raise" and table.num_rows:
            first = table.slice(0, 1).to_pylist()[0]
            location = first["path"] or (f"line {first['line']}" if first["line"] else None)
            raise TransformError(
                f"{first['reason']}", code=first["code"], file=run.report.input,
                row=first["row"], location=location, column=first["column"],
                field=first["field"], value=first["value"],
                hint="Fix the input, or call without errors='raise' to collect rejects")

    # ------------------------------------------------------------------ one batch

    def process(self, frame: Frame, run: RunContext, extra_rejects: pa.Table | None = None
                ) -> pa.RecordBatch | None:
        """Turn one frame into a record batch; record rejects in the run's report."""
        parts: list[pa.Table] = []
        rejects: list[pa.Table] = []
        if extra_rejects is not None and extra_rejects.num_rows:
            rejects.append(extra_rejects)
        for entry in self.entries:
            if entry.optional and any(not any(frame.has(n) for n in g)
                                      for g in entry.own_columns):
                continue
            table = self._evaluate(entry, frame, run, rejects)
            parts.append(table)
        if not parts:
            self._account(None, rejects, run)
            return None
        table = parts[0] if len(parts) == 1 else pa.concat_tables(parts, promote_options="default")
        if len(parts) > 1:
            table = table.take(pc.sort_indices(table, sort_keys=[(ROW, "ascending"),
                                                                 (ENTRY, "ascending")]))
        table = self._series_stage(table, frame, run, rejects)
        table = self._final_checks(table, frame, run, rejects)
        self._account(table, rejects, run)
        for key, count in run.state.memo.items():
            if isinstance(key, tuple) and key[0] == "clipped":
                run.report.values_clipped[key[1]] = count
        run.report.records += table.num_rows
        return self._output(table)

    def _evaluate(self, entry: Entry, frame: Frame, run: RunContext,
                  rejects: list[pa.Table]) -> pa.Table:
        cols: dict[str, Col] = {}
        for name, program in entry.fields.items():
            cols[name] = program.evaluate(frame, run.state)
        n = frame.n
        rejected = pa.repeat(pa.scalar(False), n)
        for name, program in entry.fields.items():
            col = cols[name]
            if program.required:
                missing = pc.is_null(col.values)
                fresh = pc.and_(missing, pc.invert(rejected))
                if pc.any(fresh).as_py():
                    rejects.append(self._reject_rows(frame, fresh, name, col, "record"))
                    rejected = pc.or_(rejected, fresh)
            else:
                bad = col.problem_mask()
                if bad is not None:
                    fresh = pc.and_(bad, pc.invert(rejected))
                    if pc.any(fresh).as_py():
                        rejects.append(self._reject_rows(frame, fresh, name, col, "value"))
        keep = pc.indices_nonzero(pc.invert(rejected))
        data: dict[str, pa.Array] = {}
        for name, col in cols.items():
            data[name] = pc.take(col.values, keep)
            if isinstance(col, TimeCol) and col.alt is not None:
                data[ALT] = pc.take(col.alt, keep)
                data[LOCAL] = pc.take(col.local, keep)
        for name, program in entry.fields.items():
            if program.factor is not None:
                data[SCALE + name] = pc.take(program.factor(frame, run.state), keep)
        data[ROW] = pc.take(frame.rows, keep)
        data[ENTRY] = pa.repeat(pa.scalar(entry.index, pa.int32()), len(keep))
        data["__index"] = keep
        return pa.table(data)

    def _reject_rows(self, frame: Frame, mask: pa.Array, name: str, col: Col,
                     scope: str) -> pa.Table:
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
            "column": pa.repeat(pa.scalar(col.column, pa.string()), count),
            "value": values, "code": codes, "reason": reasons,
            "scope": pa.repeat(pa.scalar(scope), count)}, schema=REJECT_SCHEMA)

    # ------------------------------------------------------------------ series stage

    def _series_stage(self, table: pa.Table, frame: Frame, run: RunContext,
                      rejects: list[pa.Table]) -> pa.Table:
        if table.num_rows == 0:
            return table
        needs_groups = (ALT in table.column_names or self.interval == "data" or
                        (isinstance(self.interval, dict) and self.interval.get("default") == "data")
                        or self.order == "time" or self.has_counters)
        if not needs_groups:
            if self.needs_interval and table.num_rows:
                table = self._apply_interval(table, None, run, rejects, frame)
            return table
        groups = series.Groups(table)
        if ALT in table.column_names:
            utc = series.resolve_folds(table.column("timestamp").combine_chunks(),
                                       table.column(ALT).combine_chunks(),
                                       table.column(LOCAL).combine_chunks(), groups, run.series)
            table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp", utc)
            table = table.drop_columns([ALT, LOCAL])
        if self.order == "time":
            table = table.take(pc.sort_indices(table, sort_keys=[("timestamp", "ascending")]))
            groups = series.Groups(table)
        counters = [name for name in self.output_fields
                    if any(e.fields.get(name) is not None and e.fields[name].measure == "counter"
                           for e in self.entries)]
        if counters:
            table, groups = self._counters(table, groups, counters, frame, run, rejects)
        if self.needs_interval and table.num_rows:
            table = self._apply_interval(table, groups, run, rejects, frame)
        return table

    def _counters(self, table: pa.Table, groups: series.Groups, counters: list[str],
                  frame: Frame, run: RunContext, rejects: list[pa.Table]
                  ) -> tuple[pa.Table, series.Groups]:
        primary = "kWh" if "kWh" in counters else counters[0]
        while True:
            diffs = series.difference(table.column(primary).combine_chunks(),
                                      table.column("timestamp").combine_chunks(),
                                      table.column(ROW).combine_chunks(), groups, run.series,
                                      primary, True)
            if not pc.any(diffs.out_of_order).as_py():
                break
            bad = diffs.out_of_order
            rejects.append(self._reject_table_rows(
                table, bad, frame, "timestamp", "OUT_OF_ORDER",
                "a counter reading at or before the previous reading of its series; "
                "sort the input by time (or set order: time in the mapping)"))
            table = table.filter(pc.invert(bad))
            groups = series.Groups(table)
        diffs.commit()
        has_previous = pc.is_valid(diffs.values)
        # the previous reading opened the interval: that row is in the output too
        table = table.append_column(PREVIOUS, diffs.previous_row)
        table = table.set_column(table.schema.get_field_index(primary), primary,
                                 self._post_scale(primary, diffs.values, table))
        table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp",
                                 diffs.start)
        for name in counters:
            if name == primary:
                continue
            other = series.difference(table.column(name).combine_chunks(),
                                      table.column("timestamp").combine_chunks(),
                                      table.column(ROW).combine_chunks(), groups, run.series,
                                      name, False)
            other.commit()
            table = table.set_column(table.schema.get_field_index(name), name,
                                     self._post_scale(name, other.values, table))
        # the first reading of a series only opens an interval
        keep = pc.fill_null(has_previous, False)
        table = table.filter(keep)
        return table, series.Groups(table)

    def _post_scale(self, name: str, values: pa.Array, table: pa.Table) -> pa.Array:
        column = SCALE + name
        if column not in table.column_names:
            return values
        return pc.multiply(values, table.column(column).combine_chunks())

    def _interval_us(self, table: pa.Table, groups: series.Groups | None,
                     run: RunContext) -> pa.Array | None:
        spec = self.interval
        if isinstance(spec, dict):
            given = run.params.get(spec["param"])
            spec = given if given is not None else spec.get("default")
        if spec is None:
            raise ParameterError(
                "this source needs the interval length to turn power into energy",
                code="INTERVAL_REQUIRED", hint="Pass interval_minutes=")
        n = table.num_rows
        if spec == "data":
            groups = groups or series.Groups(table)
            return series.median_spacing(table.column("timestamp").combine_chunks(), groups,
                                         run.series)
        if spec == "day":
            start = table.column("timestamp").combine_chunks()
            zone = run.params.get("timezone") or "UTC"
            local = pc.local_timestamp(start.cast(pa.timestamp("us", tz=zone)))
            nxt = pc.add(local.cast(pa.int64()), 86_400_000_000).view(pa.timestamp("us"))
            back = pc.assume_timezone(nxt, timezone=zone, ambiguous="earliest",
                                      nonexistent="latest")
            return pc.subtract(back.cast(pa.int64()), start.cast(pa.int64()))
        try:
            minutes = float(spec)
        except (TypeError, ValueError):
            raise ParameterError(f"interval must be a number of minutes, got {spec!r}",
                                 code="BAD_INTERVAL") from None
        if minutes <= 0:
            raise ParameterError(f"interval must be positive, got {minutes}",
                                 code="BAD_INTERVAL")
        return pa.repeat(pa.scalar(round(minutes * 60_000_000), pa.int64()), n)

    def _apply_interval(self, table: pa.Table, groups: series.Groups | None, run: RunContext,
                        rejects: list[pa.Table], frame: Frame) -> pa.Table:
        interval = self._interval_us(table, groups, run)
        unknown = pc.is_null(interval)
        if pc.any(unknown).as_py():
            rejects.append(self._reject_table_rows(
                table, unknown, frame, "timestamp", "UNKNOWN_INTERVAL",
                "the interval cannot be told from a single reading; pass interval_minutes"))
            keep = pc.invert(unknown)
            table, interval = table.filter(keep), pc.filter(interval, keep)
        micros = interval.cast(pa.float64())
        for name in self.output_fields:
            program = self._program(name)
            if program is not None and program.measure == "power" and name in table.column_names:
                idx = table.schema.get_field_index(name)
                # power x interval; multiply first so that 5000 kW x 5 min is 416.6666666666667
                energy = pc.divide(pc.multiply(table.column(idx), micros), 3_600_000_000.0)
                table = table.set_column(idx, name, energy)
        time_program = self._program("timestamp")
        if time_program is not None and time_program.label == "end":
            ts = table.column("timestamp").combine_chunks()
            start = pc.subtract(ts.cast(pa.int64()), interval).view(records.TIMESTAMP_TYPE)
            table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp",
                                     start)
        return table

    def _program(self, name: str) -> FieldProgram | None:
        for entry in self.entries:
            if name in entry.fields:
                return entry.fields[name]
        return None

    def _reject_table_rows(self, table: pa.Table, mask: pa.Array, frame: Frame, name: str,
                           code: str, reason: str) -> pa.Table:
        idx = pc.indices_nonzero(mask)
        frame_index = pc.take(table.column("__index"), idx).combine_chunks()
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
            "scope": pa.repeat(pa.scalar("record"), count)}, schema=REJECT_SCHEMA)

    # ------------------------------------------------------------------ last checks, output

    def _final_checks(self, table: pa.Table, frame: Frame, run: RunContext,
                      rejects: list[pa.Table]) -> pa.Table:
        if table.num_rows == 0:
            return table
        kwh = table.column("kWh").combine_chunks()
        negative = pc.fill_null(pc.less(kwh, 0), False)
        if "direction" in table.column_names:
            net = pc.fill_null(pc.equal(table.column("direction").combine_chunks(), "net"), False)
            negative = pc.and_(negative, pc.invert(net))
        if pc.any(negative).as_py():
            rejects.append(self._reject_table_rows(
                table, negative, frame, "kWh", "NEGATIVE_ENERGY",
                "negative energy in a record that is not a net reading; the mapping should "
                "clip it (clip: {min: 0}) or mark the series direction: net"))
            table = table.filter(pc.invert(negative))
        for name in table.column_names:
            if name == "kWh" or name.startswith("__"):
                continue
            low, high = records.field_bounds(name)
            if low is None and high is None:
                continue
            values = table.column(name).combine_chunks()
            outside = pa.repeat(pa.scalar(False), len(values))
            if low is not None:
                outside = pc.or_(outside, pc.fill_null(pc.less(values, low), False))
            if high is not None:
                outside = pc.or_(outside, pc.fill_null(pc.greater(values, high), False))
            if pc.any(outside).as_py():
                entry = self._reject_table_rows(
                    table, outside, frame, name, "OUT_OF_BOUNDS",
                    f"outside the record schema's range [{low}, {high}]; the value is dropped")
                rejects.append(entry.set_column(entry.schema.get_field_index("scope"), "scope",
                                                pa.repeat(pa.scalar("value"), entry.num_rows)))
                table = table.set_column(table.schema.get_field_index(name), name,
                                         pc.if_else(outside, pa.nulls(len(values), values.type),
                                                    values))
        return table

    def _account(self, table: pa.Table | None, rejects: list[pa.Table], run: RunContext) -> None:
        if not rejects:
            return
        merged = _dedupe(pa.concat_tables(rejects))
        # malformed lines are counted where they are found; the others here
        record_scope = merged.filter(pc.and_(pc.equal(merged.column("scope"), "record"),
                                             pc.not_equal(merged.column("code"), "MALFORMED_ROW")))
        bad_rows = pc.unique(record_scope.column("row").combine_chunks())
        if table is None:
            run.report.rows_rejected += len(bad_rows)
            self._add_rejects(merged, run)
            return
        used = [table.column(ROW).combine_chunks()]
        if PREVIOUS in table.column_names:
            used.append(pc.drop_null(table.column(PREVIOUS).combine_chunks()))
        out_rows = pc.unique(pa.concat_arrays(used))
        run.report.rows_rejected += len(pc.filter(
            bad_rows, pc.invert(pc.is_in(bad_rows, out_rows))))
        self._add_rejects(merged, run)

    def _output(self, table: pa.Table) -> pa.RecordBatch:
        arrays, names = [], []
        for name in self.output_fields:
            program = self._program(name)
            typ = program.arrow_type if program else pa.string()
            if name in table.column_names:
                values = table.column(name).combine_chunks().cast(typ)
                if pa.types.is_floating(typ):
                    values = pc.add(values, 0.0)  # no -0.0 in the output
                arrays.append(values)
            else:
                arrays.append(pa.nulls(table.num_rows, typ))
            names.append(name)
        return pa.RecordBatch.from_arrays(arrays, names=names)

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the records this variant yields."""
        return pa.schema([(n, (self._program(n).arrow_type if self._program(n) else pa.string()))
                          for n in self.output_fields])


def _skip_rows(first: int, n: int, malformed: list[int]) -> pa.Array:
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


def _dedupe(rejects: pa.Table) -> pa.Table:
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
    first = pc.not_equal(joined, series.shift(joined))
    return rejects.filter(pc.fill_null(first, True))


def _column_names(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = value.get("column", [])
    return [value] if isinstance(value, str) else list(value)


def _detect_columns(spec: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for group in (spec.get("detect") or {}).get("columns", []):
        out += _column_names(group)
    return out


def _output_order(entries: list[Entry]) -> list[str]:
    seen: list[str] = []
    for entry in entries:
        for name in entry.fields:
            if name not in seen:
                seen.append(name)
    lead = [f for f in records.LEADING_FIELDS if f in seen]
    return lead + [f for f in seen if f not in lead]


def _retype(typ: pa.DataType, route: list[tuple[str, str | None]]) -> pa.DataType:
    """Return ``typ`` with the leaf at ``route`` (fields, list items, entries) made text."""
    if not route:
        return pa.string() if pa.types.is_timestamp(typ) else typ
    step, name = route[0]
    rest = route[1:]
    if pa.types.is_list(typ) and step == "path":
        return pa.list_(_retype(typ.value_type, route))
    if step == "items":
        if pa.types.is_list(typ):
            return pa.list_(_retype(typ.value_type, rest))
        return _retype(typ, rest)
    if not pa.types.is_struct(typ):
        return typ
    fields = []
    for f in typ:
        if step == "entries" or f.name == name:
            fields.append(pa.field(f.name, _retype(f.type, rest), f.nullable))
        else:
            fields.append(f)
    return pa.struct(fields)


def describe_missing(groups: list[list[str]]) -> str:
    """Render missing column groups for an error message."""
    return "; ".join(" or ".join(repr(n) for n in g) for g in groups)


__all__ = ["InputError", "RunContext", "Variant", "describe_missing"]
