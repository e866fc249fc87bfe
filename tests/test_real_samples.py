"""The built-in mappings on the real vendor samples: counts, totals, times and rejects.

Every expected number here is worked out from the raw file with the ``csv`` and ``json``
standard modules and ``zoneinfo``, never with odse: the sum of an interval column, the
differences of a counter (a drop is a reset and the reading after it counts from zero), the
number of non-null values, the UTC time of each local time. The samples and their licences
are listed in ``tests/data/real/SOURCES.md``.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import odse
from odse import registry
from odse.errors import InputError

REAL = Path(__file__).resolve().parent / "data" / "real"
AMSTERDAM = "Europe/Amsterdam"
REL_TOL = 1e-9
UTC = timezone.utc

# ----------------------------------------------------------------------------- independent reading


@dataclass
class Expected:
    """What a sample must give, worked out from the raw file."""

    rows_read: int
    # per channel (None where the source has no channels)
    records: dict[str | None, int] = field(default_factory=dict)
    kwh: dict[str | None, float] = field(default_factory=dict)
    timestamps: dict[str | None, list[str]] = field(default_factory=dict)
    # one entry per rejected input row, in input order: (location, column, raw value)
    rejects: list[tuple[str, str | None, str | None]] = field(default_factory=list)


def iso(moment: datetime) -> str:
    """Render an aware time as the records do: UTC, ``Z``, no fraction."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_times_by_order(times: list[datetime], zone: str) -> list[datetime | None]:
    """Place naive local times in UTC; a repeated hour is summer time first; gaps give None."""
    tz = ZoneInfo(zone)
    seen: set[datetime] = set()
    out: list[datetime | None] = []
    for naive in times:
        first = naive.replace(tzinfo=tz, fold=0)
        second = naive.replace(tzinfo=tz, fold=1)
        if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
            out.append(None)                      # does not exist (clocks jumped forward)
        elif first.utcoffset() != second.utcoffset():
            out.append((second if naive in seen else first).astimezone(UTC))
        else:
            out.append(first.astimezone(UTC))
        seen.add(naive)
    return out


def read_csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    """Return (line number, cells) of every line of a CSV file (BOM removed)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [(n, cells) for n, cells in enumerate(csv.reader(fh), start=1)]


def number(text: str) -> float | None:
    """Return the finite number in a cell, or None (NaN, empty, tokens)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def counter_energy(readings: list[tuple[Any, float]]) -> list[tuple[Any, float]]:
    """Turn (label, counter) readings into (label of the earlier reading, energy)."""
    out = []
    for (label, before), (_, after) in itertools.pairwise(readings):
        out.append((label, after if after < before else after - before))
    return out


def enlighten_report(name: str) -> Expected:
    """Enlighten custom report: Wh per hour per column, local time in Europe/Amsterdam."""
    lines = read_csv_lines(REAL / "enphase" / name)
    header = lines[0][1]
    data = lines[1:]
    utc = local_times_by_order(
        [datetime.strptime(cells[0], "%m/%d/%Y %H:%M") for _, cells in data], AMSTERDAM)
    columns = {"production": ("Energy Produced (Wh)", 1),
               "consumption": ("Energy Consumed (Wh)", 1),
               "grid_import": ("Imported from Grid (Wh)", 1),
               "grid_export": ("Exported to Grid (Wh)", -1)}
    exp = Expected(rows_read=len(data))
    for line, cells in data:
        if utc[line - 2] is None:
            exp.rejects.append((f"line {line}", "Date/Time", cells[0]))
    for channel, (column, sign) in columns.items():
        if column not in header:
            continue
        i = header.index(column)
        kept = [(t, cells) for t, (_, cells) in zip(utc, data, strict=True) if t is not None]
        values = [number(cells[i]) for _, cells in kept]
        assert None not in values, f"{name}: a non-numeric {column} cell; the test expects none"
        exp.records[channel] = len(kept)
        exp.kwh[channel] = sign * sum(v for v in values if v is not None) / 1000
        exp.timestamps[channel] = [iso(t) for t, _ in kept]
    return exp


