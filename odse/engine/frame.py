"""The input rows of one batch, as expressions see them.

A frame answers ``column(ref)``: for CSV, a header name; for JSON, a dotted path inside the
record (``L1Data.acVoltage``), inside a named enclosing level (``meter.type``), an entry key
named by a level (``channel_name``), or from the document root (``$.energy.unit``). It also
knows each row's number and where it sits in the input, for reject messages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse import patterns
from odse.engine.convert import to_text
from odse.engine.values import null_where
from odse.errors import InputError
from odse.readers.json_input import ROOT_ARRAY_KEY


def row_numbers(first: int, n: int) -> pa.Array:
    """Return ``first, first + 1, ...`` as ``n`` int64 values."""
    if n == 0:
        return pa.array([], pa.int64())
    return pc.add(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), first - 1)


def _item(lists: pa.Array, index: int) -> pa.Array:
    """Return item ``index`` of each list (null where a list is shorter)."""
    item_type = lists.type.value_type
    n = len(lists)
    has = pc.fill_null(pc.greater(pc.list_value_length(lists), index), False)
    if pa.types.is_null(item_type) or not pc.any(has).as_py():
        return pa.nulls(n, item_type)
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    offsets = lists.offsets
    position = pc.subtract(row_numbers(0, len(flat)),
                           pc.take(pc.subtract(offsets, offsets[0]), parents))
    chosen = pc.filter(flat, pc.equal(position, index))
    # the k-th list that has the item takes the k-th chosen item; the others none
    which = pc.subtract(pc.cumulative_sum(pc.cast(has, pa.int64())), 1)
    which = pc.if_else(has, which, pa.nulls(n, pa.int64()))
    return pc.take(chosen, which)


class Frame:
    """Base frame: row numbers, parameters, and column lookup."""

    n: int
    rows: pa.Array          # int64, 1-based input row (or record) numbers
    params: dict[str, Any]

    def column(self, ref: str) -> pa.Array | None:
        """Return the values of ``ref`` for every row, or None when the input lacks it."""
        raise NotImplementedError

    def has(self, ref: str) -> bool:
        """Return True when the input has ``ref``."""
        raise NotImplementedError

    def raw(self, ref: str) -> pa.Array | None:
        """Return the input values of ``ref`` as given (missing-value tokens included)."""
        return self.column(ref)

    def unit_of(self, ref: str) -> str | None:
        """Return the unit a CSV units row gives for ``ref``, if any."""
        return None

    def locations(self, indices: Sequence[int]) -> list[str]:
        """Return a human-readable place in the input for each row index."""
        raise NotImplementedError


class CsvFrame(Frame):
    """Rows of a CSV batch: text columns by header name."""

    def __init__(self, batch: pa.RecordBatch, rows: pa.Array | int, header_lines: int,
                 units: dict[str, str], params: dict[str, Any],
                 null_values: Sequence[str] = ()) -> None:
        self.batch = batch
        self.null_values = pa.array(list(null_values), pa.string())
        self._values: dict[str, pa.Array] = {}
        self.n = batch.num_rows
        self.header_lines = header_lines
        self.rows = row_numbers(rows, self.n) if isinstance(rows, int) else rows
        self.units = units
        self.params = params
        self._names = set(batch.schema.names)

    def column(self, ref: str) -> pa.Array | None:
        if ref not in self._names:
            return None
        if ref not in self._values:
            raw = self.batch.column(ref)
            token = pc.is_in(raw, self.null_values)
            self._values[ref] = null_where(raw, token) if pc.any(token).as_py() else raw
        return self._values[ref]

    def raw(self, ref: str) -> pa.Array | None:
        return self.batch.column(ref) if ref in self._names else None

    def has(self, ref: str) -> bool:
        return ref in self._names

    def unit_of(self, ref: str) -> str | None:
        return self.units.get(ref)

    def locations(self, indices: Sequence[int]) -> list[str]:
        rows = pc.take(self.rows, pa.array(indices, pa.int64())).to_pylist()
        return [f"line {row + self.header_lines}" for row in rows]


class WorkbookFrame(CsvFrame):
    """Rows of a workbook sheet: text (or number) columns by header name, placed by sheet
    and row."""

    def __init__(self, batch: pa.RecordBatch, rows: pa.Array, sheet: str, header_row: int,
                 params: dict[str, Any], null_values: Sequence[str] = ()) -> None:
        super().__init__(batch, rows, header_row, {}, params, null_values)
        self.sheet = sheet

    def column(self, ref: str) -> pa.Array | None:
        # number cells may come as numbers (workbook_input): missing-value tokens are text
        if ref in self._names and not pa.types.is_string(self.batch.schema.field(ref).type):
            return self.batch.column(ref)
        return super().column(ref)

    def locations(self, indices: Sequence[int]) -> list[str]:
        rows = pc.take(self.rows, pa.array(indices, pa.int64())).to_pylist()
        return [f"sheet '{self.sheet}' row {row + self.header_lines}" for row in rows]


# ----------------------------------------------------------------------------- JSON


@dataclass(frozen=True)
class Level:
    """One step from the document to the records (the spec's json.records)."""

    path: str
    name: str | None = None      # `as`: later paths reach this level's element by name
    entries: bool = False        # iterate the keys of an object instead of a list
    key: str | None = None       # name under which an entry's key is reachable
    match: str | None = None     # only entries whose key matches this regular expression


@dataclass
class _Nav:
    elements: pa.Array                       # one element per record so far
    root: pa.Array                           # index of the document row of each element
    bound: dict[str, tuple[pa.Array, pa.Array]] = field(default_factory=dict)
    keys: dict[str, pa.Array] = field(default_factory=dict)
    steps: list[tuple[str, Any]] = field(default_factory=list)   # for locations

    def take(self, idx: pa.Array, elements: pa.Array) -> _Nav:
        return _Nav(
            elements=elements,
            root=pc.take(self.root, idx),
            bound={k: (arr, pc.take(i, idx)) for k, (arr, i) in self.bound.items()},
            keys={k: pc.take(v, idx) for k, v in self.keys.items()},
            steps=[(kind, (label, pc.take(v, idx) if isinstance(v, (pa.Array, pa.ChunkedArray))
                           else v)) for kind, (label, v) in self.steps],
        )


def split_path(path: str) -> list[str]:
    """Split a dotted path; ``@`` alone is the element itself."""
    return [] if path in ("@", "") else path.split(".")


_INDEXED = re.compile(r"^(.*)\[(\d+)\]$")


def _get(values: pa.Array, parts: list[str], whole: str) -> pa.Array | None:
    for step, written in enumerate(parts):
        part = written
        index = None
        indexed = _INDEXED.match(written)
        if indexed:
            # name[2]: one item of a list, counted from 0
            part, index = indexed.group(1), int(indexed.group(2))
        typ = values.type
        if pa.types.is_struct(typ):
            if typ.get_field_index(part) < 0:
                return None
            values = pc.struct_field(values, part)
            if index is not None:
                if not (pa.types.is_list(values.type) or pa.types.is_large_list(values.type)):
                    return None
                values = _item(values, index)
        elif (pa.types.is_list(typ) or pa.types.is_large_list(typ)) and step == 0:
            return None     # the input is a list where the spec expects an object
        elif pa.types.is_list(typ) or pa.types.is_large_list(typ):
            raise InputError(
                f"the JSON path '{whole}' crosses a list at '{part}'", code="JSON_PATH_LIST",
                hint="Give the list its own level in json.records, or refer to one of its "
                     "items through a level name")
        else:
            return None
    return values


def locate(root: pa.Array, levels: Sequence[Level]) -> list[_Nav]:
    """Walk from the document rows to the records; one result per distinct entry shape."""
    navs = [_Nav(elements=root, root=row_numbers(0, len(root)))]
    for level in levels:
        parts = split_path(level.path)
        out: list[_Nav] = []
        for nav in navs:
            value = _get(nav.elements, parts, level.path)
            if value is None:
                continue
            for child in _expand(nav, value, level):
                if level.name:
                    child.bound[level.name] = (child.elements,
                                               row_numbers(0, len(child.elements)))
                out.append(child)
        navs = out
    return navs


def _expand(nav: _Nav, value: pa.Array, level: Level) -> list[_Nav]:
    typ = value.type
    label = level.path
    if level.entries:
        if pa.types.is_struct(typ):
            return _struct_entries(nav, value, level)
        if pa.types.is_map(typ):
            parents = pc.list_parent_indices(value)
            sub = nav.take(parents, pc.list_flatten(value).field("value"))
            if level.key:
                sub.keys[level.key] = pc.cast(pc.list_flatten(value).field("key"), pa.string())
            sub.steps.append(("mapkey", (label, sub.keys.get(level.key) if level.key else None)))
            return [sub]
        return []
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        flat = pc.list_flatten(value)
        parents = pc.list_parent_indices(value)
        offsets = value.offsets
        starts = pc.take(pc.subtract(offsets, offsets[0]), parents)
        position = pc.subtract(row_numbers(0, len(flat)), starts)
        sub = nav.take(parents, flat)
        sub.steps.append(("index", (label, position)))
        return [sub]
    valid = pc.indices_nonzero(pc.is_valid(value))
    sub = nav.take(valid, pc.take(value, valid))
    sub.steps.append(("field", (label, None)))
    return [sub]


def _struct_entries(nav: _Nav, value: pa.Array, level: Level) -> list[_Nav]:
    """One item per key of an object; keys whose values share a type share one result."""
    typ = value.type
    if isinstance(value, pa.ChunkedArray):
        value = value.combine_chunks()
    # all children at once: field-by-field access costs O(fields) each, O(fields^2) in all
    children = value.flatten()
    names = [typ.field(i).name for i in range(typ.num_fields)]
    hits = patterns.search(names, level.match) if level.match else [True] * len(names)
    chosen = [i for i in range(typ.num_fields) if hits[i]]
    groups: dict[str, list[int]] = {}
    for i in chosen:
        groups.setdefault(_kind(children[i].type), []).append(i)
    if "null" in groups and len(groups) > 1:
        target = max((k for k in groups if k != "null"), key=lambda k: len(groups[k]))
        groups[target] += groups.pop("null")
    n = len(value)
    out = []
    for kind, fields in groups.items():
        common = pa.float64() if kind == "number" else next(
            (children[i].type for i in fields if not pa.types.is_null(children[i].type)),
            pa.null())
        # key-major: every parent's value of the first key, then of the second, ...
        elements = pa.concat_arrays([children[i].cast(common) for i in fields])
        parents = pa.concat_arrays([row_numbers(0, n)] * len(fields))
        names = pa.array([typ.field(i).name for i in fields], pa.string())
        keys = pc.take(names, pc.divide(row_numbers(0, n * len(fields)), n)) if n != 1 \
            else names
        if n != 1:
            # Across several objects Arrow cannot tell a key that is absent from one that is
            # null, so nulls are skipped there; in one object a null is a reading without a
            # value (rejected later).
            valid = pc.is_valid(elements)
            elements, parents, keys = (pc.filter(a, valid) for a in (elements, parents, keys))
        if len(elements) == 0:
            continue
        sub = nav.take(parents, elements)
        if level.key:
            sub.keys[level.key] = keys
        sub.steps.append(("keys", (level.path, keys)))
        out.append(sub)
    return out


def _kind(typ: pa.DataType) -> str:
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return "number"
    if pa.types.is_null(typ):
        return "null"
    return str(typ)


class JsonFrame(Frame):
    """Records found in JSON documents or JSON Lines, possibly of several shapes."""

    def __init__(self, root: pa.Array, levels: Sequence[Level], first_row: int,
                 params: dict[str, Any], line_numbers: bool = False) -> None:
        self.root = root
        typ = root.type
        wrapped = typ.num_fields == 1 and typ.field(0).name == ROOT_ARRAY_KEY
        document = pc.struct_field(root, 0) if wrapped else root
        self.navs = locate(document, levels)
        self.n = sum(len(nav.elements) for nav in self.navs)
        self.first_row = first_row
        self.rows = row_numbers(first_row, self.n)
        self.params = params
        self.line_numbers = line_numbers
        self._cache: dict[str, pa.Array | None] = {}

    def _resolve(self, nav: _Nav, ref: str) -> pa.Array | None:
        parts = split_path(ref)
        if not parts:
            return nav.elements
        head, rest = parts[0], parts[1:]
        if head == "$":
            value = _get(self.root, rest, ref)
            return None if value is None else pc.take(value, nav.root)
        if head in nav.bound:
            elements, idx = nav.bound[head]
            value = _get(elements, rest, ref)
            return None if value is None else pc.take(value, idx)
        if head in nav.keys and not rest:
            return nav.keys[head]
        return _get(nav.elements, parts, ref)

    def column(self, ref: str) -> pa.Array | None:
        if ref in self._cache:
            return self._cache[ref]
        pieces = []
        found = False
        for nav in self.navs:
            value = self._resolve(nav, ref)
            if value is None:
                value = pa.nulls(len(nav.elements))
            else:
                found = True
            pieces.append(value)
        result = _concat(pieces) if found else None
        self._cache[ref] = result
        return result

    def has(self, ref: str) -> bool:
        return self.column(ref) is not None

    def empty_roots(self) -> list[int]:
        """Return the input rows (JSON Lines lines) in which no record was found."""
        found = [nav.root for nav in self.navs if len(nav.root)]
        if not found:
            return list(range(len(self.root)))
        present = pc.unique(pa.concat_arrays([f.combine_chunks() if isinstance(
            f, pa.ChunkedArray) else f for f in found]))
        everyone = row_numbers(0, len(self.root))
        return pc.filter(everyone, pc.invert(pc.is_in(everyone, present))).to_pylist()

    def locations(self, indices: Sequence[int]) -> list[str]:
        out = []
        bounds = []
        start = 0
        for nav in self.navs:
            bounds.append((start, start + len(nav.elements), nav))
            start += len(nav.elements)
        for i in indices:
            for lo, hi, nav in bounds:
                if lo <= i < hi:
                    out.append(self._location(nav, i - lo))
                    break
        return out

    def _location(self, nav: _Nav, i: int) -> str:
        text = ""
        if self.line_numbers:
            text = f"line {nav.root[i].as_py() + self.first_row} "
        path = "$"
        for kind, (label, value) in nav.steps:
            if label not in ("@", ""):
                path += f".{label}"
            if kind == "index":
                path += f"[{value[i].as_py()}]"
            elif kind == "key":
                path += f'["{value}"]'
            elif kind == "keys" or (kind == "mapkey" and value is not None):
                path += f'["{value[i].as_py()}"]'
        return text + path.replace(f"$.{'@'}", "$")


def _concat(pieces: list[pa.Array]) -> pa.Array:
    pieces = [p.combine_chunks() if isinstance(p, pa.ChunkedArray) else p for p in pieces]
    if len(pieces) == 1:
        return pieces[0]
    types = {p.type for p in pieces if not pa.types.is_null(p.type)}
    if len(types) <= 1:
        typ = types.pop() if types else pa.null()
        return pa.concat_arrays([p.cast(typ) for p in pieces])
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        return pa.concat_arrays([p.cast(pa.float64()) for p in pieces])
    return pa.concat_arrays([to_text(p) for p in pieces])
