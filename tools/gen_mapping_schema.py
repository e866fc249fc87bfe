"""Write schemas/mapping-v1.json, the JSON Schema of the mapping language (version 1).

The schema is kept as this readable Python structure and rendered to JSON, so that each
definition sits next to the sentence a user sees when a spec breaks it. Run after editing:

    python tools/gen_mapping_schema.py
"""

from __future__ import annotations

import json
from pathlib import Path

SCALAR = {"type": ["string", "number", "integer", "boolean"]}
NAME_LIST = {"oneOf": [{"type": "string", "minLength": 1},
                       {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}]}
EXPR_REF = {"$ref": "#/$defs/expr"}
VALUE_OR_EXPR = {"oneOf": [SCALAR, {"type": "null"}, EXPR_REF],
                 "description": "a literal value, or a value object such as {param: name}"}

EXPR_PROPS = {
    # sources: exactly one of these
    "column": {**NAME_LIST, "description": "input column (CSV header name) or JSON path; a list gives aliases, the first present one is used"},
    "param": {"type": "string", "description": "a parameter of the transform (declared under params:)"},
    "const": {**SCALAR, "description": "a constant value"},
    "first": {"type": "array", "items": EXPR_REF, "minItems": 1, "description": "the first non-null of several values"},
    "join": {"type": "array", "items": EXPR_REF, "minItems": 2, "description": "text of several values joined by `sep`"},
    "sep": {"type": "string", "description": "separator for join (default one space)"},
    "div": {"type": "array", "items": EXPR_REF, "minItems": 2, "maxItems": 2, "description": "first value divided by the second"},
    "mul": {"type": "array", "items": EXPR_REF, "minItems": 2, "description": "product of the values"},
    "add": {"type": "array", "items": EXPR_REF, "minItems": 2, "description": "sum of the values"},
    "sub": {"type": "array", "items": EXPR_REF, "minItems": 2, "maxItems": 2, "description": "first value minus the second"},
    "pow": {"type": "array", "items": EXPR_REF, "minItems": 2, "maxItems": 2, "description": "first value to the power of the second (0.5 for a square root)"},
    "mod": {"type": "array", "items": EXPR_REF, "minItems": 2, "maxItems": 2, "description": "remainder of the first value divided by the second"},
    "min": {"type": "array", "items": EXPR_REF, "minItems": 2, "description": "the smallest of the values (none when one is missing)"},
    "max": {"type": "array", "items": EXPR_REF, "minItems": 2, "description": "the largest of the values (none when one is missing)"},
    # modifiers
    "type": {"enum": ["number", "integer", "string", "boolean", "timestamp"], "description": "the type to convert to (default: the field's type in the record schema, else number)"},
    "null_values": {"type": "array", "items": {"type": "string"}, "description": "extra text values that mean 'no value' for this field"},
    "map": {"type": "object", "additionalProperties": {"oneOf": [SCALAR, {"type": "null"}]}, "description": "replace input values: {input: output}"},
    "codes": {"type": "object", "additionalProperties": {"type": "array", "items": SCALAR}, "description": "a code table: {output: [input codes]}"},
    "case_insensitive": {"type": "boolean", "description": "match map/codes keys without regard to case and surrounding spaces"},
    "unit": {"oneOf": [{"type": "string"},
                       {"type": "object", "properties": {"column": NAME_LIST, "header": {"const": True}},
                        "additionalProperties": False, "minProperties": 1, "maxProperties": 1}],
             "description": "unit of the input value (W, kW, Wh, kWh, MWh, var, VA, ...), a {column: ...} holding the unit per row, or {header: true} for the CSV units row"},
    "scale": {"type": "number", "description": "multiply by this factor (after unit conversion)"},
    "abs": {"type": "boolean", "description": "take the absolute value"},
    "measure": {"enum": ["energy", "power", "counter"], "description": "energy per interval (default), power (multiplied by the interval) or a cumulative counter (differenced per series)"},
    "first_reading": {"enum": ["skip", "zero"], "description": "counters: a series' first reading opens an interval only (skip, default) or also gives a 0 kWh record for the interval that ends at it (zero)"},
    "clip": {"type": "object", "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
             "additionalProperties": False, "minProperties": 1, "description": "clamp values into [min, max]; counted in the report"},
    "default": {**VALUE_OR_EXPR, "description": "value used where the input has none"},
    "required": {"type": "boolean", "description": "reject the row when this field has no value (timestamp and kWh always are)"},
    "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"}, "minItems": 1, "description": "conditions checked in order before the value; the first that matches gives the field"},
    # timestamps
    "format": {**NAME_LIST, "description": "strptime format(s), or iso8601, epoch_s, epoch_ms, auto"},
    "label": {"enum": ["start", "end", "instant"], "description": "what the source time marks: interval start, interval end, or an instant reading"},
    "nonexistent": {"enum": ["reject", "shift"], "description": "local times skipped by a daylight-saving change: reject the row (default) or shift forward"},
    "add_seconds": {**EXPR_REF, "description": "seconds to add to the time (keys that are offsets from a start)"},
    "description": {"type": "string"},
}

