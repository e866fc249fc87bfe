"""``odse transform``: sources and mappings, formats, the lake, rejects, messages, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import click.testing
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from odse.cli import cli, console

ROOT = Path(__file__).resolve().parent.parent
INCOMING = ROOT / "examples" / "data" / "incoming" / "2026-02-09"
HISTORIAN = ROOT / "examples" / "data" / "historian"
ALPHA = str(INCOMING / "site_alpha.csv")
BETA = str(INCOMING / "site_beta.json")
SCADA = str(INCOMING / "scada_export.csv")
HUAWEI_VECTOR = "timestamp,power,inverter_state,run_state\n2026-02-09 12:00:00,5000,512,1\n"
SUMMARY = re.compile(r"^odse: (?P<input>.+?) \((?P<source>[^)]+)\): (?P<read>\d+) rows? read, "
                     r"(?P<written>\d+) records? written to (?P<where>.+?), "
                     r"(?P<rejected>\d+) rows? rejected.*, \d+\.\d\d s$")


def invoke(*args: str, **kwargs: object) -> click.testing.Result:
    return CliRunner().invoke(cli, ["transform", *args], **kwargs)


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def summary(result: click.testing.Result) -> dict[str, str]:
    match = SUMMARY.match(result.stderr.splitlines()[0])
    assert match, result.stderr
    return match.groupdict()


# ------------------------------------------------------------------ output: stdout and files

def test_records_go_to_stdout_as_json_lines_and_the_summary_to_stderr() -> None:
    result = invoke("-s", "huawei", "-i", ALPHA, "--asset-id", "SITE-ALPHA")
    assert result.exit_code == 0
    records = lines(result.stdout)
    assert len(records) == 263
    assert records[0] == {"timestamp": "2026-02-09T00:00:00Z", "kWh": 0.0,
                          "error_type": "normal", "error_code": "40960",
                          "asset_id": "SITE-ALPHA"}
    info = summary(result)
    assert info == {"input": ALPHA, "source": "huawei", "read": "264", "written": "263",
                    "where": "stdout", "rejected": "1"}
    assert "(1x MISSING_VALUE)" in result.stderr
    assert result.stderr.splitlines()[1] == (
        "odse: first rejected: line 178: kWh from 'power': value 'N/A': no value (the cell is "
        "empty or a missing-value token); write them all with --rejects FILE")


def test_the_huawei_vector_and_interval_minutes_only_when_given() -> None:
    default = invoke("-s", "huawei", "-i", "-", input=HUAWEI_VECTOR)
    assert default.exit_code == 0
    record = lines(default.stdout)[0]
    assert record["kWh"] == pytest.approx(416.6666666666667, rel=1e-12)
    assert (record["error_type"], record["error_code"]) == ("normal", "512")
    ten = invoke("-s", "huawei", "-i", "-", "--interval-minutes", "10", input=HUAWEI_VECTOR)
    assert lines(ten.stdout)[0]["kWh"] == pytest.approx(833.3333333333334, rel=1e-12)


def test_timezone_reads_naive_times_in_that_zone() -> None:
    result = invoke("-s", "huawei", "-i", "-", "--timezone", "+02:00", input=HUAWEI_VECTOR)
    assert lines(result.stdout)[0]["timestamp"] == "2026-02-09T10:00:00Z"
    named = invoke("-s", "huawei", "-i", "-", "--timezone", "Africa/Johannesburg",
                   input=HUAWEI_VECTOR)
    assert lines(named.stdout)[0]["timestamp"] == "2026-02-09T10:00:00Z"


def test_stdin_is_read_with_dash() -> None:
    result = invoke("-s", "fusionsolar", "-i", "-", input=Path(ALPHA).read_bytes())
    assert result.exit_code == 0
    assert len(lines(result.stdout)) == 263
    assert summary(result)["input"] == "stdin"


@pytest.mark.parametrize(("name", "fmt"), [("out.jsonl", "json"), ("out.json", "json"),
                                           ("out.ndjson", "json"), ("out.CSV", "csv")])
def test_the_format_follows_the_output_extension(tmp_path: Path, name: str, fmt: str) -> None:
    out = tmp_path / "sub" / name
    result = invoke("-s", "huawei", "-i", ALPHA, "-o", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    text = out.read_text()
    if fmt == "json":
        assert len(lines(text)) == 263
    else:
        assert text.startswith("timestamp,kWh,error_type,error_code,asset_id\n")
        assert len(text.splitlines()) == 264
    assert summary(result)["where"] == str(out)


def test_format_wins_over_the_extension_and_csv_goes_to_stdout(tmp_path: Path) -> None:
    result = invoke("-s", "huawei", "-i", ALPHA, "-f", "csv")
    assert result.stdout.splitlines()[1].startswith("2026-02-09T00:00:00Z,0.0,normal,40960")
    out = tmp_path / "records.txt"
    result = invoke("-s", "huawei", "-i", ALPHA, "-f", "jsonl", "-o", str(out))
    assert result.exit_code == 0
    assert len(lines(out.read_text())) == 263


# ------------------------------------------------------------------ the Parquet lake

def test_parquet_writes_the_hive_layout_and_merge_makes_reruns_idempotent(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    args = ("-s", "enphase", "-i", BETA, "--asset-id", "SITE-BETA",
            "--param", "expected_devices=12", "-f", "parquet", "-o", f"{lake}/")
    first = invoke(*args)
    assert first.exit_code == 0, first.stderr
    files = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*.parquet"))
    assert files == ["asset_id=SITE-BETA/year=2026/month=02/day=08/part-00000.parquet",
                     "asset_id=SITE-BETA/year=2026/month=02/day=09/part-00000.parquet"]
    assert "(merge: 2 partitions, 2 files)" in first.stderr
    again = invoke(*args)
    assert "288 existing rows replaced" in again.stderr
    rows = sum(pq.read_metadata(p).num_rows for p in lake.rglob("*.parquet"))
    assert rows == 288


def test_a_second_source_lands_beside_the_first(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    invoke("-s", "huawei", "-i", ALPHA, "--asset-id", "SITE-ALPHA", "-o", f"{lake}/")
    invoke("-s", "enphase", "-i", BETA, "--asset-id", "SITE-BETA",
           "--param", "expected_devices=12", "-o", f"{lake}/")
    assert sorted(p.name for p in lake.iterdir()) == ["asset_id=SITE-ALPHA",
                                                      "asset_id=SITE-BETA"]


def test_an_existing_folder_means_parquet_and_partition_by_and_mode_apply(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lake.mkdir()
    result = invoke("-s", "huawei", "-i", ALPHA, "--asset-id", "A", "-o", str(lake),
                    "--partition-by", "year,month", "--mode", "overwrite")
    assert result.exit_code == 0
    assert [p.relative_to(lake).as_posix() for p in lake.rglob("*.parquet")] == [
        "year=2026/month=02/part-00000.parquet"]
    assert "(overwrite: 1 partition, 1 file)" in result.stderr
    flat = tmp_path / "flat.parquet"
    result = invoke("-s", "huawei", "-i", ALPHA, "-o", str(flat), "--partition-by", "none",
                    "--mode", "append")
    assert result.exit_code == 0
    assert [p.name for p in flat.iterdir()] == ["part-00000.parquet"]


def test_records_without_asset_id_into_an_asset_lake_fail_and_leave_it(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    assert invoke("-s", "huawei", "-i", ALPHA, "--asset-id", "A", "-o", f"{lake}/").exit_code == 0
    before = sorted((p.relative_to(lake).as_posix(), p.stat().st_mtime_ns)
                    for p in lake.rglob("*"))
    result = invoke("-s", "huawei", "-i", ALPHA, "-o", f"{lake}/")
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "Error: a record has no 'asset_id' (263 of the 263 records in its batch have none), "
        "and the lake is partitioned by 'asset_id'; nothing was written (row 1). Give every "
        "record an asset_id (odse transform --asset-id ID, or asset_id= in transform()), or "
        "partition without it (--partition-by year,month,day")
    assert "Traceback" not in result.stderr
    assert sorted((p.relative_to(lake).as_posix(), p.stat().st_mtime_ns)
                  for p in lake.rglob("*")) == before
    assert not list(tmp_path.glob(".lake.odse-*"))


# ------------------------------------------------------------------ usage errors (exit 2)

@pytest.mark.parametrize(("args", "message"), [
    (("-f", "parquet"),
     "Error: --format parquet writes a folder of files, not a stream; give the folder with -o, "
     "e.g. -o lake/ (or use -f json or -f csv for stdout)\n"),
    (("-o", "out.txt"),
     "Error: cannot tell the output format from -o out.txt; add -f json (JSON Lines), -f csv, "
     "or -f parquet (a lake folder), or end the name in .jsonl, .csv or /\n"),
    (("-o", "out.jsonl", "--mode", "append"),
     "Error: --mode applies to Parquet output only; add -f parquet and give a folder with -o, "
     "or drop it\n"),
    (("-f", "csv", "--partition-by", "year"),
     "Error: --partition-by applies to Parquet output only; add -f parquet and give a folder "
     "with -o, or drop it\n"),
    (("-o", "lake/", "--partition-by", "asset_id,,day"),
     "Error: --partition-by 'asset_id,,day' has an empty name; write column names separated "
     "by commas, e.g. asset_id,year,month,day\n"),
    (("--rejects", "rejects.txt"),
     "Error: cannot tell the format of --rejects rejects.txt; end the name in .jsonl (JSON "
     "Lines) or .csv\n"),
    (("--rejects", "-"),
     "Error: --rejects - would mix rejects into the records on stdout; give a file such as "
     "--rejects rejects.csv\n"),
    (("--param", "expected_devices"),
     "Error: --param takes NAME=VALUE, got 'expected_devices'; e.g. --param "
     "expected_devices=12\n"),
    (("--param", "asset_id=X"), "Error: give asset_id with --asset-id, not --param\n"),
    (("--interval-minutes", "5", "--param", "interval_minutes=10"),
     "Error: interval_minutes is given twice: by --interval-minutes and by --param; keep one\n"),
    (("--param", "a=1", "--param", "a=2"), "Error: --param a is given twice; keep one\n"),
    (("--param", "expected_device=12"),
     "Error: source 'huawei' has no parameter 'expected_device'. Known parameters: asset_id, "
     "interval_minutes, timezone\n"),
    (("--timezone", "Mars/Base"),
     "Error: unknown time zone 'Mars/Base'; use an IANA name such as 'Europe/Berlin' or an "
     "offset such as '+02:00' (source huawei)\n"),
    (("-o", "lake/", "--partition-by", "asset,year"),
     "Error: cannot partition by 'asset': the records have no such column. Did you mean "
     "'asset_id'? Use a record column or year, month, day, hour\n"),
])
def test_usage_errors_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     args: tuple[str, ...], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("-s", "huawei", "-i", ALPHA, *args)
    assert result.exit_code == 2
    assert result.stderr == message
    assert result.stdout == ""


def test_json_output_into_a_folder_is_refused(tmp_path: Path) -> None:
    result = invoke("-s", "huawei", "-i", ALPHA, "-f", "json", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: -o {tmp_path} is a folder, but JSON output is one file; give a file such as "
        f"-o {tmp_path}/records.jsonl, or use -f parquet for a lake folder\n")


def test_a_misspelled_source_suggests_the_nearest_and_lists_them_all() -> None:
    result = invoke("-s", "huwei", "-i", ALPHA)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown source 'huwei'. Did you mean 'huawei'? "
                                    "Known sources: ")
    assert "csv, " in result.stderr and "fronius, " in result.stderr
    assert result.stdout == ""


def test_a_missing_input_is_an_io_failure() -> None:
    result = invoke("-s", "huawei", "-i", "nonexistent.csv")
    assert result.exit_code == 3
    assert result.stderr == ("Error: file not found: nonexistent.csv. Check the path and that "
                             "the file was delivered\n")


def test_an_input_of_the_wrong_shape_is_an_io_failure_that_explains() -> None:
    result = invoke("-s", "enphase", "-i", ALPHA)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        "Error: the input does not look like any shape source 'enphase' knows (it reads as "
        "CSV) (file ")
    assert "enlighten_report_csv needs columns 'Date/Time'" in result.stderr


def test_an_unwritable_output_is_an_io_failure(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("-s", "huawei", "-i", ALPHA, "-o", str(blocker / "out.jsonl"))
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: cannot create the output file:")
    assert "Check that the folder exists or can be created, is writable" in result.stderr


def test_missing_input_option_is_a_click_usage_error() -> None:
    result = invoke("-s", "huawei")
    assert result.exit_code == 2
    assert "Error: Missing option '-i' / '--input'." in result.stderr


# ------------------------------------------------------------------ your own mapping

def test_a_broken_yaml_mapping_names_the_file_and_line(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("odse_mapping: 1\nname: broken\nformat: csv\nfields:\n"
                    "  timestamp: {column: Time\n  kWh: {column: E}\n")
    result = invoke("--mapping", str(spec), "-i", SCADA)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {spec}:6: the mapping is not valid YAML: expected ',' or '}}', but got ':' "
        "(while parsing a flow mapping on line 5). Fix the syntax there (indentation, a "
        "missing colon, quote or bracket)\n")


def test_a_misspelled_mapping_key_names_the_key_path(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("odse_mapping: 1\nname: bad\nformat: csv\nfields:\n"
                    "  timestamp: {column: Timestamp}\n  kWh: {column: E, unti: W}\n")
    result = invoke("--mapping", str(spec), "-i", SCADA)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"Error: {spec}:6: unknown key 'unti' in fields.kWh (at fields.kWh.unti). Did you "
        "mean 'unit'?")


def test_a_missing_mapping_file_is_a_mapping_error() -> None:
    result = invoke("--mapping", "nope.yaml", "-i", SCADA)
    assert result.exit_code == 2
    assert result.stderr == "Error: mapping file not found: nope.yaml. Check the path\n"


@pytest.mark.parametrize("source", [(), ("-s", "csv"), ("-s", "generic_csv"), ("-s", "GENERIC")])
def test_the_short_form_mapping_file_runs_with_or_without_a_generic_source(
        source: tuple[str, ...]) -> None:
    result = invoke(*source, "--mapping", str(HISTORIAN / "generic_mapping.yaml"), "-i",
                    str(HISTORIAN / "generic_historian_7d.csv"))
    assert result.exit_code == 0, result.stderr
    records = lines(result.stdout)
    assert len(records) == 2015  # counter readings: one fewer interval than readings
    assert set(records[0]) == {"timestamp", "kWh", "error_type", "asset_id", "kVAr"}


def test_a_full_spec_file_with_rejects_written_as_csv(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    result = invoke("--mapping", str(HISTORIAN / "historian_spec.yaml"), "-i",
                    str(HISTORIAN / "generic_historian_7d.csv"), "--rejects", str(rejects))
    assert result.exit_code == 0
    assert summary(result)["source"] == "site_historian"
    assert rejects.read_text() == "row,line,path,field,column,value,code,reason,scope\n"


def test_column_map_with_extra_fields() -> None:
    result = invoke("--column-map", "timestamp=Timestamp,kWh=ActiveEnergy_kWh,asset_id=SiteTag,"
                    "extra.kVAr=ReactivePower_kVAr", "-i", SCADA)
    assert result.exit_code == 0
    assert lines(result.stdout)[0] == {"timestamp": "2026-02-09T00:00:00Z", "kWh": 0.0,
                                       "error_type": "normal", "asset_id": "SITE-DELTA",
                                       "kVAr": 0.0}


@pytest.mark.parametrize(("args", "message"), [
    (("--column-map", "timestamp=Timestamp,kwh=ActiveEnergy_kWh"),
     "Error: unknown field 'kwh' in --column-map. Did you mean 'kWh'? Fields: timestamp, kWh, "
     "kW, error_type, error_code, asset_id; give any other record field as "
     "extra.FIELD=ActiveEnergy_kWh\n"),
    (("--column-map", "timestamp=Timestamp,kWh=ActiveEnergy_kWh,kVAr=ReactivePower_kVAr"),
     "Error: unknown field 'kVAr' in --column-map. Fields: timestamp, kWh, kW, error_type, "
     "error_code, asset_id; give any other record field as extra.kVAr=ReactivePower_kVAr\n"),
    (("--column-map", "timestamp"),
     "Error: cannot read 'timestamp' in the column map. Write field=column pairs separated by "
     "commas, e.g. timestamp=Reading_Time,kWh=Energy_kWh\n"),
    (("--column-map", "generic_mapping.yaml"),
     "Error: --column-map takes FIELD=COLUMN pairs; generic_mapping.yaml looks like a mapping "
     "file: use --mapping generic_mapping.yaml\n"),
    (("--column-map", "kWh=ActiveEnergy_kWh"),
     "Error: --column-map has no timestamp; add timestamp=COLUMN, the column that holds the "
     "time\n"),
    (("--column-map", "timestamp=Timestamp,asset_id=SiteTag"),
     "Error: --column-map has neither kWh nor kW; add kWh=COLUMN (energy per interval) or "
     "kW=COLUMN (power, multiplied by --interval-minutes)\n"),
    (("--column-map", "timestamp=T,kWh=E", "--mapping", "m.yaml"),
     "Error: give either --mapping FILE or --column-map, not both\n"),
    (("-s", "huawei", "--column-map", "timestamp=T,kWh=E"),
     "Error: source 'huawei' is built in and takes no mapping. Use --source NAME alone for a "
     "built-in source; use --mapping FILE or --column-map alone (or with --source csv) for "
     "your own mapping\n"),
    (("-s", "generic_csv"),
     "Error: source 'generic_csv' needs a mapping. Give the columns with --column-map "
     "timestamp=COLUMN,kWh=COLUMN, or a mapping file with --mapping FILE\n"),
    ((),
     "Error: no source given. Give --source NAME (list them with: odse sources), --mapping "
     "FILE or --column-map timestamp=COLUMN,kWh=COLUMN\n"),
])
def test_mapping_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = invoke(*args, "-i", SCADA)
    assert result.exit_code == 2
    assert result.stderr == message


# ------------------------------------------------------------------ rejects, strict, quiet

def test_rejects_go_to_a_json_lines_file(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    result = invoke("-s", "huawei", "-i", ALPHA, "-o", str(tmp_path / "a.jsonl"),
                    "--rejects", str(rejects))
    assert result.exit_code == 0
    assert lines(rejects.read_text()) == [
        {"row": 177, "line": 178, "field": "kWh", "column": "power", "value": "N/A",
         "code": "MISSING_VALUE",
         "reason": "no value (the cell is empty or a missing-value token)", "scope": "record"}]
    assert len(result.stderr.splitlines()) == 1  # no "first rejected" line: they are on file


def test_strict_fails_at_the_first_reject_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    result = invoke("-s", "huawei", "-i", ALPHA, "-o", str(out), "--strict")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: a row was rejected and --strict stops at the first: no value (the cell is "
        f"empty or a missing-value token) (file {ALPHA}, row 177, line 178, column power, "
        "field kWh, value 'N/A'). Fix the input, or drop --strict to write the good rows and "
        "list the rejected ones with --rejects FILE\n")
    assert not out.exists()


def test_quiet_prints_nothing_without_rejects_and_the_summary_with_them(tmp_path: Path) -> None:
    clean = invoke("-s", "enphase", "-i", BETA, "--param", "expected_devices=12", "-q")
    assert clean.exit_code == 0
    assert clean.stderr == ""
    dirty = invoke("-s", "huawei", "-i", ALPHA, "-q")
    assert summary(dirty)["rejected"] == "1"


def test_the_progress_bar_is_on_stderr_only(monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke("-s", "huawei", "-i", ALPHA, env={console.PROGRESS_ENV: "1"})
    assert result.exit_code == 0
    assert result.stderr.startswith("odse: site_alpha.csv")
    assert len(lines(result.stdout)) == 263


def test_progress_is_wanted_only_for_large_inputs_on_a_terminal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(console.PROGRESS_ENV, raising=False)

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stderr", Tty())
    big = console.PROGRESS_MIN_BYTES
    assert console.want_progress(quiet=False, size=big)
    assert not console.want_progress(quiet=True, size=big)
    assert not console.want_progress(quiet=False, size=big - 1)
    assert not console.want_progress(quiet=False, size=None)
    monkeypatch.setenv(console.PROGRESS_ENV, "0")
    assert not console.want_progress(quiet=False, size=big)


def test_no_per_row_dicts_are_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def forbidden(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the CLI built per-row dicts")

    monkeypatch.setattr("odse.records.table_to_dicts", forbidden)
    monkeypatch.setattr("odse.api.records.table_to_dicts", forbidden)
    for fmt in ("json", "csv", "parquet"):
        out = "-" if fmt != "parquet" else f"{tmp_path}/lake/"
        result = invoke("-s", "huawei", "-i", ALPHA, "--asset-id", "A", "-f", fmt, "-o", out)
        assert result.exit_code == 0, result.stderr


def test_stdin_from_a_terminal_is_refused_instead_of_hanging(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    with pytest.raises(click.exceptions.Exit) as stopped:
        console.binary_stdin()
    assert stopped.value.exit_code == 2
    assert capsys.readouterr().err == (
        "Error: -i - reads the data from stdin, but stdin is the terminal; pipe it in (odse "
        "transform ... -o - | odse validate -i -) or give a file\n")
