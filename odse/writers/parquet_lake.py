"""``to_parquet``: records into a Hive-partitioned Parquet lake, merged, overwritten or appended.

A write runs in phases, so that a failure before the last one changes nothing:

1. *ingest*: batches are split by partition (rows sorted so each partition's rows are
   adjacent, unless they already are) and buffered per partition; new partitions that the
   previous batch touched and the latest did not (for time-ordered input: finished days) are
   written to the staging tree by worker threads while the engine goes on; when the buffers
   pass ``BUFFER_BYTES``, the partitions the latest batch did not touch are written to
   staging files, which keeps memory bounded for inputs of any size;
2. *plan*: the final schema is fixed, and the touched partitions' existing files are listed
   and their footers read (their column types win);
3. *prepare*: each touched partition's new file is written completely to staging: the
   incoming rows (merge: upserted into the existing rows); and, when the write brings a
   column the lake lacks, every other file of the lake with that column added as nulls;
4. *commit*: the upgraded files, then each partition, then the side files (``extra_files``)
   are published with one atomic rename or folder swap each (:mod:`odse.writers.commit`).

One schema per lake: every file has the lake's full column set (read from one file's footer,
which carries the ``odse.lake_schema`` mark), so every engine reads the lake with no options.
Partitions the write does not touch are never read or changed, unless the write adds a
column (then they are rewritten once, with nulls), or the lake's files may differ (a lake
from before the mark, or a write killed while upgrading: every footer is then read).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from odse import progress
from odse.arrow_input import order_columns, record_batches
from odse.errors import OutputError, ParameterError
from odse.writers.commit import FIRST_FILE, Change, Staging, _checkpoint, new_write_id
from odse.writers.lake import Lake
from odse.writers.merge import key_columns, last_of_runs, merge, sort_and_keep_last
from odse.writers.partitions import Partitioning, group_rows, runs_of
from odse.writers.schema import BatchSchema
from odse.writers.summary import WriteSummary
from odse.writers.targets import resolve

MODES = ("merge", "overwrite", "append")
BUFFER_BYTES = 64 << 20
"""Arrow memory held in partition buffers before finished partitions are staged [bytes]."""
WORKERS = max(1, min(4, os.cpu_count() or 2))
"""Threads that encode partition files (Parquet encoding releases the GIL)."""
INLINE_ROWS = 50_000
"""Partitions holding fewer rows than this in all are prepared in the calling thread."""
INLINE_FOOTERS = 8
"""Footers read in the calling thread when a write touches at most this many files."""
COMPRESSION = "snappy"
"""Parquet compression: snappy is read by every engine the lake is meant for."""
LAKE_MARK = b"odse.lake_schema"
LAKE_MARK_VALUE = b"1"
"""Footer key of every file odse writes: the file has the lake's full column set."""


