"""``odse validate``: inputs of every kind, the lake, stdin, the report, messages, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click.testing
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from odse.cli import cli, record_files
from odse.cli import validate as validate_module

ROOT = Path(__file__).resolve().parent.parent
INCOMING = ROOT / "examples" / "data" / "incoming" / "2026-02-09"
ALPHA = str(INCOMING / "site_alpha.csv")
BETA = str(INCOMING / "site_beta.json")
GOOD = {"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.5, "error_type": "normal"}


def invoke(*args: str, **kwargs: object) -> click.testing.Result:
    return CliRunner().invoke(cli, ["validate", *args], **kwargs)


def report(result: click.testing.Result) -> dict:
    return json.loads(result.stdout)


def transform(*args: str) -> click.testing.Result:
    result = CliRunner().invoke(cli, ["transform", "-q", *args])
    assert result.exit_code == 0, result.stderr
    return result


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's lake: SITE-ALPHA (huawei) and SITE-BETA (enphase), as the cron job writes it."""
    root = tmp_path_factory.mktemp("lake") / "energy"
    transform("-s", "huawei", "-i", ALPHA, "--asset-id", "SITE-ALPHA", "-f", "parquet",
              "-o", f"{root}/")
    transform("-s", "enphase", "-i", BETA, "--asset-id", "SITE-BETA", "--param",
              "expected_devices=12", "-f", "parquet", "-o", f"{root}/")
    return root


# ------------------------------------------------------------------ the report

def test_a_valid_file_gives_the_documented_report_and_exit_0(tmp_path: Path) -> None:
    out = tmp_path / "alpha.jsonl"
    transform("-s", "huawei", "-i", ALPHA, "-o", str(out))
    result = invoke("--input", str(out))
    assert result.exit_code == 0
    body = report(result)
    assert list(body)[:5] == ["total", "passed", "failed", "errors", "warnings"]
    assert {k: body[k] for k in list(body)[:5]} == {"total": 263, "passed": 263, "failed": 0,
                                                     "errors": [], "warnings": []}
    assert body["summary"] == "263/263 valid (schema)"
    assert body["inputs"] == [{"input": str(out), "files": 1, "records": 263}]
    assert body["truncated"] is False
    assert result.stderr == f"odse: {out}: 263 records in 1 file: 263/263 valid (schema)\n"


def test_invalid_records_are_listed_with_file_and_row_and_exit_1(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [
        GOOD, {**GOOD, "timestamp": "2026-02-09T00:05:00", "kWh": -1, "error_type": "nope"}])
    result = invoke(str(path))
    assert result.exit_code == 1
    body = report(result)
    assert (body["total"], body["passed"], body["failed"]) == (2, 1, 1)
    assert [(e["record"], e["row"], e["path"], e["code"]) for e in body["errors"]] == [
        (1, 2, "$.timestamp", "PATTERN_MISMATCH"), (1, 2, "$.kWh", "OUT_OF_BOUNDS"),
        (1, 2, "$.error_type", "ENUM_MISMATCH")]
    assert body["errors"][1] == {"record": 1, "path": "$.kWh", "code": "OUT_OF_BOUNDS",
                                 "message": "kWh must be >= 0 unless direction is 'net', got -1.0",
                                 "file": str(path), "row": 2}
    assert body["summary"] == ("1/2 valid (schema), 3 errors: 1x ENUM_MISMATCH, "
                               "1x OUT_OF_BOUNDS, 1x PATTERN_MISMATCH")
    assert body["error_codes"] == {"ENUM_MISMATCH": 1, "OUT_OF_BOUNDS": 1,
                                   "PATTERN_MISMATCH": 1}


