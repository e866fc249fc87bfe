"""No silent loss: every input row is in the output or among the rejects, with its place.

The inputs are generated here, bench-like: a few hundred rows with blank cells, ``--``,
``N/A``, garbage numbers and timestamps (``2026-13-45 25:61:00``), unknown state codes and
malformed lines (too many fields). The generator records what it broke on which row, so each
reject is checked against the row number, file line, column, raw value and code it must have.
``errors="raise"`` must stop at the first bad row with that same information.
"""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

import odse
from odse import TransformError

START = datetime(2026, 2, 9, 0, 0)
GARBAGE_TIME = "2026-13-45 25:61:00"


@pytest.fixture(autouse=True)
def _quiet_odse_log(caplog: pytest.LogCaptureFixture) -> None:
    # odse logs one warning per transform with rejects; it is expected here
    caplog.set_level(logging.ERROR, logger="odse")


@dataclass
class Bad:
    """What the generator broke on one row."""

    column: str | None      # None: the whole line (malformed)
    value: str              # the raw text written
    code: str


@dataclass
class Bench:
    text: str
    rows: int                                   # data rows written
    header_lines: int
    bad: dict[int, Bad] = field(default_factory=dict)       # data row -> what is wrong
    unknown_state: set[int] = field(default_factory=set)    # rows with an unknown code

    def line(self, row: int) -> int:
        return row + self.header_lines


def huawei_bench(rows: int = 400, first_bad: dict[int, Bad] | None = None,
                 malformed: bool = True) -> Bench:
    """A FusionSolar-style 5-minute CSV with faults sprinkled by row number.

    Args:
        first_bad: faults to put on given rows; the standard faults start after them.
        malformed: include lines with too many fields.
    """
    header = "timestamp,power,inverter_state,run_state"
    lines = [header]
    bench = Bench("", rows, header_lines=1)
    for row in range(1, rows + 1):
        stamp = (START + timedelta(minutes=5 * (row - 1))).strftime("%Y-%m-%d %H:%M:%S")
        power, state = f"{(row % 50) / 7:.3f}", "512"
        bad: Bad | None = (first_bad or {}).get(row)
        if bad is None and (first_bad is None or row > max(first_bad)):
            if row % 17 == 3:
                bad = Bad("power", "", "MISSING_VALUE")
            elif row % 29 == 5:
                bad = Bad("power", "--", "MISSING_VALUE")
            elif row % 31 == 7:
                bad = Bad("power", "N/A", "MISSING_VALUE")
            elif row % 37 == 11:
                bad = Bad("timestamp", GARBAGE_TIME, "NOT_A_TIMESTAMP")
            elif row % 43 == 19 and malformed:
                bad = Bad(None, "", "MALFORMED_ROW")
            elif row % 47 == 23:
                bad = Bad("power", "1,5kW", "NOT_A_NUMBER")
            elif row % 41 == 13:
                state = "77777"
                bench.unknown_state.add(row)
        if bad is not None:
            if bad.column == "power":
                power = bad.value
            elif bad.column == "timestamp":
                stamp = bad.value
            bench.bad[row] = bad
        line = f"{stamp},{power},{state},1"
        if bad is not None and bad.column is None:
            line += ",7,extra"              # two fields too many
            bad.value = line
        if bad is not None and bad.column == "power" and "," in bad.value:
            line = f'{stamp},"{bad.value}",{state},1'
        lines.append(line)
    bench.text = "\n".join(lines) + "\n"
    return bench


@pytest.fixture(scope="module")
def bench() -> Bench:
    return huawei_bench()


@pytest.fixture(scope="module")
def result(bench: Bench) -> odse.Records:
    return odse.transform(bench.text, source="huawei")


@pytest.fixture(scope="module")
def well_formed() -> Bench:
    """The bench without malformed lines, so that row numbers cannot drift."""
    return huawei_bench(malformed=False)


def test_the_bench_has_every_kind_of_fault(bench: Bench) -> None:
    kinds = {(b.column, b.value if b.column else "line") for b in bench.bad.values()}
    assert {("power", ""), ("power", "--"), ("power", "N/A"), ("timestamp", GARBAGE_TIME),
            (None, "line"), ("power", "1,5kW")} <= kinds, kinds
    assert bench.unknown_state, "some rows carry an unknown state code"
    assert bench.rows >= 300 and len(bench.bad) >= 40, (bench.rows, len(bench.bad))


