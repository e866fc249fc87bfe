"""Every kind of input a writer accepts becomes conformed record batches, read lazily."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from odse.arrow_input import (
    conform_batch,
    dicts_to_batch,
    order_columns,
    parse_timestamps,
    record_batches,
)
from odse.errors import OutputError
from odse.records import TIMESTAMP_TYPE

UTC = dt.timezone.utc


def _table(records, **kwargs) -> pa.Table:
    source = record_batches(records, **kwargs)
    batches = list(source)
    return pa.Table.from_batches(batches) if batches else None


def test_dicts_get_the_record_arrow_form():
    table = _table([
        {"asset_id": "A", "timestamp": "2026-02-09T12:00:00Z", "kWh": 5, "error_type": "normal",
         "error_code": 512, "note": "x"},
        {"timestamp": "2026-02-09T14:05:00+02:00", "kWh": 1.5, "error_type": "normal",
         "direction": "net"},
    ])
    assert table.schema.names == ["timestamp", "kWh", "error_type", "error_code", "asset_id",
                                  "direction", "note"]
    assert table.schema.field("timestamp").type == TIMESTAMP_TYPE
    assert table.schema.field("kWh").type == pa.float64()
    assert table.schema.field("error_code").type == pa.string()
    assert table.column("error_code").to_pylist() == ["512", None]
    assert table.column("kWh").to_pylist() == [5.0, 1.5]
    assert table.column("timestamp").to_pylist() == [
        dt.datetime(2026, 2, 9, 12, tzinfo=UTC), dt.datetime(2026, 2, 9, 12, 5, tzinfo=UTC)]
    assert table.column("direction").to_pylist() == [None, "net"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-02-09T12:00:00Z", dt.datetime(2026, 2, 9, 12, tzinfo=UTC)),
    ("2026-02-09T12:00:00+02:00", dt.datetime(2026, 2, 9, 10, tzinfo=UTC)),
    ("2026-02-09T12:00:00-0530", dt.datetime(2026, 2, 9, 17, 30, tzinfo=UTC)),
    ("2026-02-09T12:00:00.25Z", dt.datetime(2026, 2, 9, 12, 0, 0, 250000, tzinfo=UTC)),
    ("2026-02-09 12:00:00", dt.datetime(2026, 2, 9, 12, tzinfo=UTC)),
    ("2026-02-09T12:00:00z", dt.datetime(2026, 2, 9, 12, tzinfo=UTC)),
    ("2026-02-09T12:00:00 +02:00", dt.datetime(2026, 2, 9, 10, tzinfo=UTC)),
    ("2026-02-09T12:00:00.123456789Z", dt.datetime(2026, 2, 9, 12, 0, 0, 123456, tzinfo=UTC)),
])
def test_timestamps_are_parsed_to_utc(text, expected):
    parsed = parse_timestamps(pa.array([text, None]))
    assert parsed.type == TIMESTAMP_TYPE
    assert parsed.to_pylist() == [expected, None]


def test_mixed_zoned_and_naive_text_is_parsed_row_by_row():
    parsed = parse_timestamps(pa.array(["2026-02-09T12:00:00+01:00", "2026-02-09T12:00:00"]))
    assert parsed.to_pylist() == [dt.datetime(2026, 2, 9, 11, tzinfo=UTC),
                                  dt.datetime(2026, 2, 9, 12, tzinfo=UTC)]


def test_datetime_objects_are_accepted():
    zone = dt.timezone(dt.timedelta(hours=2))
    table = _table([{"timestamp": dt.datetime(2026, 2, 9, 12, tzinfo=zone), "kWh": 1.0}])
    assert table.column("timestamp").to_pylist() == [dt.datetime(2026, 2, 9, 10, tzinfo=UTC)]


def test_a_bad_timestamp_names_the_record_and_value():
    records = [{"timestamp": "2026-02-09T12:00:00Z", "kWh": 1.0}] * 3
    records = [*records, {"timestamp": "yesterday", "kWh": 1.0}]
    with pytest.raises(OutputError) as caught:
        _table(records)
    error = caught.value
    assert error.code == "RECORD_INVALID"
    assert error.row == 3
    assert error.value == "yesterday"
    assert "not an ISO 8601 date-time" in str(error)
    assert "2026-02-09T12:00:00Z" in str(error)  # the hint shows a good example


def test_a_bad_declared_value_names_field_row_and_value():
    with pytest.raises(OutputError) as caught:
        _table([{"timestamp": "2026-02-09T12:00:00Z", "kWh": 1.0},
                {"timestamp": "2026-02-09T12:05:00Z", "kWh": "lots"}])
    assert caught.value.field == "kWh"
    assert caught.value.row == 1
    assert "field 'kWh' must be a number" in str(caught.value)
    assert "validate_batch" in str(caught.value)


def test_undeclared_fields_are_inferred_and_mixed_kinds_become_text():
    table = _table([{"kWh": 1.0, "n": 1, "m": 1, "flag": True},
                    {"kWh": 2.0, "n": 2, "m": "two", "flag": False}])
    assert table.schema.field("n").type == pa.int64()
    assert table.schema.field("m").type == pa.string()
    assert table.column("m").to_pylist() == ["1", "two"]
    assert table.schema.field("flag").type == pa.bool_()


def test_an_undeclared_field_absent_everywhere_is_dropped_but_a_declared_one_is_typed():
    table = _table([{"kWh": 1.0, "note": None, "error_code": None}])
    assert "note" not in table.schema.names
    assert table.schema.field("error_code").type == pa.string()


def test_keys_missing_from_some_dicts_become_nulls_and_keep_first_seen_order():
    batch = dicts_to_batch([{"b": 1}, {"a": 2, "b": 3}, {"c": 4}])
    assert batch.schema.names == ["b", "a", "c"]
    assert batch.column("a").to_pylist() == [None, 2, None]
    assert order_columns(["z", "kWh", "channel", "timestamp"]) == [
        "timestamp", "kWh", "channel", "z"]


def test_a_sequence_reports_all_columns_before_conversion():
    source = record_batches([{"kWh": 1.0, "z": 1}, {"timestamp": "2026-02-09T00:00:00Z",
                                                    "asset_id": "A", "y": 2}])
    assert source.columns == ["timestamp", "kWh", "asset_id", "z", "y"]


def test_an_iterator_of_dicts_is_converted_a_chunk_at_a_time():
    consumed = []

    def records():
        for index in range(10):
            consumed.append(index)
            yield {"timestamp": "2026-02-09T00:00:00Z", "kWh": float(index)}

    source = record_batches(records(), chunk_rows=4)
    iterator = iter(source)
    first = next(iterator)
    assert first.num_rows == 4
    assert len(consumed) <= 8  # never the whole input
    assert sum(batch.num_rows for batch in iterator) == 6


@pytest.mark.parametrize("kind", ["table", "batch", "reader", "batches", "tables", "c-stream"])
def test_arrow_inputs_of_every_kind(kind):
    table = pa.table({
        "kWh": pa.array([1, 2], pa.int64()),
        "timestamp": pa.array([0, 300_000_000_000], pa.timestamp("ns", tz="Africa/Johannesburg")),
        "asset_id": pa.array(["A", "A"]).dictionary_encode(),
    })
    inputs = {
        "table": table,
        "batch": table.to_batches()[0],
        "reader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches()),
        "batches": iter(table.to_batches()),
        "tables": [table],
        "c-stream": _CStream(table),
    }
    source = record_batches(inputs[kind])
    result = pa.Table.from_batches(list(source))
    assert result.schema.names == ["timestamp", "kWh", "asset_id"]
    assert result.schema.field("timestamp").type == TIMESTAMP_TYPE
    assert result.schema.field("kWh").type == pa.float64()
    assert result.schema.field("asset_id").type == pa.string()
    assert result.column("timestamp").to_pylist()[1] == dt.datetime(1970, 1, 1, 0, 5,
                                                                      tzinfo=UTC)
    if kind in ("table", "batch", "reader", "c-stream"):
        assert source.schema.names == ["timestamp", "kWh", "asset_id"]


class _CStream:
    """An object that only speaks the Arrow C stream protocol (like a polars frame)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema=None):
        return self._table.__arrow_c_stream__(requested_schema)


