"""validate_batch: counts, the summary line, warnings kept apart, and every Arrow input kind."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from odse import BatchValidationResult, ValidationError, validate_batch
from odse.validation.results import summarize

GOOD = {"timestamp": "2026-02-09T12:00:00Z", "kWh": 0.5, "error_type": "normal",
        "asset_id": "SITE-ALPHA"}


def good(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def test_the_result_fields() -> None:
    records = [good(), good(kWh=-1.0), good(error_type="bad", PF=3)]
    result = validate_batch(records)
    assert isinstance(result, BatchValidationResult)
    assert (result.total, result.valid, result.invalid) == (3, 1, 2)
    assert result.errors == [
        (1, ValidationError("$.kWh", "kWh must be >= 0 unless direction is 'net', got -1.0",
                            "OUT_OF_BOUNDS")),
        (2, ValidationError("$.error_type", "error_type must be one of normal, warning, "
                            "critical, fault, offline, standby or unknown, got 'bad'",
                            "ENUM_MISMATCH")),
        (2, ValidationError("$.PF", "PF must be <= 1, got 3", "OUT_OF_BOUNDS")),
    ]
    assert result.warnings == []
    assert result.level == "schema"
    assert result.summary == "1/3 valid (schema), 3 errors: 1x ENUM_MISMATCH, 2x OUT_OF_BOUNDS"
    assert result.invalid_indices == [1, 2]
    assert result.valid_mask.to_pylist() == [True, False, False]


def test_an_empty_batch() -> None:
    result = validate_batch([])
    assert (result.total, result.valid, result.invalid, result.errors) == (0, 0, 0, [])
    assert result.summary == "0/0 valid (schema)"
    assert validate_batch(pa.table({"kWh": pa.array([], pa.float64())})).summary == \
        "0/0 valid (schema)"


def test_an_all_valid_batch_has_the_short_summary() -> None:
    assert validate_batch([good()] * 264).summary == "264/264 valid (schema)"


def test_warnings_are_kept_apart_and_never_invalidate() -> None:
    records = [good(timestamp=f"2026-02-09T12:{5 * i:02d}:00Z", kWh=k)
               for i, k in enumerate([0.5, 50.0, 0.5, 60.0])]
    records.append(good(kWh=-1.0))
    result = validate_batch(records, level="semantic", capacity_kw=10.0)
    assert (result.valid, result.invalid) == (4, 1)
    assert [i for i, _ in result.errors] == [4]
    assert [(i, w.code) for i, w in result.warnings] == [
        (1, "EXCEEDS_PHYSICAL_MAXIMUM"), (3, "EXCEEDS_PHYSICAL_MAXIMUM")]
    assert result.summary == ("4/5 valid (semantic), 1 error: 1x OUT_OF_BOUNDS; 2 warnings: "
                              "2x EXCEEDS_PHYSICAL_MAXIMUM")


def test_summary_forms() -> None:
    def err(code: str) -> ValidationError:
        return ValidationError("$", "m", code)

    assert summarize(264, 264, "schema", [], []) == "264/264 valid (schema)"
    assert summarize(262, 264, "semantic", [err("OUT_OF_BOUNDS")] * 2,
                     [err("EXCEEDS_PHYSICAL_MAXIMUM")] * 5) == (
        "262/264 valid (semantic), 2 errors: 2x OUT_OF_BOUNDS; 5 warnings: "
        "5x EXCEEDS_PHYSICAL_MAXIMUM")
    assert summarize(3, 3, "semantic", [], [err("NIGHTTIME_GENERATION")]) == (
        "3/3 valid (semantic); 1 warning: 1x NIGHTTIME_GENERATION")
    assert summarize(0, 1, "schema", [err("TYPE_MISMATCH"), err("ENUM_MISMATCH")], []) == (
        "0/1 valid (schema), 2 errors: 1x ENUM_MISMATCH, 1x TYPE_MISMATCH")


def test_the_guides_filter_drops_exactly_the_invalid_rows() -> None:
    rows = [good(), good(kWh="x"), good(), good(error_type=None)]
    result = validate_batch(rows)
    kept = [r for i, r in enumerate(rows) if i not in {idx for idx, _ in result.errors}]
    assert kept == [rows[0], rows[2]]


# ---- Arrow inputs ------------------------------------------------------------------------------

def arrow_table() -> pa.Table:
    utc = dt.timezone.utc
    return pa.table({
        "timestamp": pa.array([dt.datetime(2026, 2, 9, 12, 5 * i, tzinfo=utc) for i in range(4)],
                              pa.timestamp("us", tz="UTC")),
        "kWh": [0.5, -1.0, 0.7, 0.4],
        "error_type": ["normal", "normal", "offline", "normal"],
        "asset_id": ["SITE-ALPHA"] * 4,
    })


def codes_of(result: BatchValidationResult) -> list[tuple[int, str]]:
    return [(i, e.code) for i, e in result.errors]


def test_a_table() -> None:
    result = validate_batch(arrow_table())
    assert codes_of(result) == [(1, "OUT_OF_BOUNDS")]
    assert result.summary == "3/4 valid (schema), 1 error: 1x OUT_OF_BOUNDS"
    assert arrow_table().filter(result.valid_mask).num_rows == 3


def test_record_batches_and_readers() -> None:
    table = arrow_table()
    batches = table.to_batches(max_chunksize=3)
    assert len(batches) == 2
    for given in (batches[0], batches,
                  pa.RecordBatchReader.from_batches(table.schema, batches)):
        assert codes_of(validate_batch(given)) == [(1, "OUT_OF_BOUNDS")]


def test_a_chunked_table() -> None:
    table = pa.concat_tables([arrow_table().slice(0, 2), arrow_table().slice(2)])
    assert table.column("kWh").num_chunks == 2
    assert codes_of(validate_batch(table)) == [(1, "OUT_OF_BOUNDS")]


def test_objects_exporting_an_arrow_stream() -> None:
    polars = pytest.importorskip("polars")
    frame = polars.from_arrow(arrow_table())
    assert codes_of(validate_batch(frame)) == [(1, "OUT_OF_BOUNDS")]


def test_a_pandas_dataframe() -> None:
    pandas = pytest.importorskip("pandas")
    frame = arrow_table().to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert codes_of(validate_batch(frame)) == [(1, "OUT_OF_BOUNDS")]


def test_arrow_and_dicts_give_the_same_result() -> None:
    table = arrow_table()
    from_table = validate_batch(table, level="semantic", capacity_kw=5.0)
    rows = [{**r, "timestamp": r["timestamp"].isoformat().replace("+00:00", "Z")}
            for r in table.to_pylist()]
    from_dicts = validate_batch(rows, level="semantic", capacity_kw=5.0)
    assert from_table.errors == from_dicts.errors
    assert from_table.warnings == from_dicts.warnings
    assert from_table.summary == from_dicts.summary


def test_findings_render_when_read_and_behave_as_a_list() -> None:
    records = [{"timestamp": "2026-02-09T12:00:00Z", "kWh": -1.0, "error_type": "normal"},
               {"timestamp": "x", "kWh": 1.0, "error_type": "bad"}]
    result = validate_batch(records)
    errors = result.errors
    assert len(errors) == 3 and bool(errors)
    assert errors.counts() == {"PATTERN_MISMATCH": 1, "ENUM_MISMATCH": 1, "OUT_OF_BOUNDS": 1}
    assert [(i, e.code) for i, e in errors.head(2)] == [(0, "OUT_OF_BOUNDS"),  # field order
                                                       (1, "PATTERN_MISMATCH")]
    assert [(i, e.code) for i, e in errors.head(5, "PATTERN_MISMATCH")] == [
        (1, "PATTERN_MISMATCH")]
    as_list = list(errors)
    assert errors == as_list and errors[:2] == as_list[:2] and errors[-1] == as_list[-1]
    empty: list[Any] = []
    assert errors + result.warnings == as_list and empty + errors == as_list
    assert not result.warnings and result.warnings == []


def test_the_replacement_character_scan_looks_at_a_slice_s_own_text() -> None:
    import pyarrow as pa

    from odse.validation.checks import _may_hold_replacement

    text = pa.array(["ab", "c\ufffd", "de", None, "x"])
    assert _may_hold_replacement(text) and _may_hold_replacement(text.slice(1, 1))
    assert not _may_hold_replacement(text.slice(2)) and not _may_hold_replacement(
        text.slice(0, 1))
    assert not _may_hold_replacement(pa.chunked_array([text.slice(2), text.slice(0, 1)]))
    assert _may_hold_replacement(pa.array(["a\ufffd"], pa.large_string()))
    assert not _may_hold_replacement(pa.array([None, None], pa.string()))