def to_parquet(records: Any, output_path: Any, partition_by: Any = None, mode: str = "merge",
               *, filesystem: pafs.FileSystem | None = None,
               extra_files: Mapping[str, bytes] | Callable[[], Mapping[str, bytes]] | None
               = None, expected_columns: pa.Schema | None = None) -> WriteSummary:
    """Write records to a Parquet lake folder, Hive-partitioned when ``partition_by`` is given.

    Layout: ``<root>/asset_id=SITE-ALPHA/year=2026/month=02/day=09/part-00000.parquet``, with
    ``year``, ``month``, ``day`` and ``hour`` taken from the UTC timestamp and zero-padded, and
    partition columns stored only in folder names (not inside the files). Without
    ``partition_by`` the lake is ``<root>/part-00000.parquet``. A record without a value for a
    partition column is refused before anything is written (``PARTITION_MISSING``).

    One schema per lake: every file has every column of the lake, ``timestamp`` as
    ``timestamp[us, tz=UTC]``, ``kWh`` float64, declared fields their declared types; a
    column keeps the type it has in the lake (a conflicting value is an error before anything
    is written), and a write that brings a new column gives it (as nulls) to the lake's other
    files in the same write.

    Modes, applied per touched partition (partitions the write does not touch stay as they
    are):

    * ``"merge"`` (default): upsert. An incoming row replaces an existing row with the same
      key (``timestamp``, and ``asset_id``, ``direction``, ``channel`` where present); all
      other rows are kept; of incoming rows with the same key the last wins. Re-running a
      write leaves the lake as it was; writing only new rows keeps the earlier ones.
    * ``"overwrite"``: the touched partitions hold exactly the incoming rows afterwards.
    * ``"append"``: the incoming rows are added as a new file beside the existing ones.

    Each partition changes atomically: a crash leaves it with its old rows or its new rows.
    No records: nothing is written and nothing is touched.

    records: a list or iterable of dicts, or Arrow data (table, batch, reader, batch iterator).
    output_path: the lake root folder: a local path or a URI such as ``file:///data/lake`` or
        ``s3://bucket/lake``.
    partition_by: partition columns in folder order, e.g. ``["asset_id", "year", "month",
        "day"]``: record columns (text, integer, boolean, date) or year, month, day, hour.
    mode: ``"merge"``, ``"overwrite"`` or ``"append"``.
    filesystem: a ``pyarrow.fs.FileSystem`` in which ``output_path`` lies (optional).
    extra_files: side files to commit with the data, ``{path relative to the root: bytes}``
        (an ingest log, a manifest): staged with the data and renamed into place after
        every partition, so a side file is there only once its data is. Not ``.parquet``
        names, not inside partition folders. Or a callable returning them, called once the
        records are all read (for side files that describe what was written).
    expected_columns: the columns the records are expected to bring, when a stream mixes
        sources whose records have different columns (a ``pyarrow.Schema``; a pipeline
        passes the columns of one file per reader). Only a hint for speed: partitions
        finished early in a long stream are written with these columns already, instead of
        once more at the end when a later record brings a new column. What the lake holds
        is the same with or without it; a wrong hint (a column no record brings, another
        type than the records') costs those rewrites again, nothing else.
    """
    mode = _check_mode(mode)
    partitioning = Partitioning(partition_by)
    extras = extra_files if callable(extra_files) else check_extra_files(extra_files)
    location = resolve(output_path, filesystem)
    source = record_batches(records)
    first = source.peek()
    if first is None:
        return WriteSummary(path=location.shown, format="parquet", rows_in=0, rows_written=0,
                            files_written=0, mode=mode)
    partitioning.check(first.schema)
    lake = Lake(location)
    lake.prepare()
    with lake.lock():
        staging = Staging(lake, new_write_id())
        write = _LakeWrite(lake, staging, partitioning, mode, extras, expected_columns)
        try:
            write.unsure = staging.recover()
            write.check_layout()
            for batch in source:
                write.add(batch)
            return write.finish()
        finally:
            progress.phase("cleaning up")  # the staging folder and what it still holds
            write.close()
            staging.close()


def check_extra_files(extra_files: Mapping[str, bytes] | None) -> dict[str, bytes]:
    """Validate ``extra_files``: paths relative to the lake root, each with its bytes."""
    if not extra_files:
        return {}
    if not isinstance(extra_files, Mapping):
        raise ParameterError("extra_files must map paths relative to the lake root to bytes",
                             hint='For example extra_files={"_ingest/log.json": b"..."}')
    checked = {}
    for rel, content in extra_files.items():
        segments = str(rel).replace("\\", "/").split("/")
        if not rel or any(seg in ("", ".", "..") for seg in segments):
            raise ParameterError(
                f"extra file path {rel!r} must be a plain path below the lake root",
                value=rel, hint='Use a relative path such as "_ingest/log.json"')
        if segments[-1].endswith(".parquet") or "=" in segments[0]:
            raise ParameterError(
                f"extra file {rel!r} would be read as lake data",
                value=rel, hint="Give side files a name that is not a partition folder and "
                                "does not end in .parquet")
        if not isinstance(content, (bytes, bytearray, memoryview)):
            raise ParameterError(f"extra file {rel!r} must be bytes; got "
                                 f"{type(content).__name__}", value=rel)
        checked["/".join(segments)] = bytes(content)
    return checked


