"""Run a pipeline: plan, ingest the files in parallel, write the lake and the log in one commit.

The workers transform, validate and enrich files; this process is the lake's only writer
(one ``to_parquet`` call per run, so every partition has exactly one writer and workers
never race). Results reach the writer in plan order, so the output of a run never depends
on which worker finished first. The run's ingest-log file is committed by that write, after
all of its partitions.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odse.pipeline import executors
from odse.pipeline.discovery import discover
from odse.pipeline.ingest_log import IngestLog, encode, log_name, read_log
from odse.pipeline.planning import Plan, plan
from odse.pipeline.spec import PipelineSpec, load_pipeline

if TYPE_CHECKING:
    from odse.pipeline.worker import Outcome

CHUNK_FILES = 16
"""Files per message to a worker, at most (fewer when there are few files per worker)."""

Progress = Callable[[dict[str, Any]], None]


@dataclass
class SiteSummary:
    """Counts for one site over a run."""

    asset_id: str | None
    ingested: int = 0
    skipped: int = 0
    failed: int = 0
    rows_read: int = 0
    records: int = 0
    rows_rejected: int = 0
    invalid: int = 0

    def line(self) -> str:
        """One line for the summary table."""
        name = self.asset_id if self.asset_id is not None else "(no site)"
        text = (f"{name}: {self.ingested} ingested, {self.skipped} skipped")
        if self.failed:
            text += f", {self.failed} FAILED"
        if self.ingested:
            text += (f"; {self.rows_read} rows read, {self.records} records, "
                     f"{self.rows_rejected} rows rejected")
            if self.invalid:
                text += f", {self.invalid} invalid"
        return text


@dataclass
class RunResult:
    """What a run did: the plan, each ingested file's outcome, the write and the exit code."""

    run_id: str
    spec: PipelineSpec
    plan: Plan
    outcomes: list[Outcome] = field(default_factory=list)
    write: Any = None
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def failed(self) -> list[Outcome]:
        """Files that could not be ingested (not in the log: the next run tries again)."""
        return [o for o in self.outcomes if o.error is not None]

    @property
    def exit_code(self) -> int:
        """0 all ingested; 1 invalid records kept or a file failed on its data; 3 a file
        could not be read (the larger wins)."""
        codes = [o.exit_code for o in self.failed]
        if self.spec.validation.invalid == "keep" and any(o.invalid for o in self.outcomes):
            codes.append(1)
        return max(codes, default=0)

    def sites(self) -> list[SiteSummary]:
        """Per-site counts, sorted by asset id."""
        out: dict[str | None, SiteSummary] = {}
        done = {o.task.uri: o for o in self.outcomes}
        for item in self.plan.files:
            site = out.setdefault(item.asset_id, SiteSummary(item.asset_id))
            outcome = done.get(item.uri)
            if item.action == "skip":
                site.skipped += 1
            elif outcome is None:
                continue
            elif outcome.error is not None:
                site.failed += 1
            else:
                site.ingested += 1
                site.rows_read += outcome.rows_read
                site.records += outcome.records
                site.rows_rejected += outcome.rows_rejected
                site.invalid += outcome.invalid
        return sorted(out.values(), key=lambda s: (s.asset_id is None, s.asset_id or ""))

    def summary(self) -> str:
        """One line for the whole run."""
        ingested = [o for o in self.outcomes if o.error is None]
        verb = "would ingest" if self.dry_run else "ingested"
        count = len(self.plan.tasks) if self.dry_run else len(ingested)
        text = (f"run {self.run_id}: {verb} {count} of {len(self.plan.files)} files, "
                f"skipped {len(self.plan.skipped)}")
        if self.failed:
            text += f", {len(self.failed)} failed"
        if not self.dry_run:
            records = sum(o.records for o in ingested)
            text += (f"; {sum(o.rows_read for o in ingested)} rows read, {records} records "
                     f"written, {sum(o.rows_rejected for o in ingested)} rows rejected")
            invalid = sum(o.invalid for o in ingested)
            if invalid:
                text += f", {invalid} invalid ({self.spec.validation.invalid})"
            text += f" in {self.seconds:.2f} s"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The run as plain data (for ``--json``)."""
        done = {o.task.uri: o for o in self.outcomes}
        files = []
        for item in self.plan.files:
            entry: dict[str, Any] = {"uri": item.uri, "asset_id": item.asset_id,
                                     "action": item.action, "reason": item.reason}
            outcome = done.get(item.uri)
            if outcome is not None:
                entry.update(rows_read=outcome.rows_read, records=outcome.records,
                             rows_rejected=outcome.rows_rejected, rejects=outcome.rejects,
                             invalid=outcome.invalid, error=outcome.error)
            files.append(entry)
        return {"run_id": self.run_id, "dry_run": self.dry_run, "exit_code": self.exit_code,
                "summary": self.summary(), "seconds": round(self.seconds, 3),
                "sites": [vars(s) for s in self.sites()], "files": files}


def run_pipeline(spec: Any, *, jobs: int | None = None, dry_run: bool = False,
                 rehash: bool = False, progress: Progress | None = None,
                 executor: executors.Executor | None = None) -> RunResult:
    """Run a pipeline spec: ingest every new or changed file into the lake, once.

    Args:
        spec: a pipeline spec: a path to its YAML file, YAML text, a dict, or a loaded
            :class:`~odse.pipeline.spec.PipelineSpec`.
        jobs: worker processes (default: the CPUs this process may use); with 1, or fewer
            than 32 files to ingest, the files are ingested in this process.
        dry_run: plan only: find the files and say what would be ingested and why.
        rehash: hash every file's content, also when its size and modification time are
            those of its log entry (by default such a file is taken as unchanged unread).
        progress: called with ``{"files_done", "files_total", "rows", "file"}`` after each
            file.
        executor: where the per-file work runs (overrides ``jobs``): any object with
            ``imap(function, items)`` yielding results in order.

    Returns:
        A RunResult: ``summary()``, ``sites()``, ``outcomes``, ``exit_code``.

    Raises:
        PipelineError: the spec is malformed, or names an unknown source or parameter.
        OutputError: the lake or its log cannot be read or written.
    """
    started = time.perf_counter()

    def first_check() -> None:
        # a spec this lake has not seen pass: a first run or an edited spec, which ingests
        # (nearly) everything; the fork server imports the engine while the spec is checked
        if executor is None and not dry_run and (jobs or executors.default_jobs()) > 1:
            executors.prestart()

    spec = load_pipeline(spec, on_check=first_check)
    run_id = new_run_id()
    found = discover(spec)
    log = read_log(spec.output.path)
    warm = _warm_executor(found, log, jobs) if executor is None and not dry_run else None
    try:
        planned = plan(spec, found, rehash=rehash, log=log)
    except BaseException:
        if warm is not None:
            warm.close()
        raise
    result = RunResult(run_id, spec, planned, dry_run=dry_run)
    tasks = planned.tasks
    if warm is not None and len(tasks) < executors.POOL_MIN_FILES:
        warm.close()  # started for nothing: the plan has few files
        warm = None
    if dry_run or not tasks:
        result.seconds = time.perf_counter() - started
        return result
    for task in tasks:
        task.run_id = run_id
    executor = executor or warm or executors.for_jobs(jobs, len(tasks))
    from odse.pipeline.worker import ingest_chunk

    keep_rejects = spec.output.rejects is not None
    work = functools.partial(ingest_chunk, keep_rejects=keep_rejects)
    outcomes = result.outcomes
    stats = {"files_done": 0, "files_total": len(tasks), "rows": 0}

    def batches() -> Iterator[Any]:
        workers = jobs or getattr(executor, "jobs", None)  # a pool's processes, a cluster's cores
        for chunk in executor.imap(work, _chunks(tasks, workers)):
            for outcome in chunk.outcomes:
                outcomes.append(outcome)
                stats["files_done"] += 1
                stats["rows"] += outcome.rows_read
            if progress is not None:
                progress({**stats, "file": chunk.outcomes[-1].task.rel})
            if chunk.table is not None:
                yield from chunk.table.to_batches()

    logged = []

    def log_files() -> dict[str, bytes]:
        # called by the writer once every file is read, before anything is committed
        logged.append(True)
        if keep_rejects:
            _write_rejects(spec.output.rejects or "", run_id, outcomes)
        entries = [_entry(o, run_id) for o in outcomes if o.error is None]
        if not entries:
            return {}
        return {**spec.checked_marker, log_name(run_id): encode(entries)}

    from odse.writers import to_parquet

    result.write = to_parquet(batches(), spec.output.path, list(spec.output.partition_by),
                              spec.output.mode, extra_files=log_files,
                              expected_columns=_expected_columns(tasks))
    if not logged:
        # no records at all (every file empty, rejected or quarantined): the writer changed
        # nothing, and the log alone says these files are done
        _write_alone(spec.output.path, log_files())
    result.seconds = time.perf_counter() - started
    return result


def _expected_columns(tasks: list[Any]) -> Any:
    """The record columns of the first file of each reader, when a run has many files and
    several readers.

    Readers' records differ in columns (one source has ``error_code``, another ``kVAr``);
    the lake writer writes a partition as soon as it is complete, with the columns seen so
    far, and writes it again at the end if a later file brings a column. Told the columns
    of one file per reader (from its header or shape: no row is read here), it writes each
    partition once. A hint only: the lake is the same without it.
    """
    from odse.pipeline.worker import record_columns

    if len(tasks) < executors.POOL_MIN_FILES:
        return None
    first: dict[tuple[Any, ...], Any] = {}
    for task in tasks:
        first.setdefault((task.source, task.mapping_sha256), task)
    if len(first) < 2:
        return None
    import pyarrow as pa

    from odse.arrow_input import union_fields

    found = [record_columns(task) for task in first.values()]
    fields = union_fields(schema for schema in found if schema is not None)
    return pa.schema(list(fields.values())) if fields else None


def _warm_executor(found: list[Any], log: IngestLog, jobs: int | None
                   ) -> executors.ProcessPool | None:
    """Start the worker processes while the plan is made, when many files look new (not in
    the log, or with another size or modification time): they import the engine meanwhile."""
    if (jobs or executors.default_jobs()) <= 1:
        return None
    latest = log.latest()
    likely = 0
    for item in found:
        entry = latest.get(item.uri)
        if item.skip is None and (entry is None or (entry.get("size"), entry.get("mtime_ns"))
                                  != (item.size, item.mtime_ns)):
            likely += 1
    if likely < executors.POOL_MIN_FILES:
        return None
    pool = executors.ProcessPool(jobs or executors.default_jobs())
    pool.start()
    return pool


def new_run_id() -> str:
    """A unique run id; ids sort by start time (``20260109T020000123456-1a2b3c``)."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    # os.urandom, as secrets.token_hex does, without importing secrets (and random) for it
    return f"{stamp}{int(now % 1 * 1e6):06d}-{os.urandom(3).hex()}"