def test_a_batch_stream_with_a_schema_attribute_announces_its_columns():
    table = pa.table({"timestamp": pa.array([0], TIMESTAMP_TYPE), "kWh": [1.0]})

    class Stream:
        schema = table.schema

        def __iter__(self):
            return iter(table.to_batches())

    assert record_batches(Stream()).columns == ["timestamp", "kWh"]
    empty = record_batches(_EmptyStream(table.schema))
    assert empty.columns == ["timestamp", "kWh"]


class _EmptyStream:
    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema

    def __iter__(self):
        return self

    def __next__(self):
        raise StopIteration


@pytest.mark.parametrize(("records", "words"), [
    ({"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0}, "Wrap a single record in a list"),
    ("records.csv", "got str"),
    (42, "got a builtins.int"),
    ([1, 2], "the first item is a builtins.int"),
    ([{"kWh": 1.0}, "oops"], "record 1 is str"),
])
def test_wrong_inputs_say_what_to_pass(records, words):
    with pytest.raises(OutputError) as caught:
        list(record_batches(records))
    assert words in str(caught.value)
    assert caught.value.code == "BAD_RECORDS"


def test_columns_named_twice_are_refused():
    batch = pa.RecordBatch.from_arrays([pa.array([1.0]), pa.array([2.0])], names=["kWh", "kWh"])
    with pytest.raises(OutputError, match="column 'kWh' appears twice"):
        conform_batch(batch)


def test_an_arrow_column_of_the_wrong_declared_type_is_refused():
    batch = pa.RecordBatch.from_pydict({"kWh": ["1.5", "x"]})
    with pytest.raises(OutputError) as caught:
        conform_batch(batch)
    assert caught.value.field == "kWh"
    assert "cannot be converted to a number" in str(caught.value)


def test_timestamps_in_a_declared_text_field_become_iso_text():
    batch = pa.RecordBatch.from_pydict({
        "settlement_period_start": pa.array([0], pa.timestamp("s", tz="UTC"))})
    assert conform_batch(batch).column(0).to_pylist() == ["1970-01-01T00:00:00Z"]