def sma_csv3(name: str) -> Expected:
    """SMA CSV3: sep line, version line, blank line, six header rows; counter in Wh."""
    lines = read_csv_lines(REAL / "sma" / name)
    assert lines[0][1][0].startswith("sep="), "SMA CSV3 starts with a sep= line"
    names, units = lines[6][1], lines[8][1]
    i = names.index("Metering.TotWhOut")
    assert units[i] == "[Wh]", f"the counter's unit cell is {units[i]!r}"
    data = lines[9:]
    readings, exp = [], Expected(rows_read=len(data))
    for line, cells in data:
        value = number(cells[i])
        if value is None:
            exp.rejects.append((f"line {line}", "Metering.TotWhOut", cells[i]))
        else:
            readings.append((datetime.strptime(cells[0], "%d.%m.%Y %H:%M:%S"), value))
    energy = counter_energy(readings)
    exp.records[None] = len(energy)
    exp.kwh[None] = sum(e for _, e in energy) / 1000
    # naive times, no zone given: read as UTC
    exp.timestamps[None] = [iso(t.replace(tzinfo=UTC)) for t, _ in energy]
    return exp


_SUFFIXED = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) [A-Z]+([+-])(\d{2})(\d{2})$")


def solaredge_time(text: str) -> datetime:
    """Read ``2024-10-27 02:00:00 CET+0100`` by its offset, a bare time in Amsterdam."""
    m = _SUFFIXED.match(text)
    if m:
        sign = -1 if m.group(2) == "-" else 1
        offset = timedelta(hours=int(m.group(3)), minutes=int(m.group(4))) * sign
        return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=timezone(offset))
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    placed = local_times_by_order([naive], AMSTERDAM)[0]
    assert placed is not None, f"{text} does not exist in {AMSTERDAM}"
    return placed


def solaredge_energy(name: str) -> Expected:
    """SolarEdge site energy: energy.values[{date, value}], null = no data; unit in energy.unit."""
    doc = json.loads((REAL / "solaredge" / name).read_text(encoding="utf-8"))
    energy = doc["energy"]
    factor = {"Wh": 1 / 1000, "kWh": 1.0}[energy["unit"]]
    values = energy["values"]
    exp = Expected(rows_read=len(values))
    kept = []
    for i, entry in enumerate(values):
        if entry["value"] is None:
            exp.rejects.append((f"$.energy.values[{i}]", "value", None))
        else:
            kept.append(entry)
    exp.records[None] = len(kept)
    exp.kwh[None] = sum(e["value"] for e in kept) * factor
    exp.timestamps[None] = [iso(solaredge_time(e["date"])) for e in kept]
    return exp


def sungrow_report(name: str) -> Expected:
    """iSolarCloud monthly report: one row a day, kWh columns; dates at UTC midnight."""
    lines = read_csv_lines(REAL / "sungrow" / name)
    header, data = lines[0][1], lines[1:]
    columns = {"production": ("PV(kWh)", 1), "consumption": ("Load(kWh)", 1),
               "grid_import": ("Purchased Energy(kWh)", 1), "grid_export": ("Feed-in(kWh)", -1)}
    exp = Expected(rows_read=len(data))
    days = [datetime.strptime(cells[0], "%Y-%m-%d").replace(tzinfo=UTC) for _, cells in data]
    for channel, (column, sign) in columns.items():
        i = header.index(column)
        values = [number(cells[i]) for _, cells in data]
        assert None not in values, f"{name}: a non-numeric {column} cell; the test expects none"
        exp.records[channel] = len(values)
        exp.kwh[channel] = sign * sum(v for v in values if v is not None)
        exp.timestamps[channel] = [iso(d) for d in days]
    return exp


def _fixed_offset(text: str) -> timezone:
    """``UTC+01:00`` as a fixed zone (the Solarman "Time Zone" column)."""
    m = re.fullmatch(r"\s*UTC([+-])(\d{2}):(\d{2})\s*", text)
    assert m, f"unexpected zone text {text!r}"
    minutes = int(m.group(2)) * 60 + int(m.group(3))
    return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))


