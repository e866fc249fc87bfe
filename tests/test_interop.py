"""DuckDB, pandas, polars and pyarrow read a lake back with the rows and types written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from odse import to_parquet

pytestmark = pytest.mark.interop

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

DAILY = ["asset_id", "year", "month", "day"]
ASSETS = ["SITE-ALPHA", "SITE-BETA", "../../x", "a/b=c"]
UTC = dt.timezone.utc


def _records(assets=ASSETS, days=(8, 9), **extra):
    return [{"timestamp": f"2026-02-{day:02d}T{hour:02d}:30:00Z", "kWh": 0.5 + hour,
             "error_type": "normal", "error_code": "512", "asset_id": asset,
             "channel": "production", **extra}
            for asset in assets for day in days for hour in range(3)]


@pytest.fixture
def lake(tmp_path) -> Path:
    root = tmp_path / "lake"
    to_parquet(_records(), root, partition_by=DAILY)
    return root


def _duckdb(root: Path, options: str = "") -> tuple[list[str], list[str], list[tuple]]:
    relation = duckdb.sql(
        f"select * from read_parquet('{root}/**/*.parquet', hive_partitioning=true{options}) "
        "order by asset_id, timestamp")
    return relation.columns, [str(kind) for kind in relation.types], relation.fetchall()


def test_duckdb_reads_rows_types_and_decoded_partition_values(lake):
    columns, types, rows = _duckdb(lake)
    assert len(rows) == 24
    kinds = dict(zip(columns, types, strict=True))
    assert kinds["timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert kinds["kWh"] == "DOUBLE"
    assert kinds["error_code"] == "VARCHAR"
    assert kinds["asset_id"] == "VARCHAR"
    assert {row[columns.index("asset_id")] for row in rows} == set(ASSETS)
    first = rows[0]
    assert first[columns.index("timestamp")].astimezone(UTC) == dt.datetime(
        2026, 2, 8, 0, 30, tzinfo=UTC)
    # zero-padded time parts come back as text unless typed; hive_types gives integers
    assert {row[columns.index("month")] for row in rows} == {"02"}
    columns, types, rows = _duckdb(
        lake, ", hive_types={'year': INTEGER, 'month': INTEGER, 'day': INTEGER}")
    assert {row[columns.index("month")] for row in rows} == {2}
    assert {row[columns.index("day")] for row in rows} == {8, 9}


def test_pandas_reads_the_lake(lake):
    frame = pd.read_parquet(lake)
    assert len(frame) == 24
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert frame["kWh"].dtype == "float64"
    assert set(frame["asset_id"].astype(str)) == set(ASSETS)  # categorical from the folders
    assert set(frame["month"]) == {2}


def test_polars_reads_the_lake_folder_and_a_glob(lake):
    for source in (lake, f"{lake}/**/*.parquet"):
        frame = pl.read_parquet(source, hive_partitioning=True)
        assert frame.height == 24
        assert frame.schema["timestamp"] == pl.Datetime("us", "UTC")
        assert frame.schema["kWh"] == pl.Float64
        assert frame.schema["error_code"] == pl.String
        assert set(frame["asset_id"].to_list()) == set(ASSETS)
        assert set(frame["month"].to_list()) == {2}


def test_pyarrow_reads_the_lake(lake):
    table = ds.dataset(lake, partitioning="hive").to_table()
    assert table.num_rows == 24
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert set(table.column("asset_id").to_pylist()) == set(ASSETS)


def test_every_reader_sees_the_same_rows(lake):
    def key(asset, timestamp, kwh):
        return (asset, timestamp.astimezone(UTC).replace(tzinfo=None), kwh)

    columns, _types, rows = _duckdb(lake)
    from_duckdb = sorted(key(r[columns.index("asset_id")], r[columns.index("timestamp")],
                             r[columns.index("kWh")]) for r in rows)
    frame = pd.read_parquet(lake)
    from_pandas = sorted(key(str(a), t.to_pydatetime(), k) for a, t, k in
                         zip(frame["asset_id"], frame["timestamp"], frame["kWh"], strict=True))
    polars = pl.read_parquet(lake, hive_partitioning=True)
    from_polars = sorted(key(a, t, k) for a, t, k in polars.select(
        "asset_id", "timestamp", "kWh").iter_rows())
    assert from_duckdb == from_pandas == from_polars
    assert len(from_duckdb) == len(set(from_duckdb)) == 24


def test_a_column_added_by_a_later_write_reads_everywhere_without_options(tmp_path):
    root = tmp_path / "lake"
    to_parquet(_records(assets=["SITE-ALPHA"], days=[8]), root, partition_by=DAILY)
    summary = to_parquet(_records(assets=["SITE-ALPHA"], days=[9],
                                  seller_party_id="nersa:gen:ALPHA"), root, partition_by=DAILY)
    assert summary.files_upgraded == 1
    columns, _types, rows = _duckdb(root)
    sellers = [row[columns.index("seller_party_id")] for row in rows]
    assert sellers.count(None) == 3 and sellers.count("nersa:gen:ALPHA") == 3
    frame = pl.scan_parquet(root, hive_partitioning=True).collect()
    assert frame["seller_party_id"].null_count() == 3 and frame.height == 6
    assert ds.dataset(root, partitioning="hive").to_table().column(
        "seller_party_id").null_count == 3
    assert pd.read_parquet(root)["seller_party_id"].isna().sum() == 3


def test_readers_agree_after_merge_overwrite_and_append(tmp_path):
    root = tmp_path / "lake"
    to_parquet(_records(), root, partition_by=DAILY)
    to_parquet(_records(assets=["SITE-ALPHA"]), root, partition_by=DAILY, mode="append")
    to_parquet(_records(assets=["SITE-BETA"], days=[9]), root, partition_by=DAILY,
               mode="overwrite")
    to_parquet(_records(assets=["../../x"]), root, partition_by=DAILY)
    expected = 24 + 6
    assert len(_duckdb(root)[2]) == expected
    assert len(pd.read_parquet(root)) == expected
    assert pl.read_parquet(root, hive_partitioning=True).height == expected
