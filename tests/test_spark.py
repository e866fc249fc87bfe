"""odse on Spark (local mode, two cores): the same records and rejects as the local API.

One SparkSession for the whole test session (starting one takes seconds), bound to
127.0.0.1. Every comparison is between ``odse.spark.transform`` and the local API
(``odse.transform_batches`` file by file), as tables sorted on every column. The generated
inputs come from ``benchmarks/generate.py`` (``ODSE_SPARK_FILES`` sets how many files; 24 by
default, 200 for a fuller run).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from click.testing import CliRunner

import odse
import odse.spark
from odse.errors import InputNotFoundError, OdseError, ParameterError, UnknownSourceError
from odse.pipeline import read_log, run_pipeline
from odse.spark import files as spark_files

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "data" / "real"
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402  (benchmarks/generate.py: the benchmark suite's input generator)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    # pyspark warns about pandas 3 when its Arrow functions check for pandas; odse uses none
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
]

REAL_SOURCES = {  # folder of tests/data/real -> source and parameters
    "enphase": ("enphase", {"timezone": "Europe/Amsterdam"}),
    "solaredge": ("solaredge", {"timezone": "Europe/Amsterdam"}),
    "sma": ("sma", {}),
    "sungrow": ("sungrow", {}),
    "fronius": ("fronius", {}),
    "solarman": ("solarman", {}),  # spreadsheet (.xlsx) exports
    "solax": ("solax", {}),        # spreadsheet (.xls) exports
}
GENERATED = {  # shape of benchmarks/generate.py -> source and parameters
    "huawei": ("huawei", {"asset_id": "GEN-H"}),
    "enphase": ("enphase", {"asset_id": "GEN-E", "expected_devices": 24}),
    "solaredge": ("solaredge", {"asset_id": "GEN-S", "interval_minutes": 5}),
}


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers run this venv's Python
    session = (SparkSession.builder.master("local[2]").appName("odse-tests")
               .config("spark.driver.host", "127.0.0.1")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "4")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if saved is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = saved


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """Small generated exports of three sources, with the generator's bad rows (1 %)."""
    out = tmp_path_factory.mktemp("generated")
    count = int(os.environ.get("ODSE_SPARK_FILES", "24"))
    shapes = list(GENERATED)
    for i in range(count):
        shape = shapes[i % len(shapes)]
        make, ext = generate.GENERATORS[shape]
        start = 1_451_606_400 + 86_400 * 7 * i  # a week apart, from 2016-01-01
        make(out / f"{shape}_{i:03d}.{ext}", 600 + 37 * i, 10 + i, 0.01, start)
    return out


# ----------------------------------------------------------------------------- the local path

def uri(path: Path) -> str:
    return "file:" + str(path.resolve())


def local(paths: list[Path], source: str, **params) -> tuple[pa.Table, pa.Table]:
    """Records and rejects of ``paths`` through the local API, file by file."""
    tables, rejects = [], []
    for path in paths:
        try:
            stream = odse.transform_batches(path, source, **params)
            tables.append(stream.read_all())
            found = stream.report.rejects_table
        except OdseError as exc:  # the file is one reject, as on Spark
            found = pa.table({"row": pa.nulls(1, pa.int64()), "code": [exc.code],
                              "reason": [str(exc)], "scope": ["file"]})
        rejects.append(found.append_column("file", pa.array([uri(path)] * found.num_rows,
                                                            pa.string())))
    records = pa.concat_tables(tables, promote_options="default") if tables else None
    return records, pa.concat_tables(rejects, promote_options="default")


