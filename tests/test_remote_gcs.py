"""gs:// both ways, against a GCS API served on 127.0.0.1 (gcp-storage-emulator).

Anonymous access with the endpoint in the URI's query, so that no credential lookup leaves
the machine: ``gs://anonymous@bucket/key?endpoint_override=127.0.0.1:PORT&scheme=http``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
from click.testing import CliRunner
from conftest import INCOMING

from odse.cli import cli

pytest.importorskip("gcp_storage_emulator")

BUCKET = "odse-gcs"


@pytest.fixture(scope="module")
def query():
    """The emulator on a free port of 127.0.0.1, for this module; the URI query to reach it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gcp_storage_emulator", "start", "--host=127.0.0.1",
         f"--port={port}", "--in-memory", f"--default-bucket={BUCKET}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the GCS emulator did not start") from None
                time.sleep(0.2)
        yield f"endpoint_override=127.0.0.1:{port}&scheme=http"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _uri(key: str, query: str) -> str:
    return f"gs://anonymous@{BUCKET}/{key}?{query}"


def test_transform_from_gcs_into_a_gcs_lake_and_validate_it(query):
    fs, path = pafs.FileSystem.from_uri(_uri("incoming/site_alpha.csv", query))
    with fs.open_output_stream(path) as stream:
        stream.write((INCOMING / "site_alpha.csv").read_bytes())
    lake = _uri("lake/energy", query)
    result = CliRunner().invoke(cli, ["transform", "-s", "huawei", "-i",
                                      _uri("incoming/site_alpha.csv", query), "--asset-id",
                                      "SITE-ALPHA", "-f", "parquet", "-o", lake])
    assert result.exit_code == 0, result.stderr
    assert "263 records written to gs://anonymous@odse-gcs/lake/energy?" in result.stderr
    table = ds.dataset(f"{BUCKET}/lake/energy", filesystem=fs, partitioning="hive").to_table()
    assert table.num_rows == 263
    checked = CliRunner().invoke(cli, ["validate", lake])
    assert checked.exit_code == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["total"] == report["passed"] == 263