def solarman_daily(name: str) -> Expected:
    """Solarman Daily Statistics .xlsx, read with openpyxl: a day's totals a row, each day
    starting at midnight in the zone its own row names."""
    openpyxl = pytest.importorskip("openpyxl")
    with warnings.catch_warnings():
        # openpyxl notes that the portal's file has no default style; harmless here
        warnings.filterwarnings("ignore", "Workbook contains no default style")
        book = openpyxl.load_workbook(REAL / "solarman" / name, read_only=True)
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    header, data = [str(c).strip() for c in rows[0]], rows[1:]
    columns = {"production": ("Production-Today(kWh)", 1),
               "consumption": ("Consumption-Today(kWh)", 1),
               "grid_import": ("Energy Purchased-Today(kWh)", 1),
               "grid_export": ("Feed-in Power-Today(kWh)", -1),
               "battery_charge": ("Energy Charged-This Day(kWh)", 1),
               "battery_discharge": ("Energy Discharged-This Day(kWh)", 1)}
    exp = Expected(rows_read=len(data))
    day, zone = header.index("Updated Time"), header.index("Time Zone")
    starts = [datetime.strptime(str(r[day]), "%Y/%m/%d").replace(tzinfo=_fixed_offset(r[zone]))
              for r in data]
    for channel, (column, sign) in columns.items():
        i = header.index(column)
        values = [float(r[i]) for r in data]   # the cells hold the numbers as text
        exp.records[channel] = len(values)
        exp.kwh[channel] = sign * math.fsum(values)
        exp.timestamps[channel] = [iso(d) for d in starts]
    return exp


def solax_daily(name: str, zone: str) -> Expected:
    """SolaX Cloud Daily Report .xls (BIFF), read with xlrd: settings in row 1, the header in
    row 4, a day's totals a row; each day starts at local midnight in ``zone``."""
    xlrd = pytest.importorskip("xlrd")
    sheet = xlrd.open_workbook(str(REAL / "solax" / name)).sheet_by_index(0)
    rows = [sheet.row_values(i) for i in range(sheet.nrows)]
    at = next(i for i, r in enumerate(rows) if r[0] == "Time")
    header, data = rows[at], [r for r in rows[at + 1:] if any(str(c).strip() for c in r)]
    columns = {"production": ("PV Yield Energy (kWh)", 1),
               "consumption": ("Consumed Energy (kWh)", 1),
               "grid_import": ("Energy From Grid (kWh)", 1),
               "grid_export": ("Feed-in Energy (kWh)", -1)}
    exp = Expected(rows_read=len(data))
    tz = ZoneInfo(zone)
    starts = [datetime.strptime(r[0], "%Y-%m-%d").replace(tzinfo=tz) for r in data]
    for channel, (column, sign) in columns.items():
        i = header.index(column)
        values = [float(r[i]) for r in data]
        exp.records[channel] = len(values)
        exp.kwh[channel] = sign * math.fsum(values)
        exp.timestamps[channel] = [iso(d) for d in starts]
    return exp


def fronius_doc(name: str) -> dict[str, Any]:
    return json.loads((REAL / "fronius" / name).read_text(encoding="utf-8"))


def fronius_meter_detail(name: str) -> Expected:
    """Archive Detail: cumulative Wh per channel, keys are seconds since the device's Start."""
    doc = fronius_doc(name)
    exp = Expected(rows_read=0)
    channels = {"EnergyReal_WAC_Plus_Absolute": ("grid_import", 1),
                "EnergyReal_WAC_Minus_Absolute": ("grid_export", -1)}
    for device, body in doc["Body"]["Data"].items():
        if not device.startswith("meter:"):
            continue
        start = datetime.fromisoformat(body["Start"])
        for key, (channel, sign) in channels.items():
            data = body["Data"][key]
            assert data["Unit"] == "Wh"
            points = sorted((int(k), v) for k, v in data["Values"].items())
            exp.rows_read += len(points)
            assert all(v is not None for _, v in points), "the sample has no null readings"
            energy = counter_energy([(start + timedelta(seconds=s), v) for s, v in points])
            exp.records[channel] = len(energy)
            exp.kwh[channel] = sign * sum(e for _, e in energy) / 1000
            exp.timestamps[channel] = [iso(t) for t, _ in energy]
    return exp


