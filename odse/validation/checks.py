"""Evaluate the compiled schema rules over typed columns with Arrow kernels.

Each check yields a boolean mask over the records (True = the record breaks it) and knows how
to word its message; messages are only rendered for the records a mask selects. When one field
breaks several keywords only the first in ``codes.FIELD_PRECEDENCE`` is reported (a string in a
number field is a type error, not also a bounds error), so each field gives at most one error
per record.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.suggest import nearest
from odse.validation import codes
from odse.validation.columns import Column, Columns, flat
from odse.validation.rules import Condition, FieldRule, RecordRules

# (message, value) for each selected record
Render = Callable[[list[int]], list[tuple[str, Any]]]

_TYPE_WORDS = {"number": "a number", "integer": "an integer", "string": "a string",
               "boolean": "true or false"}
_FAILS = {">=": pc.less, ">": pc.less_equal, "<=": pc.greater, "<": pc.greater_equal}


@dataclass
class Finding:
    """Records that fail one check, with the code, path and how to word each message."""

    code: str
    path: str
    mask: pa.BooleanArray
    render: Render


def schema_findings(rules: RecordRules, cols: Columns) -> list[Finding]:
    """Return the schema-level findings, field by field in the schema's property order."""
    out: list[Finding] = []
    if cols.non_objects:
        out.append(_not_objects(cols))
    for rule in rules.fields.values():
        if not rule.required and not cols.has(rule.name):
            continue
        column = cols.get(rule.name)
        out.extend(first_failures(_field_checks(rule, column, cols), f"$.{rule.name}"))
    return out


def value_checks(rule: FieldRule, column: Column,
                 cols: Columns) -> Iterator[tuple[str, pa.BooleanArray | None, Render]]:
    """Yield (code, mask, render) for the value keywords: finite, enum, bounds, pattern.

    A mask may be None when the check cannot fail (nothing to look at).
    """
    values = column.chunks  # text stays in its chunks: every kernel below takes them
    name = rule.name
    nonfinite = None
    if rule.finite and rule.type in ("number", "integer") and values.null_count < len(values):
        nonfinite = _true(pc.or_(pc.is_nan(values), pc.is_inf(values)))
        yield codes.OUT_OF_BOUNDS, nonfinite, _per_value(
            column, lambda v: f"{name} must be a finite number, got {_show(v)}")
    if rule.enum is not None:
        allowed = pa.array(rule.enum, values.type)
        bad = flat(pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=allowed))))
        yield codes.ENUM_MISMATCH, bad, _per_value(column, lambda v: _enum_message(rule, v))
    for bound in rule.bounds:
        fails = _true(_FAILS[bound.op](values, bound.limit))
        if bound.when is not None:
            fails = pc.and_(fails, _condition_mask(bound.when, cols))
        if nonfinite is not None:
            fails = pc.and_(fails, pc.invert(nonfinite))
        def bound_message(v: Any, b: Any = bound) -> str:
            return f"{name} {b.describe()}, got {_show(v)}"

        yield codes.OUT_OF_BOUNDS, fails, _per_value(column, bound_message)
    if rule.pattern is not None:
        pattern = rule.pattern
        if column.naive_time:
            yield codes.PATTERN_MISMATCH, column.present, _per_value(
                column, lambda v: f"{name} must be {pattern.describe()}, got {_show(v)} "
                                  "(an Arrow timestamp without a time zone)")
        elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            yield codes.PATTERN_MISMATCH, _pattern_fails(values, rule), _per_value(
                column, lambda v: f"{name} must be {pattern.describe()}, got {_show(v)}")
    if rule.type == "string" and (pa.types.is_string(values.type)
                                  or pa.types.is_large_string(values.type)):
        yield codes.TYPE_MISMATCH, _not_unicode(column), _per_value(
            column, lambda v: f"{name} must be a string, got {_describe(v)}")


_REPLACEMENT = re.compile("\ufffd".encode())