def test_max_errors_caps_the_lists_but_not_the_counts(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", [{**GOOD, "kWh": -1}] * 5)
    body = report(invoke(str(path), "--max-errors", "2"))
    assert len(body["errors"]) == 2
    assert (body["error_count"], body["failed"], body["truncated"]) == (5, 5, True)
    assert report(invoke(str(path), "--max-errors", "0"))["errors"] == []


def test_semantic_warnings_leave_the_exit_code_at_0() -> None:
    huawei_vector = "timestamp,power,inverter_state,run_state\n2026-02-09 12:00:00,5000,512,1\n"
    records = CliRunner().invoke(cli, ["transform", "-q", "-s", "huawei", "-i", "-"],
                                 input=huawei_vector).stdout
    result = invoke("-i", "-", "--level", "semantic", "--capacity-kw", "10",
                    "--interval-minutes", "5", input=records)
    assert result.exit_code == 0
    body = report(result)
    assert body["passed"] == 1
    assert [w["code"] for w in body["warnings"]] == ["EXCEEDS_PHYSICAL_MAXIMUM"]
    assert body["summary"] == "1/1 valid (semantic); 1 warning: 1x EXCEEDS_PHYSICAL_MAXIMUM"


def test_a_profile_without_market_context_fails(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [GOOD])
    result = invoke(str(path), "--profile", "bilateral")
    assert result.exit_code == 1
    assert {e["code"] for e in report(result)["errors"]} == {"PROFILE_FIELD_MISSING"}


# ------------------------------------------------------------------ the Parquet lake

def test_the_whole_lake_validates(lake: Path) -> None:
    result = invoke("-i", str(lake), "--level", "semantic", "--capacity-kw", "10")
    assert result.exit_code == 0
    body = report(result)
    assert (body["total"], body["failed"]) == (263 + 288, 0)
    assert body["inputs"] == [{"input": str(lake), "files": 3, "records": 551}]


def test_a_partition_folder_gets_its_asset_id_back_from_the_path(
        lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from odse.validation import PROFILES

    monkeypatch.setitem(PROFILES, "alpha_only", {
        "required_fields": ["asset_id"],
        "field_constraints": {"asset_id": {"enum": ["SITE-ALPHA"]}}})
    alpha = invoke("-i", str(lake / "asset_id=SITE-ALPHA"), "--profile", "alpha_only")
    assert alpha.exit_code == 0
    assert report(alpha)["total"] == 263
    beta = invoke("-i", str(lake / "asset_id=SITE-BETA"), "--profile", "alpha_only")
    assert beta.exit_code == 1
    assert report(beta)["error_codes"] == {"PROFILE_VALUE_MISMATCH": 288}


def test_partition_values_are_decoded_and_time_parts_dropped(tmp_path: Path) -> None:
    null = "__HIVE_DEFAULT_PARTITION__"
    folder = tmp_path / "lake" / "asset_id=..%2Fx" / "year=2026" / f"channel={null}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"timestamp": pa.array([0], pa.timestamp("us", tz="UTC")),
                             "kWh": [1.0], "error_type": ["normal"]}),
                   folder / "part-00000.parquet")
    (tmp_path / "lake" / "_SUCCESS").write_text("")
    (folder / ".part-00001.parquet.odse-1-2-3.tmp").write_text("junk")
    sources = list(record_files.expand([str(tmp_path / "lake")]))
    assert [Path(s.name).name for s in sources] == ["part-00000.parquet"]
    (piece,) = list(record_files.read(sources[0]))
    assert piece.table.column_names == ["timestamp", "kWh", "error_type", "asset_id", "channel"]
    assert piece.table.column("asset_id").to_pylist() == ["../x"]
    assert piece.table.column("channel").to_pylist() == [None]


def test_a_damaged_parquet_file_is_an_io_failure(tmp_path: Path) -> None:
    path = tmp_path / "part-00000.parquet"
    path.write_bytes(b"PAR1 not really")
    result = invoke(str(path))
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: cannot read {path} as Parquet:")
    assert result.stderr.endswith("Check that the file is complete (not being written) and is "
                                  "Parquet\n")


