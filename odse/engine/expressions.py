"""Value expressions: each mapping keyword compiles, once, to a small Arrow operation.

A value spec is an object with one *source* (``column``, ``param``, ``const``, ``first``,
``join``, ``div``, ``mul``, ``add``, ``sub``) and optional *modifiers* applied in a fixed
order: ``null_values`` -> ``map``/``codes`` -> conversion to the target type -> ``unit`` ->
``scale`` -> ``clip``. The tables ``SOURCES`` and the functions below are the whole
language for values; conditions and fields build on them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.engine import units
from odse.engine.compile_ctx import Ctx, RunState
from odse.engine.convert import to_boolean, to_number, to_text
from odse.engine.frame import Frame
from odse.engine.values import Col, constant, null_where, problem

Expr = Callable[[Frame, RunState], Col]

SOURCE_KEYS = ("column", "param", "const", "first", "join", "div", "mul", "add", "sub", "pow",
               "mod", "min", "max")
VALUE_TYPES = ("number", "integer", "string", "boolean")


def compile_source(spec: dict[str, Any], ctx: Ctx) -> Expr:
    """Compile the one source keyword of a value spec."""
    present = [k for k in SOURCE_KEYS if k in spec]
    if len(present) > 1:
        raise ctx.error(f"a value has two sources: {present[0]} and {present[1]}",
                        "Give exactly one of: " + ", ".join(SOURCE_KEYS))
    if not present:
        raise ctx.error("a value needs a source",
                        "Give one of: " + ", ".join(SOURCE_KEYS) + " (for example column: Power)")
    key = present[0]
    return SOURCES[key](spec, ctx.at(key))


def _column(spec: dict[str, Any], ctx: Ctx) -> Expr:
    names = spec["column"]
    names = [names] if isinstance(names, str) else list(names)

    def run(frame: Frame, state: RunState) -> Col:
        found = [(name, frame.column(name)) for name in names]
        found = [(name, arr) for name, arr in found if arr is not None]
        if not found:
            return Col(pa.nulls(frame.n), None, names[0])
        name, values = found[0]
        raw = frame.raw(name)
        for other_name, other in found[1:]:
            values = _coalesce(values, other)
            raw = _coalesce(raw, frame.raw(other_name))
        return Col(values, raw, name)

    return run


def _coalesce(a: pa.Array, b: pa.Array) -> pa.Array:
    if a.type != b.type:
        if _numeric(a.type) and _numeric(b.type):
            a, b = a.cast(pa.float64()), b.cast(pa.float64())
        else:
            a, b = to_text(a), to_text(b)
    return pc.coalesce(a, b)


def _numeric(typ: pa.DataType) -> bool:
    return pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_null(typ)


def _param(spec: dict[str, Any], ctx: Ctx) -> Expr:
    name = spec["param"]
    if name not in ctx.params:
        from odse.suggest import did_you_mean
        known = sorted(ctx.params)
        raise ctx.error(f"unknown parameter '{name}'",
                        f"{did_you_mean(name, known, capital=True)}Declare it under params: "
                        f"(known: {', '.join(known) or 'none'})")

    def run(frame: Frame, state: RunState) -> Col:
        value = frame.params.get(name)
        return Col(constant(value, frame.n), None, f"parameter {name}")

    return run


def _const(spec: dict[str, Any], ctx: Ctx) -> Expr:
    value = spec["const"]

    def run(frame: Frame, state: RunState) -> Col:
        return Col(constant(value, frame.n), None, None)

    return run


def _first(spec: dict[str, Any], ctx: Ctx) -> Expr:
    parts = [compile_value(p, ctx.at(i)) for i, p in enumerate(spec["first"])]

    def run(frame: Frame, state: RunState) -> Col:
        cols = [p(frame, state) for p in parts]
        values = cols[0].values
        for col in cols[1:]:
            values = _coalesce(values, col.values)
        problems = [pr for c in cols for pr in c.problems]
        column = next((c.column for c in cols if c.column), None)
        return Col(values, cols[0].raw, column, problems)

    return run


def _join(spec: dict[str, Any], ctx: Ctx) -> Expr:
    parts = [compile_value(p, ctx.at(i)) for i, p in enumerate(spec["join"])]
    sep = spec.get("sep", " ")

    def run(frame: Frame, state: RunState) -> Col:
        cols = [p(frame, state) for p in parts]
        values = pc.binary_join_element_wise(*[to_text(c.values) for c in cols], sep)
        column = "+".join(c.column if isinstance(c.column, str) else "?" for c in cols)
        return Col(values, values, column, [pr for c in cols for pr in c.problems])

    return run


def _mod(a: pa.Array, b: pa.Array) -> pa.Array:
    # Arrow has no modulo kernel; the result takes the sign of the divisor, as in Python
    return pc.subtract(a, pc.multiply(pc.floor(pc.divide(a, b)), b))


_KERNELS = {"div": pc.divide, "mul": pc.multiply, "add": pc.add, "sub": pc.subtract,
            "pow": pc.power, "mod": _mod,
            "min": lambda a, b: pc.min_element_wise(a, b, skip_nulls=False),
            "max": lambda a, b: pc.max_element_wise(a, b, skip_nulls=False)}


def _arith(op: str) -> Callable[[dict[str, Any], Ctx], Expr]:
    kernel = _KERNELS[op]

    def build(spec: dict[str, Any], ctx: Ctx) -> Expr:
        parts = [compile_value(p, ctx.at(op, i), "number") for i, p in enumerate(spec[op])]

        def run(frame: Frame, state: RunState) -> Col:
            cols = [p(frame, state) for p in parts]
            values = cols[0].values
            for col in cols[1:]:
                values = kernel(values, col.values)
            # a division by zero has no value rather than an infinite one
            values = null_where(values, pc.invert(pc.fill_null(pc.is_finite(values), True)))
            column, raw = _blame(cols)
            return Col(values, raw, column, [pr for c in cols for pr in c.problems])

        return run

    return build


def _blame(cols: list[Col]) -> tuple[Any, pa.Array | None]:
    """Name, row by row, the operand whose value is missing or bad (for reject messages)."""
    named = [c for c in cols if c.column]
    if len(named) <= 1:
        first = named[0] if named else cols[0]
        return first.column, first.raw
    n = len(cols[0].values)
    names = _names(named[0].column, n)
    raws = to_text(named[0].raw) if named[0].raw is not None else pa.nulls(n, pa.string())
    for col in reversed(named):
        bad = pc.is_null(col.values)
        mask = col.problem_mask()
        if mask is not None:
            bad = pc.or_(bad, mask)
        names = pc.if_else(bad, _names(col.column, n), names)
        if col.raw is not None:
            raws = pc.if_else(bad, to_text(col.raw), raws)
    return names, raws


def _names(column: Any, n: int) -> pa.Array:
    """An operand's column name per row (a nested operator already names one per row)."""
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return to_text(column)
    return pa.repeat(pa.scalar(str(column), pa.string()), n)


