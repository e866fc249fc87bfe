"""Spreadsheet workbooks (format: workbook, the odse[excel] extra) and files of the wrong type.

Workbooks are written here with openpyxl; what each must give is worked out by hand in the
test. The real portal workbooks are in test_real_samples.py.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from dataclasses import replace as dataclass_replace
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import odse
from odse.errors import InputError, MissingExtraError

openpyxl = pytest.importorskip("openpyxl")
pytest.importorskip("fastexcel")

REAL = Path(__file__).resolve().parent / "data" / "real"
SOLAX_XLS = REAL / "solax" / "solaxcloud_daily_report_Dummy_Site_2023-06.xls"
SOLARMAN_XLSX = REAL / "solarman" / "Solarman-Daily.Statistics-20250316.xlsx"


def spec(**workbook):
    return {"odse_mapping": 1.1, "name": "wb", "format": "workbook", "workbook": workbook,
            "fields": {"timestamp": {"column": "Time", "format": ["iso8601", "excel"]},
                       "kWh": {"column": "Energy", "unit": "kWh"},
                       "error_type": {"const": "normal"}}}


def write_book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return write_book(tmp_path / "book.xlsx", {
        "Notes": [["nothing here"]],
        "Daily": [["Daily report"], [], ["Time", "Energy"],
                  [datetime(2024, 6, 1, 0, 0), 1.5],        # a date cell
                  ["2024-06-01 01:00", "2.5"],              # text, a number typed as text
                  [45444.083333333336, "abc"],              # a day serial; a bad value
                  ["Total", 4]],
    })


def test_rejects_name_the_sheet_and_row(book: Path) -> None:
    rows = odse.transform(book, mapping=spec(sheet="Daily", skip_footer=1),
                          timezone="UTC")
    assert [r["kWh"] for r in rows] == [1.5, 2.5]
    assert [r["timestamp"] for r in rows] == ["2024-06-01T00:00:00Z", "2024-06-01T01:00:00Z"]
    (reject,) = rows.rejects
    assert reject.location == "sheet 'Daily' row 6", reject
    assert (reject.line, reject.column, reject.value, reject.code) == (6, "Energy", "abc",
                                                                       "NOT_A_NUMBER")
    report = rows.report
    assert report.sheet == "Daily"
    assert report.skipped == {"footer row (workbook.skip_footer)": 1}
    assert report.rows_read == report.rows_out + report.rows_rejected + report.rows_skipped


def test_sheet_by_index_and_pattern_and_a_fixed_header_row(book: Path) -> None:
    for sheet in (1, -1, {"match": "^Dai"}):
        rows = odse.transform(book, mapping=spec(sheet=sheet, header={"row": 3}, skip_footer=2),
                              timezone="UTC")
        assert [r["kWh"] for r in rows] == [1.5, 2.5], sheet


def test_an_unknown_sheet_names_the_sheets_and_the_nearest(book: Path) -> None:
    with pytest.raises(InputError) as caught:
        odse.transform(book, mapping=spec(sheet="Dialy"))
    text = str(caught.value)
    assert caught.value.code == "SHEET_NOT_FOUND"
    assert "no sheet 'Dialy'" in text and "Did you mean 'Daily'?" in text
    assert "'Notes', 'Daily'" in text


def test_a_header_that_is_not_there_says_what_was_looked_for(book: Path) -> None:
    with pytest.raises(InputError) as caught:
        odse.transform(book, mapping=spec(sheet="Notes"))
    assert "no header row in the first" in str(caught.value)
    assert "'Time'" in str(caught.value)


def test_without_the_extra_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastexcel", None)
    with pytest.raises(MissingExtraError) as caught:
        odse.transform(SOLARMAN_XLSX, source="solarman")
    assert "pip install 'odse[excel]'" in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_workbook_where_no_variant_fits_lists_what_each_needed(tmp_path: Path) -> None:
    path = write_book(tmp_path / "other.xlsx", {"S": [["a", "b"], [1, 2]]})
    with pytest.raises(InputError) as caught:
        odse.transform(path, source="solarman")
    assert "daily_statistics_xlsx" in str(caught.value)


# ----------------------------------------------------------------------------- wrong types


@pytest.fixture(scope="module")
def wrong_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wrong")
    parquet = folder / "records.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), parquet)
    packed = folder / "report.xlsx.gz"
    packed.write_bytes(gzip.compress(SOLARMAN_XLSX.read_bytes()))
    return {"xls": SOLAX_XLS, "xlsx": SOLARMAN_XLSX, "parquet": parquet, "gzip": packed}


@pytest.mark.parametrize(("kind", "says"), [
    ("xls", "is an XLS workbook (Excel 97-2003, BIFF); source 'sma' reads CSV and JSON and "
            "has no spreadsheet shape"),
    ("xlsx", "is an XLSX workbook; source 'sma' reads CSV and JSON and has no spreadsheet "
             "shape"),
    ("parquet", "is a Parquet file; source 'sma' reads CSV and JSON"),
    ("gzip", "is an XLSX workbook, gzip-compressed; source 'sma' reads CSV and JSON"),
])
def test_a_file_of_another_type_is_named(wrong_files: dict[str, Path], kind: str,
                                         says: str) -> None:
    with pytest.raises(InputError) as caught:
        odse.transform(wrong_files[kind], source="sma")
    assert says in str(caught.value)
    assert caught.value.code == "INPUT_WRONG_TYPE"


@pytest.mark.parametrize("kind", ["xls", "xlsx", "parquet", "gzip"])
def test_the_cli_says_what_the_file_is_without_a_traceback(wrong_files: dict[str, Path],
                                                           kind: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "odse", "transform", "-i",
                           str(wrong_files[kind]), "-s", "sma", "-o", str(tmp_path / "o.jsonl")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith("Error: "), done.stderr
    assert "Traceback" not in done.stderr
    assert "source 'sma' reads CSV and JSON" in done.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_a_gzip_compressed_workbook_is_read_by_a_workbook_source(
        wrong_files: dict[str, Path]) -> None:
    rows = odse.transform(wrong_files["gzip"], source="solarman")
    assert rows.report.variant == "daily_statistics_xlsx"
    assert rows.report.records == 186


def _read(path: Path, source: str) -> tuple[pa.Table, list[str], dict[str, int]]:
    stream = odse.transform_batches(path, source=source)
    table = stream.read_all()
    return table, [str(r) for r in stream.report.rejects], dict(stream.report.skipped)


SOLAX_OCT = REAL / "solax" / "solaxcloud_daily_report_Dummy_Site_2023-10.xls"


@pytest.mark.parametrize("path, source, numbers", [
    (SOLARMAN_XLSX, "solarman", False),     # its readings are text cells ("28.20")
    (SOLAX_XLS, "solaxcloud", True), (SOLAX_OCT, "solaxcloud", True)],
    ids=["solarman-xlsx", "solax-xls-june", "solax-xls-october"])
def test_a_fixed_header_row_reads_number_cells_as_numbers_to_the_same_records(
        monkeypatch: pytest.MonkeyPatch, path: Path, source: str, numbers: bool) -> None:
    import dataclasses

    from odse.readers import workbook_input

    read_sheet = workbook_input.read_sheet
    want = _read(path, source)       # the header found: every cell read as text
    typed = []

    def fixed_header(data, settings, groups, reader=None):  # type: ignore[no-untyped-def]
        found = read_sheet(data, settings, groups, reader)
        sheet = read_sheet(data, dataclasses.replace(settings, header_row=found.header_row),
                           groups, reader)
        typed.append(any(pa.types.is_floating(t) for t in sheet.table.schema.types))
        return sheet

    monkeypatch.setattr(workbook_input, "read_sheet", fixed_header)
    got = _read(path, source)
    assert typed and typed[-1] == numbers   # the sheet read: number cells as numbers
    assert got[0].equals(want[0]) and got[1:] == want[1:]


def test_a_text_cell_among_numbers_sends_the_sheet_to_the_text_reading(tmp_path: Path) -> None:
    path = write_book(tmp_path / "mixed.xlsx", {"Data": [
        ["Time", "Energy"], [datetime(2024, 6, 1, 0, 0), 1.5],
        [datetime(2024, 6, 1, 0, 15, 0, 250000), "abc"], [datetime(2024, 6, 1, 0, 30), 2]]})
    from odse.readers import inputs, workbook_input

    settings = workbook_input.WorkbookSettings(sheet="Data", header_row=1)
    sheet = workbook_input.read_sheet(inputs.InputData.of(path), settings, [["Time"], ["Energy"]])
    assert sheet.table.column("Energy").to_pylist() == ["1.5", "abc", "2"]
    rows = odse.transform(path, mapping=spec(sheet="Data", header={"row": 1}))
    assert [r["kWh"] for r in rows] == [1.5, 2.0]
    assert "value 'abc': not a number" in str(rows.report.rejects[0])
    # all numbers: read as numbers, times as the text reading gives them
    clean = write_book(tmp_path / "clean.xlsx", {"Data": [
        ["Time", "Energy"], [datetime(2024, 6, 1, 0, 0), 1.5], [None, None],
        [datetime(2024, 6, 1, 0, 15, 0, 250000), 3]]})
    sheet = workbook_input.read_sheet(inputs.InputData.of(clean), settings, [["Time"], ["Energy"]])
    assert sheet.table.column("Energy").to_pylist() == [1.5, 3.0] and sheet.blank == 1
    assert sheet.table.column("Time").to_pylist() == ["2024-06-01 00:00:00",
                                                      "2024-06-01 00:15:00.250"]


def test_the_command_line_reads_the_sheet_while_the_engine_loads(tmp_path: Path) -> None:
    import yaml

    from odse.readers import inputs, sheet_prefetch, workbook_input

    path = write_book(tmp_path / "clean.xlsx", {"Notes": [["x"]], "Data": [
        ["Time", "Energy"], [datetime(2024, 6, 1, 0, 0), 1.5], [datetime(2024, 6, 1, 1), 3]]})
    mapping = tmp_path / "spec.yaml"
    mapping.write_text(yaml.safe_dump(spec(sheet="Data", header={"row": 1})), encoding="utf-8")
    settings = workbook_input.WorkbookSettings(sheet="Data", header_row=1)
    plain = workbook_input.read_sheet(inputs.InputData.of(path), settings, [["Time"]])
    sheet_prefetch.start(str(path), str(mapping))
    assert sheet_prefetch._started                       # begun: the spec qualifies
    ahead = workbook_input.read_sheet(inputs.InputData.of(path), settings, [["Time"]])
    assert not sheet_prefetch._started                   # taken by the read
    assert ahead.table.equals(plain.table) and ahead.rows.equals(plain.rows)
    # another sheet or header row than the spec's: the head start is left unused
    sheet_prefetch.start(str(path), str(mapping))
    other = workbook_input.read_sheet(inputs.InputData.of(path), dataclass_replace(
        settings, header_row=2), [["2024-06-01 00:00:00"]])
    assert other.header_row == 2 and sheet_prefetch._started
    sheet_prefetch._started.clear()
    # the file written again after the head start: read again
    sheet_prefetch.start(str(path), str(mapping))
    sheet_prefetch._started[next(iter(sheet_prefetch._started))][0].join()
    write_book(path, {"Notes": [["x"]], "Data": [["Time", "Energy"],
                                                 [datetime(2024, 6, 1, 0, 0), 99.0]]})
    again = workbook_input.read_sheet(inputs.InputData.of(path), settings, [["Time"]])
    assert again.table.column("Energy").to_pylist() == [99.0]
    # specs it does not understand start nothing
    mapping.write_text(yaml.safe_dump(spec(sheet={"match": "Da"}, header={"row": 1})),
                       encoding="utf-8")
    sheet_prefetch.start(str(path), str(mapping))
    assert not sheet_prefetch._started
    done = subprocess.run([sys.executable, "-m", "odse", "transform", "-i", str(path), "-m",
                           str(tmp_path / "spec.yaml"), "-q"], check=False, capture_output=True,
                          text=True)
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 1   # the 99.0 book


TRICKY = {
    "a boolean among numbers": [["Time", "Energy"], [datetime(2024, 6, 1, 0, 0), 1.5],
                                [datetime(2024, 6, 1, 0, 15), True],
                                [datetime(2024, 6, 1, 0, 30), 2]],
    "an integer past 2^53": [["Time", "Energy"], [datetime(2024, 6, 1, 0, 0), 1.5],
                             [datetime(2024, 6, 1, 0, 15), 12345678901234567]],
    "a repeated header": [["Time", "Energy", "Energy"], [datetime(2024, 6, 1, 0, 0), 1.5, 7],
                          [datetime(2024, 6, 1, 0, 15), 2.5, 9]],
    "empty rows above the header": [[], [], ["Time", "Energy"],
                                    [datetime(2024, 6, 1, 0, 0), 1.5],
                                    [datetime(2024, 6, 1, 0, 15), 2.5]],
    "numbers only after row 1000": [["Time", "Energy"]] + [
        [datetime(2024, 6, 1) + (i * (datetime(2024, 6, 1, 0, 5) - datetime(2024, 6, 1))),
         None if i < 1100 else 1.0] for i in range(1200)],
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_a_fixed_header_row_gives_what_a_found_header_gives(tmp_path: Path, name: str) -> None:
    rows = TRICKY[name]
    path = write_book(tmp_path / "tricky.xlsx", {"Data": rows})
    header = next(i for i, row in enumerate(rows, start=1) if row)
    fixed = {**spec(sheet="Data", header={"row": header}),
             "fields": {**spec()["fields"], "kVAr": {"column": "Energy_2"}}}
    found = {**fixed, "workbook": {"sheet": "Data", "header": {"find": ["Time", "Energy"]}}}
    done = subprocess.run([sys.executable, "-c", (
        "import json, sys, odse\n"
        f"for m in ({fixed!r}, {found!r}):\n"
        f"    r = odse.transform({str(path)!r}, mapping=m, timezone='UTC')\n"
        "    print(json.dumps([r, [str(x) for x in r.report.rejects]]))\n")],
        check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    typed, text = (json.loads(line) for line in done.stdout.splitlines())
    assert typed == text
    assert "Could not determine dtype" not in done.stderr   # fastexcel's notes stay quiet