# ------------------------------------------------------------------ other kinds of input

def test_csv_from_transform_validates_and_a_bad_cell_is_a_type_mismatch(tmp_path: Path) -> None:
    out = tmp_path / "alpha.csv"
    transform("-s", "huawei", "-i", ALPHA, "-o", str(out))
    assert report(invoke(str(out)))["passed"] == 263
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,kWh,error_type,asset_id,curtailment_flag\n"
                   "2026-02-09T00:00:00Z,1.5,normal,A,true\n"
                   "2026-02-09T00:05:00Z,x,normal,,maybe\n")
    result = invoke(str(bad))
    assert result.exit_code == 1
    body = report(result)
    assert [(e["row"], e["path"], e["message"]) for e in body["errors"]] == [
        (2, "$.kWh", "kWh must be a number, got string 'x'"),
        (2, "$.curtailment_flag", "curtailment_flag must be true or false, got string 'maybe'")]


@pytest.mark.parametrize(("text", "total"), [
    (json.dumps([GOOD, GOOD]), 2),                      # a JSON array
    (json.dumps(GOOD, indent=2), 1),                    # one object over several lines
    (json.dumps(GOOD, indent=2) + "\n" + json.dumps(GOOD, indent=2), 2),  # several
    ("[]", 0),
    ("", 0),
])
def test_json_documents(tmp_path: Path, text: str, total: int) -> None:
    path = tmp_path / "records.json"
    path.write_text(text)
    result = invoke(str(path))
    assert result.exit_code == 0
    body = report(result)
    assert (body["total"], body["failed"]) == (total, 0)
    if not total:
        assert "odse: warning: no records found in the input" in result.stderr


def test_json_that_arrow_cannot_type_is_checked_value_by_value(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "kWh": "abc"}, {**GOOD, "timestamp": 5}]))
    body = report(invoke(str(path)))
    assert [(e["row"], e["code"]) for e in body["errors"]] == [
        (2, "TYPE_MISMATCH"), (3, "TYPE_MISMATCH")]


def test_a_type_change_deep_in_json_lines_keeps_every_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_files, "JSON_BLOCK", 256)  # many blocks: the change is late
    records = [{**GOOD, "kWh": float(i)} for i in range(40)] + [{**GOOD, "kWh": "abc"}, GOOD]
    path = write_jsonl(tmp_path / "late.jsonl", records)
    body = report(invoke(str(path)))
    assert (body["total"], body["failed"]) == (42, 1)
    assert [(e["record"], e["row"], e["code"]) for e in body["errors"]] == [
        (40, 41, "TYPE_MISMATCH")]


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "Error: {path} is not JSON records: it starts with 'n'. validate reads JSON "
                 "Lines, a JSON object or array of objects, CSV and Parquet\n"),
    ('{"a": 1}\n{"b": tru}\n', "Error: {path}:2: invalid JSON: Expecting value (column 7). Fix "
                               "the file, or write it again (odse transform writes one JSON "
                               "object a line)\n"),
    ("[1, 2", "Error: {path}:1: invalid JSON: Expecting ',' delimiter (column 6). Fix the "
              "file, or write it again\n"),
])
def test_invalid_json_is_an_io_failure(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    result = invoke(str(path))
    assert result.exit_code == 3
    assert result.stderr == message.format(path=path)


def test_stdin_takes_json_lines_csv_and_parquet(lake: Path) -> None:
    jsonl = CliRunner().invoke(cli, ["transform", "-q", "-s", "huawei", "-i", ALPHA]).stdout
    assert report(invoke("-i", "-", input=jsonl))["total"] == 263
    csv_text = CliRunner().invoke(cli, ["transform", "-q", "-s", "huawei", "-i", ALPHA,
                                        "-f", "csv"]).stdout
    assert report(invoke("-i", "-", input=csv_text))["total"] == 263
    part = next((lake / "asset_id=SITE-ALPHA").rglob("*.parquet")).read_bytes()
    result = invoke("-i", "-", input=part)
    assert report(result)["total"] == 263
    assert result.stderr == "odse: stdin: 263 records: 263/263 valid (schema)\n"


def test_several_inputs_number_records_globally_and_rows_per_file(tmp_path: Path) -> None:
    first = write_jsonl(tmp_path / "a.jsonl", [GOOD, GOOD])
    second = write_jsonl(tmp_path / "b.jsonl", [GOOD, {**GOOD, "kWh": -2}])
    body = report(invoke("-i", str(first), str(second)))
    assert [(e["record"], e["file"], e["row"]) for e in body["errors"]] == [
        (3, str(second), 2)]
    assert [i["input"] for i in body["inputs"]] == [str(first), str(second)]


def test_records_are_located_across_pieces_and_chunks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate_module, "CHUNK_ROWS", 25)
    monkeypatch.setattr(record_files, "PIECE_ROWS", 10)
    bad_at = {7, 23, 31}
    records = [{**GOOD, "kWh": -1.0} if i in bad_at else GOOD for i in range(40)]
    first = write_jsonl(tmp_path / "a.jsonl", records[:17])
    csv_path = tmp_path / "b.csv"
    csv_path.write_text("timestamp,kWh,error_type\n" + "".join(
        f"{r['timestamp']},{r['kWh']},{r['error_type']}\n" for r in records[17:]))
    body = report(invoke(str(first), str(csv_path)))
    assert [(e["record"], e["file"], e["row"]) for e in body["errors"]] == [
        (7, str(first), 8), (23, str(csv_path), 7), (31, str(csv_path), 15)]