def fronius_daily_sum(name: str) -> Expected:
    """Archive DailySum: Wh produced per day, labelled with the day's Start."""
    doc = fronius_doc(name)
    exp = Expected(rows_read=0, records={None: 0}, kwh={None: 0.0}, timestamps={None: []})
    for device, body in doc["Body"]["Data"].items():
        start = datetime.fromisoformat(body["Start"])
        values = body["Data"]["EnergyReal_WAC_Sum_Produced"]["Values"]
        for key, wh in sorted(values.items(), key=lambda kv: int(kv[0])):
            assert device.startswith("inverter/")
            exp.rows_read += 1
            exp.records[None] += 1
            exp.kwh[None] += wh / 1000
            exp.timestamps[None].append(iso(start + timedelta(seconds=int(key))))
    return exp


FRONIUS_DEFAULT_MINUTES = 5     # the spec's documented polling interval for realtime data


def fronius_realtime(name: str, watts: Callable[[dict[str, Any]], list[float | None]]
                     ) -> Expected:
    """Realtime responses: one reading per response (or per inverter), power x 5 minutes."""
    doc = fronius_doc(name)
    readings = [w or 0.0 for w in watts(doc)]           # no PAC at night: no power
    stamp = iso(datetime.fromisoformat(doc["Head"]["Timestamp"]))
    return Expected(rows_read=len(readings), records={None: len(readings)},
                    kwh={None: sum(w * FRONIUS_DEFAULT_MINUTES / 60 / 1000 for w in readings)},
                    timestamps={None: [stamp] * len(readings)})


def _device_pac(doc: dict[str, Any]) -> list[float | None]:
    return [doc["Body"]["Data"].get("PAC", {}).get("Value")]


def _system_pac(doc: dict[str, Any]) -> list[float | None]:
    return list(doc["Body"]["Data"]["PAC"]["Values"].values())


def _site_pv(doc: dict[str, Any]) -> list[float | None]:
    return [doc["Body"]["Data"]["Site"]["P_PV"]]


# ----------------------------------------------------------------------------- the samples


@dataclass(frozen=True)
class Sample:
    path: str
    source: str
    variant: str
    expect: Callable[[], Expected]
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        return Path(self.path).stem


