"""enrich(): market context added in place to dicts, as new columns to Arrow data."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from odse import enrich, validate_batch
from odse.errors import ParameterError

CONTEXT = {"seller_party_id": "nersa:gen:SOLARPK-001", "settlement_type": "bilateral",
           "tariff_currency": "ZAR"}


def rows() -> list[dict[str, Any]]:
    return [{"timestamp": "2026-02-09T12:00:00Z", "kWh": 1.0, "error_type": "normal"},
            {"timestamp": "2026-02-09T12:05:00Z", "kWh": 2.0, "error_type": "normal",
             "seller_party_id": "nersa:gen:OWN-1"}]


def test_in_place_and_the_same_list() -> None:  # EN-1, EN-8
    given = rows()
    first = given[0]
    result = enrich(given, CONTEXT)
    assert result is given
    assert result[0] is first
    assert all(r["settlement_type"] == "bilateral" and r["tariff_currency"] == "ZAR"
               for r in result)


def test_existing_keys_win_unless_override() -> None:  # EN-2, EN-3
    kept = enrich(rows(), CONTEXT)
    assert [r["seller_party_id"] for r in kept] == ["nersa:gen:SOLARPK-001",
                                                     "nersa:gen:OWN-1"]
    replaced = enrich(rows(), CONTEXT, override=True)
    assert [r["seller_party_id"] for r in replaced] == ["nersa:gen:SOLARPK-001"] * 2


def test_an_existing_none_also_wins() -> None:
    given = [{"seller_party_id": None}]
    assert enrich(given, CONTEXT)[0]["seller_party_id"] is None


@pytest.mark.parametrize("context", [None, {}])
def test_no_context_changes_nothing(context: Any) -> None:  # EN-4
    given = rows()
    before = [dict(r) for r in given]
    assert enrich(given, context) is given
    assert given == before


def test_empty_rows() -> None:  # EN-5
    empty: list[dict[str, Any]] = []
    assert enrich(empty, CONTEXT) is empty
    assert empty == []


def test_any_key_is_accepted() -> None:  # EN-6, topology keys are not record fields
    given = enrich(rows(), {"feeder_id": "F-12", "voltage_level": "MV", "x": [1]})
    assert given[1]["feeder_id"] == "F-12"
    assert given[1]["x"] == [1]


def test_override_is_keyword_only() -> None:  # EN-7
    with pytest.raises(TypeError):
        enrich(rows(), CONTEXT, True)  # type: ignore[misc]


def test_mutable_values_are_copied_per_record() -> None:  # EN-10, decided: copied
    given = enrich(rows(), {"tags": ["a"], "meta": {"k": 1}})
    given[0]["tags"].append("b")
    given[0]["meta"]["k"] = 2
    assert given[1]["tags"] == ["a"]
    assert given[1]["meta"] == {"k": 1}


def test_order_of_keys_existing_first_then_context() -> None:
    [record] = enrich([{"kWh": 1.0, "error_type": "normal"}], {"b": 1, "a": 2})
    assert list(record) == ["kWh", "error_type", "b", "a"]


def test_enriched_records_validate_against_a_profile() -> None:
    context = {**CONTEXT, "buyer_party_id": "nersa:offtaker:MUN042",
               "settlement_period_start": "2026-02-18T14:00:00+02:00",
               "settlement_period_end": "2026-02-18T14:30:00+02:00",
               "contract_reference": "PPA-001"}
    result = validate_batch(enrich(rows(), context), profile="bilateral")
    assert result.summary == "2/2 valid (schema)"


def test_a_stream_is_enriched_lazily() -> None:
    seen = []

    def source() -> Any:
        for r in rows():
            seen.append(r["kWh"])
            yield r

    stream = enrich(source(), CONTEXT)
    assert seen == []
    assert [r["settlement_type"] for r in stream] == ["bilateral", "bilateral"]


def test_bad_arguments() -> None:
    with pytest.raises(ParameterError, match="context must be a mapping of field names to "
                                             "values, got list"):
        enrich(rows(), [("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="context keys must be field names \\(str\\), "
                                             "got 1"):
        enrich(rows(), {1: "a"})  # type: ignore[dict-item]
    with pytest.raises(ParameterError, match="needs dicts, got int"):
        enrich([1], CONTEXT)
    with pytest.raises(ParameterError, match="needs a list of records or Arrow data, got str"):
        enrich("rows", CONTEXT)


# ---- Arrow --------------------------------------------------------------------------------------

def table() -> pa.Table:
    return pa.table({"kWh": [1.0, 2.0],
                     "seller_party_id": pa.array([None, "nersa:gen:OWN-1"], pa.string())})


def test_a_table_gives_a_new_table_typed_by_the_schema() -> None:
    given = table()
    result = enrich(given, {**CONTEXT, "loss_factor": 0.03, "soc": 50, "feeder_id": "F-1"})
    assert result is not given
    assert given.num_columns == 2
    assert result.schema.field("loss_factor").type == pa.float64()
    assert result.schema.field("soc").type == pa.float64()  # declared a number: float64
    assert result.schema.field("feeder_id").type == pa.string()
    # null means absent in Arrow: it is filled, a value is kept
    assert result.column("seller_party_id").to_pylist() == ["nersa:gen:SOLARPK-001",
                                                            "nersa:gen:OWN-1"]
    assert result.column("settlement_type").to_pylist() == ["bilateral", "bilateral"]


def test_a_table_with_override() -> None:
    result = enrich(table(), CONTEXT, override=True)
    assert result.column("seller_party_id").to_pylist() == ["nersa:gen:SOLARPK-001"] * 2


def test_a_value_of_another_type_keeps_its_own_type() -> None:
    # enrich does not validate; validate_batch then reports the TYPE_MISMATCH
    result = enrich(table(), {"soc": "high"})
    assert result.schema.field("soc").type == pa.string()


def test_filling_a_column_with_a_value_it_cannot_hold() -> None:
    with pytest.raises(ParameterError) as info:
        enrich(pa.table({"kWh": pa.array([None, 1.0])}), {"kWh": "lots"})
    assert str(info.value) == ("enrich() cannot fill the double column 'kWh' with 'lots'. Pass "
                               "a value of the column's type, or override=True to replace the "
                               "column")


def test_a_record_batch_gives_a_record_batch() -> None:
    batch = table().to_batches()[0]
    result = enrich(batch, CONTEXT)
    assert isinstance(result, pa.RecordBatch)
    assert result.num_rows == 2
    assert result.column("tariff_currency").to_pylist() == ["ZAR", "ZAR"]


def test_an_empty_table_gets_typed_empty_columns() -> None:
    result = enrich(table().slice(0, 0), CONTEXT)
    assert result.num_rows == 0
    assert result.schema.field("settlement_type").type == pa.string()


def test_a_reader_gives_a_reader_and_a_stream_of_batches_a_stream() -> None:
    batches = table().to_batches()
    reader = pa.RecordBatchReader.from_batches(table().schema, batches)
    result = enrich(reader, CONTEXT)
    assert isinstance(result, pa.RecordBatchReader)
    assert result.read_all().column("settlement_type").to_pylist() == ["bilateral"] * 2
    [batch] = list(enrich(iter(batches), CONTEXT))
    assert batch.column("tariff_currency").to_pylist() == ["ZAR", "ZAR"]


def test_a_tuple_of_dicts_is_changed_in_place() -> None:
    given = tuple(rows())
    assert enrich(given, CONTEXT) is given
    assert given[0]["settlement_type"] == "bilateral"