# ------------------------------------------------------------------ usage and input errors

@pytest.mark.parametrize(("args", "message"), [
    ((), "Error: no input: give files or folders with -i PATH (or as arguments), or -i - to "
         "read stdin\n"),
    (("-i", "-", "-"), "Error: stdin (-) can be read once only\n"),
    (("x.jsonl", "--profile", "bilatral"),
     "Error: unknown profile 'bilatral'. Did you mean 'bilateral'? Known profiles: bilateral, "
     "wheeling, sawem_brp, municipal_recon, bess_dispatch, wind_scada\n"),
    (("x.jsonl", "--latitude", "10"),
     "Error: --latitude and --longitude go together; give both or neither\n"),
])
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr == message


def test_a_bad_level_is_a_click_usage_error() -> None:
    result = invoke("x.jsonl", "--level", "semantik")
    assert result.exit_code == 2
    assert "Error: Invalid value for '-l' / '--level': 'semantik' is not one of" in result.stderr


def test_missing_paths_and_empty_folders_are_io_failures(tmp_path: Path) -> None:
    result = invoke("nope.jsonl")
    assert result.exit_code == 3
    assert result.stderr == ("Error: file not found: nope.jsonl. Check the path; validate "
                             "takes files or folders of .parquet, .jsonl, .json or .csv "
                             "records\n")
    result = invoke(str(tmp_path))
    assert result.exit_code == 3
    assert result.stderr == (f"Error: no record files in {tmp_path}. validate reads *.parquet "
                             "(a lake), *.jsonl, *.json and *.csv; check that the transform "
                             "wrote to this folder\n")


def test_quiet_drops_the_summary_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [GOOD])
    result = invoke(str(path), "-q")
    assert result.exit_code == 0
    assert result.stderr == ""


def test_an_empty_stdin_is_an_io_failure_not_all_valid() -> None:
    result = invoke("-i", "-", input=b"")
    assert result.exit_code == 3
    assert result.stderr == (
        "Error: stdin is empty: there is nothing to validate. Check the command before the "
        "pipe (its exit code and its Error: line); set -o pipefail in scripts\n")
    assert report(invoke("-i", "-", input="[]"))["total"] == 0
