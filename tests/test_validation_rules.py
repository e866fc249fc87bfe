"""The record schema file, and the compiler that turns it into the validator's rules."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from odse.records import known_fields, record_schema
from odse.validation.checks import schema_findings
from odse.validation.columns import DictColumns
from odse.validation.rules import (
    Bound,
    Condition,
    SchemaCompileError,
    compile_schema,
    record_rules,
)

SCHEMA = record_schema()
PROPS = SCHEMA["properties"]
REFERENCE = Path(__file__).parent.parent.parent / "shared" / "reference" / \
    "energy-timeseries.original.json"

# The 65 fields of the original schema (0.8.2) with their JSON types, written out so that this
# test does not need the reference folder (which only the developers have).
ORIGINAL_TYPES = {
    "timestamp": "string", "kWh": "number", "error_type": "string", "error_code": "string",
    "kVArh": "number", "kVA": "number", "PF": "number", "direction": "string",
    "end_use": "string", "fuel_type": "string", "seller_party_id": "string",
    "buyer_party_id": "string", "network_operator_id": "string", "wheeling_agent_id": "string",
    "settlement_period_start": "string", "settlement_period_end": "string",
    "loss_factor": "number", "contract_reference": "string", "tariff_schedule_id": "string",
    "tariff_period": "string", "tariff_currency": "string",
    "tariff_version_effective_at": "string", "energy_charge_component": "number",
    "network_charge_component": "number", "wheeling_type": "string",
    "injection_point_id": "string", "offtake_point_id": "string", "wheeling_status": "string",
    "wheeling_path_id": "string", "generation_charge_component": "number",
    "transmission_charge_component": "number", "distribution_charge_component": "number",
    "ancillary_service_charge_component": "number", "non_bypassable_charge_component": "number",
    "environmental_levy_component": "number", "curtailment_flag": "boolean",
    "curtailment_type": "string", "curtailed_kWh": "number",
    "curtailment_instruction_id": "string", "balance_responsible_party_id": "string",
    "forecast_kWh": "number", "settlement_type": "string", "imbalance_kWh": "number",
    "billing_period": "string", "billed_kWh": "number", "billing_status": "string",
    "daa_reference": "string", "renewable_attribute_id": "string",
    "certificate_standard": "string", "verification_status": "string",
    "carbon_intensity_gCO2_per_kWh": "number", "soc": "number", "soh": "number",
    "charge_kWh": "number", "discharge_kWh": "number", "cycle_count": "number",
    "cell_temp_min_c": "number", "cell_temp_max_c": "number", "cell_voltage_min_v": "number",
    "cell_voltage_max_v": "number", "dispatch_mode": "string", "wind_speed_ms": "number",
    "rotor_rpm": "number", "blade_pitch_deg": "number", "nacelle_direction_deg": "number",
}
# 0.12.0 added 22 names (upstream-sources.md 5.2); odse adds channel.
ADDED_TYPES = {
    "asset_id": "string", "oem_error_code": "string", "channel": "string",
    **dict.fromkeys((
        "kW", "kVAr", "voltage_ac", "voltage_ac_l1", "voltage_ac_l2", "voltage_ac_l3",
        "current_ac", "current_ac_l1", "current_ac_l2", "current_ac_l3", "frequency",
        "voltage_dc", "current_dc", "temperature", "ambient_temperature_c",
        "module_temperature_c", "poa_irradiance", "ghi", "dni", "dhi"), "number"),
}


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_field_names_and_types_are_stable() -> None:
    assert {name: prop["type"] for name, prop in PROPS.items()} == {**ORIGINAL_TYPES,
                                                                    **ADDED_TYPES}
    assert list(PROPS)[:3] == ["timestamp", "kWh", "error_type"]
    assert SCHEMA["required"] == ["timestamp", "kWh", "error_type"]
    assert len(known_fields()) == 88


def test_the_decisions_differences() -> None:
    assert SCHEMA["additionalProperties"] is True
    assert SCHEMA["if"] == {"properties": {"direction": {"const": "net"}},
                            "required": ["direction"]}
    assert SCHEMA["else"] == {"properties": {"kWh": {"minimum": 0}}}


def test_every_field_is_described_and_numbers_carry_units() -> None:
    for name, prop in PROPS.items():
        assert prop.get("description"), name
        if prop["type"] == "number":
            assert "[" in prop["description"], f"{name}: unit missing"
            assert prop["$ref"] == "#/$defs/finite_number", name


@pytest.mark.skipif(not REFERENCE.exists(), reason="the reference folder is not available")
def test_agrees_with_the_original_schema_field_by_field() -> None:
    original = json.loads(REFERENCE.read_text())["properties"]
    assert set(original) == set(ORIGINAL_TYPES)
    for name, old in original.items():
        new = dict(PROPS[name])
        ref = new.get("$ref", "").rsplit("/", 1)[-1]
        for key in ("type", "enum", "minimum", "maximum", "format", "default"):
            assert new.get(key) == old.get(key), (name, key)
        if "pattern" in old:
            pattern = SCHEMA["$defs"][ref]["pattern"]
            if name not in ("timestamp",):
                assert pattern == old["pattern"][:-1] + "$(?!\\n)", name


# ---- the date-time pattern against the calendar --------------------------------------------------

DATE_TIME = re.compile(SCHEMA["$defs"]["date_time"]["pattern"])


@pytest.mark.parametrize("year", [1900, 1996, 2000, 2023, 2024, 2100, 2400])
def test_date_time_pattern_follows_the_calendar(year: int) -> None:
    for month in range(1, 13):
        length = calendar.monthrange(year, month)[1]
        for day in (1, length):
            assert DATE_TIME.search(f"{year:04d}-{month:02d}-{day:02d}T00:00:00Z")
        assert not DATE_TIME.search(f"{year:04d}-{month:02d}-{length + 1:02d}T00:00:00Z")


def test_date_time_pattern_matches_what_python_writes() -> None:
    moment = dt.datetime(2026, 2, 9, 12, 30, 15, 250000, tzinfo=dt.timezone.utc)
    for zone in (dt.timezone.utc, dt.timezone(dt.timedelta(hours=2)),
                 dt.timezone(dt.timedelta(hours=-5, minutes=-30))):
        assert DATE_TIME.search(moment.astimezone(zone).isoformat())
    assert not DATE_TIME.search(moment.replace(tzinfo=None).isoformat())


# ---- the compiler ------------------------------------------------------------------------------

def test_compiled_rules_of_the_shipped_schema() -> None:
    rules = record_rules()
    assert rules.required == ("timestamp", "kWh", "error_type")
    kwh = rules.fields["kWh"]
    assert kwh.finite
    assert kwh.bounds == (Bound(">=", 0.0, Condition("direction", "net", False, False)),)
    assert kwh.bounds[0].describe() == "must be >= 0 unless direction is 'net'"
    pf = rules.fields["PF"]
    assert pf.bounds == (Bound(">=", 0.0), Bound("<=", 1.0))
    stamp = rules.fields["timestamp"]
    assert stamp.date_time
    assert stamp.pattern is not None
    assert stamp.pattern.re2 == stamp.pattern.source.removesuffix("(?!\\n)")
    assert rules.fields["direction"].enum == ("generation", "consumption", "net")
    assert not rules.fields["asset_id"].finite


def minimal(**extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": ["x"],
                              "properties": {"x": {"type": "string"}}}
    schema.update(extra)
    return schema


@pytest.mark.parametrize(("schema", "words"), [
    (minimal(additionalProperties=False), "'additionalProperties' at #"),
    (minimal(allOf=[]), "'allOf' at #"),
    (minimal(properties={"x": {"type": ["string", "null"]}}), "'type' at #/properties/x"),
    (minimal(properties={"x": {"type": "string", "minLength": 2}}),
     "'minLength' at #/properties/x"),
    (minimal(properties={"x": {"type": "number", "oneOf": [{"minimum": 1}]}}),
     "'oneOf' at #/properties/x"),
    (minimal(properties={"x": {"type": "string", "$ref": "#/$defs/none"}}),
     "'$ref' at #/properties/x"),
    (minimal(properties={"x": {"type": "string", "enum": [1]}}), "'enum' at #/properties/x"),
    (minimal(required=["x", "y"]), "'required' at #"),
    (minimal(**{"if": {"properties": {"x": {"minLength": 1}}}}), "'if' at #"),
    (minimal(**{"else": {}}), "'then' at #"),
])
def test_constructs_the_compiler_cannot_evaluate_are_refused(schema: dict[str, Any],
                                                             words: str) -> None:
    with pytest.raises(SchemaCompileError) as info:
        compile_schema(schema)
    assert words in str(info.value)
    assert info.value.code == "SCHEMA_UNSUPPORTED"


def test_annotations_are_ignored() -> None:
    schema = minimal(properties={"x": {"type": "string", "title": "X", "deprecated": True,
                                       "examples": ["a"], "$comment": "c", "format": "uri"}})
    rule = compile_schema(schema).fields["x"]
    assert (rule.enum, rule.bounds, rule.pattern, rule.date_time) == (None, (), None, False)


def test_an_if_without_required_also_matches_an_absent_field() -> None:
    schema = {"type": "object", "properties": {"d": {"type": "string"}, "v": {"type": "number"}},
              "if": {"properties": {"d": {"const": "gen"}}},
              "then": {"properties": {"v": {"minimum": 0}}}}
    [bound] = compile_schema(schema).fields["v"].bounds
    assert bound.when == Condition("d", "gen", True, True)
    assert bound.describe() == "must be >= 0 when d is 'gen'"
    rules = compile_schema(schema)
    records = [{"v": -1}, {"d": "gen", "v": -1}, {"d": "other", "v": -1}]
    findings = schema_findings(rules, DictColumns(records, rules))
    [finding] = findings
    assert finding.mask.to_pylist() == [True, True, False]


@pytest.mark.parametrize(("pattern", "re2"), [
    ("^[A-Z]{3}$(?!\\n)", "^[A-Z]{3}$"),
    ("^[A-Z]{3}$", "^[A-Z]{3}\\n?$"),        # Python's bare $ also accepts a final newline
    ("^\\d+$", None),                         # \d is Unicode-wide in Python, ASCII in RE2
    ("^(?=a)a$", None),                        # no lookarounds in RE2
    ("^(a)\\1$", None),                        # nor back references
    ("ab", "ab"),
])
def test_patterns_are_translated_for_arrow_or_left_to_python(pattern: str,
                                                            re2: str | None) -> None:
    schema = minimal(properties={"x": {"type": "string", "pattern": pattern}})
    assert compile_schema(schema).fields["x"].pattern.re2 == re2  # type: ignore[union-attr]


@pytest.mark.parametrize("pattern", ["^[A-Z]{3}$", "^\\d+$", "^(?=a)a$", "^(a)\\1$"])
def test_every_pattern_route_gives_jsonschemas_verdict(pattern: str) -> None:
    schema = minimal(properties={"x": {"type": "string", "pattern": pattern}})
    rules = compile_schema(schema)
    values = ["ABC", "ABC\n", "abc", "123", "\u0661\u0662", "a", "aa", "", "AB"]
    records = [{"x": v} for v in values]
    [finding] = schema_findings(rules, DictColumns(records, rules)) or [None]
    ours = finding.mask.to_pylist() if finding else [False] * len(values)
    validator = jsonschema.Draft202012Validator(schema)
    assert ours == [not validator.is_valid(r) for r in records]
