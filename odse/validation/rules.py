"""Compile the record's JSON Schema into per-field rules that Arrow kernels can evaluate.

The schema (``schemas/energy-timeseries.json``) is the single source of truth: every check the
validator runs is read from it here. The compiler understands the keywords the schema uses and
refuses any other, so that a schema edit can never be silently ignored:

- root: ``type: object``, ``required``, ``properties``, ``additionalProperties: true``, and
  ``if``/``then``/``else`` whose ``if`` tests one property against a ``const`` and whose
  branches put bounds on other properties (how "kWh >= 0 unless direction is net" is said);
- a property: ``type`` (one of number, integer, string, boolean), ``enum``, ``const``,
  ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``pattern``, ``$ref``
  to ``#/$defs/...``, and the finite-number idiom (bounds at the largest float plus
  ``oneOf: [{minimum: a}, {exclusiveMaximum: a}]``, which only NaN satisfies twice);
- annotations, which never change a verdict: ``title``, ``description``, ``$comment``,
  ``examples``, ``default``, ``format`` (``date-time`` also lets an Arrow timestamp column with
  a zone stand for the text), ``deprecated``, ``readOnly``, ``writeOnly``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.errors import OdseError
from odse.records import record_schema

FLOAT_MAX = sys.float_info.max

_ANNOTATIONS = frozenset({"title", "description", "$comment", "examples", "default", "format",
                          "deprecated", "readOnly", "writeOnly"})
_ROOT_KEYWORDS = frozenset({"$schema", "$id", "$defs", "title", "description", "$comment",
                            "type", "required", "properties", "additionalProperties",
                            "if", "then", "else"})
_BOUND_KEYWORDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">",
                   "exclusiveMaximum": "<"}
_JSON_TYPES = ("number", "integer", "string", "boolean")
# Python's re lets "$" match before a final newline; the schema adds "(?!\n)" to forbid that.
# RE2 (Arrow) reads "$" as the very end already and has no lookahead, so the suffix is dropped.
_PY_END = "$(?!\\n)"
# Lookarounds do not exist in RE2; the character classes below are Unicode-wide in Python's re
# but ASCII in RE2. Patterns using them are matched with Python's re, value by value.
_PYTHON_ONLY = ("(?=", "(?!", "(?<", "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B")


class SchemaCompileError(OdseError, ValueError):
    """The record schema uses a construct the vectorised validator cannot evaluate."""

    code = "SCHEMA_UNSUPPORTED"


@dataclass(frozen=True)
class Condition:
    """A test of one property against a constant, from an ``if`` subschema.

    Parameters:
        field: Property tested.
        value: The ``const`` it is compared with.
        absent_matches: True when an absent property satisfies the test (the ``if`` did not
            list it in ``required``).
        holds: The branch applies when the test gives this outcome (``then``: True,
            ``else``: False).
    """

    field: str
    value: Any
    absent_matches: bool
    holds: bool

    def describe(self) -> str:
        """Return the condition as words for a message ("unless direction is 'net'")."""
        return f"{'when' if self.holds else 'unless'} {self.field} is {self.value!r}"


@dataclass(frozen=True)
class Bound:
    """A numeric limit: ``value <op> limit`` must hold, where ``op`` is >=, >, <= or <."""

    op: str
    limit: float
    when: Condition | None = None

    def describe(self) -> str:
        """Return the limit as words for a message ("must be >= 0 unless direction is 'net'")."""
        text = f"must be {self.op} {_number(self.limit)}"
        return f"{text} {self.when.describe()}" if self.when else text


@dataclass(frozen=True)
class Pattern:
    """A regular expression a string must match (``re.search`` semantics, as jsonschema).

    Parameters:
        source: The pattern as the schema writes it.
        re2: The same pattern for Arrow's RE2 engine, or None when RE2 cannot express it (the
            values are then matched with Python's re, one by one).
        title: What the pattern means, for messages ("an ISO 8601 date-time ...").
        example: A value that matches, for messages.
    """

    source: str
    re2: str | None
    title: str | None = None
    example: str | None = None

    def describe(self) -> str:
        """Return what a matching value looks like, for a message."""
        if self.title:
            return f"{self.title} such as {self.example}" if self.example else self.title
        return f"text matching the pattern {self.source!r}"


@dataclass(frozen=True)
class FieldRule:
    """Everything the schema asks of one property.

    Parameters:
        name: Property name.
        type: JSON type: number, integer, string or boolean.
        required: True when the record must carry the property.
        finite: True when NaN and the infinities are rejected (the finite-number idiom).
        enum: Allowed values, or None.
        bounds: Numeric limits, unconditional or under a condition.
        pattern: Pattern a string must match, or None.
        date_time: True when ``format`` is ``date-time`` (an Arrow timestamp column with a
            zone then satisfies the pattern by construction).
    """

    name: str
    type: str
    required: bool = False
    finite: bool = False
    enum: tuple[Any, ...] | None = None
    bounds: tuple[Bound, ...] = ()
    pattern: Pattern | None = None
    date_time: bool = False


@dataclass(frozen=True)
class RecordRules:
    """The compiled schema: required fields and one rule per declared property."""

    required: tuple[str, ...]
    fields: dict[str, FieldRule] = field(default_factory=dict)


@cache
def record_rules() -> RecordRules:
    """Return the rules compiled from the shipped record schema (compiled once)."""
    return compile_schema(record_schema())


def compile_schema(schema: dict[str, Any]) -> RecordRules:
    """Compile a record JSON Schema (Draft 2020-12) into rules.

    Parameters:
        schema: The schema as a dict.

    Raises:
        SchemaCompileError: The schema uses a keyword or shape this compiler does not support.
    """
    for key in schema:
        if key not in _ROOT_KEYWORDS:
            raise _unsupported(key, "#")
    if schema.get("type", "object") != "object":
        raise _unsupported("type", "#", "the record schema must describe an object")
    if schema.get("additionalProperties", True) is not True:
        raise _unsupported("additionalProperties", "#",
                           "odse records allow additional properties")
    defs = schema.get("$defs", {})
    required = tuple(schema.get("required", ()))
    fields: dict[str, FieldRule] = {}
    for name, sub in schema.get("properties", {}).items():
        fields[name] = compile_property(name, sub, defs, required=name in required)
    for name in required:
        if name not in fields:
            raise _unsupported("required", "#", f"required field {name!r} has no property")
    for name, bound in _conditional_bounds(schema, fields):
        rule = fields[name]
        fields[name] = replace(rule, bounds=(*rule.bounds, bound))
    return RecordRules(required=required, fields=fields)


def compile_property(name: str, sub: dict[str, Any], defs: dict[str, Any] | None = None,
                     *, required: bool = False, declared_type: str | None = None) -> FieldRule:
    """Compile one property's subschema (with its ``$ref``) into a FieldRule.

    Parameters:
        name: Property name, for messages.
        sub: The property's subschema.
        defs: The schema's ``$defs``, for ``$ref``.
        required: Whether the record must carry the property.
        declared_type: The JSON type to assume when ``sub`` has none (profile constraints).
    """
    where = f"#/properties/{name}"
    merged = _resolve(sub, defs or {}, where)
    json_type = merged.pop("type", declared_type)
    if json_type not in _JSON_TYPES:
        raise _unsupported("type", where, f"type must be one of {', '.join(_JSON_TYPES)}")
    title = merged.pop("title", None)
    examples = merged.pop("examples", None)
    fmt = merged.pop("format", None)
    for key in list(merged):
        if key in _ANNOTATIONS:
            del merged[key]

    finite = False
    one_of = merged.pop("oneOf", None)
    if one_of is not None:
        if not _is_nan_guard(one_of):
            raise _unsupported("oneOf", where, "only the finite-number idiom is supported")
        finite = True
    enum = merged.pop("enum", None)
    if "const" in merged:
        enum = [merged.pop("const")]
    if enum is not None:
        enum = tuple(enum)
        if not all(_has_type(v, json_type) for v in enum):
            raise _unsupported("enum", where, f"every value must be of type {json_type}")
    bounds = []
    for key, op in _BOUND_KEYWORDS.items():
        for limit in merged.pop(key, ()):
            if finite and abs(limit) == FLOAT_MAX and op in (">=", "<="):
                continue  # only rejects the infinities, which `finite` reports already
            bounds.append(Bound(op, float(limit)))
    pattern = None
    patterns = merged.pop("pattern", ())
    if len(patterns) > 1:
        raise _unsupported("pattern", where, "one pattern per property")
    if patterns:
        example = examples[0] if examples else None
        pattern = Pattern(patterns[0], _to_re2(patterns[0]), title, example)
    if merged:
        raise _unsupported(next(iter(merged)), where)
    return FieldRule(name=name, type=json_type, required=required, finite=finite,
                     enum=enum, bounds=tuple(bounds), pattern=pattern,
                     date_time=fmt == "date-time")


def _resolve(sub: dict[str, Any], defs: dict[str, Any], where: str) -> dict[str, Any]:
    """Flatten a subschema and the ``$ref`` chain it points into one keyword table.

    Bounds and patterns may appear at several levels (all must hold), so they are collected
    as lists; for any other keyword the property's own value wins over the referenced one.
    """
    out: dict[str, Any] = {}
    seen = set()
    current: dict[str, Any] | None = sub
    while current is not None:
        if not isinstance(current, dict):
            raise _unsupported("$ref", where, "subschemas must be objects")
        ref = None
        for key, value in current.items():
            if key == "$ref":
                ref = value
            elif key in _BOUND_KEYWORDS or key == "pattern":
                out.setdefault(key, []).append(value)
            else:
                out.setdefault(key, value)
        if ref is None:
            break
        if not isinstance(ref, str) or not ref.startswith("#/$defs/") or ref in seen:
            raise _unsupported("$ref", where, "only local, non-circular #/$defs/... references")
        seen.add(ref)
        current = defs.get(ref[len("#/$defs/"):])
        if current is None:
            raise _unsupported("$ref", where, f"{ref} is not defined")
    return out


def _is_nan_guard(one_of: Any) -> bool:
    # [{"minimum": a}, {"exclusiveMaximum": a}] in either order: every real number satisfies
    # exactly one branch, NaN both (no comparison with NaN is true), so only NaN fails.
    if not isinstance(one_of, list) or len(one_of) != 2:
        return False
    branches = sorted((tuple(b.items()) for b in one_of if isinstance(b, dict)), key=str)
    if len(branches) != 2 or any(len(b) != 1 for b in branches):
        return False
    (k1, v1), (k2, v2) = branches[0][0], branches[1][0]
    return {k1, k2} == {"minimum", "exclusiveMaximum"} and v1 == v2


def _conditional_bounds(schema: dict[str, Any],
                        fields: dict[str, FieldRule]) -> list[tuple[str, Bound]]:
    if "if" not in schema:
        if "then" in schema or "else" in schema:
            raise _unsupported("then", "#", "then/else without if")
        return []
    test = schema["if"]
    props = test.get("properties", {}) if isinstance(test, dict) else {}
    extra = set(test) - {"properties", "required"} if isinstance(test, dict) else {"if"}
    if extra or len(props) != 1:
        raise _unsupported("if", "#", "if must test one property against a const")
    (tested, sub), = props.items()
    if set(sub) != {"const"} or tested not in fields:
        raise _unsupported("if", "#", "if must test one declared property against a const")
    value = sub["const"]
    if not _has_type(value, fields[tested].type):
        raise _unsupported("if", "#", f"const must be of the type of {tested!r}")
    absent_matches = tested not in test.get("required", ())
    out: list[Any] = []
    for branch, holds in (("then", True), ("else", False)):
        part = schema.get(branch)
        if part is None:
            continue
        if set(part) - {"properties"}:
            raise _unsupported(branch, "#", "a branch may only constrain properties")
        condition = Condition(tested, value, absent_matches, holds)
        for name, constraint in part.get("properties", {}).items():
            if name not in fields or set(constraint) - set(_BOUND_KEYWORDS):
                raise _unsupported(branch, "#", "a branch may only bound declared properties")
            out.extend((name, Bound(_BOUND_KEYWORDS[k], float(v), condition))
                       for k, v in constraint.items())
    return out


def _has_type(value: Any, json_type: str) -> bool:
    if json_type == "string":
        return isinstance(value, str)
    if json_type == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return json_type == "number" or float(value).is_integer()


def _to_re2(pattern: str) -> str | None:
    """Return the pattern for RE2 with Python's re.search verdicts, or None if it has none."""
    if pattern.endswith(_PY_END):
        body, end = pattern[: -len(_PY_END)], "$"
    elif pattern.endswith("$") and not pattern.endswith("\\$"):
        body, end = pattern[:-1], "\\n?$"  # Python's bare $ also matches before a final newline
    else:
        body, end = pattern, ""
    if "$" in body or any(token in body for token in _PYTHON_ONLY):
        return None
    text = body + end
    try:
        re.compile(text)
        pc.match_substring_regex(pa.array([""], pa.string()), text)
    except (re.error, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return text


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(x)


def _unsupported(keyword: str, where: str, detail: str | None = None) -> SchemaCompileError:
    message = f"the record schema uses {keyword!r} at {where}, which odse cannot compile"
    if detail:
        message += f": {detail}"
    return SchemaCompileError(message, hint="Keep schema edits to the supported keywords "
                              "listed in odse/validation/rules.py")
