"""``odse transform``: one OEM export in, ODS-E records out (JSON Lines, CSV or a Parquet lake).

The records flow as Arrow record batches from the engine (``transform_batches``) straight into
a writer (``to_json``, ``to_csv``, ``to_parquet``); no per-row Python objects are built.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from odse.cli import console, errors, run_report
from odse.cli.app import CONTEXT_SETTINGS
from odse.cli.sources import complete_source

FORMATS = ("json", "jsonl", "csv", "parquet", "delta")
LAKE_FORMATS = ("parquet", "delta")
DEFAULT_PARTITION_BY = "asset_id,year,month,day"
DEFAULT_MODE = "merge"
MODES = ("merge", "overwrite", "append")
JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")
# options that are transform() arguments of their own; --param must not repeat them
OWN_OPTIONS = {"asset_id": "--asset-id", "timezone": "--timezone",
               "interval_minutes": "--interval-minutes", "column_map": "--column-map",
               "mapping": "--mapping", "source": "--source"}

EPILOG = """\b
Examples:
  odse transform -s SOURCE -i export.csv --asset-id SITE-ALPHA -o alpha.jsonl
  odse transform -s SOURCE -i export.json --asset-id SITE-BETA \\
      --param expected_devices=12 -f parquet -o /data/lake/energy/
  odse transform --column-map timestamp=Timestamp,kWh=ActiveEnergy_kWh,asset_id=SiteTag \\
      -i scada_export.csv -f csv -o scada.csv
  odse transform --mapping historian_spec.yaml -i historian.csv --rejects rejects.csv
  odse transform -s SOURCE -i export.csv | odse validate -i -