SAMPLES = [
    Sample("enphase/enlighten_custom_report_9999998.csv", "enphase", "enlighten_report_csv",
           lambda: enlighten_report("enlighten_custom_report_9999998.csv"),
           (("timezone", AMSTERDAM),)),
    Sample("enphase/enlighten_custom_report_9999999.csv", "enphase", "enlighten_report_csv",
           lambda: enlighten_report("enlighten_custom_report_9999999.csv"),
           (("timezone", AMSTERDAM),)),
    Sample("solaredge/monitoringapi_site_energy_15min_localtime.json", "solaredge",
           "site_energy_json",
           lambda: solaredge_energy("monitoringapi_site_energy_15min_localtime.json"),
           (("timezone", AMSTERDAM),)),
    Sample("solaredge/monitoringapi_site_energy_hour_tzsuffix_2024_06.json", "solaredge",
           "site_energy_json",
           lambda: solaredge_energy("monitoringapi_site_energy_hour_tzsuffix_2024_06.json"),
           (("timezone", AMSTERDAM),)),
    Sample("solaredge/monitoringapi_site_energy_hour_tzsuffix_2024_10.json", "solaredge",
           "site_energy_json",
           lambda: solaredge_energy("monitoringapi_site_energy_hour_tzsuffix_2024_10.json"),
           (("timezone", AMSTERDAM),)),
    Sample("sma/SUNNY_TRIPOWER_6.0_XXXXXXXXXX_Daily_2025_07_14_14_27_50.csv", "sma", "webui_csv3",
           lambda: sma_csv3("SUNNY_TRIPOWER_6.0_XXXXXXXXXX_Daily_2025_07_14_14_27_50.csv")),
    Sample("sma/SUNNY_TRIPOWER_8.0_XXXXXXXXXX_5Min_2025_07_14_13_32_21.csv", "sma", "webui_csv3",
           lambda: sma_csv3("SUNNY_TRIPOWER_8.0_XXXXXXXXXX_5Min_2025_07_14_13_32_21.csv")),
    Sample("sungrow/isolarcloud_Monthly.Report_PLANT_NAME_20241011100248.csv", "sungrow",
           "statistics_report_csv",
           lambda: sungrow_report("isolarcloud_Monthly.Report_PLANT_NAME_20241011100248.csv")),
    Sample("solarman/Solarman-Daily.Statistics-20250316.xlsx", "solarman",
           "daily_statistics_xlsx",
           lambda: solarman_daily("Solarman-Daily.Statistics-20250316.xlsx")),
    Sample("solax/solaxcloud_daily_report_Dummy_Site_2023-06.xls", "solaxcloud",
           "daily_report_xls",
           lambda: solax_daily("solaxcloud_daily_report_Dummy_Site_2023-06.xls", AMSTERDAM),
           (("timezone", AMSTERDAM),)),
    Sample("solax/solaxcloud_daily_report_Dummy_Site_2023-10.xls", "solaxcloud",
           "daily_report_xls",
           lambda: solax_daily("solaxcloud_daily_report_Dummy_Site_2023-10.xls", AMSTERDAM),
           (("timezone", AMSTERDAM),)),
    Sample("fronius/solarapi_v1_GetArchiveData_Detail_meter_2017-08-30.json", "fronius",
           "archive_meter_counters_json",
           lambda: fronius_meter_detail("solarapi_v1_GetArchiveData_Detail_meter_2017-08-30.json")),
    Sample("fronius/solarapi_v1_GetArchiveData_DailySum_inverter_2017-08-30.json", "fronius",
           "archive_inverter_energy_json",
           lambda: fronius_daily_sum(
               "solarapi_v1_GetArchiveData_DailySum_inverter_2017-08-30.json")),
    Sample("fronius/solarapi_v0_GetInverterRealtimeData_Device_CommonInverterData_day.json",
           "fronius", "inverter_realtime_json",
           lambda: fronius_realtime(
               "solarapi_v0_GetInverterRealtimeData_Device_CommonInverterData_day.json",
               _device_pac)),
    Sample("fronius/solarapi_v1_GetInverterRealtimeData_Device_CommonInverterData_night_error523"
           ".json", "fronius", "inverter_realtime_json",
           lambda: fronius_realtime(
               "solarapi_v1_GetInverterRealtimeData_Device_CommonInverterData_night_error523.json",
               _device_pac)),
    Sample("fronius/solarapi_v1_GetInverterRealtimeData_System.json", "fronius",
           "system_realtime_json",
           lambda: fronius_realtime("solarapi_v1_GetInverterRealtimeData_System.json",
                                    _system_pac)),
    Sample("fronius/solarapi_v1_GetPowerFlowRealtimeData.json", "fronius", "power_flow_json",
           lambda: fronius_realtime("solarapi_v1_GetPowerFlowRealtimeData.json", _site_pv)),
]
IDS = [s.id for s in SAMPLES]


@cache
def transformed(sample: Sample) -> odse.Records:
    return odse.transform(REAL / sample.path, source=sample.source, **dict(sample.params))


@cache
def expected(sample: Sample) -> Expected:
    return sample.expect()


def by_channel(records: list[dict[str, Any]]) -> dict[str | None, list[dict[str, Any]]]:
    out: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        out[rec.get("channel")].append(rec)
    return dict(out)


def test_every_real_sample_is_covered() -> None:
    covered = {s.path for s in SAMPLES} | {f"enphase/{p.name}" for p in ENVOY_SNAPSHOTS}
    on_disk = {str(p.relative_to(REAL)) for p in REAL.glob("*/*") if p.parent.name != "LICENSES"}
    assert on_disk == covered, f"samples without a test: {sorted(on_disk - covered)}"


