"""Real processes: shell pipes, exit codes, a closed stdout, and the guide's cron script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INCOMING = ROOT / "examples" / "data" / "incoming" / "2026-02-09"
ODSE = [sys.executable, "-m", "odse"]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*ODSE, *args], input=stdin, capture_output=True, check=False,
                          cwd=ROOT)


def test_transform_to_stdout_piped_into_validate_stdin() -> None:
    producer = subprocess.Popen(
        [*ODSE, "transform", "-s", "huawei", "-i", str(INCOMING / "site_alpha.csv"),
         "--asset-id", "SITE-ALPHA", "-o", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    consumer = subprocess.run([*ODSE, "validate", "-i", "-"], stdin=producer.stdout,
                              capture_output=True, check=False)
    assert producer.stdout is not None
    producer.stdout.close()
    producer_err = producer.stderr.read().decode() if producer.stderr else ""
    assert producer.wait() == 0
    if producer.stderr:
        producer.stderr.close()
    assert consumer.returncode == 0
    report = json.loads(consumer.stdout)
    assert (report["total"], report["passed"], report["failed"]) == (263, 263, 0)
    assert "264 rows read, 263 records written to stdout, 1 row rejected" in producer_err
    assert consumer.stderr.decode() == "odse: stdin: 263 records: 263/263 valid (schema)\n"


@pytest.mark.parametrize(("args", "code", "first_line"), [
    (("transform", "-s", "huwei", "-i", "x.csv"), 2,
     "Error: unknown source 'huwei'. Did you mean 'huawei'?"),
    (("transform", "-s", "huawei", "-i", "nonexistent.csv"), 3,
     "Error: file not found: nonexistent.csv."),
    (("validate", "-i", "-"), 1, "odse: stdin: 1 record: 0/1 valid (schema)"),
])
def test_exit_codes_of_real_processes(args: tuple[str, ...], code: int,
                                      first_line: str) -> None:
    result = run(*args, stdin=b'{"timestamp": "2026-02-09T00:00:00Z", "kWh": -1}\n')
    assert result.returncode == code
    err = result.stderr.decode()
    assert err.startswith(first_line)
    assert "Traceback" not in err


def test_a_reader_that_stops_early_ends_the_writer_quietly() -> None:
    # ~4 MB of records: more than any pipe buffer holds, so the writer meets the closed pipe
    rows = "".join(f"2026-02-09 00:00:{i % 60:02d},{i},SITE-{i}\n" for i in range(40_000))
    proc = subprocess.Popen(
        [*ODSE, "transform", "--column-map", "timestamp=Time,kWh=Energy,asset_id=Site",
         "-i", "-", "-q"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(("Time,Energy,Site\n" + rows).encode())
    proc.stdin.close()
    first = proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert json.loads(first)["asset_id"] == "SITE-0"
    assert proc.wait() == 141
    assert err == ""


def test_the_guides_cron_script_with_its_paths_replaced(tmp_path: Path) -> None:
    env = {**os.environ, "DATE": "2026-02-09", "INPUT_DIR": str(INCOMING),
           "OUTPUT_DIR": str(tmp_path / "lake" / "energy"),
           "REJECTS_DIR": str(tmp_path / "rejects"), "REPORT_DIR": str(tmp_path / "reports"),
           "ODSE": " ".join(ODSE)}
    result = subprocess.run(["bash", str(ROOT / "examples" / "cron.sh")], env=env,
                            capture_output=True, check=False, text=True)
    assert result.returncode == 0, result.stderr
    lake = tmp_path / "lake" / "energy"
    assert sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*.parquet")) == [
        "asset_id=SITE-ALPHA/year=2026/month=02/day=09/part-00000.parquet",
        "asset_id=SITE-BETA/year=2026/month=02/day=08/part-00000.parquet",
        "asset_id=SITE-BETA/year=2026/month=02/day=09/part-00000.parquet"]
    alpha = json.loads((tmp_path / "reports" / "site_alpha.json").read_text())
    beta = json.loads((tmp_path / "reports" / "site_beta.json").read_text())
    assert (alpha["total"], alpha["failed"], alpha["level"]) == (263, 0, "semantic")
    assert (beta["total"], beta["failed"]) == (288, 0)
    run = json.loads((tmp_path / "reports" / "site_alpha-run.json").read_text())
    assert (run["command"], run["rows_read"], run["rejects_by_code"]) == \
        ("transform", 264, {"MISSING_VALUE": 1})
    rejects = (tmp_path / "rejects" / "site_alpha.csv").read_text().splitlines()
    assert len(rejects) == 2 and rejects[1].startswith("177,178,,kWh,power,N/A,MISSING_VALUE")
    lines = result.stderr.splitlines()
    assert len(lines) == 4
    assert lines[0].endswith("(huawei): 264 rows read, 263 records written to "
                             f"{lake}/ (merge: 1 partition, 1 file), 1 row rejected "
                             "(1x MISSING_VALUE), naive times read as UTC (pass --timezone), "
                             f"{lines[0].rsplit(', ', 1)[1]}")
    assert lines[3].endswith("asset_id=SITE-BETA: 288 records in 2 files: 288/288 valid "
                             "(semantic)")
