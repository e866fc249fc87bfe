"""Records to a time-indexed DataFrame and back, by a table of columns and unit factors.

An adapter is a list of :class:`Column` (record field, frame column, factor from the record's
unit to the frame's). ``to_frame`` renames and scales the columns it names and keeps every
other record field as it is; ``from_frame`` undoes exactly that, so records survive a round
trip. Vectorised: pandas columns and Arrow, no per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from odse import records as record_types
from odse.errors import ParameterError, require
from odse.writers.dataframe import to_dataframe


@dataclass(frozen=True)
class Column:
    """One record field as a frame column: its name there and the factor to its unit."""

    field: str
    column: str
    factor: float = 1.0
    unit: str = ""


def units(columns: list[Column]) -> dict[str, str]:
    """Return the frame column -> unit table (for the metadata)."""
    return {c.column: c.unit for c in columns if c.unit}


def to_frame(records: Any, columns: list[Column], *, index: str | None, time_column: str,
             map_variables: bool, drop_invalid: bool, what: str, extra: str) -> Any:
    """Return records as a DataFrame sorted by time, columns renamed and scaled.

    index: name of the DatetimeIndex (UTC), or None to keep time as the column time_column.
    """
    require("pandas", extra, what)
    frame = to_dataframe(records)
    if drop_invalid and "error_type" in frame.columns:
        frame = frame[~frame["error_type"].isin(["fault", "offline"])]
    frame = frame.sort_values("timestamp", kind="stable")
    if map_variables:
        present = [c for c in columns if c.field in frame.columns and c.field != "timestamp"]
        for c in present:
            if c.factor != 1.0:
                frame[c.field] = frame[c.field] * c.factor
        frame = frame.rename(columns={c.field: c.column for c in present})
        frame = frame.rename(columns={"timestamp": time_column})
        stamp = time_column
    else:
        stamp = "timestamp"
    if index is not None:
        frame = frame.set_index(stamp)
        frame.index.name = index
    else:
        frame = frame.reset_index(drop=True)
    return frame


def from_frame(frame: Any, columns: list[Column], *, time_column: str, asset_id: str | None,
               error_type: str, what: str, extra: str) -> list[dict[str, Any]]:
    """Return the records of a frame that ``to_frame`` made (or one in the same shape)."""
    require("pandas", extra, what)
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    frame = frame.copy()
    if isinstance(frame.index, pd.MultiIndex):
        frame = frame.reset_index()
    elif isinstance(frame.index, pd.DatetimeIndex):
        frame = frame.reset_index(names=time_column if time_column not in frame.columns
                                  else "_index")
    by_column = {c.column: c for c in columns}
    renames = {}
    for name in list(frame.columns):
        c = by_column.get(name)
        if c is None or c.field in frame.columns:
            continue
        if c.factor != 1.0:
            frame[name] = frame[name] / c.factor
        renames[name] = c.field
    frame = frame.rename(columns={**renames, time_column: "timestamp"})
    if "timestamp" not in frame.columns:
        raise ParameterError(f"{what}: the frame has no times", code="NO_TIMESTAMP",
                             hint=f"Give it a DatetimeIndex or a '{time_column}' column")
    stamp = pd.to_datetime(frame["timestamp"], utc=True)
    frame["timestamp"] = stamp
    if "kWh" not in frame.columns:
        raise ParameterError(f"{what}: the frame has no energy column", code="NO_ENERGY",
                             hint="Name the interval energy ["
                                  + ", ".join(c.column for c in columns if c.field == "kWh")
                                  + "] in kWh")
    if "error_type" not in frame.columns:
        frame["error_type"] = error_type
    if asset_id is not None and "asset_id" not in frame.columns:
        frame["asset_id"] = asset_id
    front = ["timestamp", "kWh", "error_type"]
    frame = frame[front + [c for c in frame.columns if c not in front]]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(0, "timestamp",
                             table.column("timestamp").cast(record_types.TIMESTAMP_TYPE))
    return record_types.table_to_dicts(table)