def _chunks(tasks: list[Any], jobs: int | None) -> list[list[Any]]:
    """Tasks in runs of consecutive files (a site's days), small enough to keep every
    worker busy to the end."""
    workers = jobs or executors.default_jobs()
    size = max(1, min(CHUNK_FILES, len(tasks) // (4 * workers)))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def _entry(outcome: Outcome, run_id: str) -> dict[str, Any]:
    from odse import __version__

    task = outcome.task
    return {
        "uri": task.uri, "size": task.size, "mtime_ns": task.mtime_ns,
        "sha256": outcome.sha256 or task.sha256,
        "asset_id": task.asset_id,
        "source": task.source, "mapping": task.mapping_name,
        "mapping_sha256": task.mapping_sha256, "settings_sha256": task.settings_sha256,
        "odse_version": __version__, "run_id": run_id, "reason": task.reason,
        "rows_read": outcome.rows_read, "records_written": outcome.records,
        "rows_rejected": outcome.rows_rejected, "rejects": outcome.rejects,
        "invalid": outcome.invalid, "invalid_codes": outcome.invalid_codes,
        "first": outcome.first, "last": outcome.last,
        "ingested_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(outcome.seconds, 4),
    }


def _write_alone(root: str, files: dict[str, bytes]) -> None:
    from odse.writers.targets import atomic_file, resolve

    for rel, data in files.items():
        with atomic_file(resolve(f"{root.rstrip('/')}/{rel}")) as sink:
            sink.write(data)


def _write_rejects(folder: str, run_id: str, outcomes: list[Outcome]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from odse.writers.targets import atomic_file, resolve

    for suffix, tables in (("rows", [o.reject_rows for o in outcomes]),
                           ("records", [o.quarantined for o in outcomes])):
        present = [t for t in tables if t is not None and t.num_rows]
        if not present:
            continue
        table = pa.concat_tables(present, promote_options="default")
        location = resolve(f"{folder.rstrip('/')}/{run_id}-{suffix}.parquet")
        with atomic_file(location) as sink:
            pq.write_table(table, sink)
