"""to_json writes JSON Lines and to_csv writes CSV: atomically, streamed, readable back."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import odse.arrow_input
from odse import to_csv, to_json
from odse.errors import OutputError
from odse.records import TIMESTAMP_TYPE
from odse.writers.summary import WriteSummary

RECORDS = [
    {"timestamp": "2026-02-09T12:00:00Z", "kWh": 416.6666666666667, "error_type": "normal",
     "error_code": "512", "asset_id": "SITE-ALPHA"},
    {"timestamp": "2026-02-09T14:05:00+02:00", "kWh": 5, "error_type": "warning",
     "asset_id": "SITE-ALPHA", "PF": float("nan")},
    {"asset_id": "Zürich \"Nord\", B\\1\nline2\ttab\x01", "kWh": 0.1, "error_type": "normal",
     "timestamp": "2026-02-09T12:10:00.5Z", "curtailment_flag": True, "meta": {"a": [1, 2]}},
]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# JSON Lines ----------------------------------------------------------------------------------


def test_json_lines_one_compact_object_per_line(tmp_path):
    target = tmp_path / "archive" / "2026" / "2026-02-09.jsonl"
    summary = to_json(RECORDS, target)
    assert isinstance(summary, WriteSummary)
    assert (summary.rows_in, summary.rows_written, summary.files_written) == (3, 3, 1)
    assert summary.format == "jsonl"
    text = target.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert text.splitlines()[0] == (
        '{"timestamp":"2026-02-09T12:00:00Z","kWh":416.6666666666667,"error_type":"normal",'
        '"error_code":"512","asset_id":"SITE-ALPHA"}')
    _first, second, third = _lines(target)
    assert second == {"timestamp": "2026-02-09T12:05:00Z", "kWh": 5.0,
                      "error_type": "warning", "asset_id": "SITE-ALPHA"}
    assert isinstance(second["kWh"], float)
    assert "NaN" not in text and "PF" not in text
    assert third["asset_id"] == RECORDS[2]["asset_id"]
    assert third["timestamp"] == "2026-02-09T12:10:00.5Z"
    assert third["curtailment_flag"] is True
    assert third["meta"] == {"a": [1, 2]}
    assert "Zürich" in text  # UTF-8 kept, not escaped


def test_json_from_arrow_matches_json_from_dicts(tmp_path):
    to_json(RECORDS[:2], tmp_path / "dicts.jsonl")
    table = pa.Table.from_batches(list(odse.arrow_input.record_batches(RECORDS[:2])))
    to_json(table, tmp_path / "arrow.jsonl")
    assert (tmp_path / "dicts.jsonl").read_bytes() == (tmp_path / "arrow.jsonl").read_bytes()


def test_json_float_text_reads_back_exactly(tmp_path):
    values = [0.1 + 0.2, 1e16, 1e-7, 123456789.0, -0.0, 5e-324, 1.5e300, 2.0]
    to_json([{"kWh": value} for value in values], tmp_path / "f.jsonl")
    back = [line["kWh"] for line in _lines(tmp_path / "f.jsonl")]
    assert back == values
    assert all(isinstance(value, float) for value in back)


def test_json_of_no_records_is_an_empty_file(tmp_path):
    summary = to_json([], tmp_path / "empty.jsonl")
    assert (tmp_path / "empty.jsonl").read_bytes() == b""
    assert summary.rows_written == 0


def test_json_streams_a_generator_and_writes_to_an_open_file(monkeypatch):
    monkeypatch.setattr(odse.arrow_input, "CHUNK_ROWS", 7)
    records = ({"timestamp": "2026-02-09T00:00:00Z", "kWh": float(i)} for i in range(30))
    sink = io.StringIO()
    summary = to_json(records, sink)
    assert summary.path is None and summary.files_written == 0
    assert [json.loads(line)["kWh"] for line in sink.getvalue().splitlines()] == list(range(30))


def test_json_to_a_file_uri(tmp_path):
    target = tmp_path / "uri" / "out.jsonl"
    summary = to_json(RECORDS[:1], target.as_uri())
    assert summary.path == target.as_uri()
    assert _lines(target)[0]["asset_id"] == "SITE-ALPHA"


def test_json_replaces_a_file_atomically_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    to_json(RECORDS[:1], target)
    assert len(_lines(target)) == 1
    assert sorted(os.listdir(tmp_path)) == ["out.jsonl"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    records = [*RECORDS[:1], {"timestamp": "never", "kWh": 1.0}]
    with pytest.raises(OutputError, match="not an ISO 8601"):
        to_json(records, target)
    assert target.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["out.jsonl"]


def test_a_temporary_left_by_a_killed_write_is_removed_next_time(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    stale = tmp_path / f".out.jsonl.odse-{pid}-1-abcd.tmp"
    stale.write_text("half a fi")
    alive = tmp_path / f".out.jsonl.odse-{os.getppid()}-1-abcd.tmp"
    alive.write_text("another writer's")
    to_json(RECORDS[:1], tmp_path / "out.jsonl")
    assert not stale.exists()
    assert alive.exists()  # its process still runs: not ours to delete


def test_writing_onto_a_folder_says_to_pass_a_file(tmp_path):
    with pytest.raises(OutputError) as caught:
        to_json(RECORDS, tmp_path)
    assert "output path is a folder" in str(caught.value)
    assert "records.jsonl" in str(caught.value)


def test_a_bad_output_uri_is_explained():
    with pytest.raises(OutputError) as caught:
        to_json(RECORDS, "nosuchscheme://bucket/x.jsonl")
    assert "cannot open output URI" in str(caught.value)
    assert caught.value.code == "BAD_TARGET"


def test_an_unwritable_folder_is_an_output_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as caught:
        to_json(RECORDS, blocker / "sub" / "out.jsonl")
    assert caught.value.exit_code == 3
    assert "writable" in str(caught.value)


# CSV -------------------------------------------------------------------------------------------


def _csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_csv_header_is_leading_fields_then_first_seen(tmp_path):
    records = [{"z_extra": 1, "asset_id": "A", "PF": 0.9, "kWh": 1.0,
                "timestamp": "2026-02-09T00:00:00Z", "error_type": "normal"},
               {"channel": "grid_import", "kWh": 2.0, "b_extra": "x"}]
    summary = to_csv(records, tmp_path / "out" / "x.csv")
    rows = _csv(tmp_path / "out" / "x.csv")
    assert rows[0] == ["timestamp", "kWh", "error_type", "asset_id", "channel", "z_extra",
                       "PF", "b_extra"]
    assert rows[1] == ["2026-02-09T00:00:00Z", "1.0", "normal", "A", "", "1", "0.9", ""]
    assert rows[2] == ["", "2.0", "", "", "grid_import", "", "", "x"]
    assert summary.format == "csv" and summary.rows_written == 2


def test_csv_quotes_only_when_needed_and_tells_empty_from_absent(tmp_path):
    records = [{"kWh": 1.0, "asset_id": "a,b"}, {"kWh": 2.0, "asset_id": ""},
               {"kWh": 3.0, "asset_id": 'say "hi"\nbye'}, {"kWh": float("inf")}]
    to_csv(records, tmp_path / "q.csv")
    text = (tmp_path / "q.csv").read_text(encoding="utf-8")
    assert text.splitlines()[:3] == ["kWh,asset_id", '1.0,"a,b"', '2.0,""']
    assert '"say ""hi""\nbye"' in text
    assert text.endswith("\n,\n")  # infinity is an absent value
    assert _csv(tmp_path / "q.csv")[3] == ["3.0", 'say "hi"\nbye']
    table = pacsv.read_csv(tmp_path / "q.csv", convert_options=pacsv.ConvertOptions(
        strings_can_be_null=True, quoted_strings_can_be_null=False))
    assert table.column("asset_id").to_pylist() == ["a,b", "", 'say "hi"\nbye', None]


def test_csv_of_no_records_has_a_header(tmp_path):
    to_csv([], tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_text() == "timestamp,kWh,error_type\n"
    schema = pa.schema([("timestamp", TIMESTAMP_TYPE), ("kWh", pa.float64()),
                        ("channel", pa.string())])
    to_csv(schema.empty_table(), tmp_path / "empty2.csv")
    assert (tmp_path / "empty2.csv").read_text() == "timestamp,kWh,channel\n"


def test_csv_stream_with_a_column_first_seen_later_is_laid_out_again(tmp_path, monkeypatch):
    monkeypatch.setattr(odse.arrow_input, "CHUNK_ROWS", 3)

    def records():
        for index in range(7):
            record = {"timestamp": f"2026-02-09T00:0{index}:00Z", "kWh": float(index),
                      "note": "a,b" if index == 0 else None}
            if index == 5:
                record.update(error_code="E5", z="late")
            if index == 6:
                record["empty"] = ""
            yield record

    summary = to_csv(records(), tmp_path / "late.csv")
    rows = _csv(tmp_path / "late.csv")
    assert rows[0] == ["timestamp", "kWh", "error_code", "note", "z", "empty"]
    assert rows[1] == ["2026-02-09T00:00:00Z", "0.0", "", "a,b", "", ""]
    assert rows[6] == ["2026-02-09T00:05:00Z", "5.0", "E5", "", "late", ""]
    assert len(rows) == 8 and summary.rows_written == 7
    text = (tmp_path / "late.csv").read_text()
    assert text.splitlines()[7].endswith(',""')  # the empty string survives as ""


def test_csv_reads_back_in_pandas_with_the_values_written(tmp_path):
    pd = pytest.importorskip("pandas")
    to_csv(RECORDS, tmp_path / "p.csv")
    frame = pd.read_csv(tmp_path / "p.csv")
    assert list(frame.columns[:5]) == ["timestamp", "kWh", "error_type", "error_code",
                                       "asset_id"]
    assert frame["kWh"].tolist() == [416.6666666666667, 5.0, 0.1]
    assert frame["asset_id"].tolist()[2] == RECORDS[2]["asset_id"]
    assert frame["meta"].tolist()[2] == '{"a":[1,2]}'


def test_csv_to_an_open_binary_file():
    sink = io.BytesIO()
    to_csv(RECORDS[:1], sink)
    assert sink.getvalue().decode().startswith("timestamp,kWh,error_type,error_code,asset_id\n")
