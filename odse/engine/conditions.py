"""Conditions for rules: ``{column: run_state, eq: 0}``, ``{all: [...]}``, ``{not: ...}``.

A condition is a value spec plus exactly one comparison (eq, ne, lt, le, gt, ge, in, not_in,
is_null, matches), or a combination with all / any / not. A comparison with a null value is
false, so a rule never fires on missing data unless it asks ``is_null``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse import patterns
from odse.engine.compile_ctx import Ctx, RunState
from odse.engine.convert import to_text
from odse.engine.expressions import compile_value, literal_type
from odse.engine.frame import Frame

Cond = Callable[[Frame, RunState], pa.Array]

COMPARISONS = {"eq": pc.equal, "ne": pc.not_equal, "lt": pc.less, "le": pc.less_equal,
               "gt": pc.greater, "ge": pc.greater_equal}
OPERATORS = (*COMPARISONS, "in", "not_in", "is_null", "matches")


def compile_condition(spec: Any, ctx: Ctx) -> Cond:
    """Compile a condition to a function returning a boolean mask (never null)."""
    if not isinstance(spec, dict) or not spec:
        raise ctx.error("a condition must be an object such as {column: state, eq: 0}")
    for combinator in ("all", "any"):
        if combinator in spec:
            if len(spec) > 1:
                raise ctx.error(f"'{combinator}' cannot be mixed with other keys",
                                f"Put the other tests inside the '{combinator}' list")
            parts = [compile_condition(c, ctx.at(combinator, i))
                     for i, c in enumerate(spec[combinator])]
            kernel = pc.and_ if combinator == "all" else pc.or_
            return _combine(parts, kernel)
    if "not" in spec:
        if len(spec) > 1:
            raise ctx.error("'not' cannot be mixed with other keys")
        inner = compile_condition(spec["not"], ctx.at("not"))
        return lambda frame, state: pc.invert(inner(frame, state))
    ops = [k for k in OPERATORS if k in spec]
    if len(ops) != 1:
        raise ctx.error(
            "a condition needs exactly one comparison" if not ops else
            f"a condition has several comparisons: {', '.join(ops)}",
            f"Use one of: {', '.join(OPERATORS)} (or combine with all / any)")
    op = ops[0]
    operand = spec[op]
    value_spec = {k: v for k, v in spec.items() if k != op}
    return _COMPILERS[op](value_spec, operand, ctx)


def _combine(parts: list[Cond], kernel: Callable[..., pa.Array]) -> Cond:
    def run(frame: Frame, state: RunState) -> pa.Array:
        mask = parts[0](frame, state)
        for part in parts[1:]:
            mask = kernel(mask, part(frame, state))
        return mask

    return run


def _compare(op: str) -> Callable[[dict[str, Any], Any, Ctx], Cond]:
    kernel = COMPARISONS[op]

    def build(value_spec: dict[str, Any], operand: Any, ctx: Ctx) -> Cond:
        if isinstance(operand, dict):
            kind = "number" if op in ("lt", "le", "gt", "ge") else None
            left = compile_value(value_spec, ctx, kind or "string")
            right = compile_value(operand, ctx.at(op), kind or "string")

            def run_expr(frame: Frame, state: RunState) -> pa.Array:
                return pc.fill_null(kernel(left(frame, state).values,
                                           right(frame, state).values), False)
            return run_expr
        if operand is None:
            raise ctx.error(f"'{op}: null' compares with nothing", "Use is_null: true", op)
        kind = literal_type(operand)
        if op in ("lt", "le", "gt", "ge") and kind != "number":
            raise ctx.error(f"'{op}' needs a number, got {operand!r}", None, op)
        left = compile_value(value_spec, ctx, kind)
        scalar = pa.scalar(operand) if kind != "number" else pa.scalar(float(operand))

        def run(frame: Frame, state: RunState) -> pa.Array:
            return pc.fill_null(kernel(left(frame, state).values, scalar), False)

        return run

    return build


def _in(negate: bool) -> Callable[[dict[str, Any], Any, Ctx], Cond]:
    def build(value_spec: dict[str, Any], operand: Any, ctx: Ctx) -> Cond:
        kinds = {literal_type(v) for v in operand}
        if kinds == {"number"}:
            left = compile_value(value_spec, ctx, "number")
            table = pa.array([float(v) for v in operand], pa.float64())
        else:
            left = compile_value(value_spec, ctx, "string")
            table = pa.array([str(v) for v in operand], pa.string())

        def run(frame: Frame, state: RunState) -> pa.Array:
            values = left(frame, state).values
            hit = pc.is_in(values, table)
            if negate:
                hit = pc.and_(pc.is_valid(values), pc.invert(hit))
            return pc.fill_null(hit, False)

        return run

    return build


def _is_null(value_spec: dict[str, Any], operand: Any, ctx: Ctx) -> Cond:
    left = compile_value(value_spec, ctx)
    want = bool(operand)

    def run(frame: Frame, state: RunState) -> pa.Array:
        values = left(frame, state).values
        return pc.is_null(values) if want else pc.is_valid(values)

    return run


def _matches(value_spec: dict[str, Any], operand: Any, ctx: Ctx) -> Cond:
    why = patterns.problem(operand)
    if why:
        raise ctx.error(f"invalid regular expression {operand!r}: {why}",
                        "Write it without lookaround or backreferences", "matches")
    left = compile_value(value_spec, ctx)

    def run(frame: Frame, state: RunState) -> pa.Array:
        text = to_text(left(frame, state).values)
        return pc.fill_null(pc.match_substring_regex(text, operand), False)

    return run


_COMPILERS: dict[str, Callable[[dict[str, Any], Any, Ctx], Cond]] = {
    **{op: _compare(op) for op in COMPARISONS},
    "in": _in(False), "not_in": _in(True), "is_null": _is_null, "matches": _matches,
}
