"""Numbers past float64's exact range, as written; the nesting measure's two paths."""

from __future__ import annotations

import pyarrow as pa
import pytest

import odse
from odse.engine.convert import to_text
from odse.readers.json_input import nesting_depth

COLUMNS = {"timestamp": "Time", "kWh": "Energy"}


def test_integers_from_two_to_the_53_are_rejected_as_written_but_that_one(tmp_path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("Time,Energy\n2024-01-01 00:00,9007199254740993\n"
                    "2024-01-01 00:05,9007199254740992\n2024-01-01 00:10,-09007199254740994\n"
                    "2024-01-01 00:15,9007199254740993.0\n")
    out = odse.transform(path, column_map=COLUMNS)
    rejects = out.report.rejects_table.select(["value", "code"]).to_pylist()
    assert rejects == [{"value": "9007199254740993", "code": "NOT_EXACT"},
                       {"value": "-09007199254740994", "code": "NOT_EXACT"}]
    # 2^53 is exact; a number with a fraction is read to the nearest float64 (documented)
    assert [r["kWh"] for r in out] == [2.0 ** 53, 2.0 ** 53]


def test_a_json_document_typed_as_float_is_read_again_as_written(tmp_path) -> None:
    path = tmp_path / "env.json"
    path.write_text('{"production": [{"end_at": 1700000000, "wh_del": 1.5e400},'
                    '{"end_at": 1700000300, "wh_del": 9007199254740993.5},'
                    '{"end_at": 1700000600, "wh_del": 10}]}')
    out = odse.transform(path, source="enphase")
    rejects = out.report.rejects_table.select(["column", "value", "code"]).to_pylist()
    assert rejects == [{"column": "wh_del", "value": "1.5e400", "code": "NOT_FINITE"}]
    assert [r["kWh"] for r in out] == [9007199254740.994, 0.01]


def test_big_floats_show_as_floats_not_as_the_smallest_int64() -> None:
    values = pa.array([1e20, -1e19, 2.0 ** 53, 5.0, float("inf"), None])
    assert to_text(values).to_pylist() == ["1e+20", "-1e+19", "9007199254740992", "5",
                                           "inf", None]


@pytest.mark.parametrize(("raw", "depth"), [
    (b'{"a": [1, {"b": [2]}], "c": "x"}', 4),          # no bracket in a string: counts only
    (b'[{' * 300 + b'}]' * 300, 600),                  # one pass takes one level, not two
    (b'{"a": "[[[[[[", "b": [[1]]}', 3),               # brackets in a string: parity pass
    (b'["]]]]]]]", [[[[]]]]]', 5),
    (b'["\\"[[", [[]], ""]', 3),                        # an escaped quote
    (b'[' * 700 + b'"x"' + b']' * 700, 700),
    (b'[' * 700 + b'"[x"' + b']' * 700, 700),
])
def test_nesting_depth_with_and_without_brackets_in_strings(raw: bytes, depth: int) -> None:
    assert nesting_depth(raw, 512) == depth if depth > 512 else nesting_depth(raw, 512) <= 512
    assert nesting_depth(raw, 0) == depth


def _line(i: int, power: object) -> str:
    return (f'{{"inverterSN": "A", "acpower": {power}, "yieldtoday": {i}.5, '
            f'"inverterStatus": 102, "uploadTime": "2024-06-01 '
            f'{i // 12:02d}:{5 * (i % 12):02d}:00"}}\n')


def test_json_lines_sorted_by_time_read_again_as_written(tmp_path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text(_line(0, 3000) + _line(1, 2 ** 53 + 1) + _line(2, 3100))
    out = odse.transform(path, source="solaxcloud")       # order: time, a counter
    rejects = out.report.rejects_table.select(["row", "column", "value", "code"]).to_pylist()
    assert rejects == [{"row": 2, "column": "acpower", "value": str(2 ** 53 + 1),
                        "code": "NOT_EXACT"}]
    assert [r.get("kW") for r in out] == [None, 3.1]


def test_json_lines_read_as_text_from_the_block_that_needs_it(tmp_path, monkeypatch) -> None:
    from odse.readers import json_input

    monkeypatch.setattr(json_input, "LINES_BLOCK", 1 << 10)   # several blocks
    lines = [_line(i, f"{1000 + i}.5") for i in range(60)]   # floats: Arrow reads float64
    lines[45] = _line(45, "1" + "0" * 30)
    path = tmp_path / "log.jsonl"
    path.write_text("".join(lines))
    spec = ("odse_mapping: 1\nname: e\nformat: jsonl\njson: {records: '@'}\nfields:\n"
            "  error_type: {const: normal}\n  timestamp: {column: uploadTime}\n"
            "  kWh: {column: acpower}\n")
    again = []
    real = json_input.lines_as_text
    monkeypatch.setattr(json_input, "lines_as_text",
                        lambda data, skip=0: again.append(skip) or real(data, skip))
    out = odse.transform(path, mapping=spec)
    assert len(again) == 1 and 0 < again[0] <= 45   # from the block holding line 46 on
    rejects = out.report.rejects_table.select(["row", "value", "code"]).to_pylist()
    assert rejects == [{"row": 46, "value": "1" + "0" * 30, "code": "NOT_EXACT"}]
    assert out.report.rows_read == 60 and len(out) == 59
    assert [r["kWh"] for r in out][44:46] == [1044.5, 1046.5]
