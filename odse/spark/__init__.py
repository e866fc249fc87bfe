"""odse on Apache Spark: the same specs and engine, with the files spread over executors.

``transform(spark, paths, source=...)`` lists the files on the driver with the cluster's
filesystems, packs them into tasks, and runs the normal engine on each task's files through
``DataFrame.mapInArrow`` (Arrow in, Arrow out: no pandas round trip). It returns the records
(the spec's record schema, ``timestamp`` a UTC ``TimestampType``) and the rejects as two
DataFrames from one pass. ``validate(df, level=...)`` adds the verdicts of
``odse.validate_batch`` as columns. Needs ``pip install 'odse[spark]'`` (pyspark) on the
driver and odse on every executor; see ``docs/spark.md``.

``SparkExecutor`` runs a pipeline's per-file work in Spark tasks (``odse run PIPELINE.yaml
--engine spark``; ``odse.run_pipeline(spec, executor=SparkExecutor(spark))``).

Modules: ``files`` (listing and packing into tasks), ``tasks`` (what runs on the executors;
pyarrow only), ``executor`` (the pipeline's executor), this one (the DataFrames).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from odse import api
from odse.errors import ParameterError, require
from odse.mapping.generic import parse_column_map
from odse.spark import files as _files
from odse.spark import tasks as _tasks
from odse.spark.executor import SparkExecutor, SparkJobError
from odse.validation import validate_batch

READ_MODES = ("auto", "path", "content")
LEVELS = ("schema", "semantic")
SERIES_KEY = ("asset_id", "direction", "channel")


class Transformed:
    """The two DataFrames of a Spark transform: ``records`` and ``rejects``.

    Each is its own pass of the engine over the files: the records pass hands Spark the
    records, the rejects pass only the rejects (its records never leave the Python worker,
    so it costs the engine's time alone). Unpacks as ``records, rejects = result``.
    """

    def __init__(self, records: Any, rejects: Any) -> None:
        self.records = records
        self.rejects = rejects

    def __iter__(self) -> Any:
        return iter((self.records, self.rejects))

    def __repr__(self) -> str:
        return f"<Transformed records={self.records!r} rejects={self.rejects!r}>"


def transform(spark: Any, paths: Any, source: str | None = None, mapping: Any = None,
              asset_id: str | None = None, timezone: str | None = None, *,
              read: str = "auto", tasks: int | None = None, recursive: bool = False,
              glob: str | None = None, **params: Any) -> Transformed:
    """Transform files on a Spark cluster into a DataFrame of records and one of rejects.

    Args:
        spark: the ``SparkSession``.
        paths: a path, directory or glob, or a list of them, as the cluster reads them
            (``s3://bucket/exports/*.csv``, ``abfss://...``, ``/mnt/share/*.json``).
        source, mapping, asset_id, timezone, **params: as for :func:`odse.transform`
            (``column_map`` too); every file is read with this one spec.
        read: ``path`` (each task opens its files itself, streaming them from disk: local
            and shared or mounted filesystems), ``content`` (Spark reads each file's bytes
            through its filesystem, with the cluster's credentials), or ``auto`` (default:
            ``path`` when every file is a ``file:`` path, else ``content``).
        tasks: how many tasks to spread the files over (``read="path"``); default: at least
            three per core, and one per 128 MiB of input, never more than one per file.
        recursive: also read the files in subfolders (``recursiveFileLookup``).
        glob: keep only files whose name matches (``pathGlobFilter``, e.g. ``*.csv``).

    Returns:
        A :class:`Transformed`: ``records, rejects = odse.spark.transform(...)``. Rejects
        have ``file``, ``row``, ``line``, ``path``, ``field``, ``column``, ``value``,
        ``code``, ``reason`` and ``scope`` (``file`` for a file that could not be read).

    Raises:
        ParameterError, MappingError, UnknownSourceError: on the driver, before any job.
        InputNotFoundError: no file matches ``paths``.
    """
    require("pyspark", "spark", "odse.spark")
    if read not in READ_MODES:
        raise ParameterError(f"read must be one of {', '.join(READ_MODES)}, got {read!r}",
                             code="BAD_PARAMETER")
    if tasks is not None and (not isinstance(tasks, int) or tasks < 1):
        raise ParameterError(f"tasks must be a positive whole number, got {tasks!r}",
                             code="BAD_PARAMETER")
    job = _job(source, mapping, asset_id, timezone, params)
    names = _files.as_paths(paths)
    listed = _files.list_files(spark, names, recursive, glob)
    if read == "auto":
        read = "path" if all(f.path.startswith("file:") for f in listed) else "content"
    if read == "path":
        count = tasks or _files.default_tasks(listed, _files.parallelism(spark))
        groups = _files.pack(listed, count)

        def plan(output: str, schema: pa.Schema) -> Any:
            def run(batches: Any) -> Any:
                return _tasks.transform_groups(job, groups, output, batches)

            ids = spark.range(0, len(groups), 1, len(groups))
            return ids.mapInArrow(run, _spark_schema(schema))
    else:
        def plan(output: str, schema: pa.Schema) -> Any:
            def run(batches: Any) -> Any:
                return _tasks.transform_contents(job, output, batches)

            contents = _files.load(spark, names, recursive, glob).select("path", "content")
            return contents.mapInArrow(run, _spark_schema(schema))

    return Transformed(plan("records", job.schema), plan("rejects", _tasks.REJECT_FIELDS))


def _job(source: str | None, mapping: Any, asset_id: str | None, timezone: str | None,
         params: dict[str, Any]) -> _tasks.Job:
    """Compile the spec on the driver (so bad specs and parameters fail here, before any
    job) and return the job the executors run, with the mapping as data."""
    column_map = params.pop("column_map", None)
    if column_map is not None:
        if mapping is not None:
            raise ParameterError("give either mapping or column_map, not both",
                                 code="MAPPING_TWICE")
        mapping = parse_column_map(column_map) if isinstance(column_map, str) else column_map
    spec = api.resolve(source, mapping)
    if isinstance(mapping, Path) or (isinstance(mapping, str) and "\n" not in mapping and
                                     mapping.strip().endswith((".yaml", ".yml", ".json"))):
        # the file's text travels, not its path: the driver's files are not the executors'
        mapping = Path(mapping).read_text(encoding="utf-8-sig")
    spec.resolve_params({"asset_id": asset_id, "timezone": timezone, **params})
    if timezone is not None:
        from odse.engine.timestamps import zone_name
        zone_name(str(timezone))
    return _tasks.Job(source=source, mapping=mapping, asset_id=asset_id, timezone=timezone,
                      params=dict(params), schema=spec.record_schema)


def validate(df: Any, level: str = "schema", profile: str | None = None, *,
             capacity_kw: float | None = None, latitude: float | None = None,
             longitude: float | None = None, interval_minutes: float | None = None) -> Any:
    """Add the verdicts of :func:`odse.validate_batch` to a DataFrame of records.

    The checks are the same vectorised ones, run on each Arrow batch inside
    ``mapInArrow``. Three columns are added: ``is_valid`` (boolean), ``validation_errors``
    and ``validation_warnings`` (arrays of ``{path, code, message}``). Filter with
    ``df.where("is_valid")``.

    Semantic checks need each record's interval: with ``interval_minutes`` every record has
    it; without it, it is read from the spacing of the series' timestamps, so the records are
    grouped by series (``asset_id``, ``direction``, ``channel``: those the DataFrame has) and
    each series is validated whole in one task (``groupBy(...).applyInArrow``, Spark 4).

    Arguments are those of :func:`odse.validate_batch`.
    """
    require("pyspark", "spark", "odse.spark.validate")
    options: dict[str, Any] = {"level": level, "profile": profile, "capacity_kw": capacity_kw,
                               "latitude": latitude, "longitude": longitude,
                               "interval_minutes": interval_minutes}
    validate_batch([], **options)  # bad options fail here, on the driver
    clash = [f.name for f in _tasks.VERDICT_FIELDS if f.name in df.columns]
    if clash:
        raise ParameterError(f"the DataFrame already has a column {clash[0]!r}",
                             code="BAD_PARAMETER",
                             hint="Drop or rename it before validating (validate once)")
    from pyspark.sql import types as T

    out_type = T.StructType([*df.schema.fields,
                             *_spark_schema(_tasks.VERDICT_FIELDS).fields])
    if level == "semantic" and interval_minutes is None:
        keys = [k for k in SERIES_KEY if k in df.columns]
        grouped = df.groupBy(*keys)
        if not hasattr(grouped, "applyInArrow"):
            raise ParameterError(
                "semantic validation without interval_minutes needs Spark 4 "
                "(GroupedData.applyInArrow)", code="BAD_PARAMETER",
                hint="Pass interval_minutes=<the records' interval>, or use Spark 4")

        def run_series(table: pa.Table) -> pa.Table:
            return _tasks.validate_table(options, table)

        return grouped.applyInArrow(run_series, out_type)

    def run_batches(batches: Any) -> Any:
        return _tasks.validate_batches(options, batches)

    return df.mapInArrow(run_batches, out_type)


# ----------------------------------------------------------------------------- Spark types

def _spark_type(typ: pa.DataType) -> Any:
    from pyspark.sql import types as T

    if pa.types.is_timestamp(typ):
        return T.TimestampType()
    if pa.types.is_struct(typ):
        return T.StructType([T.StructField(f.name, _spark_type(f.type), True) for f in typ])
    if pa.types.is_list(typ):
        return T.ArrayType(_spark_type(typ.value_type), True)
    simple = {pa.float64(): T.DoubleType(), pa.float32(): T.FloatType(),
              pa.int64(): T.LongType(), pa.int32(): T.IntegerType(), pa.string(): T.StringType(),
              pa.bool_(): T.BooleanType(), pa.binary(): T.BinaryType()}
    if typ in simple:
        return simple[typ]
    raise ParameterError(f"odse.spark cannot give Spark a column of Arrow type {typ}",
                         code="BAD_PARAMETER")


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, _spark_type(f.type), True) for f in schema])


__all__ = ["SparkExecutor", "SparkJobError", "Transformed", "transform", "validate"]
