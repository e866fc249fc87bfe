"""``to_dataframe``: records as a pandas DataFrame (needs the ``dataframe`` extra)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from odse.arrow_input import record_batches
from odse.errors import require
from odse.records import TIMESTAMP_TYPE
from odse.writers.schema import BatchSchema

EMPTY_SCHEMA = pa.schema([("timestamp", TIMESTAMP_TYPE), ("kWh", pa.float64()),
                          ("error_type", pa.string())])
"""Columns of the frame built from no records and no schema: the record's required fields."""


def to_dataframe(records: Any) -> Any:
    """Return records as a ``pandas.DataFrame``.

    ``timestamp`` is ``datetime64[us, UTC]`` (offsets converted to UTC), ``kWh`` and other
    numbers ``float64``, text the pandas string dtype; an absent value is missing (NaN/NaT/NA).
    Columns follow the record's order. No records give an empty frame with the schema's
    columns, or ``timestamp``, ``kWh`` and ``error_type``. Needs ``pip install 'odse[dataframe]'``.

    records: a list or iterable of dicts, or Arrow data (table, batch, reader, batch iterator).
    """
    require("pandas", "dataframe", "to_dataframe()")
    source = record_batches(records)
    schema = BatchSchema()
    batches = []
    for batch in source:
        schema.observe(batch.schema)
        batches.append(batch)
    if not batches:
        target = source.schema if source.schema is not None and len(source.schema) else None
        return (target or EMPTY_SCHEMA).empty_table().to_pandas()
    final = schema.schema()
    table = pa.Table.from_batches([schema.conform(batch, final) for batch in batches], final)
    return table.to_pandas()
