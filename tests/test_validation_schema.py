"""Schema-level validation: every code, path and message, on dicts and on Arrow."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from odse import validate, validate_batch

GOOD = {"timestamp": "2026-02-09T14:00:00Z", "kWh": 5.0, "error_type": "normal"}


def errors_of(record: Any) -> list[tuple[str, str, str]]:
    """Return (path, code, message) for each error of one record."""
    return [(e.path, e.code, e.message) for e in validate(record).errors]


def with_(**changes: Any) -> dict[str, Any]:
    record = dict(GOOD)
    record.update(changes)
    return record


# ---- the documented vectors (contract.md 1.4) -------------------------------------------------

@pytest.mark.parametrize("record", [
    GOOD,                                                                       # VV-1
    {**GOOD, "kWh": 847.5},                                                     # VV-2
    {**GOOD, "kWh": 847.5, "PF": 0.98},                                         # VV-2
    {**GOOD, "kWh": 12.3, "direction": "consumption", "end_use": "cooling",
     "fuel_type": "electricity"},                                               # VV-4
    {**GOOD, "kWh": -3.2, "direction": "net"},                                  # VV-5
])
def test_documented_valid_records(record: dict[str, Any]) -> None:
    result = validate(record)
    assert result.is_valid
    assert result.errors == []
    assert result.warnings == []
    assert result.level == "schema"


@pytest.mark.parametrize("direction", [None, "generation", "consumption"])
def test_negative_kwh_is_out_of_bounds_unless_net(direction: str | None) -> None:  # VV-6/7
    record = with_(kWh=-3.2) if direction is None else with_(kWh=-3.2, direction=direction)
    assert errors_of(record) == [
        ("$.kWh", "OUT_OF_BOUNDS", "kWh must be >= 0 unless direction is 'net', got -3.2")]


def test_missing_required_fields_are_named() -> None:  # VV-11
    assert errors_of({"kWh": 1.0}) == [
        ("$.timestamp", "REQUIRED_FIELD_MISSING", "required field 'timestamp' is missing"),
        ("$.error_type", "REQUIRED_FIELD_MISSING", "required field 'error_type' is missing"),
    ]


def test_a_string_kwh_is_a_type_mismatch() -> None:  # VV-12
    assert errors_of(with_(kWh="5.0")) == [
        ("$.kWh", "TYPE_MISMATCH", "kWh must be a number, got string '5.0'")]


@pytest.mark.parametrize("value", ["degraded", "bad"])
def test_an_unknown_error_type_is_an_enum_mismatch(value: str) -> None:  # VV-13
    assert errors_of(with_(error_type=value)) == [
        ("$.error_type", "ENUM_MISMATCH",
         "error_type must be one of normal, warning, critical, fault, offline, standby or "
         f"unknown, got '{value}'")]


def test_an_enum_near_miss_suggests_the_value() -> None:
    [(_, code, message)] = errors_of(with_(error_type="Normal"))
    assert code == "ENUM_MISMATCH"
    assert message.endswith("got 'Normal' (did you mean 'normal'?)")


# ---- types -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "described"), [
    (True, "boolean true"),
    (None, "null (an explicit None: leave the field out when it has no value)"),
    ([1.0], "array"),
    ({"v": 1}, "object"),
    (Decimal("1"), None),  # a Decimal is a number (numbers.Number), as for jsonschema
    (3 + 4j, "complex (3+4j)"),
])
def test_number_fields_take_numbers_only(value: Any, described: str | None) -> None:
    errors = errors_of(with_(kWh=value))
    if described is None:
        assert errors == []
    else:
        assert errors == [("$.kWh", "TYPE_MISMATCH", f"kWh must be a number, got {described}")]


def test_an_int_is_a_number() -> None:
    assert errors_of(with_(kWh=5)) == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("error_code", 512, "error_code must be a string, got number 512"),
    ("asset_id", None, "asset_id must be a string, got null (an explicit None: leave the "
                       "field out when it has no value)"),
    ("curtailment_flag", 1, "curtailment_flag must be true or false, got number 1"),
    ("curtailment_flag", "true", "curtailment_flag must be true or false, got string 'true'"),
    ("timestamp", dt.datetime(2026, 2, 9, 12, tzinfo=dt.timezone.utc),
     "timestamp must be a string (an ISO 8601 date-time with a time zone (Z or ±HH:MM) such "
     "as 2026-02-09T12:00:00Z), got datetime 2026-02-09T12:00:00+00:00 (write it as ISO 8601 "
     "text)"),
])
def test_type_mismatch_messages(field: str, value: Any, message: str) -> None:
    assert errors_of(with_(**{field: value})) == [(f"$.{field}", "TYPE_MISMATCH", message)]


def test_a_record_that_is_not_an_object() -> None:
    assert errors_of(42) == [
        ("$", "TYPE_MISMATCH", "a record must be an object (a dict), got number 42")]


def test_one_error_per_field_type_first() -> None:
    # a number is not in the enum either, but the type error is the one that helps
    assert errors_of(with_(error_type=5)) == [
        ("$.error_type", "TYPE_MISMATCH", "error_type must be a string, got number 5")]


def test_additional_properties_are_allowed_and_unchecked() -> None:
    assert errors_of(with_(kVAh=None, year=2026, oem_reference={"a": [1]})) == []


# ---- bounds ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "message"), [
    ("PF", 1.2, "PF must be <= 1, got 1.2"),
    ("PF", -0.1, "PF must be >= 0, got -0.1"),
    ("soc", 100.5, "soc must be <= 100, got 100.5"),
    ("soh", -1, "soh must be >= 0, got -1"),
    ("nacelle_direction_deg", 361, "nacelle_direction_deg must be <= 360, got 361"),
    ("loss_factor", -0.03, "loss_factor must be >= 0, got -0.03"),
    ("wind_speed_ms", -2.0, "wind_speed_ms must be >= 0, got -2.0"),
    ("billed_kWh", -1, "billed_kWh must be >= 0, got -1"),
])
def test_bounds(field: str, value: Any, message: str) -> None:
    assert errors_of(with_(**{field: value})) == [(f"$.{field}", "OUT_OF_BOUNDS", message)]


@pytest.mark.parametrize(("field", "value"), [("PF", 1), ("soc", 100), ("nacelle_direction_deg",
                                              0), ("kWh", 0), ("kWh", -0.0)])
def test_bounds_are_inclusive(field: str, value: Any) -> None:
    assert errors_of(with_(**{field: value})) == []


@pytest.mark.parametrize(("value", "shown"), [
    (math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (10**400, None),
])
def test_numbers_must_be_finite(value: Any, shown: str | None) -> None:
    [(path, code, message)] = errors_of(with_(kWh=value, direction="net"))
    assert (path, code) == ("$.kWh", "OUT_OF_BOUNDS")
    assert message.startswith("kWh must be a finite number, got ")
    if shown:
        assert message.endswith(shown)


def test_nan_is_rejected_in_every_number_field() -> None:
    assert errors_of(with_(ghi=math.nan, kW=math.inf)) == [
        ("$.kW", "OUT_OF_BOUNDS", "kW must be a finite number, got inf"),
        ("$.ghi", "OUT_OF_BOUNDS", "ghi must be a finite number, got nan"),
    ]


# ---- patterns --------------------------------------------------------------------------------

TS_MESSAGE = ("timestamp must be an ISO 8601 date-time with a time zone (Z or ±HH:MM) such as "
              "2026-02-09T12:00:00Z, got {!r}")


@pytest.mark.parametrize("value", [
    "2026-02-09T12:00:00Z", "2026-02-09T12:00:00+02:00", "2026-02-09T12:00:00-05:30",
    "2026-02-09T12:00:00.5Z", "2026-02-09T12:00:00.123456789+00:00", "2024-02-29T00:00:00Z",
    "2000-02-29T23:59:59Z", "2026-04-30T00:00:00Z",
])
def test_timestamps_that_pass(value: str) -> None:
    assert errors_of(with_(timestamp=value)) == []


@pytest.mark.parametrize("value", [
    "2026-02-09 12:00:00",          # naive, space
    "2026-02-09T12:00:00",          # naive
    "2026-02-09 12:00:00Z",         # space separator
    "2026-02-09t12:00:00z",         # lower case
    "2026-02-09T12:00Z",            # no seconds
    "2026-02-09T12:00:00+0200",     # offset without colon
    "2026-02-09T12:00:00+02",       # hour-only offset
    "2026-02-09T24:00:00Z",         # hour 24
    "2026-02-09T12:00:60Z",         # leap second
    "2025-02-29T00:00:00Z",         # not a leap year
    "2100-02-29T00:00:00Z",         # century, not a leap year
    "2026-04-31T00:00:00Z",         # April has 30 days
    "2026-13-01T00:00:00Z",
    "2026-02-09T12:00:00Z\n",       # a trailing newline (Python's $ would let it through)
    " 2026-02-09T12:00:00Z",
    "2026-02-09",
    "\u0662026-02-09T12:00:00Z",    # an Arabic-Indic digit: not [0-9]
    "",
])
def test_timestamps_that_fail(value: str) -> None:
    assert errors_of(with_(timestamp=value)) == [
        ("$.timestamp", "PATTERN_MISMATCH", TS_MESSAGE.format(value))]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("seller_party_id", "NERSA:gen:X",
     "seller_party_id must be a party identifier <authority>:<type>:<id> such as "
     "nersa:gen:SOLARPK-001, got 'NERSA:gen:X'"),
    ("tariff_schedule_id", "za-eskom:national:TOU-2026",
     "tariff_schedule_id must be a tariff schedule identifier "
     "<authority>:<municipality>:<code>:v<version> such as za-eskom:national:TOU-2026:v3, "
     "got 'za-eskom:national:TOU-2026'"),
    ("tariff_currency", "zar",
     "tariff_currency must be an ISO 4217 currency code (three capital letters) such as ZAR, "
     "got 'zar'"),
    ("settlement_period_start", "2026-02-18 14:00",
     "settlement_period_start must be an ISO 8601 date-time with a time zone (Z or ±HH:MM) "
     "such as 2026-02-09T12:00:00Z, got '2026-02-18 14:00'"),
])
def test_pattern_messages(field: str, value: str, message: str) -> None:
    assert errors_of(with_(**{field: value})) == [(f"$.{field}", "PATTERN_MISMATCH", message)]


@pytest.mark.parametrize("party", [
    "nersa:gen:SOLARPK-001", "nersa:offtaker:MUN042", "za-nersa:trader:ENPOWER-001",
    "za-city-capetown:offtaker:METRO-4401", "za-eskom:network_operator:WC-01",
    "za-nersa:brp:ETANA-BRP-01", "nersa:brp:BRP-01", "za-nersa:generator:NCAPE-SOLAR-12",
    "za-city-emfuleni:municipality:EMF", "za-eskom:distribution:GT-01",
])
def test_documented_party_ids_pass(party: str) -> None:
    assert errors_of(with_(seller_party_id=party, balance_responsible_party_id=party)) == []


@pytest.mark.parametrize("tariff", ["za-eskom:national:TOU-2026:v3",
                                    "za-city-capetown:cpt:LT-MD-2026:v1"])
def test_documented_tariff_ids_pass(tariff: str) -> None:
    assert errors_of(with_(tariff_schedule_id=tariff)) == []


# ---- the documented example records (contract.md 3.3) -----------------------------------------

EXAMPLES = [
    {"timestamp": "2026-02-09T10:00:00+02:00", "kWh": 8.4, "error_type": "normal",
     "direction": "generation"},
    {"timestamp": "2026-02-09T10:00:00+02:00", "kWh": 12.1, "error_type": "normal",
     "direction": "consumption", "end_use": "cooling", "fuel_type": "electricity"},
    {"timestamp": "2026-02-09T10:00:00+02:00", "kWh": -1.7, "error_type": "normal",
     "direction": "net"},
    {"timestamp": "2026-02-18T14:00:00+02:00", "kWh": 87.3, "error_type": "normal",
     "seller_party_id": "nersa:gen:SOLARPK-001", "buyer_party_id": "nersa:offtaker:MUN042",
     "network_operator_id": "za-eskom:network_operator:WC-01", "wheeling_type": "virtual",
     "wheeling_status": "provisional", "injection_point_id": "ESK-INJ-0042",
     "offtake_point_id": "CPT-OFT-1187", "loss_factor": 0.032, "settlement_type": "bilateral"},
    {"timestamp": "2026-02-18T14:00:00+02:00", "kWh": 312.5, "error_type": "normal",
     "balance_responsible_party_id": "za-nersa:brp:ETANA-BRP-01", "forecast_kWh": 320.0,
     "imbalance_kWh": -7.5, "settlement_type": "sawem_day_ahead"},
    {"timestamp": "2026-02-18T14:00:00+02:00", "kWh": 44.8, "error_type": "normal",
     "buyer_party_id": "za-city-capetown:offtaker:METRO-4401", "billing_period": "2026-02",
     "billed_kWh": 44.8, "billing_status": "adjusted", "daa_reference": "DAA-2025-0042"},
    {"timestamp": "2026-02-18T14:00:00+02:00", "kWh": 0.0, "error_type": "normal",
     "curtailment_flag": True, "curtailment_type": "congestion", "curtailed_kWh": 41.4,
     "curtailment_instruction_id": "SO-2026-02-18-0091"},
    {"timestamp": "2026-02-18T14:00:00+02:00", "kWh": 0, "error_type": "normal",
     "renewable_attribute_id": "IREC-ZA-2026-000123", "certificate_standard": "i_rec",
     "verification_status": "issued", "carbon_intensity_gCO2_per_kWh": 0},
    {"timestamp": "2026-02-18T14:00:00+02:00", "kWh": 10.0, "error_type": "normal",
     "tariff_schedule_id": "za-city-capetown:cpt:LT-MD-2026:v1", "tariff_period": "peak",
     "tariff_currency": "ZAR", "tariff_version_effective_at": "2026-01-01T00:00:00+02:00",
     "generation_charge_component": 1.2, "transmission_charge_component": 0.1,
     "distribution_charge_component": 0.3, "ancillary_service_charge_component": 0.02,
     "non_bypassable_charge_component": 0.05, "environmental_levy_component": 0.04},
]


@pytest.mark.parametrize("record", EXAMPLES, ids=range(len(EXAMPLES)))
def test_documented_examples_are_valid(record: dict[str, Any]) -> None:
    assert errors_of(record) == []


# ---- Arrow: the same checks, a null is an absent field -----------------------------------------

def batch_errors(data: Any) -> list[tuple[int, str, str, str]]:
    return [(i, e.path, e.code, e.message) for i, e in validate_batch(data).errors]


def test_arrow_null_is_absent_not_a_type_error() -> None:
    table = pa.table({
        "timestamp": pa.array([dt.datetime(2026, 2, 9, tzinfo=dt.timezone.utc), None],
                              pa.timestamp("us", tz="UTC")),
        "kWh": [1.0, 2.0],
        "error_type": ["normal", "normal"],
        "asset_id": pa.array([None, None], pa.string()),
    })
    assert batch_errors(table) == [
        (1, "$.timestamp", "REQUIRED_FIELD_MISSING", "required field 'timestamp' is missing")]


def test_arrow_missing_required_column() -> None:
    table = pa.table({"timestamp": ["2026-02-09T12:00:00Z"], "kWh": [1.0]})
    assert batch_errors(table) == [
        (0, "$.error_type", "REQUIRED_FIELD_MISSING", "required field 'error_type' is missing")]


def test_arrow_column_of_the_wrong_type() -> None:
    table = pa.table({"timestamp": ["2026-02-09T12:00:00Z"] * 2, "kWh": ["1.5", None],
                      "error_type": ["normal"] * 2})
    assert batch_errors(table) == [
        (0, "$.kWh", "TYPE_MISMATCH", "kWh must be a number, got string '1.5'"),
        (1, "$.kWh", "REQUIRED_FIELD_MISSING", "required field 'kWh' is missing"),
    ]


def test_arrow_naive_timestamps_have_no_zone() -> None:
    table = pa.table({"timestamp": pa.array([dt.datetime(2026, 2, 9, 12)], pa.timestamp("us")),
                      "kWh": [1.0], "error_type": ["normal"]})
    [(index, path, code, message)] = batch_errors(table)
    assert (index, path, code) == (0, "$.timestamp", "PATTERN_MISMATCH")
    assert message.endswith("got datetime.datetime(2026, 2, 9, 12, 0) (an Arrow timestamp "
                            "without a time zone)")


@pytest.mark.parametrize("column", [
    pa.array([1, -2], pa.int32()),
    pa.array([1.0, -2.0], pa.float32()),
    pa.array([Decimal("1.0"), Decimal("-2.0")], pa.decimal128(5, 1)),
])
def test_arrow_numeric_types_are_numbers(column: pa.Array) -> None:
    table = pa.table({"timestamp": ["2026-02-09T12:00:00Z"] * 2, "kWh": column,
                      "error_type": ["normal"] * 2})
    assert [(i, code) for i, _, code, _ in batch_errors(table)] == [(1, "OUT_OF_BOUNDS")]


def test_arrow_other_string_and_time_encodings() -> None:
    table = pa.table({
        "timestamp": pa.array([dt.datetime(2026, 2, 9, 12, tzinfo=dt.timezone.utc)] * 2,
                              pa.timestamp("ns", tz="Africa/Johannesburg")),
        "kWh": [1.0, 2.0],
        "error_type": pa.array(["normal", "bad"]).dictionary_encode(),
        "asset_id": pa.array(["A", "B"], pa.large_string()),
    })
    assert batch_errors(table) == [
        (1, "$.error_type", "ENUM_MISMATCH", "error_type must be one of normal, warning, "
         "critical, fault, offline, standby or unknown, got 'bad'")]


def test_arrow_timestamp_text_is_checked_like_dicts() -> None:
    table = pa.table({"timestamp": ["2026-02-09T12:00:00Z", "2026-02-09 12:00"],
                      "kWh": [1.0, 1.0], "error_type": ["normal"] * 2})
    assert batch_errors(table) == [
        (1, "$.timestamp", "PATTERN_MISMATCH", TS_MESSAGE.format("2026-02-09 12:00"))]


def test_arrow_nan_in_a_float_column_is_out_of_bounds() -> None:
    table = pa.table({"timestamp": ["2026-02-09T12:00:00Z"], "kWh": [math.nan],
                      "error_type": ["normal"]})
    assert batch_errors(table) == [
        (0, "$.kWh", "OUT_OF_BOUNDS", "kWh must be a finite number, got nan")]


def test_arrow_conditional_bound_reads_direction_column() -> None:
    table = pa.table({"timestamp": ["2026-02-09T12:00:00Z"] * 3, "kWh": [-1.0, -1.0, -1.0],
                      "error_type": ["normal"] * 3, "direction": ["net", None, "consumption"]})
    assert [(i, code) for i, _, code, _ in batch_errors(table)] == [
        (1, "OUT_OF_BOUNDS"), (2, "OUT_OF_BOUNDS")]


# ---- dicts: columns that mix types, sparse fields, explicit None ------------------------------

def test_sparse_optional_field_with_an_explicit_none() -> None:
    records = [dict(GOOD) for _ in range(5)]
    records[1]["soc"] = 50
    records[3]["soc"] = None  # present, but null: a type error in a dict
    assert batch_errors(records) == [
        (3, "$.soc", "TYPE_MISMATCH", "soc must be a number, got null (an explicit None: leave "
         "the field out when it has no value)")]


def test_bool_mixed_into_a_float_column_is_caught() -> None:
    # Arrow's own inference would read [1.5, True] as two doubles
    records = [with_(kWh=1.5), with_(kWh=True), with_(kWh=2)]
    assert batch_errors(records) == [
        (1, "$.kWh", "TYPE_MISMATCH", "kWh must be a number, got boolean true")]


def test_errors_are_ordered_by_record_then_field() -> None:
    records = [with_(kWh=-1, error_type="x"), GOOD, with_(timestamp="bad", PF=2)]
    assert [(i, path) for i, path, _, _ in batch_errors(records)] == [
        (0, "$.kWh"), (0, "$.error_type"), (2, "$.timestamp"), (2, "$.PF")]


def test_error_values_are_kept() -> None:
    [error] = validate(with_(PF=1.5)).errors
    assert error.value == 1.5
    assert error.field == "PF"
    assert error.to_dict() == {"path": "$.PF", "code": "OUT_OF_BOUNDS",
                               "message": "PF must be <= 1, got 1.5"}
