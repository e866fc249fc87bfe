"""Turn records (a list of dicts, or Arrow data) into typed columns, one per declared field.

A :class:`Column` says, for every record, whether the field is present, whether its value has
the declared JSON type, and holds the values of the right type as an Arrow array (null where
absent or of the wrong type), so that every check afterwards is an Arrow kernel.

Dicts and Arrow differ in one respect, on purpose: in a dict an explicit ``None`` is a value
(of JSON type null, so a TYPE_MISMATCH, as jsonschema says), while in Arrow a null means the
field is absent (the Arrow form of a record has no other way to leave a field out).

Building a column from dicts costs one pass over the records per field that occurs in them.
The set of Python types in the column decides the route: a column whose values all have the
declared type (the usual case) goes straight into Arrow; a mixed column is classified value by
value. ``set(map(type, values))`` is what makes that decision cheap; Arrow's own inference
cannot be trusted here because it turns ``[1.5, True]`` into doubles.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.records import TIMESTAMP_TYPE
from odse.validation.rules import FieldRule, RecordRules

_ARROW_TYPE = {"number": pa.float64(), "integer": pa.float64(), "string": pa.string(),
               "boolean": pa.bool_()}
_NONE = type(None)
# Python types that go straight into Arrow for each JSON type (exact types: subclasses such as
# IntEnum, numpy scalars or str subclasses take the value-by-value route).
_FAST_TYPES = {"number": {float, int}, "integer": {int}, "string": {str}, "boolean": {bool}}


class Column:
    """One declared field across all records.

    Parameters:
        name: Field name.
        present: True where the record carries the field (a dict key, even with None; a
            non-null Arrow value).
        values: The values of the declared type (float64, string, bool, or a UTC timestamp
            for a date-time field read from Arrow); null where absent or of a wrong type. A
            text column of a table may be given as its chunks (``ChunkedArray``): ``values``
            joins them on first use, ``chunks`` hands them to kernels as they are (joining a
            million strings costs more than checking them).
        wrong_type: True where the field is present with a value of another type, or None
            when there is no such record.
        naive_time: True for an Arrow timestamp column without a time zone.
        raw: Given record indices, return the values as the records hold them (for messages).
    """

    __slots__ = ("_values", "naive_time", "name", "present", "raw", "wrong_type")

    def __init__(self, name: str, present: pa.BooleanArray, values: pa.Array | pa.ChunkedArray,
                 wrong_type: pa.BooleanArray | None, raw: Callable[[list[int]], list[Any]],
                 naive_time: bool = False) -> None:
        self.name = name
        self.present = present
        self._values = values
        self.wrong_type = wrong_type
        self.raw = raw
        self.naive_time = naive_time

    @property
    def values(self) -> pa.Array:
        """The values as one Arrow array."""
        if isinstance(self._values, pa.ChunkedArray):
            self._values = self._values.combine_chunks()
        return self._values

    @property
    def chunks(self) -> pa.Array | pa.ChunkedArray:
        """The values as held (one array or chunks), for kernels that take either."""
        return self._values


class Columns(ABC):
    """The records as typed columns, built lazily field by field.

    Parameters:
        n: Number of records.
        objects: True where the record is an object (always True for Arrow rows).
    """

    n: int
    objects: pa.BooleanArray
    non_objects: list[int]

    def __init__(self, rules: RecordRules) -> None:
        self.rules = rules
        self._cache: dict[str, Column | None] = {}

    def get(self, name: str) -> Column | None:
        """Return the column of a declared field, or None when no record carries it."""
        if name not in self._cache:
            rule = self.rules.fields.get(name)
            self._cache[name] = self._build(rule) if rule and self.has(name) else None
        return self._cache[name]

    def column_for(self, rule: FieldRule) -> Column | None:
        """Return the column of any field read with the given rule's type, or None if absent."""
        declared = self.rules.fields.get(rule.name)
        if declared is not None and declared.type == rule.type:
            return self.get(rule.name)
        return self._build(rule) if self.has(rule.name) else None

    @abstractmethod
    def has(self, name: str) -> bool:
        """Return True when at least one record carries the field (or its column exists)."""

    @abstractmethod
    def presence(self, name: str) -> pa.BooleanArray:
        """Return where the field is present, for any field name, declared or not."""

    @abstractmethod
    def raw_records(self, indices: list[int]) -> list[Any]:
        """Return the records at these indices as given (for messages about non-objects)."""

    @abstractmethod
    def _build(self, rule: FieldRule) -> Column:
        """Build the column of one field, typed as the rule says."""


