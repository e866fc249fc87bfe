"""Daylight saving: 23- and 25-hour days, skipped and repeated local hours, zone suffixes.

A naive local time is read in the caller's zone. In autumn the repeated hour is resolved by
order (the first pass is summer time); in spring a local time that does not exist is a
rejected row (NONEXISTENT_LOCAL_TIME). Times that carry their own offset (``CET+0100``) need
no guessing. Expected UTC times are worked out here with ``zoneinfo``.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import odse

REAL = Path(__file__).resolve().parent / "data" / "real"
AMSTERDAM = "Europe/Amsterdam"
UTC = timezone.utc
ENLIGHTEN = REAL / "enphase" / "enlighten_custom_report_9999998.csv"
SOLAREDGE_OCT = REAL / "solaredge" / "monitoringapi_site_energy_hour_tzsuffix_2024_10.json"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_day(day: date, zone: str) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a local calendar day."""
    tz = ZoneInfo(zone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def hourly(start: datetime, end: datetime) -> list[str]:
    out, t = [], start
    while t < end:
        out.append(iso(t))
        t += timedelta(hours=1)
    return out


def assert_unique_and_rising(times: list[str], what: str) -> None:
    dupes = [t for t, n in Counter(times).items() if n > 1]
    assert not dupes, f"{what}: repeated UTC times {dupes}"
    falls = [(a, b) for a, b in itertools.pairwise(times) if b <= a]
    assert not falls, f"{what}: UTC times go back at {falls}"


@cache
def enlighten() -> odse.Records:
    return odse.transform(ENLIGHTEN, source="enphase", timezone=AMSTERDAM)


def channel_times(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for rec in records:
        out[rec["channel"]].append(rec["timestamp"])
    return dict(out)


# ----------------------------------------------------------------------------- the real report


@pytest.mark.parametrize(("day", "hours"), [(date(2023, 3, 26), 23), (date(2023, 10, 29), 25),
                                             (date(2022, 10, 30), 25), (date(2024, 3, 31), 23),
                                             (date(2023, 7, 1), 24)])
def test_enlighten_report_day_has_its_local_hours(day: date, hours: int) -> None:
    """Every channel has one record per local hour: 23 in spring, 25 in autumn, in order."""
    start, end = local_day(day, AMSTERDAM)
    want = hourly(start, end)
    assert len(want) == hours, "the calendar itself"
    lo, hi = iso(start), iso(end)
    channels = channel_times(enlighten())
    assert set(channels) == {"production", "consumption", "grid_import", "grid_export"}
    for channel, times in channels.items():
        got = [t for t in times if lo <= t < hi]
        assert got == want, (f"{day} ({hours} local hours), channel {channel}: got {len(got)} "
                             f"records {got}, expected {want}")
        assert_unique_and_rising(got, f"{day} {channel}")


def test_enlighten_report_autumn_repeat_keeps_both_hours_values() -> None:
    """The two 02:00 rows of 2023-10-29 (448 and 447 Wh consumed) land at 00:00Z and 01:00Z."""
    consumed = {r["timestamp"]: r["kWh"] for r in enlighten() if r["channel"] == "consumption"}
    assert consumed.get("2023-10-29T00:00:00Z") == pytest.approx(0.448), "first 02:00 = CEST"
    assert consumed.get("2023-10-29T01:00:00Z") == pytest.approx(0.447), "second 02:00 = CET"
    assert consumed.get("2023-10-29T02:00:00Z") == pytest.approx(0.449), "03:00 CET"


def test_enlighten_report_has_no_rejects_across_four_changes() -> None:
    report = enlighten().report
    assert report.rows_rejected == 0 and report.reject_count == 0, report.summary()


# ----------------------------------------------------------------------------- inline reports


ENLIGHTEN_HEADER = "Date/Time,Energy Produced (Wh),Energy Consumed (Wh)\n"


def test_spring_gap_local_time_is_rejected() -> None:
    text = (ENLIGHTEN_HEADER + "03/26/2023 01:00,0,500\n03/26/2023 02:00,0,400\n"
            "03/26/2023 03:00,0,300\n")
    out = odse.transform(text, source="enphase", timezone=AMSTERDAM)
    assert [(r["timestamp"], r["channel"]) for r in out] == [
        ("2023-03-26T00:00:00Z", "production"), ("2023-03-26T00:00:00Z", "consumption"),
        ("2023-03-26T01:00:00Z", "production"), ("2023-03-26T01:00:00Z", "consumption")], out
    assert out.report.rows_rejected == 1, out.report.summary()
    codes = {r.code for r in out.rejects}
    assert codes == {"NONEXISTENT_LOCAL_TIME"}, codes
    first = out.rejects[0]
    assert (first.line, first.row, first.column, first.value, first.field) == \
        (3, 2, "Date/Time", "03/26/2023 02:00", "timestamp"), first
    assert "does not exist" in first.reason and AMSTERDAM in first.reason, first.reason


def test_spring_gap_is_not_rejected_in_a_fixed_offset() -> None:
    """+01:00 has no daylight saving: 02:00 exists and is 01:00Z."""
    text = ENLIGHTEN_HEADER + "03/26/2023 02:00,10,20\n"
    out = odse.transform(text, source="enphase", timezone="+01:00")
    assert {r["timestamp"] for r in out} == {"2023-03-26T01:00:00Z"}, out
    assert not out.rejects, out.rejects


def test_autumn_repeat_in_a_report_resolves_by_order() -> None:
    text = (ENLIGHTEN_HEADER + "10/29/2023 01:00,0,1\n10/29/2023 02:00,0,2\n"
            "10/29/2023 02:00,0,3\n10/29/2023 03:00,0,4\n")
    out = odse.transform(text, source="enphase", timezone=AMSTERDAM)
    consumed = [(r["timestamp"], r["kWh"]) for r in out if r["channel"] == "consumption"]
    assert consumed == [("2023-10-28T23:00:00Z", 0.001), ("2023-10-29T00:00:00Z", 0.002),
                        ("2023-10-29T01:00:00Z", 0.003), ("2023-10-29T02:00:00Z", 0.004)], \
        consumed


def five_minute_fold_rows(day: str, hours: tuple[int, ...]) -> list[str]:
    return [f"{day} {h:02d}:{m:02d}:00" for h in hours for m in range(0, 60, 5)]


def test_repeated_hour_in_a_five_minute_series_resolves_by_order() -> None:
    """01:00-03:55 local with 02:xx twice: 48 readings, contiguous in UTC, first pass summer."""
    stamps = five_minute_fold_rows("2023-10-29", (1, 2, 2, 3))
    text = "timestamp,power,inverter_state,run_state\n" + "".join(
        f"{t},1.2,512,1\n" for t in stamps)
    out = odse.transform(text, source="huawei", timezone=AMSTERDAM)
    start = datetime(2023, 10, 28, 23, 0, tzinfo=UTC)
    want = [iso(start + timedelta(minutes=5 * i)) for i in range(48)]
    got = [r["timestamp"] for r in out]
    wrong = [(g, w) for g, w in zip(got, want, strict=False) if g != w]
    assert got == want, f"{len(got)} records; first differences (got, expected): {wrong[:4]}"
    assert all(r["kWh"] == pytest.approx(0.1) for r in out), "1.2 kW for 5 minutes each"
    assert out.report.rows_rejected == 0, out.report.summary()


def test_repeated_hour_in_a_counter_series_gives_no_out_of_order_rejects() -> None:
    """SMA 15-minute counter over the 2024-10-27 change in Berlin: every step is 15 minutes."""
    header = ("sep=,\nVersion CSV3|Tool WebUI|Linebreaks CR/LF|Delimiter comma\n\n,STP\n,SUNNY\n"
              ",XX\n,Metering.TotWhOut,Operation.Health\n,Analog,Status\n"
              "DD.MM.YYYY hh:mm:ss,[Wh],\n")
    rows = [f"27.10.2024 {h:02d}:{m:02d}:00,{1000 + 10 * i},Ok\n"
            for i, (h, m) in enumerate((h, m) for h in (1, 2, 2, 3) for m in (0, 15, 30, 45))]
    out = odse.transform(header + "".join(rows), source="sma", timezone="Europe/Berlin")
    start = datetime(2024, 10, 26, 23, 0, tzinfo=UTC)
    want = [iso(start + timedelta(minutes=15 * i)) for i in range(15)]
    assert [r["timestamp"] for r in out] == want, [r["timestamp"] for r in out]
    assert all(r["kWh"] == pytest.approx(0.01) for r in out), out
    assert not out.rejects, [str(r) for r in out.rejects]


def test_single_ambiguous_reading_is_summer_time() -> None:
    """An hourly series that skips the repeat (like SolarEdge) reads 02:30 once, as summer."""
    text = "t,e\n2024-10-27 01:30:00,1\n2024-10-27 02:30:00,1\n2024-10-27 03:30:00,1\n"
    out = odse.transform(text, source="csv", mapping={"timestamp": "t", "kWh": "e"},
                         timezone="Europe/Berlin")
    assert [r["timestamp"] for r in out] == [
        "2024-10-26T23:30:00Z", "2024-10-27T00:30:00Z", "2024-10-27T02:30:00Z"], out


# ----------------------------------------------------------------------------- SolarEdge suffixes


def test_solaredge_zone_suffixes_across_the_october_change() -> None:
    """Each date carries CEST+0200 or CET+0100: read by its offset, unique and ordered in UTC."""
    doc = json.loads(SOLAREDGE_OCT.read_text(encoding="utf-8"))
    out = odse.transform(SOLAREDGE_OCT, source="solaredge", timezone=AMSTERDAM)
    times = [r["timestamp"] for r in out]
    assert_unique_and_rising(times, SOLAREDGE_OCT.name)
    want = []
    for entry in doc["energy"]["values"]:
        if entry["value"] is None:
            continue
        stamp, _, zone = entry["date"].rpartition(" ")
        sign = -1 if zone[-5] == "-" else 1
        offset = timezone(sign * timedelta(hours=int(zone[-4:-2]), minutes=int(zone[-2:])))
        want.append(iso(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=offset)))
    assert times == want, [(g, w) for g, w in zip(times, want, strict=False) if g != w][:5]
    # the file lists 24 entries for the 25-hour day (it drops 02:00 CEST), all distinct in UTC
    day = [e["date"] for e in doc["energy"]["values"] if e["date"].startswith("2024-10-27")]
    assert len(day) == 24 and "2024-10-27 02:00:00 CET+0100" in day, day


def test_solaredge_suffix_wins_over_the_callers_zone() -> None:
    text = json.dumps({"energy": {"timeUnit": "HOUR", "unit": "Wh", "values": [
        {"date": "2024-10-27 01:00:00 CEST+0200", "value": 10.0},
        {"date": "2024-10-27 02:00:00 CEST+0200", "value": 20.0},
        {"date": "2024-10-27 02:00:00 CET+0100", "value": 30.0}]}})
    out = odse.transform(text, source="solaredge", timezone="America/New_York")
    assert [(r["timestamp"], r["kWh"]) for r in out] == [
        ("2024-10-26T23:00:00Z", 0.01), ("2024-10-27T00:00:00Z", 0.02),
        ("2024-10-27T01:00:00Z", 0.03)], out
