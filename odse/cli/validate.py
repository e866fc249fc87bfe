"""``odse validate``: check ODS-E records in files, folders, Parquet lakes or stdin.

The records are read as Arrow (``record_files``) and validated in chunks of up to
``CHUNK_ROWS`` records with ``validate_batch``; a chunk may span files, so a series' interval
is read from its spacing across a lake's day partitions. The JSON report goes to stdout, a
summary line to stderr.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import click

from odse.cli import console, errors, run_report
from odse.cli.app import CONTEXT_SETTINGS

CHUNK_ROWS = 1 << 20
"""Records validated together (memory is bounded by this many records and their findings)."""
DEFAULT_MAX_ERRORS = 100

EPILOG = """\b
Examples:
  odse validate -i alpha.jsonl
  odse validate /data/lake/energy/ --level semantic --capacity-kw 10
  odse validate -i /data/lake/energy/asset_id=SITE-ALPHA --profile bilateral
  odse transform -s SOURCE -i export.csv | odse validate -i -

\b
Report (stdout): {"total", "passed", "failed", "errors", "warnings", ...}; each
finding is {"record", "path", "code", "message", "file", "row"}: record is the
0-based index over all inputs, row the 1-based record number in its file.
Exit 0 when every record passes (warnings allowed), 1 when one fails."""


@click.command("validate", context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("-i", "--input", "inputs", multiple=True, metavar="PATH",
              help="A file or folder of records (.parquet lake, .jsonl, .json, .csv), "
                   "repeatable; - reads stdin. Paths may also be given without -i.")
@click.option("-l", "--level", type=click.Choice(["schema", "semantic"]), default="schema",
              show_default=True,
              help="schema: the record JSON Schema; semantic: plus plausibility warnings.")
@click.option("-p", "--profile", metavar="NAME",
              help="Conformance profile: bilateral, wheeling, sawem_brp, municipal_recon, "
                   "bess_dispatch, wind_scada.")
@click.option("--capacity-kw", type=click.FloatRange(min=0, min_open=True), metavar="KW",
              help="Rated capacity for EXCEEDS_PHYSICAL_MAXIMUM (semantic) [kW].")
@click.option("--latitude", type=click.FloatRange(-90, 90), metavar="DEG",
              help="Site latitude for the night-time generation and time-zone checks "
                   "(semantic) [deg].")
@click.option("--longitude", type=click.FloatRange(-180, 180), metavar="DEG",
              help="Site longitude, with --latitude [deg, east positive].")
@click.option("--interval-minutes", type=click.FloatRange(min=0, min_open=True),
              metavar="MINUTES",
              help="Every record's interval [minutes]; default: from the timestamp spacing.")
@click.option("--max-errors", type=click.IntRange(min=0), default=DEFAULT_MAX_ERRORS,
              show_default=True, metavar="N",
              help="List at most N errors and N warnings in the report (counts stay exact).")
@click.option("--report", "report_path", metavar="FILE",
              help="Also write a run report as JSON to FILE: inputs (size, sha256, records), "
                   "counts by code, timings (see: odse docs cli).")
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
def validate_command(paths: tuple[str, ...], inputs: tuple[str, ...], level: str,
                     profile: str | None, capacity_kw: float | None, latitude: float | None,
                     longitude: float | None, interval_minutes: float | None,
                     max_errors: int, report_path: str | None, quiet: bool) -> None:
    """Validate ODS-E records and print a JSON report.

    Reads JSON Lines, JSON (an object or an array), CSV and Parquet: files, folders
    (walked for *.parquet, *.jsonl, *.ndjson, *.json, *.csv) and Hive-partitioned
    lakes as odse transform -f parquet writes them; - reads stdin.
    """
    targets = [*inputs, *paths]
    if not targets:
        errors.fail("no input: give files or folders with -i PATH (or as arguments), or "
                    "-i - to read stdin")
    if targets.count("-") > 1:
        errors.fail("stdin (-) can be read once only")
    if (latitude is None) != (longitude is None):
        errors.fail("--latitude and --longitude go together; give both or neither")
    check_profile(profile)
    run_report.check_path(report_path, stdout_taken=True)
    clock = console.Stopwatch()

    from odse.cli import record_files

    options = {"level": level, "profile": profile, "capacity_kw": capacity_kw,
               "latitude": latitude, "longitude": longitude,
               "interval_minutes": interval_minutes}
    tally = Tally(max_errors=max_errors)
    chunk = Chunk()
    stdin = console.binary_stdin() if "-" in targets else None
    files: list[dict[str, Any]] = []
    for source in record_files.expand(targets, stdin):
        tally.count_file(source.given)
        if report_path is not None:
            files.append(file_entry(source))
        for first, piece in enumerate(record_files.read(source)):
            if first == 0:
                refuse_raw_export(source.name, piece)
            tally.count_records(source.given, piece.num_rows)
            if files:
                files[-1]["records"] += piece.num_rows
            if piece.records is not None:  # data Arrow cannot type: validated on its own
                chunk.flush(tally, options)
                chunk.add(piece)
                chunk.flush(tally, options)
                continue
            if not chunk.fits(piece):
                chunk.flush(tally, options)
            chunk.add(piece)
            if chunk.rows >= CHUNK_ROWS:
                chunk.flush(tally, options)
    chunk.flush(tally, options)

    report = tally.report(level, profile)
    click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    if report_path is not None:
        run_report.write(report_path, run_dict(report, files, clock))
    if not quiet:
        where = ", ".join("stdin" if t == "-" else t for t in targets)
        console.note(f"{where}: {tally.files_read()}: {report['summary']}")
    if tally.total == 0:
        console.warn("no records found in the input")
    if report["failed"]:
        raise click.exceptions.Exit(errors.DATA_FAILED)


RECORD_MARKERS = ("timestamp", "kWh", "error_type")
"""The record's required fields: a file whose first records have at most one of them is not
ODS-E records (a raw export has its own time column at most)."""


def refuse_raw_export(name: str, piece: Any) -> None:
    """Stop with a hint to transform first when a file's records lack the required fields.

    A raw OEM export (``Time,power,...``) would otherwise report an error per row and field.
    """
    if piece.records is not None:
        keys: set[str] = set()
        for record in piece.records[:100]:
            if isinstance(record, dict):
                keys.update(record)
        columns = sorted(keys)
    else:
        table = piece.table  # columns without a value (time fields read as text) do not count
        columns = [name for name, column in zip(table.column_names, table.columns, strict=True)
                   if column.null_count < len(column)]
    # no field with a value at all is not an export either: records of nulls get their verdicts
    if not piece.num_rows or not columns or \
            sum(marker in columns for marker in RECORD_MARKERS) >= 2:
        return
    shown = ", ".join(columns[:6]) + (", ..." if len(columns) > 6 else "")
    shown_name = "stdin" if name == "-" else name
    errors.fail(f"{shown_name} does not hold ODS-E records: they lack the required fields "
                f"timestamp, kWh and error_type (its fields: {shown or 'none'}). It looks "
                f"like an OEM export; transform it first: odse transform -s SOURCE -i "
                f"{shown_name} -o - | odse validate -i -  (odse sources lists the sources)",
                errors.DATA_FAILED)


def file_entry(source: Any) -> dict[str, Any]:
    """The run report's entry for one file read: path, size and SHA-256."""
    import hashlib
    import os

    from odse.report import file_sha256

    if source.data is not None:
        size, digest = len(source.data), hashlib.sha256(source.data).hexdigest()
    else:
        size, digest = os.path.getsize(source.name), file_sha256(source.name)
    return {"path": source.name, "size": size, "sha256": digest, "records": 0}


