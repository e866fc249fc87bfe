"""What runs inside a Spark task: the engine on a group of files, validation on a batch.

This module needs pyarrow only (no pyspark): Spark calls these functions through
``DataFrame.mapInArrow`` on its executors, where each Python worker process compiles a spec
once (``compiled``) and reuses it for every file of every task it runs.

A task yields either the records of its files (in the spec's record schema) or their
rejects (``REJECT_FIELDS``): the two DataFrames of a transform are two passes of the
engine, and only the records pass hands Spark the records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from odse import api
from odse.errors import OdseError
from odse.mapping import Mapping
from odse.readers.inputs import InputData
from odse.records import TIMESTAMP_TYPE
from odse.report import REJECT_SCHEMA

FILE_FIELD = pa.field("file", pa.string())
REJECT_FIELDS = pa.schema([FILE_FIELD, *REJECT_SCHEMA])
_GZIP_MAGIC = b"\x1f\x8b"

_COMPILED: dict[str, Mapping] = {}
"""Specs compiled in this process, by ``Job.key``: once per executor process."""


@dataclass(frozen=True)
class Job:
    """Everything a task needs to transform files: plain data, so it pickles small.

    ``mapping`` is the caller's mapping as data (a dict or YAML text, never a path: a path on
    the driver need not exist on an executor).
    """

    source: str | None
    mapping: Any
    asset_id: str | None
    timezone: str | None
    params: dict[str, Any] = field(default_factory=dict)
    schema: pa.Schema = field(default_factory=lambda: pa.schema([]))

    @property
    def key(self) -> str:
        """A digest of the spec's identity: the cache key of the compiled spec."""
        text = json.dumps([self.source, self.mapping], sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def spec(self) -> Mapping:
        """Return the compiled spec, compiling it on this process's first call."""
        spec = _COMPILED.get(self.key)
        if spec is None:
            spec = _COMPILED[self.key] = api.resolve(self.source, self.mapping)
        return spec


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Return ``batch`` in ``schema``'s columns, order and types; nulls for fields it lacks."""
    out = []
    for f in schema:
        index = batch.schema.get_field_index(f.name)
        if index < 0:
            out.append(pa.nulls(batch.num_rows, f.type))
            continue
        column = batch.column(index)
        out.append(column if column.type == f.type else column.cast(f.type))
    return pa.RecordBatch.from_arrays(out, schema=schema)


def _with_file(name: str, table: pa.Table) -> pa.RecordBatch:
    table = table.combine_chunks()
    n = table.num_rows
    columns = [pa.array([name] * n, pa.string())]
    columns += [table.column(f.name).combine_chunks() for f in REJECT_SCHEMA]
    return pa.RecordBatch.from_arrays(columns, schema=REJECT_FIELDS)


def file_reject(name: str, error: OdseError) -> pa.Table:
    """A whole file that could not be read, as one reject (no row: the file itself)."""
    facts = error.facts
    row = facts.get("row")
    value = facts.get("value")
    return pa.table({
        "row": pa.array([row if isinstance(row, int) else None], pa.int64()),
        "line": pa.array([facts.get("line") if isinstance(facts.get("line"), int) else None],
                         pa.int64()),
        "path": pa.array([facts.get("key_path")], pa.string()),
        "field": pa.array([facts.get("field")], pa.string()),
        "column": pa.array([facts.get("column")], pa.string()),
        "value": pa.array([None if value is None else str(value)], pa.string()),
        "code": pa.array([error.code], pa.string()),
        "reason": pa.array([str(error)], pa.string()),
        "scope": pa.array(["file"], pa.string()),
    }, schema=REJECT_SCHEMA)


def local_path(uri: str) -> Path:
    """The local path of a ``file:`` URI as Spark lists it (``file:/a/b`` or ``file:///a/b``),
    or of a plain path."""
    if uri.startswith("file:"):
        rest = uri[len("file:"):]
        if rest.startswith("//"):
            rest = rest[2:]
            rest = rest[rest.index("/"):] if "/" in rest else "/"
        return Path(rest)
    return Path(uri)


def open_input(name: str, content: bytes | None = None) -> InputData:
    """Wrap a listed file: its bytes when Spark read them (named by its URI), else its local
    path (streamed from disk, named as the local API names it)."""
    if content is not None:
        return InputData(name, content=content, gzip=content[:2] == _GZIP_MAGIC)
    return InputData.of(local_path(name))


def transform_files(job: Job, files: Iterable[tuple[str, bytes | None]], output: str
                    ) -> Iterator[pa.RecordBatch]:
    """Run the engine on each file; yield its record batches (``output="records"``, in
    ``job.schema``) or its rejects (``output="rejects"``, in ``REJECT_FIELDS``).

    A file that cannot be read at all (not found, no variant fits, ...) gives one reject with
    scope ``file`` and the error's code and message, never a failed task.
    """
    spec = job.spec()
    records = output == "records"
    for name, content in files:
        try:
            stream = api.transform_batches(open_input(name, content), None, job.asset_id,
                                           job.timezone, spec, **job.params)
            for batch in stream:
                if records and batch.num_rows:
                    yield conform(batch, job.schema)
            rejects = stream.report.rejects_table
        except OdseError as exc:
            rejects = file_reject(name, exc)
        if not records and rejects.num_rows:
            yield _with_file(name, rejects)


def transform_groups(job: Job, groups: list[list[str]], output: str,
                     batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The task body for files read by path: each input row's ``id`` names a group."""
    for batch in batches:
        for group in batch.column("id").to_pylist():
            yield from transform_files(job, ((name, None) for name in groups[group]), output)


def transform_contents(job: Job, output: str, batches: Iterable[pa.RecordBatch]
                       ) -> Iterator[pa.RecordBatch]:
    """The task body for files read by Spark: input rows are ``(path, content)``."""
    for batch in batches:
        names = batch.column("path").to_pylist()
        contents = batch.column("content")
        for i, name in enumerate(names):
            yield from transform_files(job, [(name, contents[i].as_py())], output)


# ----------------------------------------------------------------------------- validation

FINDING_TYPE = pa.list_(pa.struct([("path", pa.string()), ("code", pa.string()),
                                   ("message", pa.string())]))
VERDICT_FIELDS = pa.schema([("is_valid", pa.bool_()), ("validation_errors", FINDING_TYPE),
                            ("validation_warnings", FINDING_TYPE)])


def verdicts(table: pa.Table, options: dict[str, Any]) -> list[pa.Array]:
    """Validate ``table`` with ``odse.validate_batch`` and return the verdict columns."""
    import numpy as np

    from odse.validation import validate_batch

    if "timestamp" in table.column_names and pa.types.is_timestamp(table.schema.field(
            "timestamp").type):
        # Spark hands instants over in its session zone: the same instants, labelled UTC
        index = table.column_names.index("timestamp")
        table = table.set_column(index, "timestamp", table.column(index).cast(TIMESTAMP_TYPE))
    result = validate_batch(table, **options)
    n = table.num_rows
    out: list[pa.Array] = [result.valid_mask if isinstance(result.valid_mask, pa.Array)
                           else pa.array(result.valid_mask, pa.bool_())]
    for pairs in (result.errors, result.warnings):
        index = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs))
        offsets = np.searchsorted(index, np.arange(n + 1), side="left").astype(np.int32)
        values = pa.StructArray.from_arrays(
            [pa.array([e.path for _, e in pairs], pa.string()),
             pa.array([e.code for _, e in pairs], pa.string()),
             pa.array([e.message for _, e in pairs], pa.string())],
            fields=list(FINDING_TYPE.value_type))
        out.append(pa.ListArray.from_arrays(pa.array(offsets), values, type=FINDING_TYPE))
    return out


def validate_batches(options: dict[str, Any], batches: Iterable[pa.RecordBatch]
                     ) -> Iterator[pa.RecordBatch]:
    """The task body of ``odse.spark.validate`` by batch: each batch with its verdicts."""
    for batch in batches:
        table = pa.Table.from_batches([batch])
        columns = [*batch.columns, *verdicts(table, options)]
        yield pa.RecordBatch.from_arrays(columns, schema=_with_verdicts(batch.schema))


def validate_table(options: dict[str, Any], table: pa.Table) -> pa.Table:
    """The task body of ``odse.spark.validate`` by series: a whole series with its verdicts."""
    table = table.combine_chunks()
    columns = [*table.columns, *verdicts(table, options)]
    return pa.Table.from_arrays(columns, schema=_with_verdicts(table.schema))


def _with_verdicts(schema: pa.Schema) -> pa.Schema:
    return pa.schema([*schema, *VERDICT_FIELDS])
