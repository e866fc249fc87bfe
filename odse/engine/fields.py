"""Fields: a value spec plus what the record needs of it (type, rules, default, clipping).

``compile_field`` turns one entry of a variant's ``fields:`` into a :class:`FieldProgram`.
The timestamp field also parses formats and places times in UTC; energy-like fields carry
their ``measure`` (energy, power or counter), which the series stage applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse import records
from odse.engine import timestamps, units
from odse.engine.compile_ctx import Ctx, RunState
from odse.engine.conditions import compile_condition
from odse.engine.convert import to_text
from odse.engine.expressions import SOURCE_KEYS, compile_value, literal_type, unit_quantity
from odse.engine.frame import Frame
from odse.engine.values import Col, null_where, problem

ZONE_SOURCE = "_zone_source"
"""Run parameter: where the run's zone came from (caller, spec or assumed)."""
TIME_KEYS = ("format", "label", "nonexistent", "add_seconds", "timezone", "truncate")
FIELD_KEYS = ("required", "rules", "measure", "first_reading", "description", *TIME_KEYS)
_ARROW_KIND = {pa.float64(): "number", pa.int64(): "integer", pa.string(): "string",
               pa.bool_(): "boolean"}
_KIND_TYPE = {"number": pa.float64(), "integer": pa.int64(), "string": pa.string(),
              "boolean": pa.bool_()}


@dataclass
class TimeCol(Col):
    """Times in UTC, with the later reading of ambiguous local times kept aside."""

    alt: pa.Array | None = None
    local: pa.Array | None = None


@dataclass
class FieldProgram:
    """A compiled field."""

    name: str
    kind: str                                   # timestamp, number, integer, string, boolean
    evaluate: Callable[[Frame, RunState], Col]
    required: bool = False
    measure: str = "energy"
    # counters: what a series' first reading gives (skip: nothing; zero: a 0 kWh record for
    # the interval that ends at it)
    first_reading: str = "skip"
    label: str = "start"
    # counters: the scale of each difference, row by row
    factor: Callable[[Frame, RunState], pa.Array] | None = None
    # the input columns the value is read from, when nothing else can give it a value
    reads_only: tuple[str, ...] | None = None

    @property
    def arrow_type(self) -> pa.DataType:
        """The Arrow type of the field in output records."""
        return records.TIMESTAMP_TYPE if self.kind == "timestamp" else _KIND_TYPE[self.kind]


def field_kind(name: str, spec: dict[str, Any]) -> str:
    """Return the type a field holds: declared, from the record schema, or from literals."""
    if name == "timestamp":
        return "timestamp"
    if "type" in spec:
        return spec["type"]
    declared = records.field_type(name)
    if declared is not None:
        return _ARROW_KIND.get(declared, "string")
    literals = [spec.get("const")] if "const" in spec else []
    literals += list((spec.get("map") or {}).values()) + list(spec.get("codes") or {})
    literals += [r.get("then") for r in spec.get("rules", [])
                 if not isinstance(r.get("then"), dict)]
    kinds = {literal_type(v) for v in literals if v is not None}
    if kinds and "number" not in kinds:
        return "string" if "string" in kinds else kinds.pop()
    return "number"


def compile_field(name: str, spec: Any, ctx: Ctx) -> FieldProgram:
    """Compile one field of a variant."""
    if not isinstance(spec, dict):
        raise ctx.error(
            f"field '{name}' must be an object such as {{column: Power}}, not {spec!r}",
            "Write {const: value} for a fixed value")
    kind = field_kind(name, spec)
    _check_kind(name, spec, kind, ctx)
    measure = spec.get("measure", "energy")
    _check_quantity(name, spec, kind, measure, ctx)
    factor = None
    first_reading = spec.get("first_reading", "skip")
    if first_reading != "skip" and measure != "counter":
        raise ctx.error("first_reading applies to counters only", "Add measure: counter, or "
                        "drop first_reading", "first_reading")
    if spec.get("measure") == "counter":
        # A counter is differenced first: its scale (and the scale of a rule's value) applies
        # to the differences, since a negative scale would turn a rising counter into a falling
        # one.
        spec, factor = _counter_factor(spec, ctx)
    if kind == "timestamp":
        evaluate = _compile_time(spec, ctx)
    else:
        evaluate = _compile_plain(name, spec, kind, ctx)
    required = bool(spec.get("required", name in ("timestamp", "kWh")))
    return FieldProgram(
        name=name, kind=kind, evaluate=evaluate, required=required, measure=measure,
        first_reading=first_reading, label=spec.get("label", "start"),
        factor=factor, reads_only=_reads_only(spec))