class DictColumns(Columns):
    """Columns over a list of dicts."""

    def __init__(self, records: Sequence[Any], rules: RecordRules) -> None:
        super().__init__(rules)
        self.n = len(records)
        kinds = set(map(type, records))
        if all(issubclass(k, dict) for k in kinds):
            self.non_objects = []
            self._records = records
            self.objects = _fill(self.n, True)
        else:
            self.non_objects = [i for i, r in enumerate(records) if not isinstance(r, dict)]
            bad = set(self.non_objects)
            self._records = [{} if i in bad else r for i, r in enumerate(records)]
            self.objects = _mask_from_indices(self.n, self.non_objects, invert=True)
        self._given = records
        self._keys: set[str] = set().union(*self._records) if self.n else set()

    def has(self, name: str) -> bool:
        return name in self._keys

    def presence(self, name: str) -> pa.BooleanArray:
        if name not in self._keys:
            return _fill(self.n, False)
        column = self.get(name) if name in self.rules.fields else None
        if column is not None:
            return column.present
        return pa.array([name in r for r in self._records], pa.bool_())

    def raw_records(self, indices: list[int]) -> list[Any]:
        return [self._given[i] for i in indices]

    def _build(self, rule: FieldRule) -> Column:
        name, records = rule.name, self._records
        try:
            values = list(map(itemgetter(name), records))
            complete = True
        except KeyError:
            values = [r.get(name) for r in records]
            complete = False

        def raw(indices: list[int]) -> list[Any]:
            return [records[i].get(name) for i in indices]

        kinds = set(map(type, values))
        fast = _FAST_TYPES[rule.type]
        arr = None
        if kinds <= fast | {_NONE}:
            try:
                arr = pa.array(values, _ARROW_TYPE[rule.type], from_pandas=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, UnicodeEncodeError):
                arr = None  # an int beyond 64 bits, a lone surrogate: value by value
        if arr is not None:
            if not arr.null_count:
                return Column(name, _fill(self.n, True), arr, None, raw)
            # A null is an explicit None (a TYPE_MISMATCH) or a missing key (absent).
            explicit = self._explicit_nones(name, arr, complete)
            present = pc.is_valid(arr)
            if explicit is not None:
                present = pc.or_(present, explicit)
            return Column(name, present, arr, explicit, raw)
        return self._classify(rule, values, complete, raw)

    def _explicit_nones(self, name: str, arr: pa.Array,
                        complete: bool) -> pa.BooleanArray | None:
        nulls = pc.is_null(arr)
        if complete:
            return nulls
        records = self._records
        idx = pc.indices_nonzero(nulls).to_pylist()
        explicit = [i for i in idx if name in records[i]]
        return _mask_from_indices(self.n, explicit) if explicit else None

    def _classify(self, rule: FieldRule, values: list[Any], complete: bool,
                  raw: Callable[[list[int]], list[Any]]) -> Column:
        """Sort a mixed column value by value into right type / wrong type / absent."""
        test, convert = _TYPE_TESTS[rule.type]
        records, name = self._records, rule.name
        good: list[Any] = []
        wrong: list[bool] = []
        present: list[bool] = []
        for i, v in enumerate(values):
            if v is None:
                here = complete or name in records[i]
                good.append(None)
                wrong.append(here)
                present.append(here)
            elif test(v):
                good.append(convert(v))
                wrong.append(False)
                present.append(True)
            else:
                good.append(None)
                wrong.append(True)
                present.append(True)
        arr = pa.array(good, _ARROW_TYPE[rule.type], from_pandas=False)
        return Column(name, pa.array(present, pa.bool_()), arr,
                      pa.array(wrong, pa.bool_()), raw)


