"""One input shape of a source, compiled: how to recognise it and what its records hold.

A variant is compiled once from its spec: its reader settings (CSV dialect, JSON record
levels), its fields and unpivot entries as compiled programs, the columns detection needs,
and the schema of its output. This module only describes the shape: running it is
:func:`odse.engine.reading.run`, which takes each batch through :mod:`odse.engine.stages`
(imports run one way: reading -> stages -> variant).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from odse import patterns, records
from odse.engine import pivot
from odse.engine.compile_ctx import Ctx, Param
from odse.engine.conditions import compile_condition
from odse.engine.fields import FieldProgram, columns_of, compile_field
from odse.engine.frame import Frame, JsonFrame, Level, split_path
from odse.engine.run_context import RunContext
from odse.engine.timestamps import check_zone
from odse.readers import csv_input, workbook_input
from odse.readers.inputs import InputData


@dataclass
class Entry:
    """One record made from each input row: the base fields, or one unpivot entry."""

    index: int
    fields: dict[str, FieldProgram]
    optional: bool = False
    own_columns: list[list[str]] = field(default_factory=list)


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
        self.workbook = self._workbook(spec.get("workbook") or {}, ctx.at("workbook"))
        self.where = compile_condition(spec["where"], ctx.at("where")) if "where" in spec \
            else None
        self.where_text = _describe_where(spec.get("where"))
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
            # an optional entry applies when its own energy column is in the input
            energy = overrides.get("kWh", base_specs.get("kWh"))
            own = [_column_names(energy)] if isinstance(energy, dict) and "column" in energy \
                else []
            self.entries.append(Entry(i, merged, bool(entry_spec.get("optional")), own))
        if not self.entries:
            self.entries.append(Entry(0, base))
        for name in {n for e in self.entries for n in e.fields}:
            types = {e.fields[name].kind for e in self.entries if name in e.fields}
            if len(types) > 1:
                kinds_text = " in some unpivot entries and ".join(sorted(types))
                raise ctx.error(f"{name} holds {kinds_text} in others",
                                "Give the field one type in every entry", "unpivot")
            kinds = {e.fields[name].measure == "counter" for e in self.entries if name in e.fields}
            if len(kinds) > 1:
                raise ctx.error(f"{name} is a counter in some unpivot entries and not in others",
                                "Give every entry the same measure for a counter field",
                                "unpivot")
        if self.interval is None and any(p.first_reading == "zero" for e in self.entries
                                         for p in e.fields.values()):
            raise ctx.error("first_reading: zero needs the interval that ends at the first "
                            "reading", "Give the variant an interval: (minutes or {param: "
                            "interval_minutes})", "interval")
        for entry in self.entries:
            where = ("unpivot", entry.index) if spec.get("unpivot") else ("fields",)
            if "kWh" not in entry.fields:
                raise ctx.error("no kWh field: every record needs its energy", "Add kWh: "
                                "{column: ..., unit: ...} to fields (or to each unpivot entry)",
                                *where)
            if "error_type" not in entry.fields:
                raise ctx.error("no error_type field: every record needs its state",
                                "Add error_type: a code table on a status column, or "
                                "{const: normal} when the source reports no state", *where)
            others = [n for n, p in entry.fields.items() if p.measure == "counter" and n != "kWh"]
            if others and entry.fields["kWh"].measure != "counter":
                raise ctx.error(
                    f"{others[0]} is a counter but kWh is not",
                    "A counter's records are the intervals between its readings, so kWh must "
                    f"be the counter that makes them; drop measure: counter from {others[0]} to "
                    "keep its readings as they are", *where, others[0], "measure")
            time = entry.fields.get("timestamp")
            if time is not None and time.label == "end" and any(
                    p.measure == "counter" for p in entry.fields.values()):
                raise ctx.error("label: end does not go with a counter field",
                                "A counter's records are already labelled with the reading "
                                "that opens each interval; use label: instant",
                                "fields", "timestamp", "label")
        if _uses_header_units(spec) and (self.format != "csv" or not self.dialect.units_row):
            raise ctx.error("unit: {header: true} needs a CSV units row",
                            "Set csv.header.units to the header row that holds the units")
        self.output_fields = _output_order(self.entries)
        self.columns = sorted(set(columns_of(spec.get("fields"))) |
                              set(columns_of(spec.get("unpivot"))) |
                              set(columns_of({"column": _detect_columns(spec)})))
        self.detect_groups = self._detect_groups(spec, base_specs)
        self.pivot = pivot.compile_pivot(spec.get("pivot"), self.columns)
        if self.pivot is not None:
            # the input holds the key, value and by columns; the channels come from the key
            self.detect_groups = [[self.pivot.key], [self.pivot.value],
                                  *[[b] for b in self.pivot.by]]
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
        delimiter = spec.get("delimiter")
        if delimiter not in (None, "auto") and len(delimiter) != 1:
            raise ctx.error(f"delimiter {delimiter!r} is not one character",
                            "Give one character, or auto", "delimiter")
        encoding = spec.get("encoding", "utf-8")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ctx.error(f"unknown encoding {encoding!r}", "Use a name such as utf-8, "
                            "latin-1 or cp1252", "encoding") from None
        if spec.get("decimal", ".") == spec.get("thousands"):
            raise ctx.error("decimal and thousands separators are the same", None, "thousands")
        return csv_input.CsvDialect(
            delimiter=spec.get("delimiter"), decimal=spec.get("decimal", "."),
            thousands=spec.get("thousands", ""), encoding=spec.get("encoding", "utf-8"),
            skip_lines=spec.get("skip_lines", 0), header_rows=rows,
            names_row=header.get("names"), units_row=header.get("units"), null_values=nulls)

    def _workbook(self, spec: dict[str, Any], ctx: Ctx) -> workbook_input.WorkbookSettings:
        if spec and self.format != "workbook":
            raise ctx.error("workbook: settings need format: workbook", None)
        sheet = spec.get("sheet", 0)
        if isinstance(sheet, dict) and "match" in sheet:
            why = patterns.problem(sheet["match"])
            if why:
                raise ctx.error(f"invalid regular expression {sheet['match']!r}: {why}",
                                "Write it without lookaround or backreferences", "workbook",
                                "sheet", "match")
        header = spec.get("header") or {}
        find = tuple(tuple(_column_names(g)) for g in header.get("find") or ())
        return workbook_input.WorkbookSettings(
            sheet=sheet, header_row=header.get("row"), find=find,
            within=header.get("within", workbook_input.DEFAULT_WITHIN),
            skip_footer=spec.get("skip_footer", 0))

    @staticmethod
    def _levels(spec: Any, ctx: Ctx) -> list[Level]:
        if isinstance(spec, str):
            return [Level(spec)]
        levels = []
        for i, s in enumerate(spec):
            if s.get("match"):
                why = patterns.problem(s["match"])
                if why:
                    raise ctx.error(f"invalid regular expression {s['match']!r}: {why}",
                                    "Write it without lookaround or backreferences", "json",
                                    "records", i, "match")
            levels.append(Level(s["path"], s.get("as"), bool(s.get("entries")), s.get("key"),
                                s.get("match")))
        return levels

    def _check_interval(self, ctx: Ctx) -> None:
        interval = self.interval
        if isinstance(interval, dict) and interval["param"] not in self.params:
            raise ctx.error(f"interval uses the undeclared parameter '{interval['param']}'",
                            "Declare it under params:", "interval", "param")
        minutes = interval.get("default") if isinstance(interval, dict) else interval
        if isinstance(minutes, (int, float)) and not isinstance(minutes, bool):
            from odse.engine.stages import interval_problem

            problem = interval_problem(float(minutes))
            if problem:
                path = ("interval", "default") if isinstance(interval, dict) else ("interval",)
                raise ctx.error(f"interval {problem}, got {minutes!r}",
                                "Give the interval in minutes, e.g. interval: 5", *path)

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
        if self.entries and all(e.optional for e in self.entries):
            # every entry is optional: at least one of them must find its column
            groups.append([n for e in self.entries for g in e.own_columns for n in g])
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

    def program(self, name: str) -> FieldProgram | None:
        """Return the compiled field ``name`` (from the first entry that has it)."""
        for entry in self.entries:
            if name in entry.fields:
                return entry.fields[name]
        return None

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema of the records this variant yields."""
        return pa.schema([(n, (self.program(n).arrow_type if self.program(n) else pa.string()))
                          for n in self.output_fields])

    def absent_fields(self, data: InputData, sheet: Any = None) -> tuple[str, ...]:
        """Return the optional fields that ``data`` cannot give a value: those read only from
        columns its CSV header (or workbook ``sheet``) lacks. They are left out of its records
        (a field that is null in every record is noise in a table and costs a column in every
        lake file)."""
        if self.format == "workbook" and isinstance(sheet, workbook_input.Sheet):
            names = set(sheet.names)
        elif self.format == "csv":
            names = set(self.csv_layout(data).names)
        else:
            return ()
        absent = []
        for name in self.output_fields:
            programs = [e.fields[name] for e in self.entries if name in e.fields]
            if name in _RECORD_CORE or any(p.required or p.reads_only is None or
                                           names.intersection(p.reads_only) for p in programs):
                continue
            absent.append(name)
        return tuple(absent)


def _describe_where(spec: Any) -> str:
    """Render a where: condition for the report (``where: Status ne 'Total'``)."""
    if spec is None:
        return ""
    import json
    return "where: " + json.dumps(spec, ensure_ascii=False, separators=(", ", ": "))


def _uses_header_units(spec: Any) -> bool:
    if isinstance(spec, dict):
        unit = spec.get("unit")
        if isinstance(unit, dict) and unit.get("header"):
            return True
        return any(_uses_header_units(v) for v in spec.values())
    if isinstance(spec, list):
        return any(_uses_header_units(v) for v in spec)
    return False


def _column_names(value: Any) -> list[str]:
    if isinstance(value, dict):
        value = value.get("column", [])
    return [value] if isinstance(value, str) else list(value)


def _detect_columns(spec: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for group in (spec.get("detect") or {}).get("columns", []):
        out += _column_names(group)
    return out


_RECORD_CORE = ("timestamp", "kWh", "error_type")


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


__all__ = ["RunContext", "Variant", "describe_missing"]