def run_dict(report: dict[str, Any], files: list[dict[str, Any]],
             clock: console.Stopwatch) -> dict[str, Any]:
    """The ``--report`` dict of a validation: the keys a transform's report shares, and its own."""
    from odse import __version__

    return {"command": "validate", "status": "invalid" if report["failed"] else "ok",
            "odse_version": __version__, "inputs": files, "rows_read": report["total"],
            "records_valid": report["passed"], "records_invalid": report["failed"],
            "errors_by_code": report["error_codes"],
            "warnings_by_code": report["warning_codes"],
            "level": report["level"], "profile": report["profile"],
            "summary": report["summary"], "outputs": [],
            "timings": {"total": round(clock.seconds(), 6)}}


def check_profile(profile: str | None) -> None:
    """Refuse an unknown profile before reading anything (exit 2)."""
    if profile is None:
        return
    from odse.suggest import did_you_mean
    from odse.validation import PROFILES

    if profile not in PROFILES:
        errors.fail(f"unknown profile '{profile}'. {did_you_mean(profile, PROFILES, capital=True)}"
                    f"Known profiles: {', '.join(PROFILES)}")


@dataclass
class Chunk:
    """Pieces waiting to be validated together, with where each came from."""

    tables: list[Any] = field(default_factory=list)
    records: list[Any] | None = None
    starts: list[int] = field(default_factory=list)      # chunk index of each piece's first
    origins: list[tuple[str, int]] = field(default_factory=list)  # (file, first row)
    rows: int = 0

    def fits(self, piece: Any) -> bool:
        """True when the piece's columns can be concatenated with the chunk's."""
        if not self.tables:
            return True
        import pyarrow as pa

        try:
            pa.unify_schemas([self.tables[0].schema, piece.table.schema],
                             promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return False
        return True

    def add(self, piece: Any) -> None:
        """Add a piece (Arrow pieces concatenate; a dict piece stands alone)."""
        self.starts.append(self.rows)
        self.origins.append((piece.name, piece.first_row))
        if piece.records is not None:
            self.records = piece.records
        else:
            self.tables.append(piece.table)
        self.rows += piece.num_rows

    def flush(self, tally: Tally, options: dict[str, Any]) -> None:
        """Validate what is held and add the findings to the tally."""
        if not self.starts:
            return
        import pyarrow as pa

        from odse.validation import validate_batch

        if self.records is not None:
            data: Any = self.records
        elif len(self.tables) == 1:
            data = self.tables[0]
        else:
            data = pa.concat_tables(self.tables, promote_options="permissive")
        result = validate_batch(data, **options)
        tally.add(result, self)
        self.tables, self.records, self.starts, self.origins, self.rows = [], None, [], [], 0

    def locate(self, index: int) -> tuple[str, int]:
        """Return (file, 1-based row in the file) of the chunk's record ``index``."""
        at = bisect.bisect_right(self.starts, index) - 1
        name, first = self.origins[at]
        return name, first + index - self.starts[at]


@dataclass
class Tally:
    """Counts and the first findings over every chunk."""

    max_errors: int
    total: int = 0
    valid: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    error_codes: Counter[str] = field(default_factory=Counter)
    warning_codes: Counter[str] = field(default_factory=Counter)
    inputs: dict[str, dict[str, int]] = field(default_factory=dict)

    def count_file(self, given: str) -> None:
        """Count a file read for an input argument."""
        entry = self.inputs.setdefault(given, {"files": 0, "records": 0})
        entry["files"] += 1

    def count_records(self, given: str, n: int) -> None:
        """Count records read for an input argument."""
        self.inputs[given]["records"] += n

    def files_read(self) -> str:
        """Return ``527 records in 2 files`` (``263 records`` for stdin alone)."""
        files = sum(e["files"] for e in self.inputs.values())
        text = console.plural(self.total, "record")
        return text if list(self.inputs) == ["-"] else f"{text} in {console.plural(files, 'file')}"

    def add(self, result: Any, chunk: Chunk) -> None:
        """Add one chunk's result; ``record`` indices become global."""
        offset = self.total
        self.total += result.total
        self.valid += result.valid
        for pairs, listed, codes in ((result.errors, self.errors, self.error_codes),
                                     (result.warnings, self.warnings, self.warning_codes)):
            # counts come from the masks; only the findings the report lists are rendered
            codes.update(pairs.counts())
            for index, finding in pairs.head(max(0, self.max_errors - len(listed))):
                name, row = chunk.locate(index)
                listed.append({"record": offset + index, "path": finding.path,
                               "code": finding.code, "message": finding.message,
                               "file": name, "row": row})

    def report(self, level: str, profile: str | None) -> dict[str, Any]:
        """Return the JSON report (the contract's five keys first)."""
        n_errors = sum(self.error_codes.values())
        n_warnings = sum(self.warning_codes.values())
        return {
            "total": self.total,
            "passed": self.valid,
            "failed": self.total - self.valid,
            "errors": self.errors,
            "warnings": self.warnings,
            "summary": summary_text(self.valid, self.total, level, self.error_codes,
                                    self.warning_codes),
            "level": level,
            "profile": profile,
            "error_count": n_errors,
            "warning_count": n_warnings,
            "error_codes": dict(sorted(self.error_codes.items())),
            "warning_codes": dict(sorted(self.warning_codes.items())),
            "max_errors": self.max_errors,
            "truncated": n_errors > len(self.errors) or n_warnings > len(self.warnings),
            "inputs": [{"input": given, **counts} for given, counts in self.inputs.items()],
        }


def summary_text(valid: int, total: int, level: str, error_codes: Counter[str],
                 warning_codes: Counter[str]) -> str:
    """Render ``"V/T valid (level)"`` plus counts by code, as ``BatchValidationResult.summary``."""
    text = f"{valid}/{total} valid ({level})"
    for counts, noun, sep in ((error_codes, "error", ", "), (warning_codes, "warning", "; ")):
        n = sum(counts.values())
        if n:
            by_code = ", ".join(f"{counts[code]}x {code}" for code in sorted(counts))
            text += f"{sep}{n} {noun}{'' if n == 1 else 's'}: {by_code}"
    return text