def _without_metadata(schema: pa.Schema) -> pa.Schema:
    return schema.remove_metadata()


def _marked_as(stored: pa.Schema, wanted: pa.Schema) -> bool:
    """True when a file has the lake's columns and the mark that says so."""
    return ((stored.metadata or {}).get(LAKE_MARK) == LAKE_MARK_VALUE
            and _without_metadata(stored).equals(wanted))


def _check_mode(mode: Any) -> str:
    if mode not in MODES:
        raise ParameterError(
            f"unknown mode {mode!r}", value=mode,
            hint="Use mode='merge' (upsert, the default), 'overwrite' or 'append'",
        )
    return mode


@dataclass
class _Part:
    """One touched partition: its incoming rows, in memory and in staged chunks."""

    rel: str
    slices: list[pa.RecordBatch] = field(default_factory=list)
    serials: list[int] = field(default_factory=list)
    chunks: list[tuple[str, pa.Schema]] = field(default_factory=list)
    rows: int = 0
    last: int = -1
    existing: list[str] = field(default_factory=list)
    existing_rows: int = 0

    def sources(self) -> int:
        """Separately de-duplicated pieces: distinct input batches plus staged chunks."""
        return len(set(self.serials)) + len(self.chunks)


@dataclass
class _Prepared:
    change: Change
    rows: int
    duplicates: int
    replaced: int