def test_rows_read_is_rows_out_plus_rows_rejected(bench: Bench, result: odse.Records) -> None:
    report = result.report
    assert report.rows_read == bench.rows, f"{report.rows_read} rows read, wrote {bench.rows}"
    assert report.rows_rejected == len(bench.bad), (
        f"{report.rows_rejected} rows rejected, broke {len(bench.bad)}: {report.summary()}")
    assert report.rows_read == report.rows_out + report.rows_rejected, report.summary()
    assert len(result) == report.rows_out == bench.rows - len(bench.bad), (
        f"one record per good row: {len(result)} records, rows_out {report.rows_out}")


def test_every_rejected_row_is_listed_with_its_row_and_line(bench: Bench,
                                                           result: odse.Records) -> None:
    listed = {(r.row, r.line) for r in result.rejects if r.scope == "record"}
    want = {(row, bench.line(row)) for row in bench.bad}
    assert listed == want, (
        f"rejects without a place or at the wrong one: listed but not broken "
        f"{sorted(listed - want, key=str)[:6]}; broken but not listed {sorted(want - listed)[:6]}")


def test_malformed_line_does_not_shift_the_numbers_of_later_rows() -> None:
    text = ("timestamp,power,inverter_state,run_state\n"
            "2026-02-09 12:00:00,5,512,1\n"
            "2026-02-09 12:05:00,5,512,1,extra,fields\n"    # line 3: row 2
            "2026-02-09 12:10:00,5,512,1\n"
            "2026-02-09 12:15:00,abc,512,1\n")               # line 5: row 4
    out = odse.transform(text, source="huawei")
    places = sorted(((r.row, r.line, r.code) for r in out.rejects), key=str)
    assert places == [(2, 3, "MALFORMED_ROW"), (4, 5, "NOT_A_NUMBER")], (
        f"(row, line, code) of the rejects: {places}; 'abc' is on line 5 (data row 4) and the "
        "malformed line is line 3 (data row 2)")


