"""The example scripts (the guide's snippets with their paths replaced) run as written."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("examples") / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("out", "__pycache__"))
    return target


def run(workdir: Path, script: str) -> str:
    done = subprocess.run([sys.executable, script], cwd=workdir, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_step1(workdir):
    out = run(workdir, "step1_transform.py")
    assert "huawei: 264 rows read, 263 records, 1 rows rejected" in out
    assert "line 178: kWh from 'power': value 'N/A'" in out


def test_step2_validate(workdir):
    out = run(workdir, "step2_validate.py")
    assert "263/263 valid (schema)" in out
    assert "263/263 valid (semantic)" in out


def test_step3_enrich(workdir):
    assert run(workdir, "step3_enrich.py").startswith("True {")


def test_step4_write(workdir):
    out = run(workdir, "step4_write.py")
    assert "lake/energy/asset_id=SITE-ALPHA/year=2026/month=02/day=09/part-00000.parquet" in out
    assert (workdir / "out" / "archive" / "2026-02-09.jsonl").exists()
    assert (workdir / "out" / "export" / "2026-02-09.csv").exists()


def test_complete_batch_pipeline(workdir):
    out = run(workdir, "pipeline.py")
    assert "SITE-ALPHA: 263/263 valid (semantic)" in out
    assert "SITE-BETA: 288/288 valid (semantic)" in out
    assert "SITE-GAMMA: 288/288 valid (semantic)" in out
    assert "Wrote 839 records to Parquet" in out
    assert "asset_id=SITE-GAMMA/year=2026/month=02/day=09/part-00000.parquet" in out


def test_streaming(workdir):
    assert "wrote 263 records" in run(workdir, "streaming.py")


def test_incremental_twice(workdir):
    assert "Wrote 263 new records" in run(workdir, "incremental.py")
    assert "No new records" in run(workdir, "incremental.py")


def odse_run(workdir: Path, spec: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "odse", "run", spec, *args], cwd=workdir,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"{spec} failed:\n{done.stdout}\n{done.stderr}"
    return done


def test_batch_pipeline_spec(workdir):
    # the same records as pipeline.py, from a dozen lines of YAML
    err = odse_run(workdir, "pipeline.yaml").stderr
    assert "SITE-ALPHA: 1 ingested, 0 skipped; 264 rows read, 263 records" in err
    assert "ingested 3 of 6 files, skipped 3; 840 rows read, 839 records written" in err
    assert "skipped 6" in odse_run(workdir, "pipeline.yaml").stderr
    dry = odse_run(workdir, "pipeline.yaml", "--dry-run").stdout
    assert "skip    site_alpha.csv  (site 'site_alpha' is not in the sites table)" in dry


def test_multi_format_spec(workdir):
    err = odse_run(workdir, "multi_format.yaml").stderr
    assert "alpha: 1 ingested" in err and "beta: 1 ingested" in err
    assert "ingested 2 of 6 files, skipped 4; 552 rows read, 551 records written" in err


def test_incremental_spec_twice(workdir):
    assert "SITE-001: 1 ingested" in odse_run(workdir, "incremental.yaml").stderr
    assert "ingested 0 of 1 files, skipped 1" in odse_run(workdir, "incremental.yaml").stderr
