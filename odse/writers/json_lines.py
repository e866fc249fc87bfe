"""``to_json``: records as JSON Lines, one compact object per line."""

from __future__ import annotations

from typing import Any

import pyarrow.fs as pafs

from odse.arrow_input import record_batches
from odse.writers.summary import WriteSummary
from odse.writers.targets import open_sink
from odse.writers.text_render import json_lines, text_buffer


def to_json(records: Any, output_path: Any, *,
            filesystem: pafs.FileSystem | None = None) -> WriteSummary:
    """Write records as JSON Lines (``.jsonl``): one compact JSON object per line, UTF-8.

    Fields are in the record's order (leading fields first); absent (null) fields are left
    out; timestamps are ISO 8601 UTC ending in ``Z``; NaN and infinite numbers are left out
    (JSON cannot express them). Parent folders are created. A path is written atomically:
    readers see the old file or the complete new one. Input is streamed, so output larger
    than memory works. No records give an empty file.

    records: a list or iterable of dicts, or Arrow data (table, batch, reader, batch iterator).
    output_path: a file path, a URI such as ``file:///...`` or ``s3://bucket/key.jsonl``, or an
        open file object (written directly and left open).
    filesystem: a ``pyarrow.fs.FileSystem`` in which ``output_path`` lies (optional).
    """
    source = record_batches(records)
    rows = 0
    with open_sink(output_path, filesystem) as (sink, location):
        for batch in source:
            if batch.num_rows:
                sink.write(text_buffer(json_lines(batch)))
                rows += batch.num_rows
    return WriteSummary(path=location.shown if location else None, format="jsonl",
                        rows_in=rows, rows_written=rows, files_written=1 if location else 0)