# Keys that shape a column's value without giving a value when the column is missing.
_SHAPING_KEYS = {"column", "unit", "type", "scale", "abs", "null_values", "measure",
                 "description"}


def _reads_only(spec: dict[str, Any]) -> tuple[str, ...] | None:
    """Return the columns a field is read from when they are its only source, else None."""
    if "column" not in spec or not set(spec) <= _SHAPING_KEYS:
        return None
    names = spec["column"]
    return (names,) if isinstance(names, str) else tuple(names)


def _counter_factor(spec: dict[str, Any], ctx: Ctx) -> tuple[dict[str, Any], Any]:
    base = float(spec.get("scale", 1.0))
    if isinstance(spec.get("unit"), str):
        # a fixed unit converts the differences too (120 Wh - 100 Wh: 0.02 kWh, no float noise)
        base *= units.lookup(spec["unit"])[1]
        spec = {k: v for k, v in spec.items() if k != "unit"}
    spec = {k: v for k, v in spec.items() if k != "scale"}
    scaled_rules: list[tuple[Any, float]] = []
    plain_rules = []
    for i, rule in enumerate(spec.get("rules") or []):
        then = rule.get("then")
        scale = 1.0
        if isinstance(then, dict) and "scale" in then:
            scale = float(then["scale"])
            then = {k: v for k, v in then.items() if k != "scale"}
        if isinstance(then, dict) and isinstance(then.get("unit"), str):
            scale *= units.lookup(then["unit"])[1]
            then = {k: v for k, v in then.items() if k != "unit"}
        scaled_rules.append((compile_condition(rule["when"], ctx.at("rules", i, "when")), scale))
        plain_rules.append({**rule, "then": then})
    if plain_rules:
        spec["rules"] = plain_rules
    if base == 1.0 and all(scale == 1.0 for _, scale in scaled_rules):
        return spec, None

    def factor(frame: Frame, state: RunState) -> pa.Array:
        values = pa.repeat(pa.scalar(base), frame.n)
        for cond, scale in reversed(scaled_rules):
            values = pc.if_else(cond(frame, state), scale, values)
        return values

    return spec, factor


def columns_of(spec: Any) -> list[str]:
    """Return every input column a spec fragment refers to."""
    found: list[str] = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "column":
                found += [value] if isinstance(value, str) else list(value)
            else:
                found += columns_of(value)
    elif isinstance(spec, list):
        for item in spec:
            found += columns_of(item)
    return found


_NUMERIC_ONLY = ("unit", "scale", "clip", "abs", "measure")


def _check_kind(name: str, spec: dict[str, Any], kind: str, ctx: Ctx) -> None:
    if name == "kWh" and kind != "number":
        raise ctx.error(f"kWh is a number, not {kind}", "Remove type:", "type")
    if kind not in ("number", "integer"):
        used = [k for k in _NUMERIC_ONLY if k in spec and not (k == "measure" and
                                                               spec[k] == "energy")]
        if used:
            raise ctx.error(f"{used[0]} applies to numbers, but {name} holds {kind}",
                            f"Remove {used[0]}, or set type: number", used[0])
    if spec.get("scale") == 0:
        raise ctx.error("scale: 0 would make every value zero", "Give a non-zero factor",
                        "scale")
    clip = spec.get("clip") or {}
    if "min" in clip and "max" in clip and clip["min"] > clip["max"]:
        raise ctx.error("clip min is above its max", None, "clip")


