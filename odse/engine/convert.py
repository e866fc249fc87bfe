"""Convert raw input values (text from CSV, typed values from JSON) to numbers and text.

All conversions are vectorised; values that cannot be converted become null and are
reported as problems, never exceptions.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from odse.engine.values import Col, null_where, problem
from odse.records import EXACT_INTEGER_LIMIT as EXACT

_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_NOT_EXACT = "an integer beyond 2^53, which a float64 cannot hold exactly"
_TRUE = ("true", "yes", "on", "1", "y", "t")
_FALSE = ("false", "no", "off", "0", "n", "f")


def to_number(col: Col, decimal: str = ".", thousands: str = "") -> Col:
    """Return the values as float64; text that is not a finite number is a problem."""
    values = col.values
    typ = values.type
    if pa.types.is_null(typ):
        return col.with_values(pa.nulls(len(values), pa.float64()))
    if pa.types.is_boolean(typ):
        bad = pc.is_valid(values)
        return col.with_values(pa.nulls(len(values), pa.float64()),
                               *problem(bad, "NOT_A_NUMBER", "a boolean is not a number"))
    if pa.types.is_integer(typ) and typ.bit_width == 64:
        big = pc.or_(pc.greater(values, EXACT), pc.less(values, -EXACT))
        if pc.any(big).as_py():
            # nulled before the cast: a safe cast refuses the whole array for one of them
            return _finite(col.with_values(col.values, *problem(pc.fill_null(big, False),
                                                                "NOT_EXACT", _NOT_EXACT)),
                           pc.cast(null_where(values, big), pa.float64()))
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        out = pc.cast(values, pa.float64())
        return _finite(col, out)
    if pa.types.is_timestamp(typ):
        bad = pc.is_valid(values)
        return col.with_values(pa.nulls(len(values), pa.float64()),
                               *problem(bad, "NOT_A_NUMBER", "a time is not a number"))
    if pa.types.is_nested(typ):
        bad = pc.is_valid(values)
        return col.with_values(pa.nulls(len(values), pa.float64()),
                               *problem(bad, "NOT_A_NUMBER", "a list or object, not a number"))
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        values = pc.cast(values, pa.string())
    text = values
    if thousands:
        text = pc.replace_substring(text, thousands, "")
    if decimal != ".":
        text = pc.replace_substring(text, decimal, ".")
    try:
        out = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        text = pc.utf8_trim_whitespace(text)
        ok = pc.match_substring_regex(text, _NUMBER)
        bad = pc.and_(pc.is_valid(text), pc.invert(pc.fill_null(ok, False)))
        text = null_where(text, bad)
        out = pc.cast(text, pa.float64())
        col = col.with_values(col.values, *problem(bad, "NOT_A_NUMBER", "not a number"))
    return _finite(*_exact_integers(col, text, out), text=text)


def _exact_integers(col: Col, text: pa.Array, out: pa.Array) -> tuple[Col, pa.Array]:
    # an integer written with more digits than a float64 holds exactly (above 2^53) would be
    # rounded without a word: a problem, with the text as written. 2^53 + 1 rounds to 2^53,
    # so every integer that reads as 2^53 or more is one, but 2^53 itself
    big = pc.greater_equal(pc.abs(out), float(EXACT))
    if not pc.any(big).as_py():
        return col, out
    trimmed = pc.utf8_trim_whitespace(text)
    integral = pc.match_substring_regex(trimmed, r"^[+-]?\d+$")
    boundary = pc.equal(pc.utf8_ltrim(trimmed, "+-0"), str(EXACT))
    bad = pc.fill_null(pc.and_(pc.and_(big, integral), pc.invert(boundary)), False)
    if not pc.any(bad).as_py():
        return col, out
    return (col.with_values(col.values, *problem(bad, "NOT_EXACT", _NOT_EXACT)),
            null_where(out, bad))


_NOT_FINITE = "not a finite number (NaN or infinity)"
_TOO_LARGE = "a number past float64's range (about 1.8e308 either way)"


def _finite(col: Col, out: pa.Array, text: pa.Array | None = None) -> Col:
    if out.null_count == len(out):
        return col.with_values(out)
    finite = pc.is_finite(out)
    bad = pc.invert(pc.fill_null(finite, True))
    if pc.any(bad).as_py():
        if text is None:
            return col.with_values(null_where(out, bad), *problem(bad, "NOT_FINITE", _NOT_FINITE))
        # text written as a number (1e400) read as infinity: say so, not "NaN or infinity"
        written = pc.fill_null(pc.match_substring_regex(pc.utf8_trim_whitespace(text),
                                                        _NUMBER), False)
        far = pc.and_(bad, written)
        return col.with_values(null_where(out, bad),
                               *problem(pc.and_(bad, pc.invert(far)), "NOT_FINITE",
                                        _NOT_FINITE),
                               *problem(far, "NOT_FINITE", _TOO_LARGE))
    return col.with_values(out)


def to_text(values: pa.Array, *, fold: bool = False) -> pa.Array:
    """Return values as text: integral numbers without a fraction (512.0 -> "512").

    Args:
        values: any Arrow array.
        fold: trim surrounding spaces and lower-case, for case-insensitive matching.
    """
    typ = values.type
    if pa.types.is_null(typ):
        return pa.nulls(len(values), pa.string())
    if pa.types.is_floating(typ):
        # within 2^53 only: past it a float is integral but its digits are not the input's
        # (and past 2^63 it has no int64 at all)
        integral = pc.and_(pc.and_(pc.is_finite(values), pc.equal(pc.floor(values), values)),
                           pc.less_equal(pc.abs(values), float(EXACT)))
        as_int = pc.cast(pc.if_else(integral, values, pa.scalar(0.0, typ)), pa.int64(),
                         safe=False)
        text = pc.if_else(integral, pc.cast(as_int, pa.string()), pc.cast(values, pa.string()))
    elif pa.types.is_boolean(typ):
        text = pc.if_else(values, "true", "false")
    elif pa.types.is_string(typ):
        text = values
    elif pa.types.is_nested(typ):
        # a JSON list or object where a value is expected: named, not converted
        kind = "<list>" if pa.types.is_list(typ) or pa.types.is_large_list(typ) else "<object>"
        text = pc.if_else(pc.is_valid(values), kind, pa.nulls(len(values), pa.string()))
    else:
        text = pc.cast(values, pa.string())
    if fold:
        text = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    return text


def to_boolean(col: Col) -> Col:
    """Return the values as booleans; text other than true/false/yes/no/1/0 is a problem."""
    values = col.values
    if pa.types.is_boolean(values.type):
        return col
    text = to_text(values, fold=True)
    is_true = pc.is_in(text, pa.array(_TRUE))
    is_false = pc.is_in(text, pa.array(_FALSE))
    known = pc.or_(is_true, is_false)
    bad = pc.and_(pc.is_valid(text), pc.invert(known))
    out = pc.if_else(known, is_true, pa.nulls(len(text), pa.bool_()))
    return col.with_values(out, *problem(bad, "NOT_A_BOOLEAN", "not true or false"))
