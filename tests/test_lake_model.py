"""Random sequences of writes agree with a plain Python model of merge, overwrite and append.

The model keeps rows in a list per partition. Each generated write runs once with generous
buffers and once with buffers so small that every batch is staged, in small chunks; both
lakes must equal the model after every write, whatever the order and duplication of rows.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import odse.arrow_input
from odse import to_parquet
from odse.writers import parquet_lake

PARTITION_BY = ["asset_id", "day"]

record = st.fixed_dictionaries({
    "asset_id": st.sampled_from(["A", "B"]),
    "day": st.integers(1, 2),
    "hour": st.integers(0, 3),
    "channel": st.sampled_from([None, "import", "export"]),
    "kWh": st.integers(0, 9).map(float),
})
write = st.tuples(st.sampled_from(["merge", "overwrite", "append"]),
                  st.lists(record, min_size=1, max_size=12))


def _dicts(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        item = {"timestamp": f"2026-02-0{row['day']}T0{row['hour']}:00:00Z", "kWh": row["kWh"],
                "asset_id": row["asset_id"]}
        if row["channel"] is not None:
            item["channel"] = row["channel"]
        out.append(item)
    return out


def _apply(model: dict, mode: str, rows: list[dict]) -> None:
    incoming: dict = {}
    for row in rows:
        incoming.setdefault((row["asset_id"], row["day"]), []).append(row)
    for partition, new in incoming.items():
        old = model.get(partition, [])
        if mode == "append":
            model[partition] = old + new
        elif mode == "overwrite":
            model[partition] = list(new)
        else:
            def key(row):
                return row["hour"], row["channel"]

            last = {key(row): row for row in new}
            model[partition] = [row for row in old if key(row) not in last] + list(last.values())


def _model_rows(model: dict) -> Counter:
    return Counter((row["asset_id"], row["day"], row["hour"], row["channel"], row["kWh"])
                   for rows in model.values() for row in rows)


def _lake_rows(root: Path) -> Counter:
    if not root.exists():
        return Counter()
    # files written before a column first appeared lack it: read the lake by column name
    # (as Spark's mergeSchema or DuckDB's union_by_name do), not with the first file's schema
    found = ds.dataset(root, partitioning="hive")
    schema = pa.unify_schemas([f.physical_schema for f in found.get_fragments()]
                              + [found.partitioning.schema])
    table = ds.dataset(root, partitioning="hive", schema=schema).to_table()
    stamps = table.column("timestamp").to_pylist()
    channels = (table.column("channel").to_pylist() if "channel" in table.schema.names
                else [None] * table.num_rows)
    return Counter(zip(table.column("asset_id").to_pylist(), table.column("day").to_pylist(),
                       [stamp.hour for stamp in stamps], channels,
                       table.column("kWh").to_pylist(), strict=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(write, min_size=1, max_size=4))
def test_writes_match_the_model(writes):
    model: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        roomy, tight = Path(folder) / "roomy", Path(folder) / "tight"
        for mode, rows in writes:
            _apply(model, mode, rows)
            summary = to_parquet(_dicts(rows), roomy, PARTITION_BY, mode=mode)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(parquet_lake, "BUFFER_BYTES", 1)
                patch.setattr(odse.arrow_input, "CHUNK_ROWS", 3)
                tight_summary = to_parquet(iter(_dicts(rows)), tight, PARTITION_BY, mode=mode)
            assert _lake_rows(roomy) == _model_rows(model)
            assert _lake_rows(tight) == _model_rows(model)
            assert summary.rows_in == tight_summary.rows_in == len(rows)
            assert summary.rows_written == tight_summary.rows_written
            assert summary.rows_written + summary.duplicates_dropped == len(rows)
