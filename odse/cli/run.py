"""``odse run PIPELINE.yaml``: ingest a fleet's files into a lake, in parallel, once each."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import click

from odse.cli import console
from odse.cli.app import CONTEXT_SETTINGS

EPILOG = """\b
Examples:
  odse run pipeline.yaml                 # ingest what is new or changed
  odse run pipeline.yaml --dry-run       # list each file: ingest or skip, and why
  odse run pipeline.yaml -j 4 --json run.json
  odse run pipeline.yaml --engine spark --master 'local[2]'

\b
A file is ingested when the lake's ingest log (<lake>/_odse/ingest-log/) has no entry
for it, or its content, mapping or settings changed; otherwise it is skipped. The log
is committed with the data: a killed run is simply run again.
Exit codes: 0 every file ingested; 1 invalid records kept (invalid: keep) or a file
failed on its data; 2 bad pipeline spec, unknown source or parameter; 3 a file or the
lake could not be read or written (the other files are still ingested), or a Spark job
failed. A file that failed is not in the log, so the next run tries it again.

\b
--engine spark: the files to ingest are transformed, validated and enriched in Spark
tasks (needs odse[spark], and odse on the executors); finding, planning, the lake write
and the log stay in this process, as with the local engine (docs/spark.md)."""


@click.command("run", context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.argument("pipeline", metavar="PIPELINE.yaml")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Worker processes (default: the number of CPUs). With 1, or fewer than 32 "
                   "files to ingest, the files are ingested in this process.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
              show_default=True,
              help="Where files are ingested: worker processes here, or Spark tasks.")
@click.option("--master", metavar="URL",
              help="With --engine spark: the Spark master (local[2], yarn, spark://host:7077); "
                   "default: the Spark installation's configuration, else local[*].")
@click.option("--dry-run", is_flag=True,
              help="Find the files and print what would be ingested and why; change nothing.")
@click.option("--rehash", is_flag=True,
              help="Hash every file's content, also when its size and modification time "
                   "match the ingest log (by default those are taken as unchanged).")
@click.option("--json", "json_path", metavar="FILE",
              help="Write the run (every file, action, reason and counts) as JSON; - is stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line.")
def run_command(pipeline: str, jobs: int | None, engine: str, master: str | None,
                dry_run: bool, rehash: bool, json_path: str | None, quiet: bool) -> None:
    """Run a pipeline spec: find the files, skip those already ingested, transform,
    validate and enrich the rest in parallel, and write them to the lake with the log.

    PIPELINE.yaml says where the files are, how each finds its site and source, the
    validation and enrichment, and the lake (docs/pipeline.md).
    """
    from odse.pipeline import run_pipeline

    executor = _executor(engine, master, jobs)
    progress = _Progress() if not dry_run and console.want_progress(quiet) else None
    try:
        result = run_pipeline(pipeline, jobs=jobs, dry_run=dry_run, rehash=rehash,
                              progress=progress, executor=executor)
    finally:
        if progress is not None:
            progress.close()
        if executor is not None:
            executor.close()
    if dry_run:
        _print_plan(result)
    elif not quiet:
        for site in result.sites():
            console.note(site.line())
        for outcome in result.failed:
            error = outcome.error or {}
            console.warn(f"{outcome.task.rel}: {error.get('message')} "
                         f"[{error.get('code')}]" + (f". {error['hint']}"
                                                     if error.get("hint") else ""))
    console.note(result.summary())
    if json_path:
        text = json.dumps(result.to_dict(), indent=1) + "\n"
        if json_path == "-":
            sys.stdout.write(text)
        else:
            from odse.writers.targets import atomic_file, resolve

            with atomic_file(resolve(json_path)) as sink:
                sink.write(text.encode())
    code = result.exit_code
    if code:
        raise click.exceptions.Exit(code)


def _executor(engine: str, master: str | None, jobs: int | None) -> Any:
    """The Spark executor for ``--engine spark`` (its session starts only if a file is to be
    ingested), else None: the runner's own processes."""
    from odse.errors import ParameterError

    if engine != "spark":
        if master is not None:
            raise ParameterError("--master is for --engine spark", code="BAD_OPTION",
                                 hint="Add --engine spark, or drop --master")
        return None
    if jobs is not None:
        raise ParameterError("-j sets the local engine's worker processes; with --engine "
                             "spark the cluster's cores run the files", code="BAD_OPTION",
                             hint="Drop -j (size the cluster, or give --master 'local[N]')")
    from odse import without_pandas
    from odse.spark.executor import SparkExecutor

    without_pandas.allow()  # pyspark's mapInArrow needs pandas on the driver
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas",
                            FutureWarning)  # odse hands Spark Arrow, never pandas
    return SparkExecutor(master=master)


def _print_plan(result: Any) -> None:
    for item in result.plan.files:
        click.echo(f"{item.action:6}  {item.rel}  ({item.reason})")


class _Progress:
    """One line on stderr, rewritten after each file: files done, rows read."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, stats: dict[str, Any]) -> None:
        done, total = stats["files_done"], stats["files_total"]
        width = 24
        filled = width * done // max(total, 1)
        line = (f"\rodse: [{'#' * filled}{'-' * (width - filled)}] {done}/{total} files, "
                f"{stats['rows']:,} rows")
        sys.stderr.write(line)
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
