"""The lake's folder layout: Hive partitions, zero padding, UTC, null partition, escaping."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from odse import to_parquet
from odse.errors import OutputError, ParameterError
from odse.records import TIMESTAMP_TYPE
from odse.writers import parquet_lake
from odse.writers.partitions import NULL_PARTITION, escape

DAILY = ["asset_id", "year", "month", "day"]


def _records(asset="SITE-ALPHA", day=9, hours=range(3), kwh=1.0, **extra):
    return [{"timestamp": f"2026-02-{day:02d}T{hour:02d}:00:00Z", "kWh": kwh + hour,
             "error_type": "normal", "asset_id": asset, **extra} for hour in hours]


def _files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _read(root: Path) -> pa.Table:
    table = ds.dataset(root, partitioning="hive").to_table()
    return table.sort_by([(name, "ascending") for name in ("asset_id", "timestamp")
                          if name in table.schema.names])


def test_the_guides_layout(tmp_path):
    lake = tmp_path / "lake" / "energy"
    all_rows = _records("SITE-ALPHA") + _records("SITE-BETA")
    summary = to_parquet(all_rows, lake, partition_by=DAILY)
    assert _files(lake) == [
        "asset_id=SITE-ALPHA/year=2026/month=02/day=09/part-00000.parquet",
        "asset_id=SITE-BETA/year=2026/month=02/day=09/part-00000.parquet",
    ]
    assert summary.partitions == ("asset_id=SITE-ALPHA/year=2026/month=02/day=09",
                                  "asset_id=SITE-BETA/year=2026/month=02/day=09")
    assert (summary.rows_in, summary.rows_written, summary.files_written) == (6, 6, 2)
    assert str(summary) == (f"wrote 6 of 6 records to {lake} (merge: 2 partitions, 2 files)")
    assert os.listdir(tmp_path / "lake") == ["energy"]  # no staging left beside the root


def test_files_hold_the_record_types_and_not_the_partition_columns(tmp_path):
    to_parquet(_records(error_code="512"), tmp_path, partition_by=DAILY)
    schema = pq.read_schema(next(tmp_path.rglob("*.parquet")))
    assert schema.names == ["timestamp", "kWh", "error_type", "error_code"]
    assert schema.field("timestamp").type == TIMESTAMP_TYPE
    assert schema.field("kWh").type == pa.float64()
    assert schema.metadata is None or b"pandas" not in schema.metadata


def test_time_parts_come_from_utc_and_are_zero_padded(tmp_path):
    records = [{"timestamp": "2026-03-01T01:30:00+02:00", "kWh": 1.0, "asset_id": "A"},
               {"timestamp": "2026-12-31T23:00:00-05:00", "kWh": 2.0, "asset_id": "A"}]
    to_parquet(records, tmp_path, partition_by=["year", "month", "day", "hour"])
    assert _files(tmp_path) == [
        "year=2026/month=02/day=28/hour=23/part-00000.parquet",
        "year=2027/month=01/day=01/hour=04/part-00000.parquet",
    ]


def test_a_record_without_a_partition_value_fails_before_anything_is_written(tmp_path):
    to_parquet(_records(), tmp_path, partition_by=DAILY)
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    for bad, field in (({"timestamp": "2026-02-09T05:00:00Z", "kWh": 2.0, "asset_id": ""},
                        "asset_id"),
                       ({"timestamp": "2026-02-10T05:00:00Z", "kWh": 2.0}, "asset_id"),
                       ({"kWh": 1.0, "asset_id": "A"}, "year")):
        with pytest.raises(OutputError) as caught:
            to_parquet([*_records(), bad], tmp_path, partition_by=DAILY)
        assert caught.value.code == "PARTITION_MISSING"
        assert caught.value.field == field
        assert caught.value.row == 4
        assert "nothing was written" in str(caught.value)
        if field == "asset_id":
            assert "--asset-id" in str(caught.value)
            assert "--partition-by year,month,day" in str(caught.value)
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")} == before
    assert NULL_PARTITION not in "".join(_files(tmp_path))


def test_a_partition_column_the_records_lack_is_refused(tmp_path):
    with pytest.raises(OutputError, match="a record has no 'direction'"):
        to_parquet([{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0}], tmp_path,
                   partition_by=["direction"])
    assert _files(tmp_path) == []


@pytest.mark.parametrize("value", ["../../x", "a/b", "..", "/etc", "a\\b", "k=v", "100%",
                                   "new\nline", "x?y#z", "ünï cödé", "C:\\data"])
def test_partition_values_cannot_leave_the_root_and_read_back(tmp_path, value):
    root = tmp_path / "inside" / "lake"
    to_parquet(_records(value), root, partition_by=["asset_id"])
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) == 1
    assert written[0].parent.parent == root  # exactly one folder level below the root
    assert written[0].parent.name == "asset_id=" + escape(value)
    assert set(_read(root).column("asset_id").to_pylist()) == {value}


def test_hive_escaping_matches_spark():
    assert escape("../../x") == "..%2F..%2Fx"
    assert escape("a=b:c") == "a%3Db%3Ac"
    assert escape("plain SITE-01_x.y") == "plain SITE-01_x.y"
    assert escape("%") == "%25"


def test_unpartitioned_lake_is_one_file_at_the_root(tmp_path):
    summary = to_parquet(_records(), tmp_path / "flat")
    assert _files(tmp_path / "flat") == ["part-00000.parquet"]
    assert summary.partitions == ("",)
    assert pq.read_table(tmp_path / "flat" / "part-00000.parquet").num_rows == 3


def test_empty_input_writes_nothing(tmp_path):
    summary = to_parquet([], tmp_path / "lake", partition_by=DAILY)
    assert not (tmp_path / "lake").exists()
    assert (summary.rows_in, summary.rows_written, summary.files_written) == (0, 0, 0)
    assert summary.partitions == ()
    to_parquet(pa.schema([("kWh", pa.float64())]).empty_table(), tmp_path / "lake",
               mode="overwrite")
    assert not (tmp_path / "lake").exists()


def test_a_lake_keeps_its_layout(tmp_path):
    to_parquet(_records(), tmp_path, partition_by=DAILY)
    with pytest.raises(OutputError) as caught:
        to_parquet(_records(), tmp_path, partition_by=["asset_id", "year", "month"])
    message = str(caught.value)
    assert "the lake is partitioned by asset_id, year, month, day" in message
    assert "this write asks for asset_id, year, month" in message
    assert "partition_by=['asset_id', 'year', 'month', 'day']" in message
    assert caught.value.code == "LAYOUT_MISMATCH"
    with pytest.raises(OutputError, match="nothing"):
        to_parquet(_records(), tmp_path)


def test_an_unpartitioned_lake_refuses_partitions(tmp_path):
    to_parquet(_records(), tmp_path)
    with pytest.raises(OutputError, match=r"partitioned by nothing \(files at the root\)"):
        to_parquet(_records(), tmp_path, partition_by=["asset_id"])


def test_empty_folders_left_by_an_interrupted_write_do_not_fix_the_layout(tmp_path):
    (tmp_path / "asset_id=A" / "year=2026").mkdir(parents=True)
    to_parquet(_records(), tmp_path, partition_by=DAILY)
    assert len(_files(tmp_path)) == 1


@pytest.mark.parametrize(("partition_by", "error", "words"), [
    (["asset_id", "asset_id"], ParameterError, "partition_by names asset_id twice"),
    (["_hidden"], ParameterError, "starting with '.' or '_'"),
    (["a/b"], ParameterError, "cannot partition by 'a/b'"),
    ("asset_id", None, None),
    (42, ParameterError, "must be a list of column names"),
    (["assetid"], OutputError, "Did you mean 'asset_id'?"),
    (["kWh"], OutputError, "only text, integers, booleans and dates"),
])
def test_partition_by_is_checked(tmp_path, partition_by, error, words):
    if error is None:
        to_parquet(_records(), tmp_path, partition_by=partition_by)
        assert _files(tmp_path) == ["asset_id=SITE-ALPHA/part-00000.parquet"]
        return
    with pytest.raises(error) as caught:
        to_parquet(_records(), tmp_path, partition_by=partition_by)
    assert words in str(caught.value)


def test_a_column_named_like_a_time_part_clashes(tmp_path):
    with pytest.raises(OutputError) as caught:
        to_parquet(_records(year=1999), tmp_path, partition_by=["year"])
    assert "clashes with the 'year' partition derived from the timestamp" in str(caught.value)


def test_a_partition_value_too_long_for_a_folder_name(tmp_path):
    with pytest.raises(OutputError, match="too long for a folder name"):
        to_parquet(_records("x" * 300), tmp_path, partition_by=["asset_id"])


def test_unknown_mode_lists_the_modes(tmp_path):
    with pytest.raises(ParameterError) as caught:
        to_parquet(_records(), tmp_path, mode="upsert")
    assert "unknown mode 'upsert'" in str(caught.value)
    assert "'merge' (upsert, the default), 'overwrite' or 'append'" in str(caught.value)


def test_the_root_cannot_be_a_file(tmp_path):
    (tmp_path / "lake.parquet").write_text("x")
    with pytest.raises(OutputError, match="output path is a file"):
        to_parquet(_records(), tmp_path / "lake.parquet")


def test_a_file_uri_writes_the_same_lake_as_a_path(tmp_path):
    to_parquet(_records(), tmp_path / "a", partition_by=DAILY)
    summary = to_parquet(_records(), (tmp_path / "b").as_uri(), partition_by=DAILY)
    assert summary.path == (tmp_path / "b").as_uri()
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _read(tmp_path / "a").equals(_read(tmp_path / "b"))


def test_a_pyarrow_filesystem_that_is_not_local(tmp_path):
    # A SubTreeFileSystem takes the generic (remote) path: staging inside the root under a
    # hidden name, moves through pyarrow.fs, no lock.
    (tmp_path / "store").mkdir()
    remote = pafs.SubTreeFileSystem(str(tmp_path / "store"), pafs.LocalFileSystem())
    to_parquet(_records(), "lake", partition_by=DAILY, filesystem=remote)
    to_parquet(_records(kwh=5.0), "lake", partition_by=DAILY, filesystem=remote)
    summary = to_parquet(_records(), "lake", partition_by=DAILY, filesystem=remote,
                         mode="append")
    assert summary.files_written == 1
    to_parquet(_records(kwh=7.0), "lake", partition_by=DAILY, filesystem=remote)
    root = tmp_path / "store" / "lake"
    assert _files(root) == ["asset_id=SITE-ALPHA/year=2026/month=02/day=09/part-00000.parquet"]
    assert _read(root).column("kWh").to_pylist() == [7.0, 8.0, 9.0]


def test_a_spilling_write_to_another_filesystem_makes_no_local_folders(tmp_path, monkeypatch):
    (tmp_path / "store").mkdir()
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setattr(parquet_lake, "BUFFER_BYTES", 1)  # stage every batch's partitions
    remote = pafs.SubTreeFileSystem(str(tmp_path / "store"), pafs.LocalFileSystem())
    days = pa.table({"timestamp": pa.array([dt.datetime(2026, 2, d, 12) for d in (9, 10, 11)],
                                           pa.timestamp("us", tz="UTC")),
                     "kWh": [1.0, 2.0, 3.0], "asset_id": ["A"] * 3})
    summary = to_parquet(days.to_batches(max_chunksize=1), "lake", partition_by=DAILY,
                         filesystem=remote)
    assert summary.files_written == 3
    assert list((tmp_path / "cwd").iterdir()) == []
    assert _read(tmp_path / "store" / "lake").column("kWh").to_pylist() == [1.0, 2.0, 3.0]


def test_timestamps_are_microseconds_in_utc(tmp_path):
    table = pa.table({"timestamp": pa.array([dt.datetime(2026, 2, 9, 12, 0, 0, 1)],
                                            pa.timestamp("ns")),
                      "kWh": pa.array([1], pa.int32())})
    to_parquet(table, tmp_path)
    back = pq.read_table(tmp_path / "part-00000.parquet")
    assert back.schema.field("timestamp").type == TIMESTAMP_TYPE
    assert back.schema.field("kWh").type == pa.float64()
    assert back.column("timestamp").to_pylist() == [
        dt.datetime(2026, 2, 9, 12, 0, 0, 1, tzinfo=dt.timezone.utc)]


def test_a_value_spelled_like_the_null_partition_is_refused(tmp_path):
    rows = [{"timestamp": "2026-02-09T01:00:00Z", "kWh": 2.0, "asset_id": NULL_PARTITION}]
    with pytest.raises(OutputError, match="Hive's folder name for a missing value"):
        to_parquet(rows, tmp_path, partition_by=["asset_id"])
    assert _files(tmp_path) == []
