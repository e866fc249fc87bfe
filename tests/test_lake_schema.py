"""One schema per lake: whatever the writes, every engine reads all rows and all columns.

The sequence is the cron job's: one ``odse transform -f parquet`` per site into one lake root
(Huawei, Enphase with ``expected_devices``, a generic CSV with ``extra.kVAr``, then a generic
write that adds another extra). pyarrow.dataset, pandas, polars (``scan_parquet`` with
``hive_partitioning=True``), DuckDB and, where pyspark is installed, Spark read it with no
reader options and return exactly what was written.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import INCOMING

from odse import to_parquet, transform
from odse.cli import cli
from odse.errors import OutputError

pytestmark = pytest.mark.interop

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

SCADA_MAP = "timestamp=Timestamp,kWh=ActiveEnergy_kWh,asset_id=SiteTag"
WRITES = [
    (("-s", "huawei", "-i", str(INCOMING / "site_alpha.csv"), "--asset-id", "SITE-ALPHA"),
     (INCOMING / "site_alpha.csv", "huawei", {"asset_id": "SITE-ALPHA"})),
    (("-s", "enphase", "-i", str(INCOMING / "site_beta.json"), "--asset-id", "SITE-BETA",
      "--param", "expected_devices=12"),
     (INCOMING / "site_beta.json", "enphase", {"asset_id": "SITE-BETA",
                                                "expected_devices": 12})),
    (("--column-map", f"{SCADA_MAP},extra.kVAr=ReactivePower_kVAr",
      "-i", str(INCOMING / "scada_export.csv")),
     (INCOMING / "scada_export.csv", None,
      {"mapping": {"timestamp": "Timestamp", "kWh": "ActiveEnergy_kWh", "asset_id": "SiteTag",
                   "extra.kVAr": "ReactivePower_kVAr"}})),
    (("--column-map", f"{SCADA_MAP},extra.kVAr=ReactivePower_kVAr,extra.kWh_meter=ActiveEnergy_kWh",
      "-i", str(INCOMING / "scada_export.csv")),
     (INCOMING / "scada_export.csv", None,
      {"mapping": {"timestamp": "Timestamp", "kWh": "ActiveEnergy_kWh", "asset_id": "SiteTag",
                   "extra.kVAr": "ReactivePower_kVAr",
                   "extra.kWh_meter": "ActiveEnergy_kWh"}})),
]
PARTS = ("year", "month", "day")


def _expected() -> dict[tuple[str, object], dict]:
    """What the four merges leave: the last record per (asset_id, timestamp)."""
    from odse.cli.transform import column_map_spec

    rows: dict[tuple[str, object], dict] = {}
    for _args, (path, source, given) in WRITES:
        options = dict(given)
        mapping = options.pop("mapping", None)
        if mapping is not None:
            mapping = column_map_spec(",".join(f"{k}={v}" for k, v in mapping.items()))
        for record in transform(str(path), source, mapping=mapping, **options):
            rows[(record["asset_id"], pd.Timestamp(record["timestamp"]))] = record
    return rows


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mixed") / "lake"
    for args, _source in WRITES:
        result = CliRunner().invoke(cli, ["transform", *args, "-o", f"{root}/"])
        assert result.exit_code == 0, result.stderr
    return root


def _frames_equal(frame: pd.DataFrame, expected: dict) -> None:
    """Rows and columns equal to what was written (partition time parts aside)."""
    data_columns = {name for record in expected.values() for name in record}
    assert set(frame.columns) - set(PARTS) == data_columns
    assert len(frame) == len(expected)
    frame = frame.assign(timestamp=pd.to_datetime(frame["timestamp"], utc=True),
                         asset_id=frame["asset_id"].astype(str))
    seen = set()
    for row in frame.to_dict("records"):
        key = (row["asset_id"], row["timestamp"])
        assert key not in seen
        seen.add(key)
        want = expected[key]
        for name in data_columns - {"timestamp", "asset_id"}:
            got, value = row[name], want.get(name)
            if value is None:
                assert got is None or (isinstance(got, float) and math.isnan(got)), (name, row)
            elif isinstance(value, float):
                assert got == pytest.approx(value), (name, row)
            else:
                assert got == value, (name, row)


def test_every_file_has_the_lake_schema(lake):
    files = sorted(lake.rglob("*.parquet"))
    assert len(files) == 5
    schemas = {file: pq.read_schema(file).remove_metadata() for file in files}
    first = next(iter(schemas.values()))
    assert all(schema.equals(first) for schema in schemas.values())
    assert first.names == ["timestamp", "kWh", "error_type", "error_code", "kVAr", "kWh_meter"]
    assert first.field("kVAr").type == pa.float64()
    assert not any("__HIVE_DEFAULT_PARTITION__" in str(file) for file in files)
    assert not [path for path in lake.rglob("*") if path.is_file() and path.suffix != ".parquet"]


def test_pyarrow_dataset_reads_everything(lake):
    table = ds.dataset(lake, partitioning="hive").to_table()
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    _frames_equal(table.to_pandas(), _expected())


def test_pandas_reads_everything(lake):
    _frames_equal(pd.read_parquet(lake), _expected())


def test_polars_scan_parquet_reads_everything(lake):
    frame = pl.scan_parquet(lake, hive_partitioning=True).collect()
    assert frame.schema["kVAr"] == pl.Float64
    _frames_equal(frame.to_pandas(), _expected())


def test_duckdb_reads_everything_without_options(lake):
    relation = duckdb.sql(f"select * from '{lake}/**/*.parquet'")
    assert dict(zip(relation.columns, map(str, relation.types), strict=True))["kVAr"] == "DOUBLE"
    _frames_equal(relation.df(), _expected())


@pytest.fixture(scope="module")
def spark():
    """A local Spark session on 127.0.0.1 (the suite's, when one is running already; left
    running for the suite's other Spark tests, and ended with the test process)."""
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (SparkSession.builder.master("local[2]").appName("odse-tests")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate())


@pytest.mark.slow
def test_spark_reads_everything_without_merge_schema(lake, spark):
    frame = spark.read.parquet(str(lake))
    assert "kVAr" in frame.columns and "kWh_meter" in frame.columns
    assert frame.count() == len(_expected())
    rows = frame.where("kVAr is not null").count()
    assert rows == sum(1 for record in _expected().values() if record.get("kVAr") is not None)


# ------------------------------------------------------------------ the design's edges

def _rows(day: int, asset: str = "A", **extra) -> list[dict]:
    return [{"timestamp": f"2026-02-{day:02d}T{hour:02d}:00:00Z", "kWh": float(hour),
             "error_type": "normal", "asset_id": asset, **extra} for hour in range(3)]


DAILY = ["asset_id", "year", "month", "day"]


def test_append_and_overwrite_keep_one_schema(tmp_path):
    to_parquet(_rows(8), tmp_path, partition_by=DAILY)
    to_parquet(_rows(8, kVAr=1.0), tmp_path, partition_by=DAILY, mode="append")
    to_parquet(_rows(9, seller="x"), tmp_path, partition_by=DAILY, mode="overwrite")
    schemas = {pq.read_schema(file).remove_metadata() for file in tmp_path.rglob("*.parquet")}
    assert len(schemas) == 1
    assert pl.scan_parquet(tmp_path, hive_partitioning=True).collect().height == 9
    assert pd.read_parquet(tmp_path).shape == (9, 9)


def test_a_type_conflict_fails_before_anything_is_written(tmp_path):
    to_parquet(_rows(8, panel_temp=21.5), tmp_path, partition_by=DAILY)
    before = {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")}
    with pytest.raises(OutputError) as caught:
        to_parquet(_rows(9, panel_temp="hot", note="new"), tmp_path, partition_by=DAILY)
    assert caught.value.code == "SCHEMA_CONFLICT"
    assert "column 'panel_temp' is stored as double in the lake" in str(caught.value)
    assert {path: path.stat().st_mtime_ns for path in tmp_path.rglob("*")} == before


def test_a_lake_of_older_mixed_files_is_brought_to_one_schema(tmp_path):
    # files of different columns, as earlier versions (or other tools) left them
    folder = tmp_path / "asset_id=A" / "year=2026" / "month=02"
    for day, extra in ((8, {}), (9, {"kVAr": [1.0, 2.0, 3.0]})):
        (folder / f"day={day:02d}").mkdir(parents=True)
        pq.write_table(pa.table({
            "timestamp": pa.array([pd.Timestamp(f"2026-02-{day:02d}T0{h}:00Z") for h in range(3)],
                                  pa.timestamp("us", tz="UTC")),
            "kWh": [0.0, 1.0, 2.0], **extra}), folder / f"day={day:02d}" / "part-00000.parquet")
    summary = to_parquet(_rows(10), tmp_path, partition_by=DAILY)
    assert summary.files_upgraded == 2  # neither old file has error_type, one lacks kVAr
    schemas = {pq.read_schema(file).remove_metadata() for file in tmp_path.rglob("*.parquet")}
    assert len(schemas) == 1
    assert pl.scan_parquet(tmp_path, hive_partitioning=True).collect().height == 9
    # once brought up to date, the lake is trusted again: the next write reads one footer
    assert to_parquet(_rows(11), tmp_path, partition_by=DAILY).files_upgraded == 0
    assert all(pq.read_schema(file).metadata[b"odse.lake_schema"] == b"1"
               for file in tmp_path.rglob("*.parquet"))


def test_a_killed_upgrade_is_finished_by_the_next_write(tmp_path, monkeypatch):
    from odse.writers import commit

    to_parquet(_rows(8), tmp_path / "lake", partition_by=DAILY)
    to_parquet(_rows(9), tmp_path / "lake", partition_by=DAILY)

    class Killed(BaseException):
        pass

    steps = []

    def hook(step):
        steps.append(step)
        if steps.count("committed") == 1 and step == "committed":  # the first upgraded file
            raise Killed

    monkeypatch.setattr(commit, "_HOOK", hook)
    monkeypatch.setattr(commit.Staging, "close", lambda self: None)  # as if killed
    with pytest.raises(Killed):
        to_parquet(_rows(10, kVAr=1.0), tmp_path / "lake", partition_by=DAILY)
    monkeypatch.setattr(commit, "_HOOK", None)
    monkeypatch.undo()
    schemas = {pq.read_schema(f).remove_metadata() for f in (tmp_path / "lake").rglob("*.parquet")}
    assert len(schemas) == 2  # one old file upgraded, the other not yet
    to_parquet(_rows(11), tmp_path / "lake", partition_by=DAILY)
    schemas = {pq.read_schema(f).remove_metadata() for f in (tmp_path / "lake").rglob("*.parquet")}
    assert len(schemas) == 1
    assert "kVAr" in next(iter(schemas)).names


def test_side_files_are_committed_after_the_data(tmp_path, monkeypatch):
    from odse.errors import ParameterError
    from odse.writers import commit

    log = b'{"file": "site_alpha.csv", "rows": 3}\n'
    order = []
    real = commit.Staging.commit

    def spy(self, change):
        order.append(change.name)
        return real(self, change)

    monkeypatch.setattr(commit.Staging, "commit", spy)
    to_parquet(_rows(8), tmp_path, partition_by=DAILY)  # a new branch: one rename
    to_parquet(_rows(8, kwh_meter=1.0), tmp_path, partition_by=DAILY,
               extra_files={"_odse/ingest/run-1.json": log})
    assert order[-1] == "run-1.json" and order[:-1] == ["part-00000.parquet"]
    assert (tmp_path / "_odse" / "ingest" / "run-1.json").read_bytes() == log
    relation = duckdb.sql(f"select count(*) from '{tmp_path}/**/*.parquet'")
    assert relation.fetchall() == [(3,)]
    # a second write replaces a side file of the same name, atomically
    to_parquet(_rows(8), tmp_path, partition_by=DAILY,
               extra_files={"_odse/ingest/run-1.json": b"2"})
    assert (tmp_path / "_odse" / "ingest" / "run-1.json").read_bytes() == b"2"
    for bad in ("../x.json", "_odse/log.parquet", "asset_id=A/x.json", ""):
        with pytest.raises(ParameterError):
            to_parquet(_rows(8), tmp_path, partition_by=DAILY, extra_files={bad: b"x"})


def _day_batch(day: int, **extra) -> pa.RecordBatch:
    import datetime as dt

    stamps = [dt.datetime(2026, 2, day, hour, tzinfo=dt.timezone.utc) for hour in range(3)]
    columns = {"timestamp": pa.array(stamps, pa.timestamp("us", tz="UTC")),
               "kWh": pa.array([1.0, 2.0, 3.0]), "error_type": pa.array(["normal"] * 3),
               "asset_id": pa.array(["A"] * 3),
               **{name: pa.array([value] * 3) for name, value in extra.items()}}
    return pa.RecordBatch.from_pydict(columns)


def test_expected_columns_spare_rewrites_and_change_nothing(tmp_path, monkeypatch):
    # days 1-4 come without kVAr, which days 5 and 6 bring: the days written early are
    # written again at the end, with kVAr as nulls, unless the writer is told to expect it;
    # a hint wrong either way (a column no record brings) changes nothing in the lake
    from odse.writers import parquet_lake

    writes = []
    for name in ("_write_file", "_stream_file"):
        original = getattr(parquet_lake._LakeWrite, name)
        monkeypatch.setattr(parquet_lake._LakeWrite, name,
                            lambda self, *a, _original=original: writes.append(1)
                            or _original(self, *a))
    batches = [*(_day_batch(day) for day in range(1, 6)), _day_batch(6, kVAr=0.5)]
    hints = {"plain": None, "hinted": pa.schema([("kVAr", pa.float64())]),
             "wrong": pa.schema([("kVAr", pa.float64()), ("ghost", pa.string())]),
             "other type": pa.schema([("kVAr", pa.int64())])}
    counts, tables = {}, {}
    for name, hint in hints.items():
        writes.clear()
        to_parquet(iter(batches), tmp_path / name, partition_by=DAILY, expected_columns=hint)
        counts[name] = len(writes)
        files = list((tmp_path / name).rglob("*.parquet"))
        assert {tuple(pq.read_schema(f).names) for f in files} == {
            ("timestamp", "kWh", "error_type", "kVAr")}
        tables[name] = ds.dataset(tmp_path / name, partitioning="hive").to_table()
    assert counts == {"plain": 10, "hinted": 6, "wrong": 11, "other type": 10}
    assert tables["plain"].num_rows == 18
    for name in hints:
        assert tables[name].equals(tables["plain"]), name
