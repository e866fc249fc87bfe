"""Write schemas/mapping-v1.json, the JSON Schema of the mapping language (versions 1 and 1.1).

The schema is kept as this readable Python structure and rendered to JSON, so that each
definition sits next to the sentence a user sees when a spec breaks it. Run after editing:

    python tools/gen_mapping_schema.py
"""

from __future__ import annotations

import json
from pathlib import Path

V11 = "added in language 1.1"


def since_11(definition: dict, text: str) -> dict:
    """Mark a definition as added in language 1.1 (a spec using it declares odse_mapping: 1.1)."""
    return {**definition, "description": f"{text} ({V11})", "$comment": V11}


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
    "const": {"oneOf": [SCALAR, {"type": "null"}], "description": "a constant value; null (added in language 1.1) for an explicit 'no value'"},
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
    "format": {**NAME_LIST, "description": "strptime format(s), or iso8601, epoch_s, epoch_ms, excel (day serials, added in 1.1), auto"},
    "label": {"enum": ["start", "end", "instant"], "description": "what the source time marks: interval start, interval end, or an instant reading"},
    "nonexistent": {"enum": ["reject", "shift"], "description": "local times skipped by a daylight-saving change: reject the row (default) or shift forward"},
    "add_seconds": {**EXPR_REF, "description": "seconds to add to the time (keys that are offsets from a start)"},
    "timezone": since_11({"oneOf": [{"type": "string"}, EXPR_REF]}, "zone of this field's naive times: an IANA name or +HH:MM, or a value object such as {column: Time Zone} giving it per row"),
    "truncate": since_11({"enum": ["day", "month"]}, "move each time to the start of its local day or month in the zone, before it is placed in UTC (day and month totals)"),
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
        "odse_mapping": {"enum": [1, 1.1], "description": "the mapping language version: 1, or 1.1 for specs that use what 1.1 added"},
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
            "format", "csv", "json", "workbook", "detect", "timezone", "interval", "order", "where", "pivot", "fields", "unpivot")},
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
                "format": {"enum": ["csv", "json", "jsonl", "workbook"], "description": "csv, json (one document), jsonl (one object a line) or workbook (.xlsx, .xlsm, .xls, .ods; added in language 1.1)"},
                "csv": {"$ref": "#/$defs/csv"},
                "json": {"$ref": "#/$defs/json"},
                "workbook": {"$ref": "#/$defs/workbook"},
                "where": since_11({"$ref": "#/$defs/condition"}, "keep only the input rows (records) this condition holds for; the others are counted in the report as skipped, with the condition as the reason"),
                "pivot": since_11({"type": "object", "required": ["key", "value", "by"],
                                   "properties": {"key": {"type": "string", "description": "the column or path whose values name the channels"},
                                                  "value": {"type": "string", "description": "the column or path holding each entry's value"},
                                                  "by": NAME_LIST},
                                   "additionalProperties": False},
                                  "long to wide: one record per value of the by columns (time, device), with a column per key value that the fields read"),
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
        "workbook": since_11({
            "type": "object",
            "properties": {
                "sheet": {"oneOf": [
                    {"type": "string", "description": "the sheet's name"},
                    {"type": "integer", "description": "the sheet's position, from 0 (-1: the last)"},
                    {"type": "object", "properties": {"match": {"type": "string"}}, "required": ["match"], "additionalProperties": False,
                     "description": "the first sheet whose name matches this regular expression"}],
                    "description": "which sheet: a name, a position from 0, or {match: regex} (default: the first sheet)"},
                "header": {"type": "object", "properties": {
                    "row": {"type": "integer", "minimum": 1, "description": "the sheet row (from 1) that holds the column names"},
                    "find": {"type": "array", "items": NAME_LIST, "minItems": 1, "description": "columns the header row must hold (default: the variant's required columns)"},
                    "within": {"type": "integer", "minimum": 1, "description": "rows searched for the header (default 30)"}},
                    "additionalProperties": False,
                    "description": "the header row: fixed, or found as the first row holding the required columns; rows above it are skipped"},
                "skip_footer": {"type": "integer", "minimum": 0, "description": "rows at the end of the sheet to skip (totals); counted as skipped"},
            },
            "additionalProperties": False,
        }, "how to read a spreadsheet workbook: the sheet and the header row"),
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
                **{k: v for k, v in EXPR_PROPS.items() if k not in ("rules", "default", "required", "measure", "first_reading", "label", "nonexistent", "format", "add_seconds", "description", "timezone", "truncate")},
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
