"""Ingest one file: transform, validate, apply the invalid-record policy, enrich, add lineage.

``ingest`` runs in a worker process (or in the runner's own, with ``-j 1``) and returns an
:class:`Outcome`: the records as an Arrow table, ready for the lake writer, and the facts the
ingest log keeps. A file that cannot be read gives an Outcome with its error instead of
raising, so that one bad file never stops the others. The worker never writes to the lake.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.errors import OdseError
from odse.pipeline.planning import Task

WHOLE_BYTES = 64 << 20
"""Inputs up to this size [bytes] are read into memory once, for the hash and the transform."""
LINEAGE_FILE = "source_file"
LINEAGE_RUN = "ingest_run"


@dataclass
class Outcome:
    """What ingesting one file gave."""

    task: Task
    table: pa.Table | None = None
    rows_read: int = 0
    records: int = 0
    rows_rejected: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    invalid: int = 0
    invalid_codes: dict[str, int] = field(default_factory=dict)
    reject_rows: pa.Table | None = None
    quarantined: pa.Table | None = None
    sha256: str = ""
    first: str | None = None
    last: str | None = None
    seconds: float = 0.0
    error: dict[str, Any] | None = None
    exit_code: int = 0


@dataclass
class Chunk:
    """The outcomes of a few files ingested together, and their records as one table."""

    outcomes: list[Outcome]
    table: pa.Table | None


def ingest_chunk(tasks: list[Task], keep_rejects: bool = False) -> Chunk:
    """Ingest a few files (one task per call would cost more in messages than the files);
    their records travel as one table, in the tasks' order."""
    outcomes = [ingest(task, keep_rejects) for task in tasks]
    tables = [o.table for o in outcomes if o.table is not None and o.table.num_rows]
    for outcome in outcomes:
        outcome.table = None
    if not tables:
        return Chunk(outcomes, None)
    table = tables[0] if len(tables) == 1 else pa.concat_tables(tables,
                                                                 promote_options="default")
    return Chunk(outcomes, table.combine_chunks())


_MAPPINGS: dict[str, Any] = {}


def _mapping_for(task: Task) -> Any:
    """The compiled mapping of a task, compiled once per process."""
    key = repr((task.source, task.mapping))
    found = _MAPPINGS.get(key)
    if found is None:
        from odse.api import resolve

        found = _MAPPINGS[key] = resolve(task.source, task.mapping)
    return found


def ingest(task: Task, keep_rejects: bool = False) -> Outcome:
    """Ingest one file (see the module docstring); ``keep_rejects`` returns the reject rows."""
    from odse.api import transform_batches

    started = time.perf_counter()
    out = Outcome(task)
    try:
        mapping = _mapping_for(task)
        data, out.sha256 = _read(task)
        stream = transform_batches(data, asset_id=task.asset_id,
                                   timezone=task.timezone, mapping=mapping,
                                   lineage=task.lineage, **task.params)
        stream.report.finished = True  # the run reports per file: no log line for each
        table = stream.read_all()
    except OdseError as exc:
        out.error = exc.to_dict()
        out.error.setdefault("file", task.uri)
        out.exit_code = exc.exit_code
        out.seconds = time.perf_counter() - started
        return out
    report = stream.report
    out.rows_read = report.rows_read
    out.rows_rejected = report.rows_rejected
    out.rejects = report.reasons()
    if keep_rejects and report.reject_count:
        out.reject_rows = _tag(report.rejects_table, task)
    if task.level != "none" and table.num_rows:
        table = _validate(table, task, out)
    if task.enrich:
        from odse.enrichment import enrich

        table = enrich(table, task.enrich)
    if task.lineage:
        table = _tag(table, task)
    out.records = table.num_rows
    if table.num_rows:
        stamps = table.column("timestamp")
        bounds = pc.min_max(stamps).as_py()
        out.first = bounds["min"].isoformat() if bounds["min"] else None
        out.last = bounds["max"].isoformat() if bounds["max"] else None
    out.table = table
    out.seconds = time.perf_counter() - started
    return out


def record_columns(task: Task) -> pa.Schema | None:
    """The columns of the records of a task's file, as far as the transform knows them
    before it turns any row into a record (from a CSV's header, a JSON document's shape);
    None when it cannot say. Lineage columns included, enrichment and verdicts not."""
    from odse.api import transform_batches

    try:
        stream = transform_batches(task.uri, asset_id=task.asset_id, timezone=task.timezone,
                                   mapping=_mapping_for(task), lineage=task.lineage,
                                   **task.params)
    except Exception:  # a hint only: the file's own ingest reports what is wrong with it
        return None
    schema = stream.schema
    if task.lineage:
        schema = pa.schema([*schema, (LINEAGE_FILE, pa.string()), (LINEAGE_RUN, pa.string())])
    return schema


def _read(task: Task) -> tuple[Any, str]:
    """The input for the transform, and the content hash (computed here, from the bytes the
    transform reads, when planning did not need it). Files up to ``WHOLE_BYTES`` are read
    once into memory; larger local files are hashed in a pass of their own and then
    streamed from disk."""
    from odse.readers.inputs import InputData

    if task.sha256 and "://" not in task.uri:
        return task.uri, task.sha256
    if "://" in task.uri or task.size <= WHOLE_BYTES:
        try:
            if "://" in task.uri:
                from odse.pipeline.discovery import open_bytes

                raw = open_bytes(task.uri)
            else:
                with open(task.uri, "rb") as fh:
                    raw = fh.read()
        except OSError as exc:
            from odse.errors import InputError

            raise InputError(f"cannot read {task.uri}: {exc.strerror or exc}",
                             code="INPUT_UNREADABLE", file=task.uri) from None
        digest = task.sha256 or hashlib.sha256(raw).hexdigest()
        return InputData(task.uri, content=raw, gzip=raw[:2] == b"\x1f\x8b"), digest
    from odse.pipeline.planning import file_sha256

    return task.uri, file_sha256(task.uri)


def _validate(table: pa.Table, task: Task, out: Outcome) -> pa.Table:
    from odse.validation import validate_batch

    options = dict(task.validate_options)
    profile = options.pop("profile", None)
    result = validate_batch(table, task.level, profile, **options)
    out.invalid = result.invalid
    codes: dict[str, int] = {}
    for _index, error in result.errors:
        codes[error.code] = codes.get(error.code, 0) + 1
    out.invalid_codes = codes
    if not result.invalid or task.invalid == "keep":
        return table
    mask = result.valid_mask
    if task.invalid == "quarantine":
        bad = table.filter(pc.invert(mask))
        reasons: dict[int, list[str]] = {}
        for index, error in result.errors:
            reasons.setdefault(index, []).append(error.code)
        bad_index = pc.indices_nonzero(pc.invert(mask)).to_pylist()
        bad = bad.append_column("validation_errors", pa.array(
            [",".join(sorted(set(reasons.get(i, [])))) for i in bad_index], pa.string()))
        out.quarantined = _tag(bad, task)
    return table.filter(mask)


def _tag(table: pa.Table, task: Task) -> pa.Table:
    """Add the lineage columns naming the file and the run."""
    n = table.num_rows
    for name, value in ((LINEAGE_FILE, task.uri), (LINEAGE_RUN, task.run_id)):
        if name in table.column_names:
            continue
        table = table.append_column(name, pa.repeat(pa.scalar(value, pa.string()), n))
    return table
