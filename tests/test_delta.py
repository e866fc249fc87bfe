"""Delta Lake output: merge (upsert on the lake's key), append, overwrite, schema evolution."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import INCOMING

from odse import to_delta
from odse.cli import cli
from odse.errors import OutputError

deltalake = pytest.importorskip("deltalake")
pl = pytest.importorskip("polars")

DAILY = ["asset_id", "year", "month", "day"]


def _rows(day: int, asset: str = "A", kwh: float = 0.0, **extra) -> list[dict]:
    return [{"timestamp": f"2026-02-{day:02d}T{hour:02d}:00:00Z", "kWh": kwh + hour,
             "error_type": "normal", "asset_id": asset, **extra} for hour in range(3)]


def _read(uri) -> pl.DataFrame:
    return pl.read_delta(str(uri)).sort("asset_id", "timestamp")


def test_merge_twice_then_append_overwrite_and_a_new_column(tmp_path):
    table = tmp_path / "energy"
    first = to_delta(_rows(8) + _rows(9), table, partition_by=DAILY)
    assert (first.rows_written, first.mode) == (6, "merge")
    assert first.partitions == ("asset_id=A/year=2026/month=02/day=08",
                                "asset_id=A/year=2026/month=02/day=09")
    again = to_delta(_rows(8) + _rows(9), table, partition_by=DAILY)
    assert again.rows_replaced == 6
    frame = _read(table)
    assert frame.height == 6  # merge twice: no duplicates
    assert frame.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert frame.schema["year"] == pl.Int32 and frame["day"].unique().sort().to_list() == [8, 9]

    # a correction merges into its rows; the rest stays
    to_delta(_rows(9, kwh=100.0)[:1], table, partition_by=DAILY)
    frame = _read(table)
    assert frame.height == 6
    assert frame.filter(pl.col("day") == 9)["kWh"].to_list() == [100.0, 1.0, 2.0]

    to_delta(_rows(9), table, partition_by=DAILY, mode="append")
    assert _read(table).height == 9

    summary = to_delta(_rows(9, kwh=50.0)[:2], table, partition_by=DAILY, mode="overwrite")
    assert summary.rows_replaced == 6
    frame = _read(table)
    assert frame.height == 5  # day 9 holds exactly the two new rows; day 8 untouched
    assert frame.filter(pl.col("day") == 9)["kWh"].to_list() == [50.0, 51.0]

    to_delta(_rows(10, kVAr=1.5), table, partition_by=DAILY)
    frame = _read(table)
    assert frame.height == 8
    assert frame.schema["kVAr"] == pl.Float64
    assert frame["kVAr"].null_count() == 5
    # five versions and more in the log: time travel works
    assert pl.read_delta(str(table), version=0).height == 6


def test_merge_keeps_channels_and_the_last_of_duplicate_incoming_rows(tmp_path):
    rows = [{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0, "error_type": "normal",
             "asset_id": "A", "channel": channel} for channel in ("production", "consumption")]
    rows.append(dict(rows[0], kWh=9.0))
    summary = to_delta(rows, tmp_path / "t", partition_by=["asset_id"])
    assert summary.duplicates_dropped == 1
    frame = _read(tmp_path / "t").sort("channel")
    assert frame["channel"].to_list() == ["consumption", "production"]
    assert frame["kWh"].to_list() == [1.0, 9.0]
    to_delta(rows, tmp_path / "t", partition_by=["asset_id"])
    assert _read(tmp_path / "t").height == 2


def test_rows_without_the_partition_value_and_type_conflicts_fail_before_writing(tmp_path):
    table = tmp_path / "t"
    to_delta(_rows(8, panel_temp=20.0), table, partition_by=DAILY)
    version = deltalake.DeltaTable(str(table)).version()
    with pytest.raises(OutputError, match="a record has no 'asset_id'") as caught:
        to_delta([*_rows(9), {"timestamp": "2026-02-09T05:00:00Z", "kWh": 1.0}], table,
                 partition_by=DAILY)
    assert caught.value.code == "PARTITION_MISSING"
    with pytest.raises(OutputError, match="column 'panel_temp' is stored as double"):
        to_delta(_rows(9, panel_temp="hot"), table, partition_by=DAILY)
    with pytest.raises(OutputError, match="partitioned by asset_id, year, month, day"):
        to_delta(_rows(9), table, partition_by=["asset_id"])
    assert deltalake.DeltaTable(str(table)).version() == version


def test_cli_writes_delta_and_duckdb_or_polars_read_it(tmp_path):
    table = tmp_path / "energy"
    for _ in range(2):
        result = CliRunner().invoke(cli, [
            "transform", "-s", "huawei", "-i", str(INCOMING / "site_alpha.csv"),
            "--asset-id", "SITE-ALPHA", "-f", "delta", "-o", str(table)])
        assert result.exit_code == 0, result.stderr
    assert "263 records written to" in result.stderr
    assert "(merge: 1 partition" in result.stderr
    assert _read(table).height == 263
    connection = _duckdb_with_delta()
    assert connection.sql(f"select count(*), count(distinct timestamp) from "
                          f"delta_scan('{table}')").fetchall() == [(263, 263)]


def _duckdb_with_delta():
    """DuckDB with its delta extension: installed already, or from the duckdb-ext-delta
    package (PyPI) when one matches this DuckDB's version; else the test is skipped (DuckDB
    downloads extensions from its own server, which an offline machine cannot reach)."""
    duckdb = pytest.importorskip("duckdb")
    connection = duckdb.connect()
    try:
        connection.execute("load delta")
        return connection
    except duckdb.Error:
        pass
    try:
        import duckdb_ext
    except ImportError:
        pytest.skip("no DuckDB delta extension (pip install duckdb-ext-delta of the same "
                    "version as duckdb)")
    found = sorted(Path(duckdb_ext.__file__).parent.glob(
        f"extensions/v{duckdb.__version__}/*/delta.duckdb_extension"))
    if not found:
        pytest.skip(f"duckdb-ext-delta has no build for DuckDB {duckdb.__version__}")
    connection.execute(f"install '{found[0]}'")
    connection.execute("load delta")
    return connection


def test_no_records_write_nothing(tmp_path):
    summary = to_delta([], tmp_path / "t", partition_by=DAILY)
    assert summary.rows_written == 0
    assert not (tmp_path / "t").exists()