# ----------------------------------------------------------------------------- counts and totals


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_input_shape(sample: Sample) -> None:
    got = transformed(sample).report.variant
    assert got == sample.variant, f"{sample.path} read as {got}, expected {sample.variant}"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_record_count_per_channel(sample: Sample) -> None:
    got = {ch: len(recs) for ch, recs in by_channel(transformed(sample)).items()}
    want = expected(sample).records
    assert got == want, f"{sample.path}: records per channel {got}, counted in the file {want}"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_total_kwh_per_channel(sample: Sample) -> None:
    got = {ch: math.fsum(r["kWh"] for r in recs)
           for ch, recs in by_channel(transformed(sample)).items()}
    want = expected(sample).kwh
    assert set(got) == set(want), f"{sample.path}: channels {sorted(got, key=str)}"
    for channel, total in want.items():
        assert math.isclose(got[channel], total, rel_tol=REL_TOL, abs_tol=1e-9), (
            f"{sample.path}: channel {channel}: {got[channel]!r} kWh, "
            f"computed from the file {total!r} kWh")


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_every_row_is_in_the_output_or_rejected(sample: Sample) -> None:
    report = transformed(sample).report
    want = expected(sample)
    assert report.rows_read == want.rows_read, (
        f"{sample.path}: {report.rows_read} rows read, the file has {want.rows_read}")
    assert report.rows_rejected == len(want.rejects), (
        f"{sample.path}: {report.rows_rejected} rows rejected, expected {len(want.rejects)} "
        f"({report.summary()})")
    assert report.rows_read == report.rows_out + report.rows_rejected, report.summary()
    assert report.records == len(transformed(sample)), "report.records disagrees with the list"


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_record_times(sample: Sample) -> None:
    """Each record starts where the file says; times are unique and rising per channel."""
    for channel, recs in by_channel(transformed(sample)).items():
        times = [r["timestamp"] for r in recs]
        assert all(t.endswith("Z") for t in times), f"{sample.path}: a time not in UTC"
        dupes = [t for t, n in Counter(times).items() if n > 1]
        assert not dupes, f"{sample.path}: channel {channel}: repeated times {dupes[:5]}"
        falls = [(a, b) for a, b in itertools.pairwise(times) if b <= a]
        assert not falls, f"{sample.path}: channel {channel}: times not increasing at {falls[:3]}"
        want = expected(sample).timestamps[channel]
        wrong = [(i, g, w) for i, (g, w) in enumerate(zip(times, want, strict=False)) if g != w]
        assert not wrong and len(times) == len(want), (
            f"{sample.path}: channel {channel}: first differences (index, got, expected) "
            f"{wrong[:5]}; {len(times)} times, expected {len(want)}")


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_records_are_valid_odse(sample: Sample) -> None:
    records = transformed(sample)
    result = odse.validate_batch(list(records))
    assert not result.errors, f"{sample.path}: {result.summary}: {result.errors[:3]}"


# ----------------------------------------------------------------------------- rejects


REJECTING = [s for s in SAMPLES if expected(s).rejects]


@pytest.mark.parametrize("sample", REJECTING, ids=[s.id for s in REJECTING])
def test_rejects_point_at_the_right_place(sample: Sample) -> None:
    rejects = [r for r in transformed(sample).rejects if r.scope == "record"]
    got = [(r.location, r.column, r.code) for r in rejects]
    want = [(place, column, "MISSING_VALUE") for place, column, _ in expected(sample).rejects]
    assert got == want, (
        f"{sample.path}: rejects (place, column, code) differ; first got {got[:3]}, "
        f"expected {want[:3]}")
    assert all(r.reason for r in rejects), "every reject says why"


@pytest.mark.parametrize("sample", REJECTING, ids=[s.id for s in REJECTING])
def test_rejects_keep_the_raw_value(sample: Sample) -> None:
    """A reject shows what the input held: ``NaN`` for an SMA cell, None for a JSON null."""
    rejects = [r for r in transformed(sample).rejects if r.scope == "record"]
    got = [(r.location, r.value) for r in rejects]
    want = [(place, value) for place, _, value in expected(sample).rejects]
    assert got == want, (
        f"{sample.path}: rejected values (place, raw value) differ: first got {got[:3]}, "
        f"the file holds {want[:3]}")


