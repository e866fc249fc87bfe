"""``odse report``: one self-contained HTML data-quality report from records or an export.

The records come from a lake, records files or folders (as ``odse validate`` reads them), or
from transforming an OEM export (``-s SOURCE``), in which case the transform's rejects are in
the report too. The HTML goes to ``-o FILE`` (written atomically); a JSON summary of what was
found goes to stdout.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from odse.cli import console, errors
from odse.cli.app import CONTEXT_SETTINGS

EPILOG = """\b
Examples:
  odse report examples/out/lake/energy -o quality.html
  odse report -i alpha.jsonl --latitude -26.2 --longitude 28.05 -o alpha.html
  odse report -s huawei -i export.csv --timezone Africa/Johannesburg -o export.html

\b
The page has no scripts and loads nothing: it opens offline in any browser.
Needs the odse[report] extra (matplotlib). Exit 0 when written, whatever the
data's quality; 2 for bad usage, 3 when an input cannot be read or the file
cannot be written."""


@click.command("report", context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("-i", "--input", "inputs", multiple=True, metavar="PATH",
              help="A lake, records file or folder (as for validate); with -s, an OEM export. "
                   "Repeatable.")
@click.option("-o", "--output", required=True, metavar="FILE",
              help="Where to write the HTML report.")
@click.option("-s", "--source", metavar="NAME",
              help="Transform the inputs with this source first (the rejects are reported).")
@click.option("--timezone", metavar="ZONE", help="With -s: the zone of naive timestamps.")
@click.option("--asset-id", metavar="ID", help="With -s: the asset id of the records.")
@click.option("--capacity-kw", type=click.FloatRange(min=0, min_open=True), metavar="KW",
              help="Rated capacity for EXCEEDS_PHYSICAL_MAXIMUM [kW].")
@click.option("--latitude", type=click.FloatRange(-90, 90), metavar="DEG",
              help="Site latitude, for the night-time and time-zone checks [deg].")
@click.option("--longitude", type=click.FloatRange(-180, 180), metavar="DEG",
              help="Site longitude, with --latitude [deg, east positive].")
@click.option("--run-report", type=click.Path(dir_okay=False), metavar="FILE",
              help="A JSON run report (transform/validate --report) to show under provenance.")
@click.option("--title", metavar="TEXT", help="Heading of the page.")
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
def report_command(paths: tuple[str, ...], inputs: tuple[str, ...], output: str,
                   source: str | None, timezone: str | None, asset_id: str | None,
                   capacity_kw: float | None, latitude: float | None,
                   longitude: float | None, run_report: str | None, title: str | None,
                   quiet: bool) -> None:
    """Write a self-contained HTML data-quality report.

    Per asset: a calendar of daily energy, coverage per day and error_type per
    day; then rejected rows by code and column, validation and fleet-check
    findings by code, and the provenance of the run.
    """
    targets = [*inputs, *paths]
    if not targets:
        errors.fail("no input: give a lake, records files or folders (or -s SOURCE with an "
                    "export) with -i PATH or as arguments")
    if "-" in targets:
        errors.fail("odse report reads files, not stdin: write the records to a file first")
    if (latitude is None) != (longitude is None):
        errors.fail("--latitude and --longitude go together; give both or neither")
    if source is None and (timezone or asset_id):
        errors.fail("--timezone and --asset-id apply to a transform: give -s SOURCE")
    from odse.html_report import build_report
    from odse.html_report.charts import require_matplotlib

    require_matplotlib()  # before reading anything: the missing extra is named at once
    extra = _json_file(run_report) if run_report is not None else None  # before the slow part
    started = time.perf_counter()
    data = _read(targets, source, timezone, asset_id)
    data.title = title or f"odse data-quality report: {', '.join(targets)}"
    data.options = {k: v for k, v in (("capacity_kw", capacity_kw), ("latitude", latitude),
                                      ("longitude", longitude)) if v is not None}
    data.run_report = extra
    page, summary = build_report(data)
    _write_atomically(Path(output), page)
    summary.update({"output": output, "bytes": len(page.encode("utf-8")),
                    "total_seconds": round(time.perf_counter() - started, 3)})
    click.echo(json.dumps(summary, indent=2))
    if not quiet:
        console.note(f"{output}: {summary['bytes'] / 1e6:.2f} MB, {summary['records']:,} "
                     f"records of {summary['assets']} asset"
                     f"{'' if summary['assets'] == 1 else 's'}: {summary['summary']}")


def _read(targets: list[str], source: str | None, timezone: str | None,
          asset_id: str | None) -> Any:
    import pyarrow as pa

    from odse.html_report import ReportInput

    if source is not None:
        from odse import transform_batches

        tables, rejects, counts = [], [], None
        for target in targets:
            stream = transform_batches(target, source=source, timezone=timezone,
                                       asset_id=asset_id)
            tables.append(stream.read_all())
            rejects.append(stream.report.rejects_table)
            counts = stream.report.to_dict(max_rejects=0)
        table = pa.concat_tables(tables, promote_options="permissive")
        return ReportInput(table, inputs=[f"{t} (source {source})" for t in targets],
                           rejects=pa.concat_tables(rejects), transform=counts)

    from odse.arrow_input import conform_schema, record_batches
    from odse.cli import record_files

    tables = []
    lakes = [t for t in targets if _is_lake(Path(t))]
    for lake in lakes:
        table = _read_lake(Path(lake))
        if table.schema.remove_metadata() == conform_schema(table.schema):
            tables.extend(table.replace_schema_metadata(None).to_batches())  # one chunk
        else:
            tables.extend(record_batches(table).batches)
    rest = [t for t in targets if t not in lakes]
    for file in record_files.expand(rest, None) if rest else ():
        for piece in record_files.read(file):
            data = piece.records if piece.records is not None else piece.table
            tables.extend(record_batches(data).batches)
    if not tables:
        errors.fail(f"no records found in {', '.join(targets)}", code=errors.IO_FAILURE)
    table = pa.Table.from_batches(tables) if _same_schema(tables) else pa.concat_tables(
        [pa.Table.from_batches([b]) for b in tables], promote_options="permissive")
    return ReportInput(table, inputs=list(targets))


def _is_lake(path: Path) -> bool:
    """True for a folder in the Hive layout (``asset_id=.../year=...``) holding Parquet only."""
    if not path.is_dir():
        return False
    children = [c for c in path.iterdir() if not c.name.startswith((".", "_"))]
    return bool(children) and all(c.is_dir() and "=" in c.name for c in children)


LAKE_READERS = 2
"""Threads reading a lake's files (reading and decoding release the GIL)."""
_FILES_PER_TASK = 256


