"""``to_csv``: records as a CSV file with a header of field names."""

from __future__ import annotations

import shutil
import tempfile
from typing import IO, Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.fs as pafs

from odse.arrow_input import order_columns, record_batches
from odse.writers.summary import WriteSummary
from odse.writers.targets import open_sink
from odse.writers.text_render import csv_header, csv_lines, text_buffer

EMPTY_HEADER = ["timestamp", "kWh", "error_type"]
"""Header written when there are no records and no schema: the record's required fields."""

_COPY_BLOCK = 8 << 20


def to_csv(records: Any, output_path: Any, *,
           filesystem: pafs.FileSystem | None = None) -> WriteSummary:
    """Write records as CSV (UTF-8, comma-separated, ``\\n`` line ends, RFC 4180 quoting).

    The header is the leading fields (``timestamp, kWh, error_type, error_code, asset_id,
    direction, channel``) that occur, then every other column in the order first seen. An
    absent value is an empty cell; an empty string is ``""``; timestamps are ISO 8601 UTC
    ending in ``Z``; NaN and infinite numbers are empty cells; nested values are JSON text.
    Parent folders are created; a path is written atomically. Input is streamed.

    A list of dicts or Arrow data with a schema gives the header before any row is written.
    For other iterators the header comes from the rows; when a later chunk brings a column
    not seen before, the rows written so far are re-laid out with an empty cell for it (one
    extra pass over the output so far, on a temporary file).

    No records give a header only: the columns of the Arrow schema when there is one, else
    ``timestamp,kWh,error_type``.

    records: a list or iterable of dicts, or Arrow data (table, batch, reader, batch iterator).
    output_path: a file path, a URI (``file:///...``, ``s3://...``) or an open file object.
    filesystem: a ``pyarrow.fs.FileSystem`` in which ``output_path`` lies (optional).
    """
    source = record_batches(records)
    columns = source.columns
    rows = 0
    with open_sink(output_path, filesystem) as (sink, location):
        if columns is not None:
            columns = columns or EMPTY_HEADER
            sink.write(csv_header(columns))
            for batch in source:
                if batch.num_rows:
                    sink.write(text_buffer(csv_lines(batch, columns)))
                    rows += batch.num_rows
        else:
            spool = _Spool()
            try:
                for batch in source:
                    if batch.num_rows:
                        spool.add(batch)
                        rows += batch.num_rows
                spool.copy_to(sink)
            finally:
                spool.close()
    return WriteSummary(path=location.shown if location else None, format="csv",
                        rows_in=rows, rows_written=rows, files_written=1 if location else 0)


class _Spool:
    """CSV rows whose header is only known at the end: kept on a temporary file meanwhile."""

    def __init__(self) -> None:
        self.columns: list[str] | None = None
        # closed by close(); a with-block cannot span the calls that fill it
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115

    def add(self, batch: pa.RecordBatch) -> None:
        names = batch.schema.names
        if self.columns is None:
            self.columns = order_columns(names)
        else:
            known = set(self.columns)
            new = [name for name in names if name not in known]
            if new:
                self._relayout(order_columns(self.columns + new))
        self.file.write(text_buffer(csv_lines(batch, self.columns)))

    def _relayout(self, columns: list[str]) -> None:
        # Read back what was written (every cell as text, so nothing is re-interpreted) and
        # render it again with the wider header.
        old_columns = self.columns or []
        self.file.flush()
        self.file.seek(0)
        wider: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - becomes self.file
        reader = pcsv.open_csv(
            self.file,
            read_options=pcsv.ReadOptions(column_names=old_columns, block_size=1 << 22),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(old_columns, pa.string()),
                strings_can_be_null=True, quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            if batch.num_rows:
                wider.write(text_buffer(csv_lines(batch, columns)))
        self.file.close()
        self.file = wider
        self.columns = columns

    def copy_to(self, sink: Any) -> None:
        sink.write(csv_header(self.columns or EMPTY_HEADER))
        self.file.flush()
        self.file.seek(0)
        if hasattr(sink, "writable") and hasattr(sink, "fileno"):
            shutil.copyfileobj(self.file, sink, _COPY_BLOCK)
            return
        while True:
            block = self.file.read(_COPY_BLOCK)
            if not block:
                break
            sink.write(block)

    def close(self) -> None:
        self.file.close()
