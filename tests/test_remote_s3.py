"""Remote storage both ways, against a real S3 API served on 127.0.0.1 (moto's server).

The endpoint and credentials reach odse the way S3 users set them: ``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``; nothing in the URIs.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
from click.testing import CliRunner
from conftest import INCOMING

from odse import to_parquet, transform
from odse.cli import cli

pytest.importorskip("moto.server")

BUCKET = "odse-test"
ALPHA = INCOMING / "site_alpha.csv"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def endpoint():
    """A moto S3 server on 127.0.0.1, started for this module and stopped after it."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the moto S3 server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3(endpoint, monkeypatch) -> pafs.S3FileSystem:
    """The standard AWS settings pointing at the local server; a fresh, empty bucket."""
    for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    fs, _ = pafs.FileSystem.from_uri(f"s3://{BUCKET}?allow_bucket_creation=true")
    fs.create_dir(BUCKET)
    fs.delete_dir_contents(BUCKET)
    return fs


def _put(fs: pafs.FileSystem, key: str, data: bytes) -> str:
    with fs.open_output_stream(f"{BUCKET}/{key}") as stream:
        stream.write(data)
    return f"s3://{BUCKET}/{key}"


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_transform_from_s3_into_an_s3_lake_and_validate_it_there(s3):
    source = _put(s3, "incoming/site_alpha.csv", ALPHA.read_bytes())
    lake = f"s3://{BUCKET}/lake/energy/"
    result = _run("transform", "-s", "huawei", "-i", source, "--asset-id", "SITE-ALPHA",
                  "-o", lake)
    assert result.exit_code == 0, result.stderr
    assert f"odse: {source} (huawei): 264 rows read, 263 records written to {lake}" \
        in result.stderr
    files = sorted(info.path for info in s3.get_file_info(
        pafs.FileSelector(f"{BUCKET}/lake/energy", recursive=True))
        if info.type == pafs.FileType.File)
    assert files == [f"{BUCKET}/lake/energy/asset_id=SITE-ALPHA/year=2026/month=02/day=09/"
                     "part-00000.parquet"]
    table = ds.dataset(f"{BUCKET}/lake/energy", filesystem=s3, partitioning="hive").to_table()
    assert table.num_rows == 263
    assert set(table.column("asset_id").to_pylist()) == {"SITE-ALPHA"}
    # a re-run merges: still 263 rows
    assert _run("transform", "-s", "huawei", "-i", source, "--asset-id", "SITE-ALPHA",
                "-o", lake).exit_code == 0
    assert ds.dataset(f"{BUCKET}/lake/energy", filesystem=s3).count_rows() == 263

    checked = _run("validate", lake)
    assert checked.exit_code == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["total"] == report["passed"] == 263


def test_transform_to_an_s3_file_and_validate_the_file(s3):
    source = _put(s3, "incoming/site_alpha.csv", ALPHA.read_bytes())
    target = f"s3://{BUCKET}/out/alpha.jsonl"
    result = _run("transform", "-s", "huawei", "-i", source, "--asset-id", "A", "-o", target)
    assert result.exit_code == 0, result.stderr
    with s3.open_input_stream(f"{BUCKET}/out/alpha.jsonl") as stream:
        assert len(stream.read().splitlines()) == 263
    checked = _run("validate", target)
    assert checked.exit_code == 0, checked.stderr
    assert json.loads(checked.stdout)["total"] == 263


def test_the_python_api_reads_and_writes_s3_uris(s3):
    source = _put(s3, "incoming/site_alpha.csv", ALPHA.read_bytes())
    records = transform(source, "huawei", asset_id="A")
    assert len(records) == 263
    summary = to_parquet(records, f"s3://{BUCKET}/api-lake", partition_by=["asset_id"])
    assert summary.rows_written == 263
    assert ds.dataset(f"{BUCKET}/api-lake", filesystem=s3).count_rows() == 263


def test_a_missing_s3_object_is_named_whole(s3):
    missing = f"s3://{BUCKET}/incoming/nothing.csv"
    result = _run("transform", "-s", "huawei", "-i", missing, "-o", "-")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"Error: file not found: {missing}")
    result = _run("validate", missing)
    assert result.exit_code == 3
    assert f"Error: file not found: {missing}" in result.stderr


def test_delta_tables_on_s3_merge_with_the_same_settings(s3):
    deltalake = pytest.importorskip("deltalake")
    from odse import to_delta

    source = _put(s3, "incoming/site_alpha.csv", ALPHA.read_bytes())
    table = f"s3://{BUCKET}/delta/energy"
    for _ in range(2):
        result = _run("transform", "-s", "huawei", "-i", source, "--asset-id", "SITE-ALPHA",
                      "-f", "delta", "-o", table)
        assert result.exit_code == 0, result.stderr
    summary = to_delta(transform(source, "huawei", asset_id="SITE-BETA"), table,
                       partition_by=["asset_id", "year", "month", "day"])
    assert summary.rows_written == 263
    read = deltalake.DeltaTable(table, storage_options={"AWS_ALLOW_HTTP": "true"})
    assert read.to_pyarrow_table().num_rows == 2 * 263