class _LakeWrite:
    """The state of one ``to_parquet`` call between its phases."""

    def __init__(self, lake: Lake, staging: Staging, partitioning: Partitioning,
                 mode: str, extras: dict[str, bytes] | Callable[[], Any] | None = None,
                 expected: pa.Schema | None = None) -> None:
        self.lake = lake
        self.staging = staging
        self.partitioning = partitioning
        self.partition_by = partitioning.names
        self.mode = mode
        self.extras = extras or {}
        self.lake_schema: pa.Schema | None = None
        """The columns every file of the lake has (None for a lake without data)."""
        self.unsure = False
        """True when the lake's files may differ in columns (written before odse kept one
        schema per lake, or by a write killed while upgrading files): every footer is read."""
        self.schema = BatchSchema()
        self.parts: dict[str, _Part] = {}
        self.rels: dict[tuple[Any, ...], str] = {}
        self.held: dict[int, list[int]] = {}
        self.held_bytes = 0
        self.serial = 0
        self.rows_in = 0
        self.duplicates = 0
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="odse-parquet")
        # spills in flight: per spill, per worker task, its parts (each with the serials of
        # the batches its rows came from) and the future of the duplicates each part dropped
        self.in_flight: list[list[tuple[list[tuple[_Part, list[int]]], Future[list[int]]]]] = []
        self.folders: set[str] = {staging.dir}  # made by Staging
        self.previous: list[_Part] = []
        self.expected = expected
        """Columns the records are expected to bring (``expected_columns``): chunks staged
        before the records bring them have them already, so they need no rewrite."""

    def close(self) -> None:
        """Release the worker threads."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    # layout ---------------------------------------------------------------------------------

    def check_layout(self) -> None:
        """Refuse to mix layouts in one lake; take column types from an existing file."""
        keys, sample = self.lake.layout()
        wanted = list(self.partition_by)
        if keys is not None and (keys != wanted if sample else keys != wanted[:len(keys)]):
            shown = ", ".join(keys) if keys else "nothing (files at the root)"
            asked = ", ".join(wanted) if wanted else "nothing"
            raise OutputError(
                f"the lake is partitioned by {shown}, and this write asks for {asked}",
                code="LAYOUT_MISMATCH", file=self.lake.location.shown,
                hint=(f"Pass partition_by={keys!r} to write into this lake, or write to "
                      "another folder"),
            )
        if sample is not None:
            stored = self.lake.read_schema(sample)
            self.lake_schema = _without_metadata(stored)
            self._fix_types(stored)
            if (stored.metadata or {}).get(LAKE_MARK) != LAKE_MARK_VALUE:
                self.unsure = True

    def _fix_types(self, schema: pa.Schema) -> None:
        self.schema.fix({item.name: item.type for item in schema
                         if item.name not in self.partition_by})

    # ingest ---------------------------------------------------------------------------------

    def add(self, batch: pa.RecordBatch) -> None:
        """Split one batch by partition and buffer it; stage finished partitions if needed."""
        rows = batch.num_rows
        if not rows:
            return
        keys = self.partitioning.keys(batch, self.rows_in)
        self.rows_in += rows
        self.schema.observe(batch.schema)
        key_names = (key_columns(batch.schema.names, self.partition_by)
                     if self.mode == "merge" else [])
        order = [batch.column(name) for name in key_names]
        batch, columns, runs = group_rows(batch, keys, order)
        if key_names:
            strict = [False] * len(keys) + [name == "timestamp" for name in key_names]
            mask = last_of_runs(columns, strict)
            if mask is not None:
                kept = pc.sum(pc.cast(mask, pa.int64())).as_py()
                self.duplicates += batch.num_rows - kept
                batch = batch.filter(mask)
                runs = runs_of([column.filter(mask) for column in columns[:len(keys)]],
                               batch.num_rows)
        # the record's partition columns live in folder names only: drop them once here, so
        # that the buffered slices already have the files' columns
        batch = self.partitioning.strip(batch)
        serial = self.serial
        self.serial += 1
        size = batch.get_total_buffer_size()
        self.held[serial] = [size, 0]
        self.held_bytes += size
        touched = []
        for values, start, length in runs:
            rel = self.partitioning.folder(values)
            part = self.parts.get(rel)
            if part is None:
                part = self.parts[rel] = _Part(rel)
            part.slices.append(batch.slice(start, length))
            part.serials.append(serial)
            part.rows += length
            part.last = serial
            self.held[serial][1] += 1
            touched.append(part)
        self._reap()
        if self.held_bytes > BUFFER_BYTES:
            self._spill(serial)
        else:
            self._stage_finished(serial)
        self.previous = touched

    def _stage_finished(self, current: int) -> None:
        # New partitions that the previous batch touched and this one did not are most likely
        # complete (time-ordered input finishes its days one after another): their files are
        # written now, in the workers, while the engine makes the next batch. They go to
        # their final place in the staging tree, so this costs nothing if more rows come
        # after all (they become a second chunk). Partitions the lake has are left for the
        # end, where they are merged with their files once.
        finished = [part for part in self.previous if part.last != current and part.slices
                    and not part.chunks and self._new_branch(part) is not None]
        self._stage_chunks(finished)

    def _spill(self, current: int) -> None:
        # up to two spills in flight: their rows count as held until their files are written
        self._settle(keep=1)
        cold = [part for part in self.parts.values() if part.slices and part.last != current]
        self._stage_chunks(cold)
        if self.held_bytes > BUFFER_BYTES // 2:
            self._settle()
            self._stage_chunks([part for part in self.parts.values() if part.slices])

    def _stage_chunks(self, parts: list[_Part]) -> None:
        """Hand the parts' buffered slices to the workers as staged chunks (not waited for)."""
        if not parts:
            return
        schema = self._file_schema(provisional=True)
        jobs = []
        for part in parts:
            path = self._chunk_path(part)
            jobs.append((part, part.slices, part.serials, path))
            part.chunks.append((path, schema))
            part.slices, part.serials = [], []
        spill = []
        for group in _split(jobs, WORKERS):
            task = [(slices, serials, path) for _part, slices, serials, path in group]
            spill.append(([(part, serials) for part, _slices, serials, _path in group],
                          self.pool.submit(self._write_chunks, task, schema)))
        self.in_flight.append(spill)

    def _reap(self) -> None:
        """Settle the spills in flight that have finished (without waiting)."""
        done = 0
        while done < len(self.in_flight) and all(f.done() for _p, f in self.in_flight[done]):
            done += 1
        if done:
            self._settle(keep=len(self.in_flight) - done)

    def _settle(self, keep: int = 0) -> None:
        """Wait for all but the latest ``keep`` spills in flight; count their duplicates and
        release their rows."""
        done = self.in_flight[:len(self.in_flight) - keep] if keep else self.in_flight
        self.in_flight = self.in_flight[len(done):]
        for group, future in (task for spill in done for task in spill):
            for (part, serials), duplicates in zip(group, future.result(), strict=True):
                part.rows -= duplicates
                self.duplicates += duplicates
                self._release(serials)

    def _release(self, serials: list[int]) -> None:
        for serial in serials:
            holder = self.held[serial]
            holder[1] -= 1
            if holder[1] == 0:
                self.held_bytes -= holder[0]
                del self.held[serial]

    def _chunk_path(self, part: _Part) -> str:
        # A partition's first chunk goes where its final file would sit in the staging tree:
        # if the partition turns out to be new, and its chunk its whole content, committing
        # it costs nothing more than the rename of its branch.
        if self.staging.outside and not part.chunks:
            return self.staging.tree_path(part.rel, FIRST_FILE)
        return self.staging.new_path("c")

    def _make_folder(self, folder: str) -> None:
        # staging folders, each created once, by the workers (off the engine's thread; two
        # workers may race here, which both calls tolerate). A day's folder whose month
        # folder this write made is one mkdir: makedirs' walk up the path, in Python, held
        # the GIL the engine waits for (3,500 days: a third of a second)
        if folder in self.folders:
            return
        if os.path.dirname(folder) in self.folders:
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder)
            self.folders.add(folder)
            return
        os.makedirs(folder, exist_ok=True)
        while folder not in self.folders and len(folder) > len(self.staging.dir):
            self.folders.add(folder)
            folder = os.path.dirname(folder)

    def _write_chunks(self, jobs: list[tuple[list[pa.RecordBatch], list[int], str]],
                      schema: pa.Schema) -> list[int]:
        # runs in a worker thread: returns the duplicates each chunk dropped
        return [self._write_chunk(*job, schema) for job in jobs]

    def _write_chunk(self, slices: list[pa.RecordBatch], serials: list[int], path: str,
                     schema: pa.Schema) -> int:
        table = self._table(slices, schema)
        dropped = 0
        if self.mode == "merge" and len(set(serials)) > 1:
            table, mask = sort_and_keep_last(table, key_columns(schema.names, self.partition_by))
            if mask is not None:
                dropped = len(mask) - table.num_rows
        if self.staging.outside:  # a local staging folder; elsewhere, files need no folders
            self._make_folder(os.path.dirname(path))
        self._write_file(table, path)
        progress.advance("writing")
        return dropped

    # plan, prepare, commit ------------------------------------------------------------------

    def finish(self) -> WriteSummary:
        """Plan, prepare and commit every touched partition; return the summary."""
        progress.phase("writing", sum(len(group) for spill in self.in_flight
                                      for group, future in spill if not future.done()))
        self._settle()
        parts = sorted(self.parts.values(), key=lambda part: part.rel)
        for part in parts:
            part.existing = self.lake.data_files(part.rel)
        with_files = [part for part in parts if part.existing]
        seen: set[bytes] = set()
        footers_of = self._map(self._footers, with_files,
                               inline=len(with_files) <= INLINE_FOOTERS)
        for part, footers in zip(with_files, footers_of, strict=True):
            for path, rows, fingerprint in footers:
                part.existing_rows += rows
                if fingerprint is None or fingerprint not in seen:
                    self._fix_types(self.lake.read_schema(path))
                    if fingerprint is not None:
                        seen.add(fingerprint)
        others = self._other_files(parts)
        schema = self._file_schema()
        upgrades = self._upgrades(others, schema)
        branches = {part.rel: self._new_branch(part) for part in parts}
        step = "merging" if with_files and self.mode != "append" else "writing"
        progress.phase(step, len(parts))

        def prepare(part: _Part) -> _Prepared:
            item = self._prepare(part, schema, branches[part.rel])
            progress.advance(step)
            return item

        prepared = self._map(prepare, parts, inline=sum(
            part.rows + part.existing_rows for part in parts) < INLINE_ROWS)
        upgraded = self._map(lambda item: self._prepare_upgrade(item, schema), upgrades)
        if callable(self.extras):
            self.extras = check_extra_files(self.extras())
        extras = [self._prepare_extra(rel, content) for rel, content in self.extras.items()]
        _checkpoint("staged")
        branches_new = sorted({item.change.branch for item in prepared} - {None})
        progress.phase("committing", len(upgraded)
                       + sum(item.change.branch is None for item in prepared)
                       + len(branches_new))
        # Older files first: from the first commit on, every file already in the lake has the
        # columns the new files bring. A crash among them leaves a marker in the staging
        # folder, and the next write checks every file's footer and finishes the job.
        if upgraded:
            self.staging.mark_upgrade()
        for change in upgraded:
            self.staging.commit(change)
            progress.advance("committing")
        for item in prepared:
            if item.change.branch is None:
                self.staging.commit(item.change)
                progress.advance("committing")
        for branch in branches_new:
            self.staging.commit_branch(branch)
            progress.advance("committing")
        # side files last: present only once the data they describe is in the lake
        for change in extras:
            self.staging.commit(change)
        if self.unsure:
            self.staging.clear_markers()
        return WriteSummary(
            path=self.lake.location.shown, format="parquet", rows_in=self.rows_in,
            rows_written=sum(item.rows for item in prepared),
            files_written=len(prepared), partitions=tuple(part.rel for part in parts),
            mode=self.mode, duplicates_dropped=self.duplicates + sum(
                item.duplicates for item in prepared),
            rows_replaced=sum(item.replaced for item in prepared),
            files_upgraded=len(upgraded),
        )

    # one schema per lake ---------------------------------------------------------------------

    def _other_files(self, parts: list[_Part]) -> list[tuple[str, str]] | None:
        """Return the lake's files that this write does not replace, when they may need new
        columns: (partition, file name) pairs; None when every file already has them.

        Only listed when needed: the write brings a column (or a type for an all-null column)
        the lake lacks, or the lake's files may differ from each other (``unsure``).
        """
        if self.lake_schema is None:
            return None
        if not self.unsure and self._file_schema().equals(self.lake_schema):
            return None
        replaced = {part.rel for part in parts if self.mode != "append"}
        files = [(rel, name) for rel, name in self.lake.walk() if rel not in replaced]
        if self.unsure:
            # older lakes: the union of every file's columns, the first file's type winning
            for rel, name in files:
                self._fix_types(self.lake.read_schema(self.lake.path(rel, name)))
        return files

    def _upgrades(self, files: list[tuple[str, str]] | None,
                  schema: pa.Schema) -> list[tuple[str, str]]:
        if not files:
            return []
        if not self.unsure:
            return files
        # every file that differs, or lacks the mark (so that later writes can trust the
        # one footer they read: a lake from before the mark is rewritten once)
        wanted = _without_metadata(schema)
        return [(rel, name) for rel, name in files
                if not _marked_as(self.lake.read_schema(self.lake.path(rel, name)), wanted)]

    def _prepare_upgrade(self, item: tuple[str, str], schema: pa.Schema) -> Change:
        rel, name = item
        table = self.schema.conform(self.lake.read_table(self.lake.path(rel, name)), schema)
        staged = self.staging.new_path()
        self._write_file(table, staged)
        return Change(rel, staged, name, [name])

    def _prepare_extra(self, rel: str, content: bytes) -> Change:
        folder, _, name = rel.rpartition("/")
        staged = self.staging.new_path("x")
        with self._open(staged) as sink:
            sink.write(content)
        exists = self.lake.exists(rel)
        return Change(folder, staged, name, [name] if exists else [])

    def _map(self, function: Callable[[Any], Any], parts: list[Any],
             inline: bool = False) -> list[Any]:
        """``function`` over ``parts`` in the workers, one task per worker (a future per part
        costs the engine's thread more than a small partition's whole file). One part, or
        ``inline`` work (the caller's judgement: few rows, few footers), runs in this thread:
        handing it over (a thread started, a result waited for) costs more than it saves (a
        fleet's day files, written one call each)."""
        if inline or len(parts) <= 1:
            return [function(part) for part in parts]
        tasks = [self.pool.submit(lambda group: [function(part) for part in group], group)
                 for group in _split(parts, WORKERS)]
        return [result for task in tasks for result in task.result()]

    def _footers(self, part: _Part) -> list[tuple[str, int, bytes | None]]:
        # Runs in a worker thread: returns the row count and the stored Arrow schema's bytes
        # as a fingerprint. Touching FileMetaData.schema from another thread than the one
        # that read it keeps about 10 kB per file in pyarrow 26 (170 MB over 17,000
        # partitions), so schemas are read in the main thread, once per distinct one.
        footers = []
        for name in part.existing:
            path = self.lake.path(part.rel, name)
            metadata = self.lake.read_metadata(path)
            stored = metadata.metadata or {}
            footers.append((path, metadata.num_rows, stored.get(b"ARROW:schema")))
        return footers

    def _new_branch(self, part: _Part) -> str | None:
        """Return the top-most folder of a new partition's path that the lake lacks."""
        if not self.staging.outside or not part.rel:
            return None
        segments = part.rel.split("/")
        for depth in range(1, len(segments) + 1):
            prefix = "/".join(segments[:depth])
            if self.lake.listing(prefix) is None:
                return prefix
        return None

    def _prepare(self, part: _Part, schema: pa.Schema, branch: str | None = None) -> _Prepared:
        if branch is not None:
            return self._prepare_new(part, schema, branch)
        existing = part.existing
        if self.mode == "append":
            name = FIRST_FILE if not existing else f"part-{self.staging.write_id}.parquet"
            replace: list[str] = []
        else:
            name = existing[0] if len(existing) == 1 else FIRST_FILE
            replace = list(existing)
        change = Change(part.rel, "", name, replace)
        merging = self.mode == "merge"
        if not (merging and existing) and not (merging and part.sources() > 1):
            # the incoming rows are the new file as they are: reuse a staged chunk, or copy
            # the pieces into one file a batch at a time
            if len(part.chunks) == 1 and not part.slices and part.chunks[0][1].equals(schema):
                change.staged = part.chunks[0][0]
            else:
                change.staged = self.staging.new_path()
                self._stream_file(part, schema, change.staged)
            replaced = part.existing_rows if self.mode == "overwrite" else 0
            return _Prepared(change, part.rows, 0, replaced)
        keys = key_columns(schema.names, self.partition_by)
        incoming = self._table(self._pieces(part, schema), schema)
        old = None
        if existing:
            old = pa.concat_tables([
                self.schema.conform(self.lake.read_table(self.lake.path(part.rel, file)),
                                    schema)
                for file in existing])
        table, replaced, dropped = merge(old, incoming, keys,
                                         incoming_unique=part.sources() <= 1)
        change.staged = self.staging.new_path()
        self._write_file(table, change.staged)
        return _Prepared(change, incoming.num_rows - dropped, dropped, replaced)

    def _prepare_new(self, part: _Part, schema: pa.Schema, branch: str) -> _Prepared:
        # A new partition folder: its file goes to its final place in the staging tree. In
        # every mode the content is the incoming rows (merge: de-duplicated).
        target = self.staging.tree_path(part.rel, FIRST_FILE)
        change = Change(part.rel, target, FIRST_FILE, [], branch)
        reusable = (len(part.chunks) == 1 and not part.slices and part.chunks[0][0] == target
                    and part.chunks[0][1].equals(schema))
        if reusable:
            return _Prepared(change, part.rows, 0, 0)
        # write straight to the target, unless the target is a chunk still to be read
        occupied = any(path == target for path, _schema in part.chunks)
        destination = self.staging.new_path() if occupied else target
        if not occupied:
            self._make_folder(os.path.dirname(target))
        dropped = 0
        if self.mode == "merge" and part.sources() > 1:
            table = self._table(self._pieces(part, schema), schema)
            table, mask = sort_and_keep_last(table, key_columns(schema.names, self.partition_by))
            dropped = 0 if mask is None else len(mask) - table.num_rows
            self._write_file(table, destination)
        else:
            self._stream_file(part, schema, destination)
        if occupied:
            os.replace(destination, target)
        return _Prepared(change, part.rows - dropped, dropped, 0)

    # files ----------------------------------------------------------------------------------

    def _file_schema(self, provisional: bool = False) -> pa.Schema:
        # the lake's columns in the lake's order, then new columns in the record's order;
        # provisional (for chunks staged along the way): with the expected columns too
        schema = self.schema.schema()
        if provisional and self.expected is not None:
            more = [item for item in self.expected if item.name not in set(schema.names)]
            if more:
                fields = {item.name: item for item in [*schema, *more]}
                schema = pa.schema([fields[name] for name in order_columns(fields)])
        names = self.partitioning.file_columns(schema.names)
        if self.lake_schema is not None:
            known = [name for name in self.lake_schema.names if name in names]
            names = known + [name for name in names if name not in set(known)]
        return pa.schema([schema.field(name) for name in names],
                         metadata={LAKE_MARK: LAKE_MARK_VALUE})

    def _pieces(self, part: _Part, schema: pa.Schema) -> Iterable[pa.RecordBatch]:
        for path, _chunk_schema in part.chunks:
            parquet = pq.ParquetFile(path, filesystem=self.staging.filesystem)
            yield from parquet.iter_batches(batch_size=65_536, use_threads=False)
        yield from part.slices

    def _table(self, pieces: Iterable[pa.RecordBatch], schema: pa.Schema) -> pa.Table:
        batches = [self.schema.conform(piece, schema) for piece in pieces]
        return pa.Table.from_batches(batches, schema=schema)

    def _open(self, path: str) -> pa.NativeFile:
        # an opened stream spares pyarrow resolving the path's filesystem for every file
        filesystem = self.staging.filesystem
        return filesystem.open_output_stream(path) if filesystem else pa.OSFile(path, "wb")

    def _write_file(self, table: pa.Table, path: str) -> None:
        with self._open(path) as sink:
            pq.write_table(table, sink, compression=COMPRESSION,
                           use_dictionary=_dictionary_columns(table.schema))

    def _stream_file(self, part: _Part, schema: pa.Schema, path: str) -> None:
        with self._open(path) as sink, \
                pq.ParquetWriter(sink, schema, compression=COMPRESSION,
                                 use_dictionary=_dictionary_columns(schema)) as writer:
            for piece in self._pieces(part, schema):
                writer.write_batch(self.schema.conform(piece, schema))


def _split(items: list[Any], count: int) -> list[list[Any]]:
    """``items`` in at most ``count`` runs of (nearly) equal length, in order."""
    size, extra = divmod(len(items), count)
    runs, start = [], 0
    for i in range(count):
        end = start + size + (i < extra)
        if end > start:
            runs.append(items[start:end])
        start = end
    return runs


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary encoding: text (states, codes, ids repeat). Times and readings
    rarely repeat, and encoding them costs time and bytes in every file."""
    return [item.name for item in schema if pa.types.is_string(item.type)
            or pa.types.is_large_string(item.type)]
