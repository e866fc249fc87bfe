"""Conformance profiles: the six built-ins, their codes and messages, and custom profiles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from odse import PROFILES, validate, validate_batch
from odse.errors import ParameterError

# The conformance-profiles page's bilateral record
BILATERAL = {
    "timestamp": "2026-02-18T14:00:00+02:00", "kWh": 87.3, "error_type": "normal",
    "seller_party_id": "nersa:gen:SOLARPK-001", "buyer_party_id": "nersa:offtaker:MUN042",
    "settlement_period_start": "2026-02-18T14:00:00+02:00",
    "settlement_period_end": "2026-02-18T14:30:00+02:00",
    "contract_reference": "PPA-SOLARPK-MUN042-2025-003", "settlement_type": "bilateral",
}


def errors_of(record: Any, profile: str) -> list[tuple[str, str, str]]:
    return [(e.path, e.code, e.message) for e in validate(record, profile=profile).errors]


def test_the_six_profiles_in_order() -> None:
    assert list(PROFILES) == ["bilateral", "wheeling", "sawem_brp", "municipal_recon",
                              "bess_dispatch", "wind_scada"]
    for profile in PROFILES.values():
        assert set(profile) == {"required_fields", "field_constraints"}
        assert isinstance(profile["required_fields"], list)
        assert isinstance(profile["field_constraints"], dict)
    assert PROFILES["bilateral"]["required_fields"][:3] == [
        "seller_party_id", "buyer_party_id", "settlement_period_start"]


def test_the_required_fields_and_constraints() -> None:
    bilateral = ["seller_party_id", "buyer_party_id", "settlement_period_start",
                 "settlement_period_end", "contract_reference", "settlement_type"]
    assert PROFILES["bilateral"]["required_fields"] == bilateral
    assert PROFILES["wheeling"]["required_fields"] == [
        *bilateral, "network_operator_id", "wheeling_type", "wheeling_status",
        "injection_point_id", "offtake_point_id", "loss_factor"]
    assert PROFILES["sawem_brp"]["required_fields"] == [
        "seller_party_id", "balance_responsible_party_id", "settlement_type", "forecast_kWh",
        "settlement_period_start", "settlement_period_end"]
    assert PROFILES["municipal_recon"]["required_fields"] == [
        "buyer_party_id", "billing_period", "billed_kWh", "billing_status"]
    assert PROFILES["bess_dispatch"]["required_fields"] == ["dispatch_mode", "soc"]
    assert PROFILES["wind_scada"]["required_fields"] == ["wind_speed_ms"]
    assert {name: p["field_constraints"] for name, p in PROFILES.items()} == {
        "bilateral": {"settlement_type": {"enum": ["bilateral"]}},
        "wheeling": {"settlement_type": {"enum": ["bilateral"]}},
        "sawem_brp": {"settlement_type": {"enum": ["sawem_day_ahead", "sawem_intra_day",
                                                   "balancing", "ancillary"]}},
        "municipal_recon": {},
        "bess_dispatch": {"dispatch_mode": {"enum": ["charging", "discharging", "standby",
                                                     "balancing"]}},
        "wind_scada": {},
    }


def test_the_bilateral_record_passes() -> None:  # VV-8
    assert validate(BILATERAL, profile="bilateral").is_valid


def test_a_missing_profile_field() -> None:  # VV-9
    record = {k: v for k, v in BILATERAL.items() if k != "contract_reference"}
    result = validate(record, profile="bilateral")
    assert not result.is_valid
    assert result.errors[0].code == "PROFILE_FIELD_MISSING"
    assert errors_of(record, "bilateral") == [
        ("$.contract_reference", "PROFILE_FIELD_MISSING",
         "profile 'bilateral' requires field 'contract_reference'")]


def test_a_value_the_profile_does_not_allow() -> None:
    assert errors_of({**BILATERAL, "settlement_type": "balancing"}, "bilateral") == [
        ("$.settlement_type", "PROFILE_VALUE_MISMATCH",
         "profile 'bilateral': settlement_type must be one of bilateral, got 'balancing'")]


def test_an_unknown_profile() -> None:  # VV-10
    assert errors_of(BILATERAL, "bilaterl") == [
        ("$", "UNKNOWN_PROFILE", "unknown profile 'bilaterl'; did you mean 'bilateral'? known "
         "profiles: bilateral, wheeling, sawem_brp, municipal_recon, bess_dispatch, "
         "wind_scada")]
    assert errors_of(BILATERAL, "does_not_exist")[0][2] == (
        "unknown profile 'does_not_exist'; known profiles: bilateral, wheeling, sawem_brp, "
        "municipal_recon, bess_dispatch, wind_scada")


def test_profiles_wait_for_the_schema() -> None:  # VV-15
    record = {k: v for k, v in BILATERAL.items() if k != "timestamp"}
    record["contract_reference"] = 5
    assert [(p, c) for p, c, _ in errors_of(record, "bilateral")] == [
        ("$.timestamp", "REQUIRED_FIELD_MISSING"), ("$.contract_reference", "TYPE_MISMATCH")]


def test_no_cross_field_checks() -> None:
    # the guide's window (18 Feb) need not contain the record's own time (9 Feb)
    assert validate({**BILATERAL, "timestamp": "2026-02-09T12:00:00Z"},
                    profile="bilateral").is_valid


def test_sawem_brp_and_bess_dispatch_and_wind() -> None:
    sawem = {**{k: BILATERAL[k] for k in ("timestamp", "kWh", "error_type", "seller_party_id",
                                          "settlement_period_start", "settlement_period_end")},
             "balance_responsible_party_id": "za-nersa:brp:ETANA-BRP-01",
             "forecast_kWh": 320.0, "settlement_type": "bilateral"}
    assert errors_of(sawem, "sawem_brp") == [
        ("$.settlement_type", "PROFILE_VALUE_MISMATCH", "profile 'sawem_brp': settlement_type "
         "must be one of sawem_day_ahead, sawem_intra_day, balancing or ancillary, got "
         "'bilateral'")]
    battery = {"timestamp": "2026-02-18T14:00:00Z", "kWh": 5.0, "error_type": "normal",
               "dispatch_mode": "charging"}
    assert errors_of(battery, "bess_dispatch") == [
        ("$.soc", "PROFILE_FIELD_MISSING", "profile 'bess_dispatch' requires field 'soc'")]
    assert validate({**battery, "soc": 55}, profile="bess_dispatch").is_valid
    turbine = {"timestamp": "2026-02-18T14:00:00Z", "kWh": 5.0, "error_type": "normal"}
    assert errors_of(turbine, "wind_scada")[0][1] == "PROFILE_FIELD_MISSING"
    assert validate({**turbine, "wind_speed_ms": 7.5}, profile="wind_scada").is_valid


def test_a_batch_with_a_profile_and_arrow_nulls() -> None:
    table = pa.Table.from_pylist([BILATERAL, {**BILATERAL, "contract_reference": None}])
    result = validate_batch(table, profile="bilateral")
    assert [(i, e.code, e.path) for i, e in result.errors] == [
        (1, "PROFILE_FIELD_MISSING", "$.contract_reference")]
    assert result.summary == "1/2 valid (schema), 1 error: 1x PROFILE_FIELD_MISSING"


def test_a_profile_with_the_semantic_level() -> None:
    result = validate({**BILATERAL, "kWh": 500.0}, level="semantic", capacity_kw=10.0,
                      profile="bilateral")
    assert result.is_valid
    assert [w.code for w in result.warnings] == ["EXCEEDS_PHYSICAL_MAXIMUM"]


@pytest.fixture
def custom_profile() -> Iterator[str]:
    PROFILES["metered_site"] = {
        "required_fields": ["asset_id", "meter_id"],
        "field_constraints": {"meter_id": {"type": "string", "pattern": "^M-[0-9]+$"},
                              "kWh": {"maximum": 100}},
    }
    yield "metered_site"
    del PROFILES["metered_site"]


def test_a_custom_profile(custom_profile: str) -> None:
    base = {"timestamp": "2026-02-18T14:00:00Z", "kWh": 5.0, "error_type": "normal",
            "asset_id": "A"}
    assert validate({**base, "meter_id": "M-12"}, profile=custom_profile).is_valid
    assert errors_of(base, custom_profile) == [
        ("$.meter_id", "PROFILE_FIELD_MISSING",
         "profile 'metered_site' requires field 'meter_id'")]
    assert errors_of({**base, "meter_id": 12, "kWh": 150.0}, custom_profile) == [
        ("$.meter_id", "PROFILE_VALUE_MISMATCH",
         "profile 'metered_site': meter_id must be a string, got number 12"),
        ("$.kWh", "PROFILE_VALUE_MISMATCH",
         "profile 'metered_site': kWh must be <= 100, got 150.0"),
    ]
    assert errors_of({**base, "meter_id": "X"}, custom_profile)[0][2] == (
        "profile 'metered_site': meter_id must be text matching the pattern '^M-[0-9]+$', "
        "got 'X'")


@pytest.mark.parametrize(("profile", "message"), [
    ({"field_constraints": {}}, "profile 'broken' is malformed"),
    ({"required_fields": [], "field_constraints": {"x": {"minimum": 0}}},
     "profile 'broken' has a constraint on 'x' odse cannot use"),
    ({"required_fields": [], "field_constraints": {"kWh": {"minLength": 1}}},
     "profile 'broken' has a constraint on 'kWh' odse cannot use"),
])
def test_a_malformed_profile_is_refused(profile: dict[str, Any], message: str) -> None:
    PROFILES["broken"] = profile
    try:
        with pytest.raises(ParameterError, match=message):
            validate({**BILATERAL, "x": 1}, profile="broken")
    finally:
        del PROFILES["broken"]