def test_well_formed_rows_are_numbered_around_any_number_of_malformed_lines() -> None:
    # skip_rows against counting by hand, over batches that start and end anywhere
    import random

    from odse.engine.reading import skip_rows

    draw = random.Random(7)
    for _ in range(500):
        total = draw.randint(1, 60)
        malformed = sorted(draw.sample(range(1, total + 1), draw.randint(0, total // 2)))
        good = [row for row in range(1, total + 100) if row not in malformed]
        first, n = draw.randint(1, 30), draw.randint(0, 30)
        assert skip_rows(first, n, malformed).to_pylist() == good[first - 1:first - 1 + n], \
            (malformed, first, n)


def test_rejects_have_column_raw_value_and_code(well_formed: Bench) -> None:
    """A blank cell may show as None or ''; a token (--, N/A) or garbage shows as written."""
    bench = well_formed
    result = odse.transform(bench.text, source="huawei")
    by_row = {}
    for rej in result.rejects:
        if rej.scope == "record" and rej.row is not None:
            by_row.setdefault(rej.row, rej)
    malformed = [r for r in result.rejects if r.code == "MALFORMED_ROW"]
    problems = []
    for row, bad in sorted(bench.bad.items()):
        if bad.column is None:
            if not any(r.value == bad.value for r in malformed):
                problems.append(f"row {row}: malformed line {bad.value!r} not among the rejects")
            continue
        rej = by_row.get(row)
        if rej is None:
            problems.append(f"row {row}: no reject (broke {bad.column}={bad.value!r})")
            continue
        got = (rej.column, rej.value if rej.value is not None else "", rej.code)
        if got != (bad.column, bad.value, bad.code):
            problems.append(f"row {row} (line {bench.line(row)}): column/value/code {got}, "
                            f"expected {(bad.column, bad.value, bad.code)}")
        if not rej.reason:
            problems.append(f"row {row}: no reason")
    assert not problems, f"{len(problems)} rejects differ:\n  " + "\n  ".join(problems[:12])


def test_unknown_state_codes_are_records_not_rejects(bench: Bench, result: odse.Records) -> None:
    unknown = [r for r in result if r.get("error_code") == "77777"]
    assert len(unknown) == len(bench.unknown_state), (len(unknown), len(bench.unknown_state))
    assert all(r["error_type"] == "unknown" for r in unknown), unknown[:2]


def test_reasons_and_summary_count_the_rejects(bench: Bench, result: odse.Records) -> None:
    want: dict[str, int] = {}
    for bad in bench.bad.values():
        want[bad.code] = want.get(bad.code, 0) + 1
    assert result.report.reasons() == dict(sorted(want.items(), key=lambda kv: (-kv[1], kv[0])))
    summary = result.report.summary()
    assert summary.startswith(f"{bench.rows} rows read, {bench.rows - len(bench.bad)} records, "
                              f"{len(bench.bad)} rows rejected"), summary


# ----------------------------------------------------------------------------- errors="raise"


FIRST_BAD = {
    "garbage time": Bad("timestamp", GARBAGE_TIME, "NOT_A_TIMESTAMP"),
    "not a number": Bad("power", "1,5kW", "NOT_A_NUMBER"),
    "dash token": Bad("power", "--", "MISSING_VALUE"),
    "N/A token": Bad("power", "N/A", "MISSING_VALUE"),
    "malformed line": Bad(None, "", "MALFORMED_ROW"),
}


@pytest.mark.parametrize("kind", list(FIRST_BAD))
def test_raise_stops_at_the_first_bad_row(kind: str) -> None:
    first = FIRST_BAD[kind]
    bench = huawei_bench(rows=300, first_bad={50: Bad(first.column, first.value, first.code)})
    assert min(bench.bad) == 50
    with pytest.raises(TransformError) as caught:
        odse.transform(bench.text, source="huawei", errors="raise")
    err = caught.value
    text = str(err)
    assert err.code == first.code, f"code {err.code}, expected {first.code}: {text}"
    assert err.row == 50 and "row 50" in text, f"the first bad row is row 50: {text}"
    assert "line 51" in text, f"the first bad row is on line 51: {text}"
    if first.column is not None:
        assert err.column == first.column and first.column in text, text
        assert err.value == first.value and repr(first.value) in text, (
            f"the message shows the raw value {first.value!r}: {text}")


def test_raise_with_a_clean_input_raises_nothing() -> None:
    text = "timestamp,power,inverter_state,run_state\n2026-02-09 12:00:00,5,512,1\n"
    out = odse.transform(text, source="huawei", errors="raise")
    assert len(out) == 1 and not out.rejects


# ----------------------------------------------------------------------------- other shapes


def sma_counter_bench(rows: int = 300) -> tuple[str, dict[int, str], list[float]]:
    """An SMA CSV3 5-minute counter with NaN cells, garbage and two resets."""
    head = ("sep=,\nVersion CSV3|Tool WebUI|Linebreaks CR/LF|Delimiter comma\n\n,STP\n,SUNNY\n,XX\n"
            ",Metering.TotWhOut,Operation.Health\n,Analog,Status\nDD.MM.YYYY hh:mm:ss,[Wh],\n")
    body, bad, readings = [], {}, []
    counter = 41_919_016.0
    for row in range(1, rows + 1):
        stamp = (START + timedelta(minutes=5 * (row - 1))).strftime("%d.%m.%Y %H:%M:%S")
        counter += row % 13
        if row in (120, 240):
            counter = float(row % 7)             # counter reset
        cell = f"{counter:.0f}"
        if row % 23 == 4:
            cell = bad[row] = "NaN"
        elif row % 41 == 9:
            cell = bad[row] = "x12"
        else:
            readings.append(float(cell))
        health = "Ok" if row % 19 else "Wtf"
        body.append(f"{stamp},{cell},{health}")
    return head + "\n".join(body) + "\n", bad, readings


def test_counter_bench_accounts_for_every_row() -> None:
    text, bad, readings = sma_counter_bench()
    out = odse.transform(text, source="sma")
    report = out.report
    energy = sum(b if b < a else b - a for a, b in itertools.pairwise(readings))
    assert report.rows_read == 300 and report.rows_rejected == len(bad), report.summary()
    assert report.rows_read == report.rows_out + report.rows_rejected, report.summary()
    assert len(out) == len(readings) - 1, "N valid readings give N-1 records"
    assert sum(r["kWh"] for r in out) == pytest.approx(energy / 1000, rel=1e-9)
    assert sorted(r.line for r in out.rejects) == sorted(row + 9 for row in bad), (
        "lines count the sep=, version, blank and six header lines")
    assert {r.code for r in out.rejects} == {"MISSING_VALUE", "NOT_A_NUMBER"}, report.reasons()
    assert {r["error_type"] for r in out} == {"normal", "unknown"}, "Wtf is an unknown health"


def test_unpivot_bench_rejects_a_row_only_when_no_channel_survives() -> None:
    header = ("Date/Time,Energy Produced (Wh),Energy Consumed (Wh),Exported to Grid (Wh),"
              "Imported from Grid (Wh)")
    lines, dead, partial = [header], set(), set()
    for row in range(1, 241):
        stamp = (START + timedelta(hours=row - 1)).strftime("%m/%d/%Y %H:%M")
        cells = [str(row % 11 * 10), str(row % 7 * 10), "0", str(row % 5)]
        if row % 19 == 2:
            cells = ["--", "", "N/A", "x"]
            dead.add(row)
        elif row % 13 == 6:
            cells[0] = "N/A"
            partial.add(row)
        lines.append(f"{stamp}," + ",".join(cells))
    out = odse.transform("\n".join(lines) + "\n", source="enphase", timezone="UTC")
    report = out.report
    assert report.rows_read == 240 and report.rows_rejected == len(dead), report.summary()
    assert report.rows_read == report.rows_out + report.rows_rejected, report.summary()
    assert len(out) == 4 * (240 - len(dead)) - len(partial), "one record per usable cell"
    assert {r.row for r in out.rejects} == dead | partial, "every dropped cell is listed"
    assert all(r.line == r.row + 1 for r in out.rejects), "line = data row + header line"


def test_json_bench_rejects_carry_their_paths() -> None:
    values, bad = [], {}
    for i in range(288):
        date = (START + timedelta(minutes=15 * i)).strftime("%Y-%m-%d %H:%M:%S")
        value: float | str | None = float(i % 40) * 12.5
        if i % 9 == 1:
            value, bad[i] = None, ("MISSING_VALUE", None)
        elif i % 31 == 2:
            date, bad[i] = GARBAGE_TIME, ("NOT_A_TIMESTAMP", GARBAGE_TIME)
        values.append({"date": date, "value": value})
    text = json.dumps({"energy": {"timeUnit": "QUARTER_OF_AN_HOUR", "unit": "Wh",
                                  "values": values}})
    out = odse.transform(text, source="solaredge", timezone="Africa/Johannesburg")
    report = out.report
    assert report.rows_read == 288 and report.rows_rejected == len(bad), report.summary()
    assert report.rows_read == report.rows_out + report.rows_rejected
    got = {r.path: (r.code, r.value) for r in out.rejects}
    want = {f"$.energy.values[{i}]": v for i, v in bad.items()}
    assert got == want, {k: (got.get(k), want.get(k)) for k in set(got) ^ set(want)}


# ----------------------------------------------------------------------------- late rejects


LATE = {
    "negative energy on a generation meter": (
        "t,e\n2026-01-01 00:00:00,1.5\n2026-01-01 01:00:00,-0.002\n",
        {"source": "csv", "mapping": {"timestamp": "t", "kWh": "e"}}, "NEGATIVE_ENERGY"),
    "one interval and no interval length": (
        "date,totalActivePower,inverterMode\n2026-02-09 12:00:00,5000,MPPT\n",
        {"source": "solaredge"}, "UNKNOWN_INTERVAL"),
    "a counter reading out of order": (
        "sep=,\nVersion CSV3\n\n,STP\n,SUNNY\n,XX\n,Metering.TotWhOut\n,Analog\n"
        "DD.MM.YYYY hh:mm:ss,[Wh]\n01.07.2025 12:00:00,1000\n01.07.2025 12:10:00,1100\n"
        "01.07.2025 12:05:00,1050\n01.07.2025 12:15:00,1200\n", {"source": "sma"},
        "OUT_OF_ORDER"),
}


@pytest.mark.parametrize("kind", list(LATE))
def test_rows_rejected_after_reading_are_counted(kind: str) -> None:
    """A row dropped while making series (interval, sign, order) counts as rejected too."""
    text, kwargs, code = LATE[kind]
    out = odse.transform(text, **kwargs)
    report = out.report
    rejected = {r.row for r in out.rejects if r.code == code}
    assert len(rejected) == 1, f"one {code} reject: {[str(r) for r in out.rejects]}"
    assert report.rows_rejected == 1, (
        f"{kind}: the {code} row is not in the output, so rows_rejected must be 1; "
        f"got {report.summary()}")
    assert report.rows_read == report.rows_out + report.rows_rejected