def like(table: pa.Table | None, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns (nulls where it has none), in its order."""
    if table is None:
        return schema.empty_table()
    extra = set(table.column_names) - set(schema.names)
    assert not extra, f"the local records have columns Spark lacks: {sorted(extra)}"
    columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
               else pa.nulls(table.num_rows, f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def ordered(table: pa.Table) -> pa.Table:
    return table.sort_by([(name, "ascending") for name in table.column_names])


def assert_same(spark_table: pa.Table, local_table: pa.Table, what: str) -> None:
    a, b = ordered(spark_table), ordered(local_table)
    assert a.num_rows == b.num_rows, f"{what}: {a.num_rows} on Spark, {b.num_rows} locally"
    if not a.equals(b):
        for i, (x, y) in enumerate(zip(a.to_pylist(), b.to_pylist(), strict=True)):
            assert x == y, f"{what}: sorted row {i} differs: Spark {x} != local {y}"
        raise AssertionError(f"{what}: the tables differ in their types: {a.schema} != {b.schema}")


def compare(spark, folder: Path, pattern: str, source: str, params: dict, **options) -> None:
    paths = sorted(folder.glob(pattern))
    assert paths, f"no {pattern} in {folder}"
    records, rejects = odse.spark.transform(spark, str(folder / pattern), source, **params,
                                            **options)
    spark_records = records.toArrow()
    local_records, local_rejects = local(paths, source, **params)
    assert_same(spark_records, like(local_records, spark_records.schema), f"{source} records")
    spark_rejects = rejects.toArrow()
    assert_same(spark_rejects.select(local_rejects.column_names),
                like(local_rejects, spark_rejects.select(local_rejects.column_names).schema),
                f"{source} rejects")


# ----------------------------------------------------------------------------- transform

@pytest.mark.parametrize("folder", sorted(REAL_SOURCES))
def test_real_samples_give_the_local_records_and_rejects(spark, folder):
    source, params = REAL_SOURCES[folder]
    compare(spark, REAL / folder, "*", source, params)


@pytest.mark.parametrize("shape", sorted(GENERATED))
def test_generated_files_give_the_local_records_and_rejects(spark, generated, shape):
    source, params = GENERATED[shape]
    compare(spark, generated, f"{shape}_*", source, params)


def test_files_read_by_spark_give_the_same_as_files_read_by_path(spark, generated):
    source, params = GENERATED["huawei"]
    compare(spark, generated, "huawei_*", source, params, read="content")


def test_the_schema_is_the_specs_with_a_utc_timestamp(spark):
    from pyspark.sql import types as T

    records, rejects = odse.spark.transform(spark, str(REAL / "sma" / "*"), "sma")
    fields = {f.name: f.dataType for f in records.schema.fields}
    assert fields["timestamp"] == T.TimestampType()
    assert fields["kWh"] == T.DoubleType()
    assert list(fields)[:3] == ["timestamp", "kWh", "error_type"]
    assert rejects.columns == ["file", "row", "line", "path", "field", "column", "value",
                               "code", "reason", "scope"]


def test_a_file_no_variant_reads_is_a_reject_not_a_failed_job(spark, tmp_path):
    (tmp_path / "good.csv").write_bytes((REAL / "sma").glob("*5Min*").__next__().read_bytes())
    (tmp_path / "other.csv").write_text("when,what\n2024-01-01,1\n")
    records, rejects = odse.spark.transform(spark, str(tmp_path), "sma")
    found = rejects.where("scope = 'file'").collect()
    assert len(found) == 1, found
    assert found[0]["file"].endswith("other.csv")
    with pytest.raises(OdseError) as local_error:
        odse.transform(tmp_path / "other.csv", source="sma")
    assert found[0]["code"] == local_error.value.code
    assert found[0]["reason"] == str(local_error.value)
    assert records.count() == len(odse.transform(tmp_path / "good.csv", source="sma"))


def test_usage_errors_are_raised_on_the_driver(spark, tmp_path):
    with pytest.raises(UnknownSourceError, match="huawie") as error:
        odse.spark.transform(spark, str(REAL / "sma"), "huawie")
    assert "huawei" in str(error.value)  # the nearest known name
    with pytest.raises(ParameterError, match="read must be one of auto, path, content"):
        odse.spark.transform(spark, str(REAL / "sma"), "sma", read="stream")
    with pytest.raises(InputNotFoundError, match="no file matches") as missing:
        odse.spark.transform(spark, str(tmp_path / "nothing" / "*.csv"), "sma")
    assert "as the cluster sees them" in str(missing.value)


def test_a_mapping_file_travels_as_text(spark, tmp_path):
    data = tmp_path / "scada.csv"
    data.write_text("Time,Energy,Site\n2024-05-01 10:00,1.5,A\n2024-05-01 10:15,oops,A\n"
                    "2024-05-01 10:30,2.0,B\n")
    spec = tmp_path / "scada.yaml"
    spec.write_text("timestamp: Time\nkWh: Energy\nasset_id: Site\n")
    records, rejects = odse.spark.transform(spark, str(data), "csv", mapping=str(spec),
                                            timezone="+02:00")
    rows = sorted((r["timestamp"].isoformat(), r["kWh"], r["asset_id"])
                  for r in records.collect())
    assert rows == [("2024-05-01T08:00:00", 1.5, "A"), ("2024-05-01T08:30:00", 2.0, "B")]
    (bad,) = rejects.collect()
    assert (bad["row"], bad["column"], bad["value"]) == (2, "Energy", "oops")


# ----------------------------------------------------------------------------- tasks

def test_files_are_packed_into_tasks_of_about_equal_bytes():
    listed = [spark_files.Listed(f"f{i}", size) for i, size in
              enumerate([90, 10, 10, 40, 50, 30, 30, 20])]
    groups = spark_files.pack(listed, 3)
    length = {f.path: f.length for f in listed}
    sizes = sorted(sum(length[p] for p in g) for g in groups)
    assert sizes == [90, 90, 100]
    assert sorted(p for g in groups for p in g) == sorted(f.path for f in listed)
    assert spark_files.default_tasks(listed, cores=2) == 6
    assert spark_files.default_tasks(listed[:2], cores=2) == 2


# ----------------------------------------------------------------------------- validate

def verdicts_by_time(table: pa.Table) -> dict:
    return {(r["timestamp"], r["kWh"]): (r["is_valid"],
                                         sorted(e["code"] for e in r["validation_errors"]),
                                         sorted(w["code"] for w in r["validation_warnings"]))
            for r in table.to_pylist()}


def local_verdicts(table: pa.Table, **options) -> dict:
    result = odse.validate_batch(table, **options)
    errors: dict[int, list[str]] = {}
    warnings: dict[int, list[str]] = {}
    for i, e in result.errors:
        errors.setdefault(i, []).append(e.code)
    for i, w in result.warnings:
        warnings.setdefault(i, []).append(w.code)
    valid = result.valid_mask.to_pylist()
    rows = table.select(["timestamp", "kWh"]).to_pylist()
    return {(r["timestamp"], r["kWh"]): (valid[i], sorted(errors.get(i, [])),
                                         sorted(warnings.get(i, [])))
            for i, r in enumerate(rows)}


@pytest.mark.parametrize("interval_minutes", [None, 5])
def test_validate_adds_the_verdicts_of_validate_batch(spark, generated, interval_minutes):
    path = generated / "huawei_000.csv"
    options = {"level": "semantic", "capacity_kw": 90.0, "latitude": -26.2,
               "longitude": 28.05, "interval_minutes": interval_minutes}
    records, _ = odse.spark.transform(spark, str(path), "huawei", asset_id="H1")
    checked = odse.spark.validate(records, **options).toArrow()
    expected = local_verdicts(odse.transform_table(path, "huawei", asset_id="H1"), **options)
    assert verdicts_by_time(checked) == expected
    assert any(w for _, _, w in expected.values()), "the sample should raise some warnings"


def test_validate_flags_schema_errors_as_validate_batch_does(spark):
    from datetime import datetime, timezone

    rows = [(datetime(2024, 1, 1, tzinfo=timezone.utc), 1.0, "normal"),
            (datetime(2024, 1, 1, 0, 5, tzinfo=timezone.utc), -3.0, "normal"),
            (datetime(2024, 1, 1, 0, 10, tzinfo=timezone.utc), 2.0, "sleeping")]
    df = spark.createDataFrame(rows, "timestamp timestamp, kWh double, error_type string")
    checked = odse.spark.validate(df).toArrow()
    table = pa.table({"timestamp": pa.array([r[0] for r in rows], pa.timestamp("us", "UTC")),
                      "kWh": [r[1] for r in rows], "error_type": [r[2] for r in rows]})
    assert verdicts_by_time(checked) == local_verdicts(table)
    assert checked.column("is_valid").to_pylist() == [True, False, False]
    with pytest.raises(ParameterError, match="already has a column 'is_valid'"):
        odse.spark.validate(odse.spark.validate(df))
    with pytest.raises(OdseError, match="level"):
        odse.spark.validate(df, level="strict")


def test_a_worker_compiles_the_spec_once():
    from odse.spark import tasks

    job = tasks.Job(source="huawei", mapping=None, asset_id=None, timezone=None)
    same = tasks.Job(source="huawei", mapping=None, asset_id="other", timezone=None)
    assert job.spec() is job.spec() is same.spec()
    text = tasks.Job(source="csv", mapping="timestamp: Time\nkWh: Energy\n", asset_id=None,
                     timezone=None)
    assert text.spec() is not job.spec()
    assert text.spec() is text.spec()


def test_without_pyspark_the_error_names_the_extra(monkeypatch):
    from odse.errors import MissingExtraError

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if it were not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'odse\[spark\]'"):
        odse.spark.transform(None, "x.csv", "huawei")


# ----------------------------------------------------------------------------- the pipeline

FLEET_SITES, FLEET_DAYS = 6, 2
LATE = "FLEET-003/2026-01-02"
VOLATILE = {"run_id", "ingested_at", "seconds", "mtime_ns"}  # differ between any two runs


def gen_fleet(fleet: Path, *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_fleet.py"), str(fleet),
                    "--sites", str(FLEET_SITES), "--days", str(FLEET_DAYS), *args],
                   check=True, capture_output=True)


@pytest.fixture
def twin_fleets(tmp_path: Path) -> tuple[Path, Path]:
    """The same generated fleet (tools/gen_fleet.py) in two folders: one for each engine."""
    here = tmp_path / "local"
    here.mkdir()
    for name in ("pipeline.yaml", "generic_mapping.yaml"):
        shutil.copy(ROOT / "examples" / "fleet" / name, here / name)
    gen_fleet(here, "--hold", LATE)
    there = tmp_path / "spark"
    shutil.copytree(here, there)
    return here, there


def lake_table(fleet: Path) -> pa.Table:
    """The fleet's lake, sorted on every column, with the file names relative to the fleet
    and without the run id (the only columns that differ between two folders and runs)."""
    table = ds.dataset(fleet / "out" / "lake" / "energy", partitioning="hive").to_table()
    names = pc.replace_substring(table.column("source_file"), f"{fleet}/", "")
    table = table.set_column(table.schema.get_field_index("source_file"), "source_file", names)
    return ordered(table.drop_columns(["ingest_run"]))


def log_entries(fleet: Path) -> dict[str, dict]:
    log = read_log(str(fleet / "out" / "lake" / "energy"))
    entries = {}
    for uri, entry in log.latest().items():
        assert entry["uri"] == uri
        entries[uri.replace(f"{fleet}/", "")] = {k: v for k, v in entry.items()
                                                  if k not in VOLATILE and k != "uri"}
    return entries


def assert_same_lakes(local_fleet: Path, spark_fleet: Path) -> None:
    assert_same(lake_table(spark_fleet), lake_table(local_fleet), "lake")
    layout = [sorted(p.parent.relative_to(f).as_posix()
                     for p in (f / "out" / "lake" / "energy").rglob("*.parquet"))
              for f in (local_fleet, spark_fleet)]
    assert layout[0] == layout[1], "the same partitions"
    assert log_entries(spark_fleet) == log_entries(local_fleet)


def test_a_pipeline_on_spark_writes_the_local_lake_and_log(spark, twin_fleets):
    from odse.cli import cli
    from odse.spark.executor import SparkExecutor

    here, there = twin_fleets
    files = FLEET_SITES * FLEET_DAYS - 1
    local_run = run_pipeline(here / "pipeline.yaml", jobs=1)
    spark_run = run_pipeline(there / "pipeline.yaml", executor=SparkExecutor(spark))
    assert spark_run.exit_code == 0, spark_run.summary()
    assert f"ingested {files} of {files} files, skipped 0" in spark_run.summary()
    assert [o.task.rel for o in spark_run.outcomes] == [o.task.rel for o in local_run.outcomes]
    assert_same_lakes(here, there)

    # the command line, on the session this process has (the one a notebook would have)
    from pyspark.sql import SparkSession
    assert SparkSession.getActiveSession() is not None
    again = CliRunner().invoke(cli, ["run", str(there / "pipeline.yaml"), "--engine", "spark"])
    assert again.exit_code == 0, again.output
    assert f"ingested 0 of {files} files, skipped {files}" in again.stderr

    for fleet in (here, there):  # a changed export and the late one: exactly those two
        gen_fleet(fleet, "--only", "FLEET-002/2026-01-01", "--variant", "1")
        gen_fleet(fleet, "--only", LATE)
    run_pipeline(here / "pipeline.yaml", jobs=1)
    third = CliRunner().invoke(cli, ["run", str(there / "pipeline.yaml"), "--engine", "spark",
                                     "--json", "-"])
    assert third.exit_code == 0, third.output
    done = {f["uri"].replace(f"{there}/", ""): f["reason"]
            for f in json.loads(third.stdout)["files"] if f["action"] == "ingest"}
    assert done == {"incoming/enphase/FLEET-002/2026-01-01.json": "content changed",
                    "incoming/solaredge/FLEET-003/2026-01-02.json": "new"}
    assert_same_lakes(here, there)
    assert len(read_log(str(there / "out" / "lake" / "energy")).runs) == 2
    assert spark.range(3).count() == 3, "the command line left the caller's session running"


def test_a_failed_spark_job_is_one_error_and_writes_nothing(spark):
    from odse.spark.executor import SparkExecutor, SparkJobError

    with pytest.raises(SparkJobError, match="ZeroDivisionError") as caught:
        list(SparkExecutor(spark).imap(lambda item: item / 0, [1, 2]))
    assert caught.value.exit_code == 3
    assert "Check that every executor has this odse installed" in str(caught.value.hint)
    assert list(SparkExecutor(spark).imap(lambda item: item * 2, range(9))) == list(
        range(0, 18, 2)), "results come back in the items' order"


def test_run_engine_options_are_checked(monkeypatch, tmp_path):
    from odse.cli import cli

    spec = tmp_path / "p.yaml"
    spec.write_text("odse_pipeline: 1\ninputs: [{path: .}]\noutput: {path: lake}\n")
    alone = CliRunner().invoke(cli, ["run", str(spec), "--master", "local[2]"])
    assert alone.exit_code == 2
    assert "Error: --master is for --engine spark" in alone.stderr
    both = CliRunner().invoke(cli, ["run", str(spec), "--engine", "spark", "-j", "2"])
    assert both.exit_code == 2
    assert "-j sets the local engine's worker processes" in both.stderr
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if it were not installed
    missing = CliRunner().invoke(cli, ["run", str(spec), "--engine", "spark"])
    assert missing.exit_code == 2, missing.output
    errors = [line for line in missing.stderr.splitlines() if line.startswith("Error:")]
    assert errors == ["Error: odse run --engine spark needs the optional package 'pyspark'. "
                      "Install it with: pip install 'odse[spark]'"], missing.stderr


def test_results_travel_in_slices_and_items_in_bounded_waves(monkeypatch):
    from types import SimpleNamespace

    from odse.spark import executor

    monkeypatch.setattr(executor, "PIECE_BYTES", 1000)
    table = pa.table({"kWh": [i / 8 for i in range(5000)], "site": ["A", "B"] * 2500})
    result = {"table": table, "note": "outcomes"}
    parts = executor._encode(result)
    assert len(parts) > 40 and max(len(p) for p in parts[1:]) <= 1000
    back = executor._decode(list(enumerate(parts)))
    assert back["note"] == "outcomes" and back["table"].equals(table)

    files = [[SimpleNamespace(size=size)] for size in (10, 10, 80, 5, 5, 5, 5)]
    waves = executor._waves(files, 3, 100)
    assert [[item[0].size for item in wave] for wave in waves] == [
        [10, 10, 80], [5, 5, 5], [5]], "at most 3 items and 100 bytes a wave, in order"
    assert executor._waves([[SimpleNamespace(size=500)]], 3, 100) == [
        [[SimpleNamespace(size=500)]]], "an item larger than a wave is a wave"