def _check_quantity(name: str, spec: dict[str, Any], kind: str, measure: str, ctx: Ctx) -> None:
    if measure != "energy" and kind not in ("number", "integer"):
        raise ctx.error(f"measure: {measure} needs a numeric field", None, "measure")
    want = units.field_quantity(name)
    have = unit_quantity(spec.get("unit"))
    if have is None or want is None:
        return
    if measure == "power":
        made = units.POWER_TO_ENERGY.get(have)
        if made != want:
            raise ctx.error(
                f"unit {spec['unit']} times an interval gives {made or 'no energy'}, "
                f"but {name} holds {want}", "Check the unit and measure", "unit")
    elif have != want:
        hint = ("Add measure: power to multiply by the interval"
                if units.POWER_TO_ENERGY.get(have) == want else
                f"Use a unit of {want} ({units.CANONICAL.get(want, '')})")
        raise ctx.error(f"unit {spec['unit']} measures {have}, but {name} holds {want}", hint,
                        "unit")


def _value_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in FIELD_KEYS}


def _compile_plain(name: str, spec: dict[str, Any], kind: str, ctx: Ctx) -> Callable[
        [Frame, RunState], Col]:
    value_spec = _value_spec(spec)
    if not any(k in value_spec for k in SOURCE_KEYS) and ("rules" in spec or "default" in spec):
        value_spec = {**value_spec, "const": None}   # rules and a default decide everything
    value = compile_value(value_spec, ctx, kind)
    rules = _compile_rules(spec.get("rules"), kind, ctx.at("rules"))
    enum = records.field_enum(name)

    def run(frame: Frame, state: RunState) -> Col:
        col = value(frame, state)
        if rules:
            col = _apply_rules(col, rules, frame, state)
        if enum is not None:
            col = _check_enum(name, col, enum)
        return col

    return run


def _check_enum(name: str, col: Col, enum: tuple[str, ...]) -> Col:
    values = col.values
    known = pc.is_in(values, pa.array(enum))
    outside = pc.and_(pc.is_valid(values), pc.invert(known))
    if name == "error_type" and values.null_count:
        # a record always has a state: a missing one is unknown
        outside = pc.fill_null(outside, False)
    elif not pc.any(outside).as_py():
        return col
    if name == "error_type":
        # an OEM state that no table knows is "unknown", never a crash
        return col.with_values(pc.fill_null(pc.if_else(outside, "unknown", values), "unknown"))
    return col.with_values(null_where(values, outside), *problem(
        outside, "NOT_IN_ENUM", f"not one of {', '.join(enum)}"))