\b
Output format: -f wins; else from -o: .jsonl/.json/.ndjson -> json (JSON Lines),
.csv -> csv, a folder (existing, or ending in /) or .parquet -> parquet;
no -o (or -o -) -> JSON Lines on stdout.
Rejected rows do not fail the command (exit 0); they are counted on stderr and
written with --rejects. --strict makes the first one fail it (exit 1)."""


@click.command("transform", context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.option("-s", "--source", metavar="NAME", shell_complete=complete_source,
              help="Built-in source or alias, any case (list them: odse sources). "
                   "csv/generic/generic_csv take --column-map or --mapping.")
@click.option("-m", "--mapping", "mapping_file", metavar="FILE",
              help="Your mapping spec, YAML or JSON: a full spec or the short column map "
                   "(timestamp:, kWh:, asset_id:, extra:).")
@click.option("--column-map", metavar="FIELD=COLUMN,...",
              help="Inline column map for a CSV: timestamp, kWh (or kW), error_type, "
                   "error_code, asset_id, and extra.FIELD for any other field; e.g. "
                   "timestamp=Time,kWh=E,extra.kVAr=Q")
@click.option("-i", "--input", "input_path", metavar="FILE", required=True,
              help="The export to read (CSV, JSON, JSON Lines, or a workbook: .xlsx, "
                   ".xls, .ods with odse[excel]; .gz too): a path, or a s3://, gs://, "
                   "abfs:// or file:// URI; - reads stdin.")
@click.option("-o", "--output", metavar="PATH", default="-",
              help="Output file, or the lake folder for parquet and delta (a path or a "
                   "s3://, gs://, abfs://, file:// URI); - (default) is stdout.")
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False),
              help="json (JSON Lines, one record a line; jsonl is the same), csv, parquet "
                   "(a Hive-partitioned folder) or delta (a Delta Lake table; needs "
                   "odse[delta]). Default: from -o, else json.")
@click.option("--asset-id", metavar="ID", help="Asset identifier for records that carry none.")
@click.option("--timezone", metavar="ZONE",
              help="Zone of naive input times: IANA name (Africa/Johannesburg) or offset "
                   "(+02:00). Default: the source's zone, else UTC.")
@click.option("--interval-minutes", type=click.FloatRange(min=0, min_open=True),
              metavar="MINUTES",
              help="Interval for turning power into energy [minutes]; overrides the "
                   "source's default only when given.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Another source parameter, repeatable, e.g. --param expected_devices=12 "
                   "(the params of a source: odse sources show NAME).")
@click.option("--partition-by", metavar="COLUMNS",
              help=f"Parquet and delta only: partition columns in folder order [default: "
                   f"{DEFAULT_PARTITION_BY}]; none for a flat folder.")
@click.option("--mode", type=click.Choice(MODES, case_sensitive=False),
              help="Parquet and delta only: merge (default; upsert by asset_id and timestamp, so "
                   "re-runs never duplicate), overwrite (replace touched partitions) or "
                   "append.")
@click.option("--rejects", "rejects_path", metavar="FILE",
              help="Write the rejected rows (row, line, column, value, code, reason) to a "
                   ".jsonl or .csv file; written, possibly empty, on every run.")
@click.option("--report", "report_path", metavar="FILE",
              help="Write the run report as JSON to FILE: inputs (size, sha256), source, "
                   "variant, spec hash, rows, records, rejects and warnings by code, "
                   "outputs, timings (see: odse docs cli).")
@click.option("--strict", is_flag=True,
              help="Fail (exit 1) at the first rejected row; files are left unchanged.")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress bar; print the summary line only when rows were rejected.")
def transform_command(source: str | None, mapping_file: str | None, column_map: str | None,
                      input_path: str, output: str, fmt: str | None, asset_id: str | None,
                      timezone: str | None, interval_minutes: float | None,
                      params: tuple[str, ...], partition_by: str | None, mode: str | None,
                      rejects_path: str | None, report_path: str | None, strict: bool,
                      quiet: bool) -> None:
    """Transform one OEM export into ODS-E records.

    Name the source (-s SOURCE; odse sources lists the names) or bring your own
    mapping (--mapping FILE, or --column-map for a CSV). Records go to stdout as
    JSON Lines unless -o says otherwise; a summary line (rows read, records
    written, rows rejected) goes to stderr.
    """
    fmt = output_format(fmt, output)
    layout = parquet_options(fmt, partition_by, mode)
    rejects_format = rejects_file_format(rejects_path)
    run_report.check_path(report_path, stdout_taken=output == "-")
    extra = parse_params(params, asset_id=asset_id, timezone=timezone,
                         interval_minutes=interval_minutes)
    if interval_minutes is not None:
        extra["interval_minutes"] = interval_minutes

    if mapping_file is not None and input_path != "-":
        from odse.readers import sheet_prefetch

        sheet_prefetch.start(input_path, mapping_file)  # read while the engine loads
    from odse.api import transform_batches
    from odse.errors import OdseError

    mapping: Any = mapping_file
    if column_map is not None:
        if mapping_file is not None:
            errors.fail("give either --mapping FILE or --column-map, not both")
        mapping = column_map_spec(column_map)

    clock = console.Stopwatch()
    from odse.filesystems import is_uri
    from odse.writers.commit import together

    report: Any = None
    try:
        data: Any = (console.binary_stdin() if input_path == "-"
                     else input_path if is_uri(input_path) else Path(input_path))
        stream = transform_batches(data, source, asset_id, timezone, mapping,
                                   errors="raise" if strict else "collect", **extra)
        report = stream.report
        # records and rejects land together or not at all: the rejects file is written (to a
        # temporary name) when the records end; renamed with a records file at the end, or
        # just before a lake's first change (put back if that change fails: commit.lake_commit)
        with console.Progress(report, console.want_progress(quiet)) as progress, together():
            batches: Any = progress.batches(stream)
            if rejects_path is not None:
                batches = _then(batches, lambda: write_rejects(report.rejects_table,
                                                               rejects_path, rejects_format))
            summary = write(batches, stream.schema, fmt, output, layout)
    except OdseError as exc:
        if report_path is not None:  # a scheduler learns why from the report too
            known = report.to_dict() if report is not None else \
                run_report.bare(input_path)
            run_report.write(report_path, {"command": "transform", "status": "failed",
                                           "error": run_report.error_entry(exc), **known})
        raise
    shown_input = "stdin" if input_path == "-" else input_path
    if report_path is not None:
        report.input = "-" if input_path == "-" else input_path
        report.outputs = [run_report.output_entry(summary, output)]
        if rejects_path is not None:
            report.outputs.append({"path": rejects_path, "format": rejects_format,
                                   "kind": "rejects", "records": report.reject_count})
        report.timings = {**progress.timings, "reading_mapping":
                          report.timings.get("reading_mapping", 0.0)}
        run_report.write(report_path, {"command": "transform", "status": "ok",
                                       **report.to_dict()})

    rejected = report.reject_count > 0
    if not quiet or rejected:
        console.note(summary_line(report, summary, shown_input, output, clock))
        if rejected and rejects_path is None:
            console.note(first_reject_line(report))


def _then(batches: Any, action: Any) -> Any:
    """Yield the batches, then run ``action`` (inside the consumer's last ``next``)."""
    yield from batches
    action()


def output_format(fmt: str | None, output: str) -> str:
    """Return json, csv or parquet: ``-f`` when given, else told from ``-o``."""
    to_stdout = output == "-"
    if fmt is not None:
        fmt = "json" if fmt.lower() in ("json", "jsonl") else fmt.lower()
    elif to_stdout:
        fmt = "json"
    else:
        fmt = _format_from_path(output)
    if fmt in LAKE_FORMATS and to_stdout:
        errors.fail(f"--format {fmt} writes a folder of files, not a stream; give the "
                    "folder with -o, e.g. -o lake/ (or use -f json or -f csv for stdout)")
    if fmt not in LAKE_FORMATS and not to_stdout and os.path.isdir(output):
        errors.fail(f"-o {output} is a folder, but {fmt.upper()} output is one file; give a "
                    f"file such as -o {os.path.join(output, 'records.' + _suffix(fmt))}, "
                    "or use -f parquet for a lake folder")
    return fmt


def _format_from_path(output: str) -> str:
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        return "parquet"
    suffix = Path(output).suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix == ".csv":
        return "csv"
    if suffix == ".parquet":
        return "parquet"
    return errors.fail(f"cannot tell the output format from -o {output}; add -f json (JSON "
                       "Lines), -f csv, or -f parquet (a lake folder), or end the name in "
                       ".jsonl, .csv or /")


def _suffix(fmt: str) -> str:
    return "jsonl" if fmt == "json" else fmt


def parquet_options(fmt: str, partition_by: str | None,
                    mode: str | None) -> tuple[list[str], str] | None:
    """Return (partition columns, mode) for parquet and delta output; None for the others."""
    if fmt not in LAKE_FORMATS:
        for flag, value in (("--partition-by", partition_by), ("--mode", mode)):
            if value is not None:
                errors.fail(f"{flag} applies to Parquet output only; add -f parquet and "
                            "give a folder with -o, or drop it")
        return None
    text = DEFAULT_PARTITION_BY if partition_by is None else partition_by
    if text.strip().lower() in ("", "none"):
        columns: list[str] = []
    else:
        columns = [c.strip() for c in text.split(",")]
        if any(not c for c in columns):
            errors.fail(f"--partition-by {text!r} has an empty name; write column names "
                        "separated by commas, e.g. asset_id,year,month,day")
    return columns, (mode or DEFAULT_MODE).lower()


def rejects_file_format(path: str | None) -> str | None:
    """Return the format of the rejects file (json or csv) from its extension."""
    if path is None:
        return None
    if path == "-":
        errors.fail("--rejects - would mix rejects into the records on stdout; give a file "
                    "such as --rejects rejects.csv")
    suffix = Path(path).suffix.lower()
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix == ".csv":
        return "csv"
    return errors.fail(f"cannot tell the format of --rejects {path}; end the name in .jsonl "
                       "(JSON Lines) or .csv")


def column_map_spec(text: str) -> dict[str, Any]:
    """Turn ``--column-map`` text into the short mapping form.

    ``FIELD=COLUMN`` pairs for the short form's keys (timestamp, kWh, kW, error_type,
    error_code, asset_id); ``extra.FIELD=COLUMN`` adds any other record field.
    """
    if "=" not in text and text.strip().lower().endswith((".yaml", ".yml", ".json")):
        errors.fail(f"--column-map takes FIELD=COLUMN pairs; {text} looks like a mapping "
                    f"file: use --mapping {text}")
    from odse.mapping.generic import SHORT_KEYS, parse_column_map
    from odse.suggest import did_you_mean

    pairs = parse_column_map(text)
    spec: dict[str, Any] = {k: v for k, v in pairs.items() if not k.startswith("extra.")}
    extra = {k[len("extra."):]: v for k, v in pairs.items() if k.startswith("extra.")}
    keys = [k for k in SHORT_KEYS if k != "extra"]
    for key in spec:
        if key in keys:
            continue
        guess = did_you_mean(key, keys, capital=True)
        example = "FIELD" if guess or key == "extra" else key
        errors.fail(f"unknown field '{key}' in --column-map. {guess}Fields: "
                    f"{', '.join(keys)}; give any other record field as "
                    f"extra.{example}={pairs[key]}")
    if "timestamp" not in spec:
        errors.fail("--column-map has no timestamp; add timestamp=COLUMN, the column that "
                    "holds the time")
    if "kWh" not in spec and "kW" not in spec:
        errors.fail("--column-map has neither kWh nor kW; add kWh=COLUMN (energy per "
                    "interval) or kW=COLUMN (power, multiplied by --interval-minutes)")
    if extra:
        spec["extra"] = extra
    return spec


def parse_params(items: tuple[str, ...], **given: Any) -> dict[str, Any]:
    """Parse ``--param NAME=VALUE`` items into a dict (values stay text; the source types them).

    given: the values of the options that are transform arguments of their own, to refuse
        a --param that repeats one.
    """
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            errors.fail(f"--param takes NAME=VALUE, got {item!r}; e.g. "
                        "--param expected_devices=12")
        if name in OWN_OPTIONS:
            if given.get(name) is not None:
                errors.fail(f"{name} is given twice: by {OWN_OPTIONS[name]} and by --param; "
                            "keep one")
            errors.fail(f"give {name} with {OWN_OPTIONS[name]}, not --param")
        if name in out:
            errors.fail(f"--param {name} is given twice; keep one")
        out[name] = value.strip()
    return out


def write(batches: Any, schema: Any, fmt: str, output: str,
          layout: tuple[list[str], str] | None) -> Any:
    """Stream the batches into the writer of ``fmt``; return its WriteSummary."""
    import pyarrow as pa

    from odse.writers import to_csv, to_delta, to_json, to_parquet

    # A reader with the schema lets the CSV writer write its header before the first row.
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    if fmt in LAKE_FORMATS:
        assert layout is not None
        columns, mode = layout
        lake_writer = to_parquet if fmt == "parquet" else to_delta
        return lake_writer(reader, output, partition_by=columns or None, mode=mode)
    target: Any = sys.stdout if output == "-" else output  # the writer takes its buffer
    writer = to_json if fmt == "json" else to_csv
    return writer(reader, target)


def write_rejects(table: Any, path: str, fmt: str | None) -> None:
    """Write the reject table as JSON Lines or CSV."""
    from odse.writers import to_csv, to_json

    (to_csv if fmt == "csv" else to_json)(table, path)


def summary_line(report: Any, written: Any, shown_input: str, output: str,
                 clock: console.Stopwatch) -> str:
    """Render the one-line summary: rows read, records written (where), rows rejected."""
    where = "stdout" if output == "-" else output
    what = str(report.source)
    if report.variant and report.variant != report.source:
        what += f"/{report.variant}"
    text = (f"{shown_input} ({what}): {console.plural(report.rows_read, 'row')} read, "
            f"{console.plural(written.rows_written, 'record')} written to {where}")
    if written.format in LAKE_FORMATS:
        parts = len(written.partitions)
        text += (f" ({written.mode}: {console.plural(parts, 'partition')}, "
                 f"{console.plural(written.files_written, 'file')}")
        if written.duplicates_dropped:
            text += f", {written.duplicates_dropped} duplicates dropped"
        if written.rows_replaced:
            text += f", {written.rows_replaced} existing rows replaced"
        if getattr(written, "files_upgraded", 0):
            text += (f", {console.plural(written.files_upgraded, 'older file')} given the "
                     "new columns")
        text += ")"
    text += f", {console.plural(report.rows_rejected, 'row')} rejected"
    reasons = report.reasons()
    if reasons:
        shown = ", ".join(f"{n}x {code}" for code, n in list(reasons.items())[:4])
        text += f" ({shown}{', ...' if len(reasons) > 4 else ''})"
    clipped = sum(report.values_clipped.values())
    if clipped:
        text += f", {console.plural(clipped, 'value')} clipped"
    skipped = getattr(report, "rows_skipped", 0)
    if skipped:
        why = ", ".join(f"{n}x {reason}" for reason, n in report.skipped.items())
        text += f", {console.plural(skipped, 'row')} skipped by the mapping ({why})"
    if getattr(report, "assumed_zone", None):
        text += f", naive times read as {report.assumed_zone} (pass --timezone)"
    return f"{text}, {clock}"


def first_reject_line(report: Any) -> str:
    """Describe the first reject and how to see them all."""
    from odse.report import Reject

    first = Reject(**report.rejects_table.slice(0, 1).to_pylist()[0])
    more = report.reject_count - 1
    others = f" (and {more} more)" if more else ""
    return f"first rejected: {first}{others}; write them all with --rejects FILE"
