"""Semantic warnings: physical maximum over the interval, night-time generation, state/output."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from odse import validate, validate_batch
from odse.validation.intervals import spacing_hours

UTC = dt.timezone.utc


def rec(minute: int = 0, kwh: float = 0.5, **extra: Any) -> dict[str, Any]:
    stamp = dt.datetime(2026, 2, 9, 12, tzinfo=UTC) + dt.timedelta(minutes=minute)
    return {"timestamp": stamp.isoformat().replace("+00:00", "Z"), "kWh": kwh,
            "error_type": "normal", **extra}


def warnings_of(records: list[dict[str, Any]], **kwargs: Any) -> list[tuple[int, str, str]]:
    result = validate_batch(records, level="semantic", **kwargs)
    return [(i, w.code, w.message) for i, w in result.warnings]


# ---- EXCEEDS_PHYSICAL_MAXIMUM -----------------------------------------------------------------

def test_500_kwh_on_10_kw_is_valid_with_one_warning() -> None:  # VV-3
    record = {"timestamp": "2026-02-09T14:00:00Z", "kWh": 500.0, "error_type": "normal"}
    result = validate(record, level="semantic", capacity_kw=10.0)
    assert result.is_valid
    assert result.errors == []
    [warning] = result.warnings
    assert (warning.path, warning.code) == ("$.kWh", "EXCEEDS_PHYSICAL_MAXIMUM")
    assert warning.message == (
        "kWh 500 exceeds the physical maximum of 11 kWh for a 10 kW capacity over 60 minutes "
        "(capacity x interval x 1.1; no interval known, 60 minutes assumed)")


def test_the_interval_from_the_caller() -> None:
    # 10 kW over 5 minutes: at most 10 * 5/60 * 1.1 = 0.9167 kWh
    assert warnings_of([rec(kwh=0.9)], capacity_kw=10.0, interval_minutes=5) == []
    assert warnings_of([rec(kwh=0.92)], capacity_kw=10.0, interval_minutes=5) == [
        (0, "EXCEEDS_PHYSICAL_MAXIMUM", "kWh 0.92 exceeds the physical maximum of 0.916667 "
         "kWh for a 10 kW capacity over 5 minutes (capacity x interval x 1.1; interval given "
         "by the caller)")]


def test_the_interval_from_the_spacing_of_the_data() -> None:
    records = [rec(0, 0.9), rec(5, 0.95), rec(10, 0.5), rec(15, 0.5)]
    assert warnings_of(records, capacity_kw=10.0) == [
        (1, "EXCEEDS_PHYSICAL_MAXIMUM", "kWh 0.95 exceeds the physical maximum of 0.916667 kWh "
         "for a 10 kW capacity over 5 minutes (capacity x interval x 1.1; interval from the "
         "spacing of the series' timestamps)")]


def test_the_interval_ignores_the_ignoring_of_the_interval() -> None:
    # the original package compared 5-minute energy with one hour at full power
    records = [rec(5 * i, 5.0) for i in range(12)]
    assert len(warnings_of(records, capacity_kw=10.0)) == 12


def test_the_caller_overrides_the_spacing() -> None:
    records = [rec(0, 5.0), rec(5, 5.0)]
    assert warnings_of(records, capacity_kw=10.0, interval_minutes=60) == []


def test_each_asset_has_its_own_spacing() -> None:
    # hourly asset A and 5-minute asset B, interleaved
    records = []
    for i in range(4):
        records.append(rec(60 * i, 5.0, asset_id="A"))
        records.append(rec(5 * i, 5.0, asset_id="B"))
    flagged = {i for i, _, _ in warnings_of(records, capacity_kw=10.0)}
    assert flagged == {1, 3, 5, 7}


def test_consumption_is_not_limited_by_the_generation_capacity() -> None:
    assert warnings_of([rec(kwh=500.0, direction="consumption")], capacity_kw=10.0) == []
    assert [c for _, c, _ in warnings_of([rec(kwh=500.0, direction="net")],
                                         capacity_kw=10.0)] == ["EXCEEDS_PHYSICAL_MAXIMUM"]


def test_warnings_only_for_records_without_errors() -> None:
    records = [rec(0, 500.0), rec(5, 500.0, error_type="bad")]
    result = validate_batch(records, level="semantic", capacity_kw=10.0)
    assert [i for i, _ in result.warnings] == [0]
    assert [i for i, _ in result.errors] == [1]


# ---- STATE_PRODUCTION_MISMATCH ----------------------------------------------------------------

@pytest.mark.parametrize("state", ["offline", "fault"])
def test_production_while_offline_or_faulted(state: str) -> None:
    assert warnings_of([rec(kwh=0.4, error_type=state)]) == [
        (0, "STATE_PRODUCTION_MISMATCH",
         f"production of 0.4 kWh reported while error_type is '{state}'")]


def test_state_check_leaves_quiet_and_consuming_records_alone() -> None:
    records = [rec(0, 0.0, error_type="offline"), rec(5, 3.0, error_type="standby"),
               rec(10, 3.0, error_type="offline", direction="consumption")]
    assert warnings_of(records) == []


def test_the_production_floor_with_a_capacity() -> None:
    # floor = 1 % of 10 kW over 5 minutes = 0.00833 kWh: meter noise stays under it
    records = [rec(0, 0.005, error_type="offline"), rec(5, 0.01, error_type="offline")]
    assert [i for i, _, _ in warnings_of(records, capacity_kw=10.0)] == [1]


# ---- NIGHTTIME_GENERATION ---------------------------------------------------------------------

JOBURG = {"latitude": -26.2, "longitude": 28.05}


def at(stamp: str, kwh: float, **extra: Any) -> dict[str, Any]:
    return {"timestamp": stamp, "kWh": kwh, "error_type": "normal", **extra}


def test_generation_at_night() -> None:
    # 22:00 UTC is midnight in Johannesburg
    records = [at("2026-02-09T22:00:00Z", 3.2), at("2026-02-09T22:05:00Z", 0.0)]
    [(index, code, message)] = warnings_of(records, **JOBURG)
    assert (index, code) == (0, "NIGHTTIME_GENERATION")
    assert message.startswith("kWh 3.2 generated while the sun stays at least ")
    assert message.endswith(" degrees below the horizon (latitude -26.2, longitude 28.05); are "
                            "the timestamps local time labelled as UTC?")


def test_local_time_labelled_utc_is_caught() -> None:
    # hourly production at Johannesburg clock times (06:00 to 19:00), stamped as UTC: the
    # evening hours land after dusk (19:00Z is 21:00 local). 17:00Z starts in twilight.
    records = [at(f"2026-02-09T{h:02d}:00:00Z", 2.0) for h in range(6, 20)]
    found = warnings_of(records, **JOBURG)
    flagged = [records[i]["timestamp"][11:16] for i, code, _ in found
               if code == "NIGHTTIME_GENERATION"]
    assert flagged == ["18:00", "19:00"]
    # the flat 2.0 kWh and the clock off the sun are fleet-check warnings (test_fleet_checks)
    assert {code for _, code, _ in found} >= {"STUCK_VALUE", "TIMEZONE_SUSPECT"}


def test_daytime_and_twilight_are_not_flagged() -> None:
    # sunset in Johannesburg on 9 Feb is about 16:55 UTC; civil dusk about 17:20 UTC
    records = [at("2026-02-09T10:00:00Z", 5.0), at("2026-02-09T16:50:00Z", 0.3),
               at("2026-02-09T17:00:00Z", 0.1)]
    assert [code for _, code, _ in warnings_of(records, **JOBURG)] == ["MISSING_INTERVALS"]


def test_batteries_wind_and_consumption_are_not_checked_at_night() -> None:
    records = [at("2026-02-09T22:00:00Z", 3.0, dispatch_mode="discharging"),
               at("2026-02-09T22:05:00Z", 3.0, wind_speed_ms=8.0),
               at("2026-02-09T22:10:00Z", 3.0, direction="consumption")]
    assert warnings_of(records, **JOBURG) == []


def test_a_long_interval_that_reaches_daylight_is_not_flagged() -> None:
    # a daily total stamped at midnight: the middle of the day is in the interval
    assert warnings_of([at("2026-02-09T00:00:00+02:00", 40.0)], interval_minutes=1440,
                       **JOBURG) == []
    assert [c for _, c, _ in warnings_of([at("2026-02-09T00:00:00+02:00", 40.0)],
                                         **JOBURG)] == ["NIGHTTIME_GENERATION"]


def test_night_check_on_an_arrow_table() -> None:
    table = pa.table({
        "timestamp": pa.array([dt.datetime(2026, 2, 9, 22, tzinfo=UTC),
                               dt.datetime(2026, 2, 9, 10, tzinfo=UTC)],
                              pa.timestamp("us", tz="UTC")),
        "kWh": [1.0, 1.0], "error_type": ["normal", "normal"]})
    result = validate_batch(table, level="semantic", interval_minutes=60, **JOBURG)
    assert [(i, w.code) for i, w in result.warnings] == [(0, "NIGHTTIME_GENERATION")]
    assert result.valid == 2


def test_fractional_and_offset_timestamps_are_read_for_the_checks() -> None:
    records = [at("2026-02-10T00:00:00.123456789+02:00", 3.0),
               at("2026-02-09T22:05:00.1234567Z", 3.0), at("2026-02-10T00:10:00.5+02:00", 3.0)]
    assert [i for i, _, _ in warnings_of(records, **JOBURG)] == [0, 1, 2]


# ---- the interval read from the data ----------------------------------------------------------

def stamps(*minutes: int | None) -> pa.Array:
    base = dt.datetime(2026, 2, 9, tzinfo=UTC)
    return pa.array([None if m is None else base + dt.timedelta(minutes=m) for m in minutes],
                    pa.timestamp("us", tz="UTC"))


def hours_to_minutes(values: pa.Array) -> list[float | None]:
    return [None if v is None else round(v * 60, 6) for v in values.to_pylist()]


def test_spacing_gap_to_the_next_record_last_takes_the_previous() -> None:
    assert hours_to_minutes(spacing_hours(stamps(0, 5, 15, 30), [])) == [5, 10, 15, 15]


def test_spacing_in_any_input_order() -> None:
    assert hours_to_minutes(spacing_hours(stamps(15, 0, 30, 5), [])) == [15, 5, 15, 10]


def test_spacing_per_series_and_duplicates() -> None:
    keys = [pa.array(["A", "B", "A", "B", "A", None, None])]
    got = hours_to_minutes(spacing_hours(stamps(0, 0, 10, 30, 10, 0, 60), keys))
    # A: 0, 10, 10 (duplicates share the gap before them at the end); B: 0, 30; absent: 0, 60
    assert got == [10, 30, 10, 30, 10, 60, 60]


def test_spacing_unknown_for_a_lone_record_or_nulls() -> None:
    assert hours_to_minutes(spacing_hours(stamps(0), [])) == [None]
    assert hours_to_minutes(spacing_hours(stamps(None, 0, None, 5), [])) == [None, 5, None, 5]
    keys = [pa.array(["A", "B", "B"])]
    assert hours_to_minutes(spacing_hours(stamps(0, 0, 5), keys)) == [None, 5, 5]


def test_spacing_skips_duplicates_in_the_middle() -> None:
    assert hours_to_minutes(spacing_hours(stamps(0, 10, 10, 25), [])) == [10, 15, 15, 15]


def test_spacing_with_several_key_columns() -> None:
    keys = [pa.array(["A", "A", "A", "A"]), pa.array(["generation", "net", "generation",
                                                      "net"])]
    assert hours_to_minutes(spacing_hours(stamps(0, 0, 15, 5), keys)) == [15, 5, 15, 5]


def test_semantic_with_a_site_position_on_the_bundled_example() -> None:
    # 7.5-minute offsets into an interval once failed the cast to whole microseconds
    from pathlib import Path

    import odse

    alpha = Path(__file__).parent.parent / "examples/data/incoming/2026-02-09/site_alpha.csv"
    records = odse.transform(alpha, source="huawei")
    result = odse.validate_batch(records, level="semantic", capacity_kw=10.0, latitude=-26.2,
                                 longitude=28.05)
    assert result.summary.startswith("263/263 valid (semantic); ")
    [(_, zone)] = [(i, w.message) for i, w in result.warnings if w.code == "TIMEZONE_SUSPECT"]
    assert "pass timezone='Africa/Johannesburg'" in zone


def test_night_check_with_an_interval_that_is_not_whole_microseconds_in_hours():
    # a gap of 125 minutes is 7500000000.000001 us through float hours; it must not fail
    from pathlib import Path

    from odse import transform

    export = Path(__file__).parent.parent / "examples/data/incoming/2026-02-09/site_alpha.csv"
    rows = transform(export, source="huawei",
                     asset_id="SITE-ALPHA")
    result = validate_batch(rows, level="semantic", capacity_kw=2.0, **JOBURG)
    assert result.summary.startswith("263/263 valid (semantic)"), result.summary


def test_the_night_check_decides_as_the_full_formulas_on_every_record() -> None:
    # the night check reads the sun per UTC day and uses the full formulas only near the
    # threshold: on records spread over twilights, latitudes and interval lengths, its mask
    # and its messages are those of the full formulas at every record's three instants
    import math
    import random

    import pyarrow.compute as pc

    from odse.validation.semantic import NIGHT_ELEVATION_DEG, SemanticOptions, _highest, _night

    rng = random.Random(18)
    n = 20_000
    micros = [rng.randrange(946_684_800, 4_102_444_800) * 1_000_000 for _ in range(n)]
    times = pa.array(micros, pa.timestamp("us", tz="UTC"))
    hours = pa.array([rng.choice([1 / 12, 0.25, 1.0, 0.125, 6.0]) for _ in range(n)])
    candidates = pa.array([rng.random() < 0.9 for _ in range(n)])
    for latitude, longitude in ((-26.2, 28.05), (52.1, 5.1), (69.6, 18.9), (0.0, -179.5)):
        options = SemanticOptions(latitude=latitude, longitude=longitude)
        mask, highest = _night(times, hours, candidates, options)
        start = pc.cast(pc.cast(times, pa.int64()), pa.float64())
        full = _highest(start, pc.multiply(hours, 3.6e9), latitude, longitude).to_pylist()
        expected = [bool(c) and top < NIGHT_ELEVATION_DEG
                    for c, top in zip(candidates.to_pylist(), full, strict=True)]
        assert mask.to_pylist() == expected
        assert 0.2 < mask.true_count / n < 0.6  # nights and days both well represented
        near = [i for i, top in enumerate(full) if abs(top - NIGHT_ELEVATION_DEG) < 0.3][:50]
        assert len(near) == 50  # and records at the threshold itself
        assert highest(near).to_pylist() == [full[i] for i in near]
        assert not any(math.isnan(x) for x in full)