COND_OPS = {
    "eq": VALUE_OR_EXPR, "ne": VALUE_OR_EXPR, "lt": VALUE_OR_EXPR, "le": VALUE_OR_EXPR,
    "gt": VALUE_OR_EXPR, "ge": VALUE_OR_EXPR,
    "in": {"type": "array", "items": SCALAR}, "not_in": {"type": "array", "items": SCALAR},
    "is_null": {"type": "boolean"}, "matches": {"type": "string", "description": "a regular expression"},
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://odse.dev/schemas/mapping-v1.json",
    "title": "odse mapping spec, language version 1",
    "description": "How one OEM's exports become ODS-E records. See docs/mapping-language.md.",
    "type": "object",
    "required": ["odse_mapping", "name"],
    "properties": {
        "odse_mapping": {"const": 1, "description": "the mapping language version: 1"},
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$", "description": "source name: lower-case letters, digits, _ and -"},
        "aliases": {"type": "array", "items": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "params": {"type": "object", "additionalProperties": {"$ref": "#/$defs/param"},
                   "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"}},
        "variants": {"type": "array", "items": {"$ref": "#/$defs/variant"}, "minItems": 1},
        "examples": {"type": "array", "items": {"$ref": "#/$defs/example"}},
        # a spec with a single shape may give the variant's keys at the top level
        **{k: {"$ref": f"#/$defs/variant/properties/{k}"} for k in (
            "format", "csv", "json", "detect", "timezone", "interval", "order", "fields", "unpivot")},
    },
    "additionalProperties": False,
    "$defs": {
        "param": {
            "type": "object",
            "properties": {
                "type": {"enum": ["number", "integer", "string", "boolean"]},
                "default": SCALAR,
                "minimum": {"type": "number"},
                "description": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "variant": {
            "type": "object",
            "required": ["format", "fields"],
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
                "description": {"type": "string"},
                "format": {"enum": ["csv", "json", "jsonl"], "description": "csv, json (one document) or jsonl (one object a line)"},
                "csv": {"$ref": "#/$defs/csv"},
                "json": {"$ref": "#/$defs/json"},
                "detect": {"$ref": "#/$defs/detect"},
                "timezone": {"type": "string", "description": "zone of naive times unless the caller gives timezone= (IANA name or +HH:MM)"},
                "interval": {"oneOf": [
                    {"type": "number", "exclusiveMinimum": 0},
                    {"enum": ["data", "day"]},
                    {"type": "object", "properties": {"param": {"type": "string"},
                                                      "default": {"oneOf": [{"type": "number", "exclusiveMinimum": 0}, {"enum": ["data", "day"]}]},
                                                      "fallback": {"type": "number", "exclusiveMinimum": 0, "description": "minutes used where the data cannot tell the interval (a single reading in its series)"}},
                     "required": ["param"], "additionalProperties": False}],
                    "description": "interval length in minutes, {param: name}, data (median spacing of the readings) or day; {param: name, default: data, fallback: minutes} for a documented length when a series has one reading"},
                "order": {"enum": ["input", "time"], "description": "keep input order (default) or sort each batch by time"},
                "fields": {"type": "object", "additionalProperties": EXPR_REF,
                           "required": ["timestamp"],
                           "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$",
                                             "description": "a field name: letters, digits and _, starting with a letter (names starting with _ are odse's own)"}},
                "unpivot": {"type": "array", "minItems": 1, "items": {
                    "type": "object",
                    "properties": {"optional": {"type": "boolean"}},
                    "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                    "additionalProperties": EXPR_REF,
                    "description": "one output record per entry; each entry overrides fields"}},
                "examples": {"type": "array", "items": {"$ref": "#/$defs/example"}},
            },
            "additionalProperties": False,
        },
        "csv": {
            "type": "object",
            "properties": {
                "delimiter": {"type": "string", "description": "one character, or auto (default: the file's sep= line, else auto)"},
                "decimal": {"enum": [".", ","]},
                "thousands": {"enum": ["", ".", ",", " ", "'"]},
                "encoding": {"type": "string"},
                "skip_lines": {"type": "integer", "minimum": 0, "description": "lines to skip before the header (after a sep= line)"},
                "header": {"type": "object", "properties": {
                    "rows": {"type": "integer", "minimum": 0},
                    "names": {"type": "integer", "minimum": 1},
                    "units": {"type": "integer", "minimum": 1}},
                    "additionalProperties": False},
                "null_values": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "json": {
            "type": "object",
            "properties": {
                "records": {"oneOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "items": {
                        "type": "object", "required": ["path"],
                        "properties": {"path": {"type": "string"},
                                       "as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                                       "entries": {"type": "boolean"},
                                       "match": {"type": "string", "description": "only the entries whose key matches this regular expression"},
                                       "key": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
                        "additionalProperties": False}}],
                    "description": "where the records are: a dotted path (@ for the document itself), or a list of levels"},
            },
            "additionalProperties": False,
        },
        "detect": {
            "type": "object",
            "properties": {
                "columns": {"type": "array", "items": NAME_LIST, "description": "CSV columns that must all be present (a list item gives alternatives)"},
                "paths": {"type": "array", "items": {"type": "string"}, "description": "JSON paths that must be present"},
            },
            "additionalProperties": False,
        },
        "expr": {
            "type": "object",
            "description": "a value object such as {column: Power} or {const: normal}",
            "properties": EXPR_PROPS,
            "additionalProperties": False,
        },
        "rule": {
            "type": "object",
            "required": ["when", "then"],
            "properties": {"when": {"$ref": "#/$defs/condition"}, "then": VALUE_OR_EXPR},
            "additionalProperties": False,
        },
        "condition": {
            "type": "object",
            "properties": {
                "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
                "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}, "minItems": 1},
                "not": {"$ref": "#/$defs/condition"},
                **{k: v for k, v in EXPR_PROPS.items() if k not in ("rules", "default", "required", "measure", "first_reading", "label", "nonexistent", "format", "add_seconds", "description")},
                **COND_OPS,
            },
            "additionalProperties": False,
            "minProperties": 1,
        },
        "example": {
            "type": "object",
            "required": ["input", "expect"],
            "properties": {
                "name": {"type": "string"},
                "input": {"type": "string"},
                "params": {"type": "object"},
                "expect": {"type": "array", "items": {"type": "object"}},
                "rejects": {"type": "integer", "minimum": 0},
            },
            "additionalProperties": False,
        },
    },
}

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "schemas" / "mapping-v1.json"
    out.write_text(json.dumps(SCHEMA, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
