"""``to_delta``: records into a Delta Lake table (``odse[delta]``, through delta-rs).

The records take the same road as into the Parquet lake: :func:`~odse.arrow_input.
record_batches` conforms them to the record's types, :class:`~odse.writers.partitions.
Partitioning` checks ``partition_by`` and refuses rows without a partition value, and
:class:`~odse.writers.schema.BatchSchema` keeps the table's column types (a value that cannot
be stored in the table's type is an error before anything is written). delta-rs then does
what the Parquet lake does with its own staging and renames: one atomic commit per write in
the table's transaction log, schema evolution, time travel.

Differences from the Parquet lake, by the nature of the format: the time parts of
``partition_by`` (``year``, ``month``, ``day``, ``hour``) are real ``int32`` columns of the
table (Delta keeps partition values in the log, typed), and every column, ``asset_id``
included, is a column of the table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pyarrow as pa

from odse.arrow_input import record_batches
from odse.errors import OutputError, ParameterError, require
from odse.filesystems import is_uri
from odse.writers.commit import lake_commit
from odse.writers.merge import KEY_FIELDS, sort_and_keep_last
from odse.writers.partitions import Partitioning
from odse.writers.schema import BatchSchema
from odse.writers.summary import WriteSummary

MODES = ("merge", "overwrite", "append")


def to_delta(records: Any, uri: Any, partition_by: Any = None, mode: str = "merge", *,
             storage_options: Mapping[str, str] | None = None) -> WriteSummary:
    """Write records to a Delta Lake table (created on the first write).

    Modes, as for :func:`~odse.writers.parquet_lake.to_parquet`:

    * ``"merge"`` (default): upsert on the lake's record key (``timestamp``, and
      ``asset_id``, ``direction``, ``channel`` where present, plus the partition columns):
      an incoming row replaces the row with the same key, every other row is kept; of
      incoming rows with the same key the last wins. A Delta ``MERGE``: one commit.
    * ``"overwrite"``: the partitions the records touch hold exactly the incoming rows
      afterwards (a ``replaceWhere`` on their partition values); untouched partitions stay.
      Without ``partition_by`` the whole table is replaced.
    * ``"append"``: the incoming rows are added.

    A new column is added to the table (schema evolution); earlier rows read it as null. A
    column keeps the type it has in the table.

    records: a list or iterable of dicts, or Arrow data (table, batch, reader, batch iterator).
    uri: the table's folder: a local path or ``file://``, ``s3://``, ``gs://``, ``az://``/
        ``abfss://`` URI; credentials and endpoint from the usual environment variables
        (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ...), or ``storage_options``.
    partition_by: partition columns, e.g. ``["asset_id", "year", "month"]``; an existing
        table keeps its own.
    storage_options: delta-rs object-store options (``{"AWS_ALLOW_HTTP": "true"}``, ...).
    """
    deltalake = require("deltalake", "delta", "Delta Lake output")
    if mode not in MODES:
        raise ParameterError(f"unknown mode {mode!r}", value=mode,
                             hint="Use mode='merge' (upsert, the default), 'overwrite' or "
                                  "'append'")
    partitioning = Partitioning(partition_by)
    shown = str(uri)
    target = shown if is_uri(shown) else _local(shown)
    options = _storage_options(shown, storage_options)
    source = record_batches(records)
    first = source.peek()
    if first is None:
        return WriteSummary(path=shown, format="delta", rows_in=0, rows_written=0,
                            files_written=0, mode=mode)
    partitioning.check(first.schema)
    table = _open(deltalake, target, options)
    schema = BatchSchema()
    if table is not None:
        _check_layout(table, partitioning, shown)
        schema.fix({item.name: item.type for item in pa.schema(table.schema().to_arrow())})
    batches, folders, rows_in = _prepared(source, partitioning, schema)
    data = _unified(batches, schema)
    with lake_commit():   # the run's rejects file lands with this commit, or neither
        stats = _write(deltalake, table, target, data, partitioning, mode, options, folders)
    return WriteSummary(
        path=shown, format="delta", rows_in=rows_in, rows_written=stats["written"],
        files_written=stats["files"], partitions=tuple(sorted(folders)), mode=mode,
        duplicates_dropped=stats.get("dropped", 0), rows_replaced=stats.get("replaced", 0))


def _local(path: str) -> str:
    import os

    return os.path.abspath(path)


def _storage_options(uri: str, given: Mapping[str, str] | None) -> dict[str, str] | None:
    import os

    options = dict(given or {})
    # delta-rs reads AWS_* itself; an http:// endpoint (MinIO, a local server) needs
    # AWS_ALLOW_HTTP, which S3 users rarely have set: allow it for an http endpoint
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if uri.startswith(("s3://", "s3a://")) and endpoint and endpoint.startswith("http://"):
        options.setdefault("AWS_ALLOW_HTTP", "true")
    return options or None


def _open(deltalake: Any, target: str, options: dict[str, str] | None) -> Any:
    try:
        return deltalake.DeltaTable(target, storage_options=options)
    except deltalake.exceptions.TableNotFoundError:
        return None
    except (OSError, deltalake.exceptions.DeltaError) as exc:
        raise OutputError(f"cannot open the Delta table: {exc}", file=target,
                          hint="Check the path or URI and the store's settings") from None


def _check_layout(table: Any, partitioning: Partitioning, shown: str) -> None:
    existing = list(table.metadata().partition_columns)
    wanted = list(partitioning.names)
    if existing != wanted:
        have = ", ".join(existing) or "nothing"
        raise OutputError(
            f"the Delta table is partitioned by {have}, and this write asks for "
            f"{', '.join(wanted) or 'nothing'}", code="LAYOUT_MISMATCH", file=shown,
            hint=f"Pass partition_by={existing!r} to write into this table, or write to "
                 "another folder")


def _prepared(source: Any, partitioning: Partitioning, schema: BatchSchema,
              ) -> tuple[list[pa.RecordBatch], set[str], int]:
    """Each batch with its partition values checked and the time parts added as columns."""
    batches: list[pa.RecordBatch] = []
    folders: set[str] = set()
    rows_in = 0
    for batch in source:
        if not batch.num_rows:
            continue
        keys = partitioning.keys(batch, rows_in)
        rows_in += batch.num_rows
        if partitioning:
            folders.update(partitioning.folder(values) for values in _distinct(keys))
        stored = partitioning.with_derived(batch, keys)
        schema.observe(stored.schema)
        batches.append(stored)
    return batches, folders, rows_in


def _distinct(keys: list[pa.Array]) -> Iterator[tuple[Any, ...]]:
    frame = pa.table({str(i): key for i, key in enumerate(keys)})
    grouped = frame.group_by([str(i) for i in range(len(keys))]).aggregate([])
    return zip(*(grouped.column(str(i)).to_pylist() for i in range(len(keys))), strict=True)


def _unified(batches: list[pa.RecordBatch], schema: BatchSchema) -> pa.Table:
    target = schema.schema()
    return pa.Table.from_batches([schema.conform(batch, target) for batch in batches], target)


def _write(deltalake: Any, table: Any, target: str, data: pa.Table,
           partitioning: Partitioning, mode: str, options: dict[str, str] | None,
           folders: set[str]) -> dict[str, int]:
    partition_by = list(partitioning.names) or None
    try:
        if mode == "merge":
            keys = _merge_keys(data.schema.names, partitioning)
            deduplicated, mask = sort_and_keep_last(data, keys)
            dropped = 0 if mask is None else data.num_rows - deduplicated.num_rows
            if table is None:
                deltalake.write_deltalake(target, deduplicated, partition_by=partition_by,
                                          mode="append", storage_options=options)
                return {"written": deduplicated.num_rows, "dropped": dropped,
                        "files": _files_added(deltalake, target, options)}
            metrics = (table.merge(deduplicated, _merge_predicate(keys), source_alias="s",
                                   target_alias="t", merge_schema=True)
                       .when_matched_update_all().when_not_matched_insert_all().execute())
            return {"written": deduplicated.num_rows, "dropped": dropped,
                    "replaced": metrics.get("num_target_rows_updated", 0),
                    "files": metrics.get("num_target_files_added", 0)}
        predicate, replaced = None, 0
        if mode == "overwrite" and table is not None:
            names = list(partitioning.names)
            touched = _touched(data, partitioning) if partitioning else None
            if touched is not None:
                predicate = _partition_predicate(names, touched)
            replaced = _count(table, names, touched)
        deltalake.write_deltalake(table if table is not None else target, data,
                                  partition_by=partition_by, mode=mode, predicate=predicate,
                                  schema_mode="merge", storage_options=options)
        return {"written": data.num_rows, "replaced": replaced,
                "files": _files_added(deltalake, target, options)}
    except deltalake.exceptions.SchemaMismatchError as exc:
        raise OutputError(f"the records do not fit the Delta table's schema: {exc}",
                          code="SCHEMA_CONFLICT", file=target,
                          hint="A table keeps one type per column; convert the column "
                               "before writing, or write to a new table") from None
    except (OSError, deltalake.exceptions.DeltaError) as exc:
        raise OutputError(f"cannot write the Delta table: {exc}", file=target,
                          hint="Check the path or URI, the store's settings, and that no "
                               "other writer changed the table meanwhile") from None


def _merge_keys(names: list[str], partitioning: Partitioning) -> list[str]:
    present = set(names)
    keys = [name for name in KEY_FIELDS if name in present]
    return keys + [name for name in partitioning.names if name not in keys]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _merge_predicate(keys: list[str]) -> str:
    # the same identity as the Parquet lake's merge: an absent asset_id, direction or
    # channel equals another absent one; a row without a timestamp matches nothing
    parts = []
    for name in keys:
        left, right = f"t.{_quote(name)}", f"s.{_quote(name)}"
        parts.append(f"{left} = {right}" if name == "timestamp"
                     else f"({left} IS NOT DISTINCT FROM {right})")
    return " AND ".join(parts)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _touched(data: pa.Table, partitioning: Partitioning) -> list[tuple[Any, ...]]:
    names = list(partitioning.names)
    grouped = data.select(names).group_by(names).aggregate([])
    return list(zip(*(grouped.column(name).to_pylist() for name in names), strict=True))


def _partition_predicate(names: list[str], touched: list[tuple[Any, ...]]) -> str:
    return " OR ".join(
        "(" + " AND ".join(f"{_quote(name)} = {_literal(value)}"
                           for name, value in zip(names, row, strict=True)) + ")"
        for row in touched)


def _count(table: Any, names: list[str], touched: list[tuple[Any, ...]] | None) -> int:
    """Rows of the table in the touched partitions (all rows when ``touched`` is None)."""
    import pyarrow.compute as pc

    dataset = table.to_pyarrow_dataset()
    if touched is None:
        return dataset.count_rows()
    condition = None
    for row in touched:
        match = None
        for name, value in zip(names, row, strict=True):
            term = pc.field(name) == value
            match = term if match is None else match & term
        condition = match if condition is None else condition | match
    return dataset.count_rows(filter=condition)


def _files_added(deltalake: Any, target: str, options: dict[str, str] | None) -> int:
    table = deltalake.DeltaTable(target, storage_options=options)
    last = table.history(1)[0]
    metrics = last.get("operationMetrics") or {}
    return int(metrics.get("num_added_files", 0) or 0)
