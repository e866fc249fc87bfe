"""Progress that tells the truth (phases, rows, rows/s, share of the input) and the run
report (``--report FILE`` and ``report.to_dict()``)."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

import odse
from odse import progress
from odse.cli import cli, console

ROOT = Path(__file__).resolve().parent.parent
INCOMING = ROOT / "examples" / "data" / "incoming" / "2026-02-09"
ALPHA = INCOMING / "site_alpha.csv"


def invoke(*args: str, **kwargs: object) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), **kwargs)


class Tty:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


# ------------------------------------------------------------------ when progress shows

def test_progress_shows_on_a_terminal_only_and_never_with_quiet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(console.PROGRESS_ENV, raising=False)
    assert not console.want_progress(quiet=False)  # pytest's stderr is no terminal
    monkeypatch.setattr("sys.stderr", Tty())
    assert console.want_progress(quiet=False)
    assert not console.want_progress(quiet=True)
    monkeypatch.setenv(console.PROGRESS_ENV, "0")
    assert not console.want_progress(quiet=False)


def test_progress_line_names_the_phase_rows_rate_share_and_estimate() -> None:
    report = odse.Report(rows_read=1_000_000, input_bytes=100_000_000, bytes_read=50_000_000)
    shown = console.Progress(report, shown=False)
    shown.start -= 2.0  # two seconds in
    line = shown.line()
    assert line.startswith("odse: reading+mapping  1,000,000 rows  ")
    assert " rows/s  50% of 100.0 MB  eta 2s" in line, line
    shown.listen("merging", 0, 10)
    shown.listen("merging", 4, None)
    assert shown.line().startswith("odse: merging  4/10 partitions  eta "), shown.line()


def test_stdin_has_no_share_only_rows_and_rate() -> None:
    report = odse.Report(rows_read=5000, input_bytes=None)
    line = console.Progress(report, shown=False).line()
    assert "%" not in line and "eta" not in line and "5,000 rows" in line


def test_the_display_goes_to_stderr_and_is_cleared_before_the_summary(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(console, "PROGRESS_DELAY", 0.0)
    result = invoke("transform", "-s", "huawei", "-i", str(ALPHA), "--asset-id", "A",
                    "-o", f"{tmp_path}/lake/", env={console.PROGRESS_ENV: "1"})
    assert result.exit_code == 0, result.output
    assert "reading+mapping" in result.stderr or "committing" in result.stderr, result.stderr
    assert "\r\x1b[2K" in result.stderr
    last = result.stderr.split("\r\x1b[2K")[-1]
    assert last.startswith(f"odse: {ALPHA} (huawei): 264 rows read"), last
    assert result.stdout == ""


def test_lake_write_announces_its_phases_and_times_them(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    rows = odse.transform(ALPHA, source="huawei", asset_id="SITE-ALPHA")
    lake = tmp_path / "lake"
    with progress.listening(lambda *event: seen.append(event)):
        odse.to_parquet(rows, lake, partition_by=["asset_id", "year", "month", "day"])
        odse.to_parquet(rows, lake, partition_by=["asset_id", "year", "month", "day"])
    phases = [name for name, done, _ in seen if done == 0]
    assert phases == ["writing", "writing", "committing", "cleaning up",
                      "writing", "merging", "committing", "cleaning up"], seen
    assert ("merging", 0, 1) in seen and ("merging", 1, None) in seen
    report = odse.Report()
    with console.Progress(report, shown=False) as watch:
        table = odse.transform_table(ALPHA, source="huawei", asset_id="SITE-ALPHA")
        odse.to_parquet(watch.batches(iter([table])), lake,
                        partition_by=["asset_id", "year", "month", "day"])
    assert {"reading_mapping", "merging", "committing", "cleaning_up", "total"} <= \
        set(watch.timings)


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_the_share_of_the_input_follows_the_batches_not_the_read_ahead(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, packed: bool) -> None:
    from odse.readers import csv_input

    monkeypatch.setattr(csv_input, "BLOCK_SIZE", 1024)  # several batches from a small file
    path = tmp_path / ("alpha.csv.gz" if packed else "alpha.csv")
    path.write_bytes(gzip.compress(ALPHA.read_bytes()) if packed else ALPHA.read_bytes())
    from odse import limits

    with limits.override(csv_line_bytes=200):  # blocks of 1,424 bytes
        stream = odse.transform_batches(path, source="huawei")
        seen = [stream.report.bytes_read for _ in stream]
    size = path.stat().st_size
    assert stream.report.input_bytes == size
    assert len(seen) > 4 and seen == sorted(seen), seen
    # Arrow has read far more than the first block by then (gzip: compressed bytes, coarser)
    assert 0 < seen[0] < size / (2 if packed else 3), seen
    assert seen[-1] == size


# ------------------------------------------------------------------ the run report

def test_transform_report_file_describes_the_run(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = invoke("transform", "-s", "huawei", "-i", str(ALPHA), "--asset-id", "SITE-ALPHA",
                    "-f", "parquet", "-o", f"{tmp_path}/lake/", "--rejects",
                    str(tmp_path / "rejects.csv"), "--report", str(out))
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["command"] == "transform" and report["status"] == "ok"
    assert report["odse_version"] == odse.__version__
    assert report["inputs"] == [{"path": str(ALPHA), "size": ALPHA.stat().st_size,
                                 "sha256": hashlib.sha256(ALPHA.read_bytes()).hexdigest()}]
    assert (report["source"], report["variant"]) == ("huawei", "huawei")
    assert len(report["spec_sha256"]) == 64
    assert "zone_assumed" in report
    assert (report["rows_read"], report["records_written"], report["rows_rejected"]) == \
        (264, 263, 1)
    assert report["rejects_by_code"] == {"MISSING_VALUE": 1}
    assert report["warnings_by_code"] == {}
    lake, rejects = report["outputs"]
    assert lake["format"] == "parquet" and lake["records"] == 263 and lake["partitions"] == 1
    assert rejects == {"path": str(tmp_path / "rejects.csv"), "format": "csv",
                       "kind": "rejects", "records": 1}
    assert {"reading_mapping", "committing", "total"} <= set(report["timings"])
    assert report["rejects"][0]["location"] == "line 178"


def test_the_report_is_the_same_dict_from_python() -> None:
    rows = odse.transform(ALPHA, source="huawei", asset_id="SITE-ALPHA")
    data = rows.report.to_dict()
    assert data["rows_read"] == 264 and data["records_written"] == 263
    assert data["inputs"][0]["sha256"] == hashlib.sha256(ALPHA.read_bytes()).hexdigest()
    assert json.loads(json.dumps(data)) == data


def test_stdin_is_hashed_as_it_streams(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "odse", "transform", "-s", "huawei", "-i", "-",
                           "-o", str(tmp_path / "a.jsonl"), "--report", str(out)],
                          input=ALPHA.read_bytes(), capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    entry = json.loads(out.read_text())["inputs"][0]
    assert entry == {"path": "-", "size": ALPHA.stat().st_size,
                     "sha256": hashlib.sha256(ALPHA.read_bytes()).hexdigest()}


def test_report_path_mistakes_fail_before_reading(tmp_path: Path) -> None:
    folder = invoke("transform", "-s", "huawei", "-i", "missing.csv", "--report", str(tmp_path))
    assert folder.exit_code == 2
    assert "is a folder; give a file such as --report" in folder.stderr
    mixed = invoke("transform", "-s", "huawei", "-i", "missing.csv", "--report", "-")
    assert mixed.exit_code == 2 and "would mix the report into the records" in mixed.stderr


def test_validate_report_file(tmp_path: Path) -> None:
    records = tmp_path / "a.jsonl"
    odse.to_json(odse.transform(ALPHA, source="huawei", asset_id="A"), records)
    out = tmp_path / "v.json"
    result = invoke("validate", str(records), "--report", str(out), "-q")
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["command"] == "validate" and report["status"] == "ok"
    assert report["inputs"] == [{"path": str(records), "size": records.stat().st_size,
                                 "sha256": hashlib.sha256(records.read_bytes()).hexdigest(),
                                 "records": 263}]
    assert report["rows_read"] == 263 and report["records_valid"] == 263
    assert report["errors_by_code"] == {} and report["warnings_by_code"] == {}
    assert "total" in report["timings"]


# ------------------------------------------------------------------ logging

def test_the_library_logs_through_a_null_handler_only() -> None:
    handlers = logging.getLogger("odse").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)
    # no last-resort line on stderr in a plain interpreter (a notebook's case)
    done = subprocess.run([sys.executable, "-c", "import odse; odse.transform("
                           f"{str(ALPHA)!r}, source='huawei')"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_verbose_and_log_level_print_the_library_log(tmp_path: Path) -> None:
    target = str(tmp_path / "a.jsonl")
    quiet = invoke("transform", "-s", "huawei", "-i", str(ALPHA), "-o", target)
    assert "odse WARNING" not in quiet.stderr
    loud = invoke("-v", "transform", "-s", "huawei", "-i", str(ALPHA), "-o", target)
    assert "odse WARNING: 264 rows read, 263 records, 1 rows rejected" in loud.stderr
    named = invoke("--log-level", "error", "transform", "-s", "huawei", "-i", str(ALPHA),
                   "-o", target)
    assert "odse WARNING" not in named.stderr


# ------------------------------------------------------------------ small things

@pytest.mark.parametrize("export", ["site_alpha.csv", "site_beta.json"])
def test_validate_on_a_raw_export_says_so_and_suggests_transform(export: str) -> None:
    result = invoke("validate", str(INCOMING / export))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {INCOMING / export} does not hold ODS-E records: "
                                    "they lack the required fields timestamp, kWh and "
                                    "error_type (its fields: "), result.stderr
    assert "transform it first: odse transform -s SOURCE -i " in result.stderr


def test_records_missing_one_required_field_are_still_validated(tmp_path: Path) -> None:
    records = tmp_path / "a.jsonl"
    records.write_text('{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0}\n')
    result = invoke("validate", str(records))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error_codes"] == {"REQUIRED_FIELD_MISSING": 1}


def test_source_names_complete() -> None:
    from odse.cli.sources import complete_source

    names = [item.value for item in complete_source(None, None, "fu")]  # type: ignore[arg-type]
    assert names == ["fusionsolar"]
    done = subprocess.run([sys.executable, "-m", "odse"], capture_output=True, text=True,
                          env={"_ODSE_COMPLETE": "bash_complete", "COMP_WORDS":
                               "odse transform -s enl", "COMP_CWORD": "3",
                               "PATH": str(Path(sys.executable).parent)}, check=False)
    assert "enlighten" in done.stdout, (done.stdout, done.stderr)


def test_docs_pages_ship_and_print(tmp_path: Path) -> None:
    listing = invoke("docs")
    assert listing.exit_code == 0 and "mapping-language  The mapping language" in listing.stdout
    page = invoke("docs", "cli")
    assert page.stdout.startswith("# The command line: `odse`")
    wrong = invoke("docs", "clii")
    assert wrong.exit_code == 2
    assert "no documentation page 'clii'. Did you mean 'cli'?" in wrong.stderr


def test_the_internal_error_names_the_issue_tracker_from_the_metadata() -> None:
    from importlib.metadata import metadata

    from odse.cli import errors

    urls = dict(u.split(", ", 1) for u in metadata("odse").get_all("Project-URL") or [])
    assert errors.issues_url() == urls["Issues"]


def test_a_failed_run_still_writes_its_report(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    missing = invoke("transform", "-s", "huawei", "-i", str(tmp_path / "nope.csv"),
                     "--report", str(out))
    assert missing.exit_code == 3
    report = json.loads(out.read_text())
    assert (report["status"], report["error"]["code"], report["error"]["exit_code"]) == \
        ("failed", "INPUT_NOT_FOUND", 3)
    assert report["error"]["message"].startswith("file not found: ")
    strict = invoke("transform", "-s", "huawei", "-i", str(ALPHA), "--strict",
                    "-o", str(tmp_path / "a.jsonl"), "--report", str(out))
    assert strict.exit_code == 1
    report = json.loads(out.read_text())
    assert report["status"] == "failed" and report["error"]["code"] == "MISSING_VALUE"
    assert report["source"] == "huawei" and len(report["spec_sha256"]) == 64
