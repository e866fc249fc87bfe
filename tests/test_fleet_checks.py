"""The fleet checks: duplicates, gaps, stuck values, the clock against the sun, energy balance."""

from __future__ import annotations

import datetime as dt
import math
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import odse
from odse import validate_batch

ENLIGHTEN = Path(__file__).parent / "data" / "real" / "enphase" / \
    "enlighten_custom_report_9999998.csv"
NETHERLANDS = {"latitude": 52.1, "longitude": 5.1}
JOBURG = {"latitude": -26.2, "longitude": 28.05}


def warnings_of(records: Any, **kwargs: Any) -> list[tuple[int, str, str]]:
    result = validate_batch(records, level="semantic", **kwargs)
    return [(i, w.code, w.message) for i, w in result.warnings]


def by_code(found: list[tuple[int, str, str]], code: str) -> list[tuple[int, str]]:
    return [(i, message) for i, c, message in found if c == code]


def at(moment: dt.datetime, kwh: float, **extra: Any) -> dict[str, Any]:
    return {"timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "kWh": kwh,
            "error_type": "normal", **extra}


def sunny_days(days: int, step_minutes: int, clock_offset_h: float,
               noon_utc_h: float = 10.35) -> list[dict[str, Any]]:
    """A bell of production around solar noon, stamped `clock_offset_h` off UTC."""
    out = []
    start = dt.datetime(2026, 2, 9)
    for k in range(days * 24 * 60 // step_minutes):
        moment = start + dt.timedelta(minutes=k * step_minutes)
        middle = moment.hour + (moment.minute + step_minutes / 2) / 60
        x = (middle - noon_utc_h) / 6.5
        kwh = round(max(0.0, math.cos(x * math.pi / 2)) * step_minutes / 60 * 5 * (1 + k % 3 / 97),
                    4) if abs(x) < 1 else 0.0
        out.append(at(moment + dt.timedelta(hours=clock_offset_h), kwh))
    return out


def test_a_correct_clock_gives_no_time_zone_warning() -> None:
    assert not by_code(warnings_of(sunny_days(3, 15, 0.0), **JOBURG), "TIMEZONE_SUSPECT")


def test_local_time_read_as_utc_names_the_zone() -> None:
    records = sunny_days(3, 15, 2.0)
    [(index, message)] = by_code(warnings_of(records, **JOBURG), "TIMEZONE_SUSPECT")
    # on the series' first producing record
    assert index == next(i for i, r in enumerate(records) if r["kWh"] > 0)
    shift = float(message.split("generation centres ")[1].split(" h after solar noon")[0])
    assert 1.75 <= shift <= 2.25, message
    assert " h after solar noon at latitude -26.2, longitude 28.05 (2026-02 +" in message
    assert message.endswith("the timestamps look like local time read as UTC: pass "
                            "timezone='Africa/Johannesburg' (the zone nearest the site whose "
                            "UTC offset matches every month: UTC+02:00 here)")


def test_end_labelled_hours_are_named() -> None:
    [(_, message)] = by_code(warnings_of(sunny_days(3, 60, 1.0), **JOBURG), "TIMEZONE_SUSPECT")
    assert message.endswith("the timestamps look like the end of each interval read as its "
                            "start: read them as end-labelled (label: end in the mapping)")


def test_duplicates_gaps_and_stuck_values() -> None:
    start = dt.datetime(2026, 2, 9, 6)
    values = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]
    records = [at(start + dt.timedelta(hours=h), v, asset_id="A") for h, v in enumerate(values)]
    records.insert(3, dict(records[3]))  # a repeat of 09:00
    del records[8:10]  # 13:00 and 14:00 missing
    records += [at(start + dt.timedelta(hours=h), 2.5, asset_id="B") for h in range(8)]
    found = warnings_of(records)
    [(dup, dup_message)] = by_code(found, "DUPLICATE_TIMESTAMP")
    assert dup == 4
    assert dup_message.startswith("series asset_id 'A' has more than one record at "
                                  "2026-02-09T09:00:00Z: ")
    [(gap, gap_message)] = by_code(found, "MISSING_INTERVALS")
    assert records[gap]["timestamp"] == "2026-02-09T15:00:00Z"
    assert gap_message == ("series asset_id 'A': 2 intervals of 60 minutes missing before "
                           "2026-02-09T15:00:00Z (a gap of 3 hours; the series' cadence is 60 "
                           "minutes)")
    [(stuck, stuck_message)] = by_code(found, "STUCK_VALUE")
    assert records[stuck]["asset_id"] == "B" and records[stuck]["timestamp"].endswith("06:00:00Z")
    assert stuck_message.startswith("series asset_id 'B': kWh stays at 2.5 for 8 records in a "
                                    "row, from 2026-02-09T06:00:00Z to 2026-02-09T13:00:00Z")
    # the same records as Arrow give the same warnings
    assert warnings_of(pa.Table.from_pylist(records)) == found


def test_energy_balance_per_asset_and_day() -> None:
    start = dt.datetime(2026, 2, 9, 10)
    records = []
    for day, import_kwh in ((0, 1.0), (1, 4.0)):  # day 2 imports 3 kWh nobody consumed
        moment = start + dt.timedelta(days=day)
        records += [at(moment, 5.0, asset_id="S", direction="generation", channel="production"),
                    at(moment, 4.0, asset_id="S", direction="consumption", channel="load"),
                    at(moment, import_kwh, asset_id="S", direction="net", channel="import"),
                    at(moment, -2.0, asset_id="S", direction="net", channel="export")]
    [(index, message)] = by_code(warnings_of(records), "ENERGY_BALANCE")
    assert index == 4
    assert message == ("asset 'S' on 2026-02-10: production 5.000 + net grid 2.000 - "
                       "consumption 4.000 = +3.000 kWh, beyond the 0.250 kWh allowed: a channel "
                       "is missing records, mis-signed or in another unit")


@cache
def enlighten(zone: str | None) -> pa.Table:
    return odse.transform_table(ENLIGHTEN, source="enphase", timezone=zone)


@pytest.mark.slow
def test_real_enlighten_report_read_without_its_zone() -> None:
    found = warnings_of(enlighten(None), **NETHERLANDS)
    duplicates = by_code(found, "DUPLICATE_TIMESTAMP")
    # the autumn repeat hours of 2022 and 2023, in each of the four channels
    assert len(duplicates) == 8
    assert {m.split(" has more")[0] for _, m in duplicates} == {
        "series direction 'generation', channel 'production'",
        "series direction 'consumption', channel 'consumption'",
        "series direction 'net', channel 'grid_import'",
        "series direction 'net', channel 'grid_export'"}
    [(_, zone)] = by_code(found, "TIMEZONE_SUSPECT")
    assert "pass timezone='Europe/Amsterdam'" in zone
    assert "UTC+01:00, +02:00 here" in zone


@pytest.mark.slow
def test_real_enlighten_report_read_with_its_zone_is_clean() -> None:
    result = validate_batch(enlighten("Europe/Amsterdam"), level="semantic", **NETHERLANDS)
    assert result.summary == "65184/65184 valid (semantic)"