def test_sma_reject_lines_are_file_lines() -> None:
    """Line numbers count the sep=, version, blank and six header lines."""
    sample = SAMPLES[IDS.index("SUNNY_TRIPOWER_6.0_XXXXXXXXXX_Daily_2025_07_14_14_27_50")]
    first = transformed(sample).rejects[0]
    text = (REAL / sample.path).read_text(encoding="utf-8-sig").splitlines()
    assert first.line == 11 and text[first.line - 1].startswith("24.03.2020 00:00:00,NaN,"), (
        f"first reject at line {first.line}: {text[first.line - 1]!r}")
    assert first.row == 2, f"the second data row, got row {first.row}"


def test_solaredge_reject_paths_index_the_values_list() -> None:
    sample = SAMPLES[IDS.index("monitoringapi_site_energy_15min_localtime")]
    first = transformed(sample).rejects[0]
    doc = json.loads((REAL / sample.path).read_text(encoding="utf-8"))
    assert first.path == "$.energy.values[1]", first
    assert doc["energy"]["values"][1] == {"date": "2023-07-10 00:15:00", "value": None}
    assert "$.energy.values[1]" in str(first) and "no value" in str(first), str(first)


# ----------------------------------------------------------------------------- other fields


def test_fronius_realtime_status_and_codes() -> None:
    day = transformed(SAMPLES[IDS.index(
        "solarapi_v0_GetInverterRealtimeData_Device_CommonInverterData_day")])
    night = transformed(SAMPLES[IDS.index(
        "solarapi_v1_GetInverterRealtimeData_Device_CommonInverterData_night_error523")])
    assert [(r["error_type"], r["error_code"], r["oem_error_code"]) for r in day] == \
        [("normal", "0", "7")], day
    assert day[0]["kW"] == pytest.approx(1.762, rel=REL_TOL), day
    assert [(r["error_type"], r["error_code"], r["oem_error_code"]) for r in night] == \
        [("standby", "523", "3")], "StatusCode 3 (start-up) at night is standby; code 523 kept"


def test_fronius_meter_channels_are_net() -> None:
    sample = SAMPLES[IDS.index("solarapi_v1_GetArchiveData_Detail_meter_2017-08-30")]
    for rec in transformed(sample):
        assert rec["direction"] == "net" and rec["asset_id"] == "meter:16220118", rec
        if rec["channel"] == "grid_export":
            assert rec["kWh"] <= 0, f"export is negative in a net reading: {rec}"
        else:
            assert rec["kWh"] >= 0, f"import is positive in a net reading: {rec}"


CHANNELLED = ("enphase", "sungrow", "solaxcloud")


@pytest.mark.parametrize("sample", [s for s in SAMPLES if s.source in CHANNELLED],
                         ids=[s.id for s in SAMPLES if s.source in CHANNELLED])
def test_channel_conventions(sample: Sample) -> None:
    directions = {"production": "generation", "consumption": "consumption",
                  "grid_import": "net", "grid_export": "net"}
    for rec in transformed(sample):
        assert rec["direction"] == directions[rec["channel"]], rec
        if rec["channel"] == "grid_export":
            assert rec["kWh"] <= 0, f"grid export is negative: {rec}"
        else:
            assert rec["kWh"] >= 0, rec


# ----------------------------------------------------------------------------- unsupported shapes


ENVOY_SNAPSHOTS = sorted((REAL / "enphase").glob("envoy_fw7.6.175_*.json"))


@pytest.mark.parametrize("path", ENVOY_SNAPSHOTS, ids=[p.stem for p in ENVOY_SNAPSHOTS])
def test_envoy_snapshots_are_refused_with_what_each_shape_needs(path: Path) -> None:
    """Live snapshots (no intervals) are not a supported shape: say so, name what was checked."""
    with pytest.raises(InputError) as caught:
        odse.transform(path, source="enphase")
    err = caught.value
    text = str(err)
    assert "'enphase'" in text, f"the message names the source: {text}"
    assert err.facts.get("source") == "enphase", f"source fact missing: {err.facts}"
    assert path.name in str(err.facts.get("file", "")), f"file fact missing: {err.facts}"
    json_shapes = [v.name for v in registry.get("enphase").variants if v.format == "json"]
    missing = [name for name in json_shapes if name not in text]
    assert not missing, f"the message does not say what {missing} needed: {text}"
    for needed in ("end_at", "wh_del", "enwh"):
        assert needed in text, f"the message does not name {needed!r}: {text}"