def _literal_or_value(spec: Any, kind: str, ctx: Ctx) -> Callable[[Frame, RunState], Col] | None:
    """Compile a rule's value: a literal of the field's type, or a value object."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        return compile_value(spec, ctx, kind if kind != "timestamp" else None)
    arrow_type = _KIND_TYPE.get(kind, pa.string())
    try:
        scalar = pa.scalar(spec, arrow_type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        raise ctx.error(f"default {spec!r} is not a {kind}") from None
    return lambda frame, state: Col(pa.repeat(scalar, frame.n))


def _compile_rules(spec: Any, kind: str, ctx: Ctx) -> list[tuple[Any, Any]]:
    if not spec:
        return []
    compiled = []
    for i, rule in enumerate(spec):
        cond = compile_condition(rule["when"], ctx.at(i, "when"))
        then = _literal_or_value(rule["then"], kind, ctx.at(i, "then"))
        compiled.append((cond, then))
    return compiled


def _apply_rules(col: Col, rules: list[tuple[Any, Any]], frame: Frame, state: RunState) -> Col:
    values = col.values
    matched = None
    for cond, then in reversed(rules):
        mask = cond(frame, state)
        then_values = then(frame, state).values if then is not None else \
            pa.nulls(frame.n, values.type)
        if then_values.type != values.type:
            then_values = then_values.cast(values.type)
        values = pc.if_else(mask, then_values, values)
        matched = mask if matched is None else pc.or_(matched, mask)
    # a rule decides the value, so problems of the rows it matched no longer apply
    problems = [type(p)(pc.and_(p.mask, pc.invert(matched)), p.code, p.reason)
                for p in col.problems]
    problems = [p for p in problems if pc.any(p.mask).as_py()]
    return Col(values, col.raw, col.column, problems)


# ----------------------------------------------------------------------------- timestamps


def _compile_time(spec: dict[str, Any], ctx: Ctx) -> Callable[[Frame, RunState], Col]:
    value = compile_value(_value_spec(spec), ctx)
    formats = spec.get("format", "auto")
    formats = [formats] if isinstance(formats, str) else list(formats)
    for i, fmt in enumerate(formats):
        message = timestamps.check_format(fmt)
        if message:
            raise ctx.error(message, None, "format", *([i] if len(formats) > 1 else []))
    nonexistent = spec.get("nonexistent", "reject")
    add_seconds = compile_value(spec["add_seconds"], ctx.at("add_seconds"), "number") \
        if "add_seconds" in spec else None
    memo_key = id(spec)
    truncate = spec.get("truncate")
    zone_spec = spec.get("timezone")
    zone_expr = None
    if isinstance(zone_spec, str):
        if message := timestamps.check_zone(zone_spec):
            raise ctx.error(message, None, "timezone")
        zone_spec = timestamps.zone_name(zone_spec)
    elif isinstance(zone_spec, dict):
        zone_expr = compile_value(zone_spec, ctx.at("timezone"), "string")

    def run(frame: Frame, state: RunState) -> Col:
        col = value(frame, state)
        chosen = []
        for declared in formats:
            if declared == "auto" and memo_key not in state.formats:
                state.formats[memo_key] = timestamps.choose_auto_format(col)
            chosen.append(state.formats[memo_key] if declared == "auto" else declared)
        parsed = timestamps.parse_with(col, chosen[0])
        for fmt in chosen[1:]:
            missing = pc.and_(pc.is_null(parsed.local), pc.is_valid(col.values))
            if not pc.any(missing).as_py():
                break
            # the next format only sees the values the earlier ones could not read
            more = timestamps.parse_with(Col(pc.filter(col.values, missing)), fmt)
            parsed = timestamps.Parsed(
                pc.replace_with_mask(parsed.local, missing, more.local),
                pc.replace_with_mask(parsed.offset, missing, more.offset), parsed.col)
        if len(chosen) > 1:
            bad = pc.and_(pc.is_valid(col.values), pc.is_null(parsed.local))
            parsed.col = col.with_values(parsed.local, *problem(
                bad, "NOT_A_TIMESTAMP", f"matches none of the time formats {', '.join(chosen)}"))
        zone = frame.params.get("timezone") or "UTC"
        source = frame.params.get(ZONE_SOURCE)
        if source != "caller" and isinstance(zone_spec, str):
            zone, source = zone_spec, "spec"
        if source == "assumed" and zone_expr is None and pc.any(pc.and_(
                pc.is_valid(parsed.local), pc.is_null(parsed.offset))).as_py():
            # naive times read in a zone nobody gave
            state.assumed_zone = "UTC" if zone in ("+00:00", "UTC") else zone
        problems = list(parsed.col.problems)
        if zone_expr is not None:
            given = zone_expr(frame, state)
            zones = pc.fill_null(to_text(given.values), zone)
            placed, unknown = timestamps.place_by_zone(parsed, zones, truncate)
            if unknown is not None:
                problems += problem(unknown, "UNKNOWN_ZONE",
                                    f"the zone in {given.column or 'the data'} is not an IANA "
                                    "name or an offset")
        else:
            placed = timestamps.place_truncated(parsed, zone, truncate)
        utc = placed.utc
        if placed.nonexistent is not None and nonexistent == "reject":
            gap = pc.fill_null(placed.nonexistent, False)
            utc = null_where(utc, gap)
            problems += problem(gap, "NONEXISTENT_LOCAL_TIME",
                                "this local time does not exist in "
                                f"{zone if zone_expr is None else 'its zone'} "
                                "(clocks jumped forward)")
        if add_seconds is not None:
            extra = add_seconds(frame, state)
            micros = pc.cast(pc.multiply(extra.values, 1e6), pa.int64(), safe=False)
            utc = pc.add(utc.cast(pa.int64()), micros).view(timestamps.UTC)
            problems += extra.problems
            bad = pc.and_(pc.is_valid(extra.raw if extra.raw is not None else extra.values),
                          pc.is_null(extra.values))
            problems += problem(bad, "NOT_A_NUMBER", "the seconds to add are not a number")
        # a reject shows the input value, not what the parse made of it
        raw = col.raw if col.raw is not None else col.values
        return TimeCol(utc, raw, col.column, problems, alt=placed.alt, local=placed.local)

    return run
