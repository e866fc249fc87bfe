"""``odse report``: the HTML data-quality report, its contents, and the page in a real browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

import odse
from odse.cli import cli

ROOT = Path(__file__).resolve().parents[1]
ALPHA = ROOT / "examples" / "data" / "incoming" / "2026-02-09" / "site_alpha.csv"
BETA = ROOT / "examples" / "data" / "incoming" / "2026-02-09" / "SITE-BETA.json"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)


def report(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, ["report", "-q", *args])


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake") / "energy"
    records = [*odse.transform(ALPHA, source="huawei", asset_id="SITE-ALPHA"),
               *odse.transform(BETA, source="enphase", asset_id="SITE-BETA",
                                              expected_devices=12)]
    odse.to_parquet(records, str(root), partition_by=["asset_id", "year", "month", "day"])
    return root


@pytest.fixture(scope="module")
def lake_page(lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "quality.html"
    result = report(str(lake), "-o", str(out), "--latitude", "-26.2", "--longitude", "28.05",
                    "--capacity-kw", "10")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["records"] == 551 and summary["assets"] == 2
    assert summary["bytes"] == out.stat().st_size
    return out


def test_lake_report_shows_every_part(lake_page: Path) -> None:
    page = lake_page.read_text(encoding="utf-8")
    for heading in ("Overview", "Asset SITE-ALPHA", "Asset SITE-BETA", "Rejected rows",
                    "Validation and fleet checks", "Provenance"):
        assert f"<h2>{heading}" in page, heading
    for chart in ("Daily energy (generation)", "Data coverage per day", "error_type per day"):
        assert page.count(chart) == 2, chart
    # the fleet checks' findings, with the zone the clock points at
    assert "TIMEZONE_SUSPECT" in page and "Africa/Johannesburg" in page
    assert "MISSING_INTERVALS" in page


def test_the_page_loads_nothing(lake_page: Path) -> None:
    page = lake_page.read_text(encoding="utf-8")
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page  # the browser refuses any load the page might try


def test_report_of_a_transform_lists_its_rejects(tmp_path: Path) -> None:
    out = tmp_path / "alpha.html"
    result = report("-s", "huawei", "-i", str(ALPHA), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rejects"] == 1
    page = out.read_text(encoding="utf-8")
    assert "<h2>Rejected rows (1)</h2>" in page
    assert "<code>MISSING_VALUE</code></td><td>kWh</td><td>power</td>" in page
    assert "row 177 (line 178): &#x27;N/A&#x27;" in page
    assert f"{ALPHA} (source huawei)" in page


def test_usage_errors_are_clear(tmp_path: Path) -> None:
    result = report("-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert "Error: no input: give a lake, records files or folders" in result.stderr
    result = report(str(ALPHA), "--timezone", "UTC", "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert "--timezone and --asset-id apply to a transform: give -s SOURCE" in result.stderr
    result = report(str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 3, result.output
    assert not (tmp_path / "x.html").exists()


# ---- in a real browser --------------------------------------------------------------------------

def chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Open the page in headless Chromium with its console logged to stderr."""
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (.ci/run "
                                    "installs Debian's package)")


@pytest.mark.slow
@needs_chromium
def test_console_errors_would_be_seen(tmp_path: Path) -> None:
    # the check below is only worth something if a broken page fails it
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('broken'); missing();</script>"
                   "</body></html>", encoding="utf-8")
    found = console_messages(chromium(bad, tmp_path, "--dump-dom").stderr)
    assert any("broken" in m for m in found) and any("missing is not defined" in m
                                                     for m in found)


@pytest.mark.slow
@needs_chromium
def test_report_opens_in_chromium_without_console_errors(lake_page: Path,
                                                         tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(lake_page, tmp_path, "--window-size=1280,2400", f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert console_messages(done.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
    dom = chromium(lake_page, tmp_path, "--dump-dom")
    assert console_messages(dom.stderr) == []
    assert "Asset SITE-BETA" in dom.stdout and "<svg" in dom.stdout


def test_without_the_extra_the_error_names_it(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    result = report(str(ALPHA), "-s", "huawei", "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2, result.output
    assert "Error: the HTML report needs the optional package 'matplotlib'" in result.stderr
    assert "pip install 'odse[report]'" in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_a_run_report_is_shown_under_provenance(tmp_path: Path) -> None:
    run = tmp_path / "run.json"
    run.write_text('{"command": "transform", "records": 263}', encoding="utf-8")
    out = tmp_path / "alpha.html"
    result = report("-s", "huawei", "-i", str(ALPHA), "--run-report", str(run), "-o", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert "<h3>Run report</h3>" in page and "&quot;records&quot;: 263" in page
    result = report("-s", "huawei", "-i", str(ALPHA), "--run-report", str(tmp_path / "no.json"),
                    "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 3
    assert f"Error: run report not found: {tmp_path / 'no.json'}" in result.stderr


# ---- reading a lake ---------------------------------------------------------------------------

def test_a_lake_reads_as_a_dataset_scan_reads_it(lake: Path, tmp_path: Path) -> None:
    # the report reads a lake file by file (a dataset scan spends more per file than the
    # data costs): the same rows, in the same order, with the same asset_id from the folders
    import pyarrow as pa
    import pyarrow.dataset as ds

    from odse.cli.report import _read_lake

    odd = tmp_path / "odd"
    shutil.copytree(lake, odd)
    # an escaped asset id and a null one, a hidden file and a marker: as every reader treats them
    (odd / "asset_id=SITE-ALPHA").rename(odd / "asset_id=A%2FB")
    (odd / "asset_id=SITE-BETA").rename(odd / "asset_id=__HIVE_DEFAULT_PARTITION__")
    (odd / "_SUCCESS").write_text("", encoding="utf-8")
    (odd / "asset_id=A%2FB" / ".part-0.parquet.crc").write_text("x", encoding="utf-8")
    for root in (lake, odd):
        fast = _read_lake(root)
        scan = ds.dataset(str(root), format="parquet", ignore_prefixes=[".", "_"],
                          partitioning=ds.HivePartitioning.discover(infer_dictionary=False,
                                                                    segment_encoding="uri"))
        expected = scan.to_table().drop_columns(["year", "month", "day"])
        assert fast.column_names == expected.column_names
        assert fast.cast(expected.schema).equals(expected.combine_chunks(), check_metadata=False)
    assert set(_read_lake(odd).column("asset_id").to_pylist()) == {"A/B", None}
    assert pa.types.is_string(_read_lake(odd).schema.field("asset_id").type)


def test_a_broken_lake_file_is_named(lake: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(lake, broken)
    victim = sorted(broken.rglob("*.parquet"))[1]
    victim.write_bytes(b"not parquet at all")
    result = report(str(broken), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 3, result.output
    assert f"Error: cannot read the lake {broken}: {victim}: " in result.stderr
    assert not (tmp_path / "x.html").exists()