def _may_hold_replacement(values: pa.Array | pa.ChunkedArray) -> bool:
    """False when no chunk's text bytes hold U+FFFD (one scan of each chunk's bytes, several
    times faster than matching value by value)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return True
        data = chunk.buffers()[2]
        if data is None or not len(chunk):
            continue
        # a slice's own bytes only, not its whole buffer's
        width = pa.int64() if pa.types.is_large_string(chunk.type) else pa.int32()
        offsets = pa.Array.from_buffers(width, len(chunk) + 1, [None, chunk.buffers()[1]],
                                        offset=chunk.offset)
        start, end = offsets[0].as_py(), offsets[len(chunk)].as_py()
        if _REPLACEMENT.search(memoryview(data)[start:end]):
            return True
    return False


def _not_unicode(column: Column) -> pa.BooleanArray | None:
    """Records whose text holds a lone surrogate (read in as U+FFFD): valid JSON Schema, but
    text no writer can write, so not a pass (the checks above word the other failures)."""
    values = column.values
    if not _may_hold_replacement(values):
        return None
    suspects = pc.fill_null(pc.match_substring(values, "\ufffd"), False)
    if not suspects.true_count:
        return None
    idx = pc.indices_nonzero(suspects).to_pylist()
    bad = []
    for i, v in zip(idx, column.raw(idx), strict=True):
        try:
            v.encode("utf-8")
        except (UnicodeEncodeError, AttributeError):
            bad.append(i)
    if not bad:
        return None
    mask = [False] * len(values)
    for i in bad:
        mask[i] = True
    return pa.array(mask, pa.bool_())


def first_failures(checks: Iterator[tuple[str, pa.BooleanArray | None, Render]],
                   path: str) -> list[Finding]:
    """Keep, for each record, only the first check it fails; return the non-empty ones."""
    out = []
    taken = None
    for code, fails, render in checks:
        if fails is None or not fails.true_count:
            continue
        mask = fails if taken is None else pc.and_(fails, pc.invert(taken))
        if taken is not None and not mask.true_count:
            continue
        out.append(Finding(code, path, mask, render))
        taken = mask if taken is None else pc.or_(taken, mask)
    return out


def _field_checks(rule: FieldRule, column: Column | None,
                  cols: Columns) -> Iterator[tuple[str, pa.BooleanArray | None, Render]]:
    missing = _fixed(f"required field '{rule.name}' is missing")
    if column is None:  # no record carries it: every object misses it
        yield codes.REQUIRED_FIELD_MISSING, cols.objects, missing
        return
    if rule.required:
        absent = pc.and_(cols.objects, pc.invert(column.present))
        yield codes.REQUIRED_FIELD_MISSING, absent, missing
    yield codes.TYPE_MISMATCH, column.wrong_type, type_render(rule, column)
    yield from value_checks(rule, column, cols)


def type_render(rule: FieldRule, column: Column) -> Render:
    """Return how to word a TYPE_MISMATCH on this field."""
    return _per_value(
        column, lambda v: f"{rule.name} must be {_type_words(rule)}, got {_describe(v)}")


def _not_objects(cols: Columns) -> Finding:
    mask = pc.invert(cols.objects)

    def render(indices: list[int]) -> list[tuple[str, Any]]:
        return [(f"a record must be an object (a dict), got {_describe(r)}", r)
                for r in cols.raw_records(indices)]

    return Finding(codes.TYPE_MISMATCH, "$", mask, render)


def _pattern_fails(values: pa.Array | pa.ChunkedArray, rule: FieldRule) -> pa.BooleanArray:
    pattern = rule.pattern
    assert pattern is not None
    if pattern.re2 is not None:
        matches = pc.match_substring_regex(values, pattern.re2)
        return flat(pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(matches, True))))
    # RE2 cannot express this pattern: Python's re, as jsonschema uses, value by value
    regex = re.compile(pattern.source)
    flags = [v is not None and regex.search(v) is None for v in values.to_pylist()]
    return pa.array(flags, pa.bool_())


def _condition_mask(condition: Condition, cols: Columns) -> pa.BooleanArray:
    """Return where a conditional branch applies (``then`` where the test holds, else not)."""
    column = cols.get(condition.field)
    if column is None:
        equal = _const(cols.n, condition.absent_matches)
    else:
        values = column.chunks
        equal = _true(flat(pc.equal(values, pa.scalar(condition.value, values.type))))
        if condition.absent_matches:
            equal = pc.or_(equal, pc.invert(column.present))
    return equal if condition.holds else pc.invert(equal)


def _type_words(rule: FieldRule) -> str:
    words = _TYPE_WORDS[rule.type]
    if rule.date_time and rule.pattern is not None:
        words += f" ({rule.pattern.describe()})"
    return words


def _enum_message(rule: FieldRule, value: Any) -> str:
    text = f"{rule.name} must be one of {_either(rule.enum or ())}, got {_show(value)}"
    if isinstance(value, str):
        guess = _nearest(value, tuple(str(v) for v in rule.enum or ()))
        if guess and guess != value:
            text += f" (did you mean '{guess}'?)"
    return text


@lru_cache(maxsize=1024)
def _nearest(value: str, allowed: tuple[str, ...]) -> str | None:
    # a bad batch repeats the same few wrong values: look each up once
    return nearest(value, allowed)


def _either(values: tuple[Any, ...]) -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _per_value(column: Column, message: Callable[[Any], str]) -> Render:
    def render(indices: list[int]) -> list[tuple[str, Any]]:
        # a bad batch tends to repeat the same few wrong values: word each one once
        memo: dict[tuple[type, Any], str] = {}
        out = []
        for v in column.raw(indices):
            try:
                key = (type(v), v)
                text = memo.get(key)
                if text is None:
                    text = memo[key] = message(v)
            except TypeError:  # unhashable (a list, a dict)
                text = message(v)
            out.append((text, v))
        return out

    return render


def _fixed(message: str) -> Render:
    def render(indices: list[int]) -> list[tuple[str, Any]]:
        return [(message, None)] * len(indices)

    return render


def _true(mask: pa.BooleanArray) -> pa.BooleanArray:
    """Read null as False: a comparison with an absent value fails nothing."""
    return pc.fill_null(mask, False) if mask.null_count else mask


def _const(n: int, value: bool) -> pa.BooleanArray:
    return pa.repeat(pa.scalar(value, pa.bool_()), n) if n else pa.array([], pa.bool_())


def _describe(value: Any) -> str:
    """Name a value by its JSON type, with the value itself where it is short."""
    if value is None:
        return "null (an explicit None: leave the field out when it has no value)"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return (f"text that is not valid Unicode {_show(value)} (a lone surrogate: no "
                    "writer can write it)")
        return f"string {_show(value)}"
    if isinstance(value, (int, float)):
        return f"number {_show(value)}"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, (dt.date, dt.time)):
        return f"{type(value).__name__} {value.isoformat()} (write it as ISO 8601 text)"
    return f"{type(value).__name__} {_show(value)}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
