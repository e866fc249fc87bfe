"""to_dataframe gives pandas the record's types, and says which extra to install."""

from __future__ import annotations

import sys

import pyarrow as pa
import pytest

from odse import to_dataframe
from odse.errors import MissingExtraError

pd = pytest.importorskip("pandas")

RECORDS = [
    {"timestamp": "2026-02-09T14:00:00+02:00", "kWh": 1, "error_type": "normal",
     "asset_id": "A"},
    {"timestamp": "2026-02-09T12:05:00Z", "kWh": 2.5, "error_type": "normal", "channel": "x"},
]


def test_dataframe_types_and_values():
    frame = to_dataframe(RECORDS)
    assert list(frame.columns) == ["timestamp", "kWh", "error_type", "asset_id", "channel"]
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert frame["kWh"].dtype == "float64"
    assert frame["timestamp"].tolist() == [pd.Timestamp("2026-02-09T12:00:00Z"),
                                           pd.Timestamp("2026-02-09T12:05:00Z")]
    assert frame["asset_id"].isna().tolist() == [False, True]


def test_dataframe_from_arrow_batches_with_different_columns():
    first = pa.RecordBatch.from_pydict({"kWh": [1.0], "n": pa.array([1], pa.int64())})
    second = pa.RecordBatch.from_pydict({"kWh": [2.0], "n": [2.5], "m": ["x"]})
    frame = to_dataframe(iter([first, second]))
    assert frame["n"].tolist() == [1.0, 2.5]
    assert frame["m"].isna().tolist() == [True, False]


def test_empty_input_gives_the_required_columns():
    frame = to_dataframe([])
    assert list(frame.columns) == ["timestamp", "kWh", "error_type"]
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert len(frame) == 0


def test_missing_pandas_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtraError) as caught:
        to_dataframe(RECORDS)
    assert "pip install 'odse[dataframe]'" in str(caught.value)
    assert "to_dataframe()" in str(caught.value)
