"""The limits and the guards behind them, one by one (the corpus runs in test_hostile.py)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.fs as pafs
import pytest

import odse
from odse import limits, patterns
from odse.errors import MappingError, OdseError, ParameterError
from odse.mapping.source_text import parse_text
from odse.readers import csv_input
from odse.readers.json_input import check_depth, nesting_depth
from odse.writers.commit import OutputGroup, together

COLUMNS = {"timestamp": "Time", "kWh": "Energy"}


def _rows(n: int, start: int = 0) -> list[str]:
    return [f"2024-01-01 {(i // 60) % 24:02d}:{i % 60:02d},{i}\n" for i in range(start, start + n)]


# ----------------------------------------------------------------------------- JSON depth

@pytest.mark.parametrize(("text", "depth"), [
    (b'{"a": [1, {"b": [2]}]}', 4),
    (b'{"a": "[[[[[[", "b": ["]]]]"]}', 2),
    (b'{"a": "x\\"[[[[", "b": [["\\\\"]]}', 3),
    (b"[" * 700 + b"]" * 700, 700),
    (b'[{"x": "[{"}, ' + b"[" * 600 + b"]" * 600 + b"]", 601),
])
def test_nesting_depth(text: bytes, depth: int) -> None:
    found = nesting_depth(text, 512)
    assert found == depth if depth > 512 else found <= 512


def test_depth_error_names_the_limit_and_the_option() -> None:
    with pytest.raises(limits.LimitError) as caught:
        check_depth(b"[" * 1000 + b"]" * 1000, "deep.json")
    assert caught.value.exit_code == 3
    assert "deep.json nests 1,000 levels deep (limit json_depth=512)" in str(caught.value)
    assert "odse --limit json_depth=N" in str(caught.value)
    with limits.override(json_depth=2000):
        check_depth(b"[" * 1000 + b"]" * 1000, "deep.json")


def test_limit_names_are_checked() -> None:
    with pytest.raises(ParameterError, match="Did you mean 'json_depth'"):
        limits.parse(["json_dept=3"])
    with pytest.raises(ParameterError, match="at least 1"):
        limits.parse({"json_depth": "0"})


# ----------------------------------------------------------------------------- CSV guard

@pytest.fixture(params=[1 << 16, 64], ids=["one block", "64-byte reads"])
def small_reads(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(csv_input, "GUARD_MIN_READ", request.param)
    return request.param


def test_stray_quote_costs_its_line(small_reads: int) -> None:
    rows = _rows(300)
    rows[100] = '2024-01-01 01:40,"5.0\n'
    out = odse.transform("Time,Energy\n" + "".join(rows), column_map=COLUMNS)
    assert out.report.rows_read == 300
    assert len(out) == 299
    [reject] = out.rejects
    assert (reject.row, reject.location, reject.code) == (101, "line 102", "MALFORMED_ROW")
    assert reject.value == '2024-01-01 01:40,"5.0'
    assert "does not close within 50 lines (limit csv_quoted_lines)" in reject.reason


def test_quoted_cell_over_lines_is_kept(small_reads: int) -> None:
    rows = [r.rstrip("\n") + ",ok\n" for r in _rows(200)]
    rows[150] = '2024-01-01 02:30,5,"an alarm\ntext over\nthree lines"\n'
    out = odse.transform("Time,Energy,Note\n" + "".join(rows), column_map=COLUMNS)
    assert (out.report.rows_read, len(out), out.report.rows_rejected) == (200, 200, 0)


def test_line_past_the_byte_limit_is_a_reject(small_reads: int) -> None:
    rows = _rows(50)
    rows[20] = "2024-01-01 00:20," + "9" * 5000 + "\n"
    with limits.override(csv_line_bytes=1000):
        out = odse.transform("Time,Energy\n" + "".join(rows), column_map=COLUMNS)
    assert (out.report.rows_read, len(out)) == (50, 49)
    [reject] = out.rejects
    assert reject.location == "line 22"
    assert "longer than 1,000 bytes (limit csv_line_bytes)" in reject.reason
    assert len(reject.value) < 300 and "bytes" in reject.value


def test_invalid_utf8_line_is_a_reject() -> None:
    data = ("Time,Energy\n" + "".join(_rows(10))).encode().replace(b"00:03,3", b"00:03,3\xe9")
    out = odse.transform(data, column_map=COLUMNS)
    assert (out.report.rows_read, len(out)) == (10, 9)
    assert "not valid UTF-8 text (byte 0xe9" in out.rejects[0].reason


def test_cr_only_line_ends_are_an_input_error() -> None:
    data = ("Time,Energy\n" + "".join(_rows(5))).replace("\n", "\r").encode()
    with pytest.raises(odse.InputError, match="CR alone"):
        odse.transform(data, column_map=COLUMNS)


def test_reject_values_are_excerpts() -> None:
    out = odse.transform("Time,Energy\n2024-01-01 00:00," + "x" * 5000 + "\n",
                         column_map=COLUMNS)
    assert out.rejects[0].value.endswith("... (5000 characters in all)")
    assert len(out.rejects[0].value) < 250


# ----------------------------------------------------------------------------- specs

BOMB = "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n" for prev, name in
               zip("abcdefgh", "bcdefghi", strict=True))


def test_alias_bomb_is_measured_not_expanded() -> None:
    with pytest.raises(limits.LimitError, match="limit spec_nodes=200000"):
        parse_text("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + BOMB, "bomb.yaml")


def test_aliases_within_the_limit_still_load() -> None:
    text = parse_text("x: &a {k: 1}\ny: [*a, *a]\n")
    assert text.data == {"x": {"k": 1}, "y": [{"k": 1}, {"k": 1}]}


def test_recursive_anchor_and_deep_nesting() -> None:
    with pytest.raises(MappingError, match=r"alias \*a refers to the node that contains it"):
        parse_text("x: &a [1, *a]\n")
    with pytest.raises(limits.LimitError, match="nests more than 64 levels"):
        parse_text("x: " + "[" * 100 + "]" * 100 + "\n")


@pytest.mark.parametrize(("pattern", "why"), [
    ("(?=a)b", "lookahead"), ("(?<!a)b", "negative lookbehind"), (r"(a)\1", "backreferences"),
    ("(a", "missing )"),
])
def test_regex_features_re2_cannot_run(pattern: str, why: str) -> None:
    assert why in patterns.problem(pattern)
    assert patterns.problem(r"^(a+)+$") is None
    assert patterns.search(["a" * 40 + "!", "aaa"], r"^(a+)+$") == [False, True]


@pytest.mark.parametrize("interval", [".inf", ".nan", "1.0e+400", "1.0e-300"])
def test_absurd_intervals_are_load_errors(interval: str) -> None:
    spec = (f"odse_mapping: 1\nname: x\nformat: csv\ninterval: {interval}\nfields:\n"
            "  timestamp: {column: Time}\n  kWh: {column: P, unit: kW, measure: power}\n"
            "  error_type: {const: normal}\n")
    with pytest.raises(MappingError, match="interval must be"):
        odse.load_mapping(spec)


# ----------------------------------------------------------------------------- outputs

def test_outputs_commit_together_or_not_at_all(tmp_path) -> None:
    records, rejects = tmp_path / "r.jsonl", tmp_path / "rej.csv"
    records.write_text("old records\n")
    rejects.write_text("old rejects\n")
    with pytest.raises(RuntimeError), together():
        odse.to_json([{"timestamp": "2024-01-01T00:00:00Z", "kWh": 1.0,
                       "error_type": "normal"}], str(records))
        raise RuntimeError("the run failed after the records were written")
    assert records.read_text() == "old records\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl", "rej.csv"]


def test_a_failed_rename_puts_back_the_ones_done(tmp_path) -> None:
    fs = pafs.LocalFileSystem()
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a")
    (tmp_path / "a.tmp").write_text("new a")
    group = OutputGroup()
    group.stage(fs, str(tmp_path / "a.tmp"), str(first), "a.txt")
    group.stage(fs, str(tmp_path / "missing.tmp"), str(second), "b.txt")
    with pytest.raises(OdseError, match="commit the outputs"):
        group.commit()
    assert first.read_text() == "old a"
    assert not second.exists()


def test_cli_rejects_that_cannot_be_written_leave_the_records(tmp_path) -> None:
    from click.testing import CliRunner

    from odse.cli import cli

    source = tmp_path / "in.csv"
    source.write_text("Time,Energy\n2024-01-01 00:00,1\n2024-01-01 00:05,x\n")
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    (tmp_path / "rej.csv").mkdir()
    result = CliRunner().invoke(cli, ["transform", "--column-map", "timestamp=Time,kWh=Energy",
                                      "-i", str(source), "-o", str(out), "--rejects",
                                      str(tmp_path / "rej.csv")])
    assert result.exit_code == 3, result.output
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_lone_surrogates_fail_validation() -> None:
    result = odse.validate_batch([{"timestamp": "2024-01-01T00:00:00Z", "kWh": 1.0,
                                   "error_type": "normal", "asset_id": "\ud800"}])
    assert result.valid == 0
    assert "not valid Unicode" in result.errors[0][1].message


def test_gzip_past_its_ratio_is_an_input_error(tmp_path) -> None:
    import gzip

    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"Time,Energy\n" + b"0" * (4 << 20))
    with limits.override(gzip_floor=1 << 20), pytest.raises(limits.LimitError) as caught:
        odse.transform(path, column_map=COLUMNS)
    assert "limit gzip_ratio=200" in str(caught.value)
    assert pa is not None and io is not None
