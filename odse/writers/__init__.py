"""Writers: JSON Lines, CSV, a Hive-partitioned Parquet lake, Delta Lake, pandas DataFrames.

Every writer takes records in either form (a list or iterable of dicts, or Arrow data) and
streams them. ``to_json``, ``to_csv``, ``to_parquet`` and ``to_delta`` return a
:class:`~odse.writers.summary.WriteSummary`. See ``docs/output.md``.
"""

from __future__ import annotations

from odse.writers.csv_file import to_csv
from odse.writers.dataframe import to_dataframe
from odse.writers.delta import to_delta
from odse.writers.json_lines import to_json
from odse.writers.parquet_lake import to_parquet

__all__ = ["to_csv", "to_dataframe", "to_delta", "to_json", "to_parquet"]
