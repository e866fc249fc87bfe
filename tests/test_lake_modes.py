"""Merge, overwrite and append; what each does to touched and untouched partitions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from odse import to_parquet
from odse.errors import OutputError
from odse.writers import commit, parquet_lake

DAILY = ["asset_id", "year", "month", "day"]
ALPHA_09 = "asset_id=SITE-ALPHA/year=2026/month=02/day=09"


def _records(asset="SITE-ALPHA", day=9, hours=range(3), kwh=1.0, **extra):
    return [{"timestamp": f"2026-02-{day:02d}T{hour:02d}:00:00Z", "kWh": kwh + hour,
             "error_type": "normal", "asset_id": asset, **extra} for hour in hours]


def _files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def _read(root: Path) -> pa.Table:
    table = ds.dataset(root, partitioning="hive").to_table()
    keys = [name for name in ("asset_id", "timestamp", "channel") if name in table.schema.names]
    return table.sort_by([(name, "ascending") for name in keys])


def _kwh(root: Path) -> list[float]:
    return _read(root).column("kWh").to_pylist()


# merge ------------------------------------------------------------------------------------


def test_two_default_runs_of_the_same_input_give_the_same_rows(tmp_path):
    rows = _records(hours=range(24)) + _records("SITE-BETA", hours=range(24))
    to_parquet(rows, tmp_path, partition_by=DAILY)
    first = _read(tmp_path)
    summary = to_parquet(rows, tmp_path, partition_by=DAILY)
    assert _read(tmp_path).equals(first)
    assert first.num_rows == 48
    assert summary.rows_replaced == 48 and summary.mode == "merge"
    assert len(_files(tmp_path)) == 2


def test_merge_replaces_by_key_and_keeps_other_rows(tmp_path):
    to_parquet(_records(hours=range(4)), tmp_path, partition_by=DAILY)
    summary = to_parquet(_records(hours=[2, 3, 4], kwh=10.0), tmp_path, partition_by=DAILY)
    assert _kwh(tmp_path) == [1.0, 2.0, 12.0, 13.0, 14.0]
    assert (summary.rows_written, summary.rows_replaced, summary.duplicates_dropped) == (3, 2, 0)
    assert "2 existing rows replaced" in str(summary)


def test_incoming_duplicates_keep_the_last(tmp_path):
    rows = [*_records(hours=[1]), *_records(hours=[1], kwh=50.0), *_records(hours=[2])]
    summary = to_parquet(rows, tmp_path, partition_by=DAILY)
    assert _kwh(tmp_path) == [51.0, 3.0]
    assert summary.duplicates_dropped == 1 and summary.rows_written == 2
    assert "1 duplicate records dropped" in str(summary)


def test_channel_and_direction_are_part_of_the_key(tmp_path):
    rows = [{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0, "asset_id": "A",
             "channel": channel, "direction": direction}
            for channel, direction in [("production", "generation"),
                                       ("consumption", "consumption"),
                                       ("grid_import", "consumption"),
                                       ("grid_export", "generation")]]
    to_parquet(rows, tmp_path, partition_by=DAILY)
    to_parquet(rows, tmp_path, partition_by=DAILY)
    assert _read(tmp_path).num_rows == 4
    changed = [{**rows[0], "kWh": 9.0}]
    to_parquet(changed, tmp_path, partition_by=DAILY)
    table = _read(tmp_path)
    assert sorted(table.column("kWh").to_pylist()) == [1.0, 1.0, 1.0, 9.0]


def test_absent_direction_is_a_value_but_absent_timestamp_never_matches(tmp_path):
    rows = [{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0, "asset_id": "A"},
            {"timestamp": "2026-02-09T00:00:00Z", "kWh": 2.0, "asset_id": "A"},
            {"kWh": 3.0, "asset_id": "A"}, {"kWh": 4.0, "asset_id": "A"}]
    summary = to_parquet(rows, tmp_path, partition_by=["asset_id"])
    assert sorted(_kwh(tmp_path)) == [2.0, 3.0, 4.0]  # rows without a timestamp all kept
    assert summary.duplicates_dropped == 1


def test_the_guides_incremental_pattern_keeps_earlier_rows_of_the_month(tmp_path):
    monthly = ["asset_id", "year", "month"]
    to_parquet(_records(day=9, hours=range(24)), tmp_path, partition_by=monthly)
    # the next run: the export now also holds day 10; only rows after the saved
    # timestamp are written, into the same month partition, with the default mode
    last_ts = "2026-02-09T23:00:00Z"
    export = _records(day=9, hours=range(24)) + _records(day=10, hours=range(24))
    rows = [r for r in export if r["timestamp"] > last_ts]
    assert len(rows) == 24
    to_parquet(rows, tmp_path, partition_by=monthly)
    assert _read(tmp_path).num_rows == 48
    assert _files(tmp_path) == ["asset_id=SITE-ALPHA/year=2026/month=02/part-00000.parquet"]


def test_merged_partitions_are_sorted_by_timestamp(tmp_path):
    to_parquet(_records(hours=[5, 1]), tmp_path, partition_by=DAILY)
    to_parquet(_records(hours=[3, 0]), tmp_path, partition_by=DAILY)
    table = pq.read_table(tmp_path / ALPHA_09 / "part-00000.parquet")
    stamps = table.column("timestamp").to_pylist()
    assert stamps == sorted(stamps)


# overwrite and append ---------------------------------------------------------------------


def test_overwrite_replaces_touched_partitions_only(tmp_path):
    to_parquet(_records(hours=range(5)) + _records("SITE-BETA"), tmp_path, partition_by=DAILY)
    summary = to_parquet(_records(hours=[7], kwh=9.0), tmp_path, partition_by=DAILY,
                         mode="overwrite")
    table = _read(tmp_path)
    alpha = table.filter(pa.compute.equal(table.column("asset_id"), "SITE-ALPHA"))
    assert alpha.column("kWh").to_pylist() == [16.0]
    assert table.num_rows == 4  # SITE-BETA untouched
    assert summary.rows_replaced == 5 and summary.mode == "overwrite"


def test_append_doubles(tmp_path):
    rows = _records(hours=range(4))
    to_parquet(rows, tmp_path, partition_by=DAILY, mode="append")
    to_parquet(rows, tmp_path, partition_by=DAILY, mode="append")
    assert _read(tmp_path).num_rows == 8
    files = _files(tmp_path)
    assert len(files) == 2
    assert files[0] == f"{ALPHA_09}/part-00000.parquet"
    assert files[1].startswith(f"{ALPHA_09}/part-2")  # a fresh name with the write's time


def test_merge_after_appends_makes_one_file_again(tmp_path):
    rows = _records(hours=range(4))
    for _ in range(3):
        to_parquet(rows, tmp_path, partition_by=DAILY, mode="append")
    summary = to_parquet(_records(hours=[0], kwh=9.0), tmp_path, partition_by=DAILY)
    assert _files(tmp_path) == [f"{ALPHA_09}/part-00000.parquet"]
    # the three copies of hour 0 are replaced; rows the write does not bring are kept,
    # even the duplicates the appends made (merge changes only what it is given)
    assert _kwh(tmp_path) == [9.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 4.0]
    assert summary.rows_replaced == 3


def test_merge_general_path_keeps_existing_duplicates_it_is_not_given(tmp_path):
    rows = [{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0, "asset_id": "A",
             "channel": "production"}, {"timestamp": "2026-02-09T01:00:00Z", "kWh": 2.0,
                                        "asset_id": "A", "channel": "production"}]
    to_parquet(rows, tmp_path, partition_by=["year"], mode="append")
    to_parquet(rows, tmp_path, partition_by=["year"], mode="append")
    incoming = [{**rows[0], "kWh": 5.0}, {**rows[0], "kWh": 6.0}]
    summary = to_parquet(incoming, tmp_path, partition_by=["year"])
    assert sorted(_kwh(tmp_path)) == [2.0, 2.0, 6.0]
    assert (summary.rows_replaced, summary.duplicates_dropped) == (2, 1)


@pytest.mark.parametrize("mode", ["merge", "overwrite"])
def test_several_files_replaced_without_a_folder_swap(tmp_path, monkeypatch, mode):
    monkeypatch.setattr(commit, "_can_swap", lambda: False)
    rows = _records(hours=range(2))
    to_parquet(rows, tmp_path / "lake", partition_by=DAILY, mode="append")
    to_parquet(rows, tmp_path / "lake", partition_by=DAILY, mode="append")
    to_parquet(_records(hours=[0], kwh=9.0), tmp_path / "lake", partition_by=DAILY, mode=mode)
    files = _files(tmp_path / "lake")
    assert files == [f"{ALPHA_09}/part-00000.parquet"]
    expected = [9.0, 2.0, 2.0] if mode == "merge" else [9.0]
    assert _kwh(tmp_path / "lake") == expected
    assert os.listdir(tmp_path) == ["lake"]


def test_staging_inside_the_root_when_the_parent_is_unusable(tmp_path, monkeypatch):
    def inside(self):
        self.dir = os.path.join(self.lake.root, commit.INSIDE_PREFIX + self.write_id)
        os.mkdir(self.dir)

    monkeypatch.setattr(commit.Staging, "_make_local", inside)
    rows = _records(hours=range(2))
    to_parquet(rows, tmp_path, partition_by=DAILY, mode="append")
    to_parquet(rows, tmp_path, partition_by=DAILY, mode="append")
    to_parquet(rows, tmp_path, partition_by=DAILY)
    assert _files(tmp_path) == [f"{ALPHA_09}/part-00000.parquet"]
    assert _read(tmp_path).num_rows == 2


# untouched partitions, schema ---------------------------------------------------------------


def test_partitions_the_write_does_not_touch_are_not_changed(tmp_path):
    to_parquet(_records("SITE-BETA") + _records(), tmp_path, partition_by=DAILY)
    beta = next((tmp_path / "asset_id=SITE-BETA").rglob("*.parquet"))
    before = os.stat(beta)
    for mode in ("merge", "overwrite", "append"):
        to_parquet(_records(kwh=5.0), tmp_path, partition_by=DAILY, mode=mode)
    after = os.stat(beta)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_later_write_cannot_change_a_columns_type(tmp_path):
    to_parquet(_records(), tmp_path, partition_by=DAILY)
    table = pa.table({"timestamp": pa.array([0], pa.timestamp("s", tz="UTC")),
                      "kWh": pa.array([7], pa.int64()), "asset_id": ["SITE-NEW"]})
    to_parquet(table, tmp_path, partition_by=DAILY)
    for path in tmp_path.rglob("*.parquet"):
        schema = pq.read_schema(path)
        assert schema.field("kWh").type == pa.float64()
        assert schema.field("timestamp").type == pa.timestamp("us", tz="UTC")


def test_an_undeclared_column_keeps_its_lake_type_or_the_write_fails_cleanly(tmp_path):
    lake = tmp_path / "lake"
    to_parquet(_records(hours=[0], devices=12), lake, partition_by=DAILY)
    to_parquet(_records(day=10, hours=[0], devices=11.0), lake, partition_by=DAILY)
    day10 = next((lake / "asset_id=SITE-ALPHA").rglob("day=10/*.parquet"))
    assert pq.read_schema(day10).field("devices").type == pa.int64()
    before = _files(lake)
    with pytest.raises(OutputError) as caught:
        to_parquet(_records(day=11, hours=[0], devices=1.5), lake, partition_by=DAILY)
    assert caught.value.code == "SCHEMA_CONFLICT"
    assert "column 'devices' is stored as int64 in the lake" in str(caught.value)
    assert "Convert 'devices' to int64 before writing" in str(caught.value)
    assert _files(lake) == before  # nothing committed
    assert os.listdir(tmp_path) == ["lake"]  # and no staging left


def test_a_new_column_appears_in_the_partitions_written_from_then_on(tmp_path):
    to_parquet(_records(), tmp_path, partition_by=DAILY)
    to_parquet(_records(day=10, seller_party_id="nersa:gen:ALPHA"), tmp_path,
               partition_by=DAILY)
    day10 = next(tmp_path.rglob("day=10/*.parquet"))
    assert "seller_party_id" in pq.read_schema(day10).names


def test_a_column_first_seen_in_a_later_batch_is_in_every_new_file(tmp_path, monkeypatch):
    monkeypatch.setattr(parquet_lake, "BUFFER_BYTES", 1)  # stage after every batch
    monkeypatch.setattr("odse.arrow_input.CHUNK_ROWS", 3)
    rows = _records(hours=range(3)) + _records(day=10, hours=range(3), error_code="E")
    to_parquet(rows, tmp_path, partition_by=DAILY)
    for path in tmp_path.rglob("*.parquet"):
        assert pq.read_schema(path).names == ["timestamp", "kWh", "error_type", "error_code"]


# streaming ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["merge", "overwrite", "append"])
def test_staged_partitions_give_the_same_lake(tmp_path, monkeypatch, mode):
    # rows of one partition arrive in several batches, out of order, with duplicates
    rows = []
    for hour in (3, 1, 2, 1, 0, 5, 4):
        rows += _records(hours=[hour], kwh=hour * 10.0) + _records(day=10, hours=[hour])
    to_parquet(rows, tmp_path / "memory", partition_by=DAILY, mode=mode)
    monkeypatch.setattr(parquet_lake, "BUFFER_BYTES", 1)
    monkeypatch.setattr("odse.arrow_input.CHUNK_ROWS", 2)
    summary = to_parquet(iter(rows), tmp_path / "staged", partition_by=DAILY, mode=mode)
    assert _read(tmp_path / "staged").equals(_read(tmp_path / "memory"))
    assert summary.rows_in == 14
    if mode == "merge":
        assert summary.duplicates_dropped == 2
        assert summary.rows_written == _read(tmp_path / "staged").num_rows == 12
    else:
        assert summary.rows_written == 14


def test_no_staging_folder_is_left_after_a_failed_write(tmp_path, monkeypatch):
    monkeypatch.setattr("odse.arrow_input.CHUNK_ROWS", 2)

    def broken():
        yield from _records()
        raise RuntimeError("upstream failed")

    with pytest.raises(RuntimeError):
        to_parquet(broken(), tmp_path / "lake", partition_by=DAILY)
    assert os.listdir(tmp_path) == ["lake"]
    assert _files(tmp_path / "lake") == []


def test_an_unpartitioned_lake_of_several_files_merges_into_one(tmp_path):
    lake = tmp_path / "flat"
    to_parquet(_records(), lake, mode="append")
    to_parquet(_records(), lake, mode="append")
    assert len(_files(lake)) == 2
    summary = to_parquet(_records(hours=[1], kwh=9.0), lake)
    assert _files(lake) == ["part-00000.parquet"]
    assert sorted(_kwh(lake)) == [1.0, 1.0, 3.0, 3.0, 10.0]
    assert summary.rows_replaced == 2
    assert os.listdir(tmp_path) == ["flat"]


def test_a_failed_commit_leaves_its_journal_for_the_next_write(tmp_path, monkeypatch):
    monkeypatch.setattr(commit, "_can_swap", lambda: False)
    lake = tmp_path / "lake"
    to_parquet(_records(), lake, partition_by=DAILY, mode="append")
    to_parquet(_records(), lake, partition_by=DAILY, mode="append")

    def fail(step):
        if step == "replaced":
            raise OSError("disk went away")

    monkeypatch.setattr(commit, "_HOOK", fail)
    with pytest.raises(OSError, match="disk went away"):
        to_parquet(_records(kwh=5.0), lake, partition_by=DAILY, mode="overwrite")
    assert len(_files(lake)) == 2  # the new file and one old one: the journal's window
    monkeypatch.setattr(commit, "_HOOK", None)
    to_parquet(_records(day=10), lake, partition_by=DAILY)
    assert _kwh(lake) == [5.0, 6.0, 7.0, 1.0, 2.0, 3.0]
    assert os.listdir(tmp_path) == ["lake"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_on_linux_a_partition_of_several_files_is_swapped_in_one_call(tmp_path, monkeypatch):
    steps: list[str] = []
    rows = _records(hours=range(2))
    to_parquet(rows, tmp_path, partition_by=DAILY, mode="append")
    to_parquet(rows, tmp_path, partition_by=DAILY, mode="append")
    monkeypatch.setattr(commit, "_HOOK", steps.append)
    to_parquet(rows, tmp_path, partition_by=DAILY, mode="overwrite")
    assert steps == ["staged", "swapped", "committed"]


@pytest.mark.parametrize("mode", ["merge", "overwrite", "append"])
def test_staged_chunks_of_existing_partitions_are_committed_in_place(tmp_path, monkeypatch,
                                                                     mode):
    to_parquet(_records(hours=range(6)), tmp_path, partition_by=DAILY)
    monkeypatch.setattr(parquet_lake, "BUFFER_BYTES", 1)
    monkeypatch.setattr("odse.arrow_input.CHUNK_ROWS", 2)
    rows = _records(hours=range(3, 9), kwh=10.0) + _records(day=10, hours=range(4))
    to_parquet(iter(rows), tmp_path, partition_by=DAILY, mode=mode)
    expected = {"merge": [1.0, 2.0, 3.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0],
                "overwrite": [13.0, 14.0, 15.0, 16.0, 17.0, 18.0],
                "append": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0]}
    day9 = _read(tmp_path).filter(pa.compute.equal(_read(tmp_path).column("day"), 9))
    assert sorted(day9.column("kWh").to_pylist()) == expected[mode]
    assert _read(tmp_path).num_rows == len(expected[mode]) + 4
    assert os.listdir(tmp_path.parent).count(tmp_path.name) == 1
    assert not [name for name in os.listdir(tmp_path.parent) if ".odse-" in name]


def test_a_new_asset_appears_with_one_rename(tmp_path, monkeypatch):
    steps: list[str] = []
    to_parquet(_records("SITE-ALPHA"), tmp_path, partition_by=DAILY)
    monkeypatch.setattr(commit, "_HOOK", steps.append)
    rows = _records("SITE-ALPHA", day=10) + [record for day in range(1, 28)
                                             for record in _records("SITE-NEW", day=day)]
    summary = to_parquet(rows, tmp_path, partition_by=DAILY)
    assert summary.files_written == 28
    # one commit for SITE-ALPHA's new day 10, one for the whole new asset
    assert steps == ["staged", "committed", "committed"]
    assert len(_files(tmp_path / "asset_id=SITE-NEW")) == 27


def test_merge_keeps_columns_the_incoming_rows_lack(tmp_path):
    rows = [{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0, "asset_id": "A",
             "channel": channel, "seller_party_id": "nersa:gen:A"}
            for channel in ("import", "export")]
    to_parquet(rows, tmp_path, partition_by=DAILY)
    to_parquet([{"timestamp": "2026-02-09T01:00:00Z", "kWh": 2.0, "asset_id": "A"}], tmp_path,
               partition_by=DAILY)
    table = _read(tmp_path)
    assert table.num_rows == 3
    assert sorted(table.column("channel").to_pylist(), key=str) == [None, "export", "import"]
    assert table.column("seller_party_id").to_pylist().count("nersa:gen:A") == 2
    # and a new partition written later has the lake's columns too
    to_parquet([{"timestamp": "2026-02-10T00:00:00Z", "kWh": 3.0, "asset_id": "A"}], tmp_path,
               partition_by=DAILY)
    day10 = next(tmp_path.rglob("day=10/*.parquet"))
    assert "seller_party_id" in pq.read_schema(day10).names