def _read_lake(path: Path) -> Any:
    """Read a Hive-partitioned Parquet lake: every file, in path order, as one table.

    As ``odse validate`` reads it: the time keys (``year``, ``month``, ``day``, ``hour``) come
    from the timestamp and are dropped; any other key (``asset_id``) is a record field, put
    back as text from the folder names. A lake holds thousands of small day files, so each
    is read whole with no read-ahead (a dataset scan spends more on scheduling each file than
    on its data), a few hundred files to a task on ``LAKE_READERS`` threads, and each key
    column is built once for the whole table, as runs of the folder values.
    """
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.compute as pc

    from odse.cli.record_files import DERIVED_PARTITIONS

    files = sorted(_lake_files(path))
    if not files:
        errors.fail(f"cannot read the lake {path}: no files in it", code=errors.IO_FAILURE)
    tasks = [files[i:i + _FILES_PER_TASK] for i in range(0, len(files), _FILES_PER_TASK)]
    try:
        with ThreadPoolExecutor(LAKE_READERS, thread_name_prefix="odse-lake") as pool:
            tables = [t for chunk in pool.map(_read_files, tasks) for t in chunk]
    except _LakeFileError as exc:
        errors.fail(f"cannot read the lake {path}: {exc}", code=errors.IO_FAILURE)
    folders = _folder_values(path, files)
    keys = list(dict.fromkeys(k for values in folders for k in values))
    stored = {k for k in keys for t in tables if k in t.column_names}
    for key in stored:  # stored in some files, in the folder names of others: per file
        for i, table in enumerate(tables):
            if key not in table.column_names:
                tables[i] = table.append_column(key, pa.repeat(
                    pa.scalar(folders[i].get(key), pa.string()), table.num_rows))
    try:
        table = pa.concat_tables(tables, promote_options="permissive").combine_chunks()
    except (pa.ArrowException, OSError) as exc:
        errors.fail(f"cannot read the lake {path}: {exc}", code=errors.IO_FAILURE)
    ends = pc.cumulative_sum(pa.array([t.num_rows for t in tables], pa.int64()))
    for key in (k for k in keys if k not in stored):
        values = pa.array([folder.get(key) for folder in folders], pa.string())
        table = table.append_column(key, pc.run_end_decode(
            pa.RunEndEncodedArray.from_arrays(ends, values)))
    keep = [name for name in table.column_names if name not in DERIVED_PARTITIONS]
    table = table.select(keep)
    for name in keep:
        column = table.column(name)
        if name == "asset_id" and not pa.types.is_string(column.type):
            table = table.set_column(table.schema.get_field_index(name), name,
                                     column.cast(pa.string()))
    return table


class _LakeFileError(Exception):
    pass


def _read_files(files: list[str]) -> list[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out: list[Any] = []
    for file in files:
        try:
            with pa.OSFile(file) as source:  # a day file is a few kB: one read, then memory
                data = pa.BufferReader(source.read_buffer())
            out.append(pq.ParquetFile(data, pre_buffer=False).read(use_threads=False))
        except (OSError, pa.ArrowException) as exc:
            raise _LakeFileError(f"{file}: {exc}") from None
    return out


def _lake_files(root: Path) -> list[str]:
    """Every file below the lake's root, but hidden and underscore names (temporaries,
    markers such as ``_SUCCESS``, odse's staging), as every lake reader skips them."""
    out: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        out.extend(os.path.join(folder, n) for n in names if not n.startswith((".", "_")))
    return out


def _folder_values(root: Path, files: list[str]) -> list[dict[str, str | None]]:
    """Per file, the record fields in its partition folder names (the time keys left out)."""
    from urllib.parse import unquote

    from odse.cli.record_files import DERIVED_PARTITIONS, NULL_PARTITION

    prefix = os.path.join(str(root), "")
    seen: dict[str, dict[str, str | None]] = {}
    out = []
    for file in files:
        folder = os.path.dirname(file)[len(prefix):]
        values = seen.get(folder)
        if values is None:
            values = {}
            for part in folder.split(os.sep):
                key, mark, value = part.partition("=")
                key = unquote(key)
                if mark and key not in DERIVED_PARTITIONS and key not in values:
                    values[key] = None if value == NULL_PARTITION else unquote(value)
            seen[folder] = values
        out.append(values)
    return out


def _same_schema(batches: list[Any]) -> bool:
    return all(b.schema == batches[0].schema for b in batches)


def _json_file(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.fail(f"run report not found: {path}", code=errors.IO_FAILURE)
    except (OSError, ValueError) as exc:
        errors.fail(f"cannot read the run report {path}: {exc}", code=errors.IO_FAILURE)
    return None


def _write_atomically(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        errors.fail(f"cannot write {path}: {exc.strerror or exc}. Check the path and the "
                    "permissions", code=errors.IO_FAILURE)