SOURCES: dict[str, Callable[[dict[str, Any], Ctx], Expr]] = {
    "column": _column, "param": _param, "const": _const, "first": _first, "join": _join,
    **{op: _arith(op) for op in ("div", "mul", "add", "sub", "pow", "mod", "min", "max")},
}


# ----------------------------------------------------------------------------- modifiers


def literal_type(value: Any) -> str:
    """Return the value type a literal implies."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def compile_value(spec: dict[str, Any], ctx: Ctx, target: str | None = None) -> Expr:
    """Compile a value spec: its source, then its modifiers, converted to ``target`` type.

    Args:
        target: number, integer, string, boolean, or None to keep the source's type.
    """
    if not isinstance(spec, dict):
        raise ctx.error(f"expected a value object such as {{column: ...}}, got {spec!r}")
    source = compile_source(spec, ctx)
    target = spec.get("type", target)
    if target not in (None, *VALUE_TYPES, "timestamp"):
        raise ctx.error(f"unknown type '{target}'", "Use number, integer, string or boolean",
                        "type")
    steps: list[Callable[[Col, Frame, RunState], Col]] = []
    if "null_values" in spec:
        steps.append(_null_values(spec["null_values"]))
    if "map" in spec or "codes" in spec:
        steps.append(_lookup(spec, ctx))
    if target in ("number", "integer"):
        steps.append(_to_number(ctx, integer=target == "integer"))
    elif target == "string":
        steps.append(lambda col, frame, state: col.with_values(to_text(col.values)))
    elif target == "boolean":
        steps.append(lambda col, frame, state: to_boolean(col))
    if "unit" in spec:
        if target not in ("number", "integer"):
            raise ctx.error("unit only applies to numbers", "Remove unit, or set type: number",
                            "unit")
        steps.append(compile_unit(spec["unit"], ctx.at("unit")))
    if "scale" in spec:
        factor = float(spec["scale"])
        steps.append(lambda col, frame, state: col.with_values(_times(col.values, factor)))
    if spec.get("abs"):
        steps.append(lambda col, frame, state: col.with_values(pc.abs(col.values)))
    if "clip" in spec and target in ("number", "integer"):
        low, high = spec["clip"].get("min"), spec["clip"].get("max")

        field = _field_of(ctx.path)

        def clip(col: Col, frame: Frame, state: RunState) -> Col:
            values = col.values
            if low is not None:
                values = pc.max_element_wise(values, float(low), skip_nulls=False)
            if high is not None:
                values = pc.min_element_wise(values, float(high), skip_nulls=False)
            changed = pc.sum(pc.cast(pc.fill_null(pc.not_equal(values, col.values), False),
                                     pa.int64())).as_py() or 0
            if changed:
                state.clipped[field] = state.clipped.get(field, 0) + changed
            return col.with_values(values)
        steps.append(clip)
    if "default" in spec:
        steps.append(_default_step(spec["default"], ctx.at("default"), target))

    def run(frame: Frame, state: RunState) -> Col:
        col = source(frame, state)
        for step in steps:
            col = step(col, frame, state)
        return col

    return run


def _field_of(path: tuple[Any, ...]) -> str:
    """The record field a spec path belongs to (fields.kWh... or unpivot[1].kWh...)."""
    for i, part in enumerate(path):
        if part == "fields" and i + 1 < len(path):
            return str(path[i + 1])
        if part == "unpivot" and i + 2 < len(path):
            return str(path[i + 2])
    return ".".join(str(p) for p in path)


def _times(values: pa.Array, factor: float) -> pa.Array:
    """Multiply by ``factor``; divide by its inverse when that is whole (W -> kW is / 1000,
    so 5100 W is 5.1 kW, not 5.1000000000000005)."""
    if factor == 1.0:
        return values
    inverse = 1.0 / factor
    if abs(factor) < 1 and inverse == round(inverse):
        return pc.divide(values, round(inverse))
    return pc.multiply(values, factor)


def _default_step(spec: Any, ctx: Ctx, target: str | None) -> Callable[[Col, Frame, RunState],
                                                                        Col]:
    fill_expr = compile_value(spec, ctx, target) if isinstance(spec, dict) else None

    def step(col: Col, frame: Frame, state: RunState) -> Col:
        values = col.values
        fill = fill_expr(frame, state).values if fill_expr is not None else \
            pa.repeat(pa.scalar(spec), frame.n)
        if fill.type != values.type and not pa.types.is_null(values.type):
            fill = fill.cast(values.type)
        elif pa.types.is_null(values.type):
            values = values.cast(fill.type)
        gap = pc.is_null(values)
        bad = col.problem_mask()
        if bad is not None:
            gap = pc.and_(gap, pc.invert(bad))
        return col.with_values(pc.if_else(gap, fill, values))

    return step


def _null_values(tokens: list[str]) -> Callable[[Col, Frame, RunState], Col]:
    table = pa.array([str(t) for t in tokens])

    def step(col: Col, frame: Frame, state: RunState) -> Col:
        hit = pc.fill_null(pc.is_in(to_text(col.values), table), False)
        return col.with_values(null_where(col.values, hit))

    return step


def _lookup(spec: dict[str, Any], ctx: Ctx) -> Callable[[Col, Frame, RunState], Col]:
    fold = bool(spec.get("case_insensitive"))
    pairs: list[tuple[str, Any]] = []
    if "map" in spec:
        pairs += [(str(k), v) for k, v in spec["map"].items()]
    for output, codes in (spec.get("codes") or {}).items():
        pairs += [(_code_text(c), output) for c in codes]
    keys: dict[str, Any] = {}
    for raw, value in pairs:
        key = raw.strip().lower() if fold else raw
        if key in keys and keys[key] != value:
            raise ctx.error(f"code '{key}' is mapped twice: to {keys[key]!r} and {value!r}",
                            "Keep one mapping for each code", "codes" if "codes" in spec else "map")
        keys[key] = value
    outputs = list(keys.values())
    types = {literal_type(v) for v in outputs if v is not None}
    out_type = pa.string() if types != {"number"} else pa.float64()
    key_array = pa.array(list(keys), pa.string())
    value_array = pa.array([v if v is None or out_type == pa.float64() else str(v)
                            for v in outputs], out_type)

    whole_numbers = bool(keys) and all(_is_whole_number(k) for k in keys)
    # a code table gives no value for a code it lacks (the field's default applies);
    # a map keeps the values it does not name
    keep_unmatched = "codes" not in spec

    def step(col: Col, frame: Frame, state: RunState) -> Col:
        values = col.values
        index = pc.index_in(to_text(values, fold=fold), key_array)
        if whole_numbers and pa.types.is_string(values.type) and \
                index.null_count > values.null_count:
            # a code table of whole numbers also matches "2.0" and " 2": the codes not found
            # as written are looked up again as numbers
            missed = pc.and_(pc.is_null(index), pc.is_valid(values))
            rest = pc.filter(values, missed)
            number = to_number(Col(rest)).values
            again = pc.if_else(pc.is_valid(number), to_text(number), rest)
            index = pc.replace_with_mask(index, missed,
                                         pc.index_in(to_text(again, fold=fold), key_array))
        mapped = pc.take(value_array, index)
        if keep_unmatched:
            # map replaces the values it names and keeps the others
            kept = to_text(col.values) if out_type == pa.string() else \
                to_number(Col(col.values)).values
            mapped = pc.if_else(pc.is_null(index), kept, mapped)
        return col.with_values(mapped)

    return step


def _is_whole_number(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _code_text(code: Any) -> str:
    if isinstance(code, float) and code.is_integer():
        return str(int(code))
    if isinstance(code, bool):
        return "true" if code else "false"
    return str(code)


def _to_number(ctx: Ctx, integer: bool) -> Callable[[Col, Frame, RunState], Col]:
    def step(col: Col, frame: Frame, state: RunState) -> Col:
        col = to_number(col, ctx.decimal, ctx.thousands)
        if integer:
            values = col.values
            whole = pc.equal(pc.floor(values), values)
            bad = pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(whole, True)))
            col = col.with_values(null_where(values, bad),
                                  *problem(bad, "NOT_AN_INTEGER", "not a whole number"))
        return col

    return step


def compile_unit(spec: Any, ctx: Ctx) -> Callable[[Col, Frame, RunState], Col]:
    """Compile a unit: a fixed unit, a {column: ...} giving it per row, or {header: true}."""
    if isinstance(spec, str):
        found = units.lookup(spec)
        if found is None:
            from odse.suggest import did_you_mean
            raise ctx.error(f"unknown unit '{spec}'",
                            f"{did_you_mean(spec, units.known_units(), capital=True)}"
                            f"Known units: {', '.join(units.known_units())}")
        factor = found[1]
        return lambda col, frame, state: col.with_values(_times(col.values, factor))
    if "header" in spec:
        def from_header(col: Col, frame: Frame, state: RunState) -> Col:
            unit = frame.unit_of(col.column) if col.column else None
            if unit is None:
                return col
            found = units.lookup(unit)
            if found is None:
                bad = pc.is_valid(col.values)
                return col.with_values(null_where(col.values, bad), *problem(
                    bad, "UNKNOWN_UNIT", f"the header gives an unknown unit '{unit}'"))
            return col.with_values(_times(col.values, found[1]))
        return from_header
    unit_expr = compile_value({"column": spec["column"]}, ctx)

    def per_row(col: Col, frame: Frame, state: RunState) -> Col:
        unit_text = to_text(unit_expr(frame, state).values)
        distinct = pc.unique(pc.drop_null(unit_text)).to_pylist()
        table_units, factors, unknown = [], [], []
        for u in distinct:
            found = units.lookup(u)
            if found is None:
                unknown.append(u)
            else:
                table_units.append(u)
                factors.append(found[1])
        factor = pc.take(pa.array(factors, pa.float64()),
                         pc.index_in(unit_text, pa.array(table_units, pa.string())))
        values = pc.multiply(col.values, factor)
        bad = pc.and_(pc.is_valid(col.values), pc.is_null(factor))
        missing_unit = pc.and_(bad, pc.is_null(unit_text))
        unknown_unit = pc.and_(bad, pc.is_valid(unit_text))
        return col.with_values(
            values,
            *problem(unknown_unit, "UNKNOWN_UNIT",
                     f"unknown unit ({', '.join(map(repr, unknown)) or 'none'})"),
            *problem(missing_unit, "MISSING_UNIT", "no unit given for this value"))

    return per_row


def unit_quantity(spec: Any) -> str | None:
    """Return the quantity of a fixed unit spec (``W`` -> power), None when it varies."""
    if isinstance(spec, str):
        found = units.lookup(spec)
        return found[0] if found else None
    return None