class ArrowColumns(Columns):
    """Columns over an Arrow table: a null is an absent field."""

    def __init__(self, table: pa.Table, rules: RecordRules) -> None:
        super().__init__(rules)
        self.table = table
        self.n = table.num_rows
        self.non_objects = []
        self.objects = _fill(self.n, True)
        self._names = set(table.column_names)

    def has(self, name: str) -> bool:
        return name in self._names

    def presence(self, name: str) -> pa.BooleanArray:
        if not self.has(name):
            return _fill(self.n, False)
        return flat(pc.is_valid(self._array(name)))

    def raw_records(self, indices: list[int]) -> list[Any]:
        return self.table.take(indices).to_pylist()

    def _array(self, name: str) -> pa.Array | pa.ChunkedArray:
        chunked = self.table.column(name)
        if (pa.types.is_string(chunked.type) or pa.types.is_large_string(chunked.type)) \
                and chunked.num_chunks > 1:
            return chunked  # text is checked chunk by chunk (see Column.chunks)
        col = chunked.combine_chunks()
        if pa.types.is_dictionary(col.type):
            col = col.dictionary_decode()
        if _is_string_view(col.type):  # polars' strings; few kernels take them yet
            col = col.cast(pa.large_string())
        return col

    def _build(self, rule: FieldRule) -> Column:
        name = rule.name
        col = self._array(name)
        target = _ARROW_TYPE[rule.type]

        def raw(indices: list[int]) -> list[Any]:
            return col.take(pa.array(indices, pa.int64())).to_pylist()

        t = col.type
        if pa.types.is_null(t):
            return Column(name, _fill(self.n, False), pa.nulls(self.n, target), None, raw)
        present = flat(pc.is_valid(col))
        if rule.type in ("number", "integer") and _is_numeric(t):
            values = col if t == pa.float64() else pc.cast(col, pa.float64(), safe=False)
            wrong = None
            if rule.type == "integer" and not pa.types.is_integer(t):
                # JSON's integer is a number with no fraction: 2.0 is one, 2.5 and NaN are not
                whole = pc.equal(pc.floor(values), values)
                wrong = pc.and_(present, pc.invert(pc.fill_null(whole, True)))
                values = pc.if_else(wrong, pa.scalar(None, pa.float64()), values)
            return Column(name, present, values, wrong, raw)
        if rule.type == "string" and (pa.types.is_string(t) or pa.types.is_large_string(t)):
            return Column(name, present, col, None, raw)
        if rule.type == "string" and rule.date_time and pa.types.is_timestamp(t):
            if t.tz is None:
                return Column(name, present, col, None, raw, naive_time=True)
            values = col if t == TIMESTAMP_TYPE else pc.cast(col, TIMESTAMP_TYPE)
            return Column(name, present, values, None, raw)
        if rule.type == "boolean" and pa.types.is_boolean(t):
            return Column(name, present, col, None, raw)
        return Column(name, present, pa.nulls(self.n, target), present, raw)


def flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Return one array (booleans and other kernel results join cheaply)."""
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _is_string_view(t: pa.DataType) -> bool:
    test = getattr(pa.types, "is_string_view", None)  # pyarrow >= 16
    return bool(test and test(t))


def _is_numeric(t: pa.DataType) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)


def _is_number(v: Any) -> bool:
    # jsonschema: any numbers.Number except bool. complex has no order, so no bound can be
    # checked on it (jsonschema itself raises): odse calls it a wrong type.
    return isinstance(v, numbers.Number) and not isinstance(v, (bool, complex))


def _to_float(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:
        # beyond the float range: infinite for the checks, which then report OUT_OF_BOUNDS,
        # as jsonschema's comparison with the largest float does
        return float("inf") if v > 0 else float("-inf")
    except ValueError:  # a signalling Decimal NaN
        return float("nan")


def _is_text(v: Any) -> bool:
    # a lone surrogate is not text any writer can write: a type mismatch, not a pass
    if not isinstance(v, str):
        return False
    if v.isascii():
        return True
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _to_text(v: str) -> str:
    # Arrow holds UTF-8 only. A lone surrogate (from a bad decode) becomes U+FFFD, which no
    # enum value or schema pattern accepts either, so the verdict stays the same.
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        return v.encode("utf-8", "replace").decode("utf-8")
    return str(v)


def _is_integer(v: Any) -> bool:
    # Draft 2020-12: an int (not a bool), or a float without a fraction
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


_TYPE_TESTS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "number": (_is_number, _to_float),
    "integer": (_is_integer, _to_float),
    "string": (_is_text, _to_text),
    "boolean": (lambda v: isinstance(v, bool), bool),
}


def _fill(n: int, value: bool) -> pa.BooleanArray:
    return pa.repeat(pa.scalar(value, pa.bool_()), n) if n else pa.array([], pa.bool_())


def _mask_from_indices(n: int, indices: list[int], *, invert: bool = False) -> pa.BooleanArray:
    flags = [invert] * n
    for i in indices:
        flags[i] = not invert
    return pa.array(flags, pa.bool_())
