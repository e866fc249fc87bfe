"""URIs: pyarrow's filesystems first, fsspec for the schemes pyarrow lacks."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import INCOMING

from odse import to_json, transform
from odse.errors import InputError, OutputError
from odse.filesystems import from_uri, is_uri


def test_what_counts_as_a_uri():
    assert is_uri("s3://bucket/key") and is_uri("file:///tmp/x") and is_uri("abfs://c@a/x")
    assert not is_uri("C:\\data\\x.csv") and not is_uri("out/x.jsonl") and not is_uri(None)


def test_file_uris_read_and_write_like_paths(tmp_path):
    records = transform(f"file://{INCOMING / 'site_alpha.csv'}", "huawei", asset_id="A")
    assert len(records) == 263
    summary = to_json(records, f"file://{tmp_path / 'out.jsonl'}")
    assert summary.rows_written == 263
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 263


def test_a_scheme_pyarrow_lacks_goes_through_fsspec_or_says_how():
    if importlib.util.find_spec("fsspec") is None:
        with pytest.raises(ValueError, match="pip install fsspec"):
            from_uri("memory://odse/x.jsonl")
        with pytest.raises(OutputError, match="pip install fsspec"):
            to_json([{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0}], "memory://odse/x")
        with pytest.raises(InputError, match="pip install fsspec"):
            transform("memory://odse/x.csv", "huawei")
        return
    summary = to_json([{"timestamp": "2026-02-09T00:00:00Z", "kWh": 1.0,
                        "error_type": "normal"}], "memory://odse/x.jsonl")
    assert summary.rows_written == 1
    fs, path = from_uri("memory://odse/x.jsonl")
    with fs.open_input_stream(path) as stream:
        assert b'"kWh":1.0' in stream.read()
