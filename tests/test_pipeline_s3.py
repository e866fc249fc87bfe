"""`odse run` over an s3:// prefix, on a real S3 API (moto's server on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

moto_server = pytest.importorskip("moto.server")
pafs = pytest.importorskip("pyarrow.fs")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
        monkeypatch.setenv(name, value)
    yield pafs.S3FileSystem(access_key="test", secret_key="test", region="us-east-1",
                            endpoint_override=f"127.0.0.1:{port}", scheme="http",
                            allow_bucket_creation=True)
    server.stop()


def test_run_over_an_s3_prefix(s3, tmp_path: Path):
    fleet = tmp_path / "fleet"
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_fleet.py"), str(fleet),
                    "--sites", "4", "--days", "2"], check=True, capture_output=True)
    s3.create_dir("exports")
    for path in sorted((fleet / "incoming").rglob("*.*")):
        rel = path.relative_to(fleet).as_posix()
        with s3.open_output_stream(f"exports/{rel}") as out:
            out.write(path.read_bytes())
    (tmp_path / "generic_mapping.yaml").write_bytes(
        (ROOT / "examples" / "fleet" / "generic_mapping.yaml").read_bytes())
    spec = (ROOT / "examples" / "fleet" / "pipeline.yaml").read_text()
    spec = spec.replace("path: incoming", "path: s3://exports/incoming")
    (tmp_path / "pipeline.yaml").write_text(spec)
    from odse.pipeline import read_log, run_pipeline

    first = run_pipeline(tmp_path / "pipeline.yaml", jobs=1)
    assert first.exit_code == 0, [o.error for o in first.failed]
    manifest = json.loads((fleet / "manifest.json").read_text())["files"]
    assert sum(o.records for o in first.outcomes) == sum(f["records"] for f in manifest.values())
    uris = sorted(read_log(str(tmp_path / "out" / "lake" / "energy")).latest())
    assert uris[0] == "s3://exports/incoming/enphase/FLEET-002/2026-01-01.json"
    again = run_pipeline(tmp_path / "pipeline.yaml", jobs=1)
    assert again.outcomes == [] and "skipped 8" in again.summary()


def test_lake_and_log_on_s3(s3, tmp_path: Path):
    fleet = tmp_path / "fleet"
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_fleet.py"), str(fleet),
                    "--sites", "4", "--days", "1"], check=True, capture_output=True)
    (fleet / "generic_mapping.yaml").write_bytes(
        (ROOT / "examples" / "fleet" / "generic_mapping.yaml").read_bytes())
    spec = (ROOT / "examples" / "fleet" / "pipeline.yaml").read_text()
    (fleet / "pipeline.yaml").write_text(spec.replace("path: out/lake/energy",
                                                      "path: s3://lake/fleet/energy"))
    s3.create_dir("lake")
    from odse.pipeline import read_log, run_pipeline

    first = run_pipeline(fleet / "pipeline.yaml", jobs=1)
    assert first.exit_code == 0, [o.error for o in first.failed]
    log = s3.get_file_info(pafs.FileSelector("lake/fleet/energy/_odse/ingest-log"))
    assert [info.base_name for info in log] == [f"{first.run_id}.jsonl"]
    assert len(read_log("s3://lake/fleet/energy").latest()) == 4
    assert run_pipeline(fleet / "pipeline.yaml", jobs=1).outcomes == []
