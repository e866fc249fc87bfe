"""A write killed with SIGKILL at any moment leaves every partition with its old or new rows.

The writer runs in a child process. Most tests kill it at an exact commit step through the
private hook ``odse.writers.commit._HOOK`` (the child sets it and sends itself SIGKILL); one
kills it from outside at random moments. After each kill the lake must read back whole,
and the next write must clean up what the killed one left behind.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from odse import to_parquet
from odse.writers import commit

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

ROOT = Path(__file__).resolve().parent.parent
DAILY = ["asset_id", "year", "month", "day"]
OLD, NEW = 1.0, 100.0

CHILD = r"""
import json, os, signal, sys, time
import odse.writers.commit as commit
from odse import to_parquet

plan = json.loads(sys.argv[1])
seen = {}

def hook(step):
    seen[step] = seen.get(step, 0) + 1
    if step == plan.get("step") and seen[step] == plan.get("nth", 1):
        os.kill(os.getpid(), signal.SIGKILL)
    if step == "committed" and plan.get("sleep"):
        time.sleep(plan["sleep"])

commit._HOOK = hook
if plan.get("no_swap"):
    commit._can_swap = lambda: False
records = json.loads(open(plan["records"]).read())
print("writing", flush=True)
to_parquet(records, plan["lake"], partition_by=plan["partition_by"], mode=plan["mode"])
print("done", flush=True)
"""


def _records(kwh: float, days=range(1, 9), assets=("A", "B"), hours=range(6)) -> list[dict]:
    return [{"timestamp": f"2026-02-{day:02d}T{hour:02d}:00:00Z", "kWh": kwh + hour,
             "error_type": "normal", "asset_id": asset}
            for asset in assets for day in days for hour in hours]


def _run(tmp_path: Path, lake: Path, records: list[dict], mode: str = "merge", *,
         wait: bool = True, **plan) -> subprocess.Popen | subprocess.CompletedProcess:
    data = tmp_path / f"records-{random.random()}.json"
    data.write_text(json.dumps(records))
    plan = {"records": str(data), "lake": str(lake), "partition_by": DAILY, "mode": mode,
            **plan}
    command = [sys.executable, "-c", CHILD, json.dumps(plan)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def _partitions(lake: Path) -> dict[str, list[float]]:
    """Read every partition back (every file must be whole); return its kWh values."""
    result: dict[str, list[float]] = {}
    for path in sorted(lake.rglob("*.parquet")):
        table = pq.read_table(path)  # a torn file would fail here
        rel = str(path.parent.relative_to(lake))
        result.setdefault(rel, []).extend(table.column("kWh").to_pylist())
    return {rel: sorted(values) for rel, values in result.items()}


def _assert_whole(lake: Path, old: dict[str, list[float]], new: dict[str, list[float]]) -> None:
    found = _partitions(lake)
    for rel, values in found.items():
        assert values in (old.get(rel), new.get(rel)), f"{rel} is neither old nor new: {values}"
    for rel in old:
        assert rel in found, f"{rel} lost"
    # nothing in-flight is visible to a reader that globs every file under the root
    assert not [path for path in lake.rglob("*") if path.is_file()
                and not path.name.endswith(".parquet")]
    assert ds.dataset(lake, partitioning="hive").count_rows() == sum(map(len, found.values()))


def _expected(records: list[dict]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for record in records:
        day = record["timestamp"][8:10]
        rel = f"asset_id={record['asset_id']}/year=2026/month=02/day={day}"
        out.setdefault(rel, []).append(record["kWh"])
    return {rel: sorted(values) for rel, values in out.items()}


def _leftovers(tmp_path: Path) -> list[str]:
    return [name for name in os.listdir(tmp_path) if ".odse-" in name]


def test_killed_while_committing_a_new_lake(tmp_path):
    lake = tmp_path / "lake"
    new_rows = _records(NEW)
    done = _run(tmp_path, lake, new_rows, step="committed", nth=1)
    assert done.returncode == -signal.SIGKILL
    found = _partitions(lake)
    # a new asset's folder, with all its partitions, appears with one rename: killed right
    # after the first, asset A is there whole and asset B not at all
    assert sorted(found) == [rel for rel in sorted(_expected(new_rows)) if "asset_id=A" in rel]
    _assert_whole(lake, {}, _expected(new_rows))
    assert _leftovers(tmp_path)  # the killed write's staging, beside the root
    to_parquet(new_rows, lake, partition_by=DAILY)
    assert _partitions(lake) == _expected(new_rows)
    assert not _leftovers(tmp_path)


def test_killed_while_adding_new_days_beside_existing_ones(tmp_path):
    lake = tmp_path / "lake"
    old_rows = _records(OLD, days=range(1, 5))
    to_parquet(old_rows, lake, partition_by=DAILY)
    new_rows = _records(NEW, days=range(3, 9))  # days 3-4 merge, days 5-8 are new folders
    done = _run(tmp_path, lake, new_rows, step="committed", nth=7)
    assert done.returncode == -signal.SIGKILL
    _assert_whole(lake, _expected(old_rows), _expected(new_rows))
    assert len(_partitions(lake)) == 8 + 3  # 4 merged, then 3 of 8 new day folders
    to_parquet(new_rows, lake, partition_by=DAILY)
    assert len(_partitions(lake)) == 16
    assert not _leftovers(tmp_path)


@pytest.mark.parametrize("step", ["staged", "committed"])
def test_killed_while_merging_into_an_existing_lake(tmp_path, step):
    lake = tmp_path / "lake"
    old_rows, new_rows = _records(OLD), _records(NEW)
    to_parquet(old_rows, lake, partition_by=DAILY)
    done = _run(tmp_path, lake, new_rows, step=step, nth=7 if step == "committed" else 1)
    assert done.returncode == -signal.SIGKILL
    _assert_whole(lake, _expected(old_rows), _expected(new_rows))
    changed = sum(values == _expected(new_rows)[rel] for rel, values in _partitions(lake).items())
    assert changed == (7 if step == "committed" else 0)


@pytest.mark.parametrize("step", ["swapped", "committed"])
def test_killed_while_swapping_a_partition_of_several_files(tmp_path, step):
    lake = tmp_path / "lake"
    old_rows = _records(OLD, days=[9], assets=["A"])
    to_parquet(old_rows, lake, partition_by=DAILY, mode="append")
    to_parquet(old_rows, lake, partition_by=DAILY, mode="append")
    old = _partitions(lake)
    new_rows = _records(NEW, days=[9], assets=["A"])
    done = _run(tmp_path, lake, new_rows, mode="overwrite", step=step)
    assert done.returncode == -signal.SIGKILL
    _assert_whole(lake, old, _expected(new_rows))
    assert _partitions(lake) == _expected(new_rows)  # the swap happened before the kill
    to_parquet(_records(NEW, days=[10], assets=["A"]), lake, partition_by=DAILY)
    assert not _leftovers(tmp_path)


def test_killed_between_the_steps_of_a_journalled_replacement(tmp_path):
    lake = tmp_path / "lake"
    old_rows = _records(OLD, days=[9], assets=["A"])
    to_parquet(old_rows, lake, partition_by=DAILY, mode="append")
    to_parquet(old_rows, lake, partition_by=DAILY, mode="append")
    new_rows = _records(NEW, days=[9], assets=["A"])
    done = _run(tmp_path, lake, new_rows, mode="overwrite", step="replaced", no_swap=True)
    assert done.returncode == -signal.SIGKILL
    # the documented window: the new file is in place, one old file not yet deleted
    rel = "asset_id=A/year=2026/month=02/day=09"
    assert sorted(_partitions(lake)[rel]) == sorted(_expected(new_rows)[rel] + [
        OLD + hour for hour in range(6)])
    # the next write of the lake, even of another partition, finishes the replacement
    to_parquet(_records(NEW, days=[10], assets=["A"]), lake, partition_by=DAILY)
    assert _partitions(lake)[rel] == _expected(new_rows)[rel]
    assert not _leftovers(tmp_path)


def test_killed_before_a_journalled_replacement_changes_nothing(tmp_path, monkeypatch):
    lake = tmp_path / "lake"
    old_rows = _records(OLD, days=[9], assets=["A"])
    to_parquet(old_rows, lake, partition_by=DAILY, mode="append")
    to_parquet(old_rows, lake, partition_by=DAILY, mode="append")
    old = _partitions(lake)
    done = _run(tmp_path, lake, _records(NEW, days=[9], assets=["A"]), mode="overwrite",
                step="staged", no_swap=True)
    assert done.returncode == -signal.SIGKILL
    assert _partitions(lake) == old
    monkeypatch.setattr(commit, "_can_swap", lambda: False)
    to_parquet(_records(NEW, days=[10], assets=["A"]), lake, partition_by=DAILY)
    assert _partitions(lake)["asset_id=A/year=2026/month=02/day=09"] == old[
        "asset_id=A/year=2026/month=02/day=09"]


def test_killed_from_outside_at_a_random_moment(tmp_path):
    _kill_at_random_moments(tmp_path, rounds=1, seed=7)


@pytest.mark.slow
def test_killed_from_outside_at_many_random_moments(tmp_path):
    _kill_at_random_moments(tmp_path, rounds=6, seed=11)


def _kill_at_random_moments(tmp_path: Path, rounds: int, seed: int) -> None:
    lake = tmp_path / "lake"
    old_rows = _records(OLD, days=range(1, 21), assets=("A", "B", "C"))
    new_rows = _records(NEW, days=range(1, 21), assets=("A", "B", "C"))
    to_parquet(old_rows, lake, partition_by=DAILY)
    old, new = _expected(old_rows), _expected(new_rows)
    randomly = random.Random(seed)
    for _ in range(rounds):
        child = _run(tmp_path, lake, new_rows, wait=False, sleep=0.004)
        assert child.stdout.readline().strip() == "writing"
        time.sleep(randomly.uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        _assert_whole(lake, old, new)
        # back to the old data for the next round, through a normal write
        to_parquet(old_rows, lake, partition_by=DAILY, mode="overwrite")
        assert _partitions(lake) == old
    assert not _leftovers(tmp_path)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX locks")
def test_a_second_writer_waits_for_the_lake_lock(tmp_path):
    import fcntl

    lake = tmp_path / "lake"
    to_parquet(_records(OLD, days=[1]), lake, partition_by=DAILY)
    handle = os.open(lake, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # as a running odse write holds it
        child = _run(tmp_path, lake, _records(NEW, days=[1]), wait=False)
        assert child.stdout.readline().strip() == "writing"
        time.sleep(0.5)
        assert child.poll() is None  # still waiting
        assert _partitions(lake) == _expected(_records(OLD, days=[1]))
    finally:
        os.close(handle)  # releases the lock
    assert child.wait(timeout=60) == 0
    child.stdout.close()
    assert _partitions(lake) == _expected(_records(NEW, days=[1]))
