"""The fleet pipeline on Spark: ``odse run --engine spark`` against ``odse run -j 2``.

Run from the repository root with this checkout's venv (pyspark and a Java runtime)::

    .venv/bin/python benchmarks/fleet_spark.py                   # 40 sites x 30 days, 3 rounds
    .venv/bin/python benchmarks/fleet_spark.py --sites 40 --days 5 --repeat 1

It generates the fleet of ``benchmarks/fleet.py`` (``tools/gen_fleet.py``), runs the same
pipeline spec (transform, the lake partitioned by asset_id/year/month/day) as whole
processes, interleaved round by round, each on a fresh lake: ``odse run -j 2``, ``odse run
--engine spark --master local[2]``, and a re-run of the latter with nothing new. It prints
wall time, files per second and the CPU of the whole process tree (the JVM and Spark's Python
workers are not reaped by the command, so their CPU is sampled from ``/proc`` every 0.1 s),
and checks that the two engines wrote the same lake (sorted tables, run ids aside).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fleet  # noqa: E402 - the benchmark folder is not a package
import run as suite  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        found.append(parent)
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return found


def _cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def run_tree(argv: list[str]) -> tuple[float, float, int, str]:
    """Run a command; return (wall s, CPU s of it and every descendant, exit code, stderr)."""
    seen: dict[int, float] = {}
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        while proc.poll() is None:
            for pid in _descendants(proc.pid):
                cpu = _cpu(pid)
                if cpu is not None:
                    seen[pid] = max(cpu, seen.get(pid, 0.0))
            time.sleep(0.1)
        wall = time.perf_counter() - started
        err.seek(0)
        text = err.read().decode(errors="replace")
    return wall, sum(seen.values()), proc.returncode, text


def same_lakes(a: Path, b: Path) -> tuple[int, bool]:
    import pyarrow.dataset as ds

    tables = []
    for root in (a, b):
        table = ds.dataset(root, partitioning="hive").to_table()
        tables.append(table.sort_by([(n, "ascending") for n in table.column_names]))
    return tables[0].num_rows, tables[0].equals(tables[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    suite.compile_bytecode()
    where = fleet.make_fleet(args.sites, args.days)
    files = len(list((where / "incoming").rglob("*.*")))
    scratch = suite.default_scratch()
    cli = Path(sys.executable).with_name("odse")
    odse = [str(cli)] if cli.exists() else [sys.executable, "-m", "odse"]
    times: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    names = ("odse run -j 2", "odse run --engine spark --master local[2]",
             "re-run on spark, nothing new")
    before = fleet.load()
    verdict = (0, False)
    for round_no in range(args.repeat):
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        lakes = {"local": scratch / "local", "spark": scratch / "spark"}
        specs = {k: fleet.spec_for(where, v, False) for k, v in lakes.items()}
        cases = {
            names[0]: [*odse, "run", str(specs["local"]), "-q", "-j", "2"],
            names[1]: [*odse, "run", str(specs["spark"]), "-q", "--engine", "spark",
                       "--master", "local[2]"],
        }
        order = list(cases)[::-1] if round_no % 2 else list(cases)
        for name in order:
            wall, cpu, code, err = run_tree(cases[name])
            if code != 0:
                print(f"{name} failed ({code}):\n{err[-2000:]}", file=sys.stderr)
                return 1
            times.setdefault(name, []).append(wall)
            cpus.setdefault(name, []).append(cpu)
        wall, cpu, code, err = run_tree(cases[names[1]])
        if code != 0 or "ingested 0 of" not in err:
            print(f"the re-run did not skip everything:\n{err[-2000:]}", file=sys.stderr)
            return 1
        times.setdefault(names[2], []).append(wall)
        cpus.setdefault(names[2], []).append(cpu)
        verdict = same_lakes(lakes["local"], lakes["spark"])
        print(f"round {round_no + 1}: " + ", ".join(
            f"{name} {times[name][-1]:.2f} s" for name in names), file=sys.stderr)
    after = fleet.load()
    print(f"\nFleet: {args.sites} sites x {args.days} days = {files} files; {args.repeat} "
          f"round(s), medians; load average before {before}, after {after}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| run | wall s (median) | files/s | CPU s, process tree | runs |")
    print("|---|---:|---:|---:|---|")
    for name in names:
        wall = statistics.median(times[name])
        rate = f"{files / wall:.0f}" if "nothing new" not in name else "-"
        print(f"| {name} | {wall:.2f} | {rate} | {statistics.median(cpus[name]):.2f} | "
              + ", ".join(f"{t:.2f}" for t in times[name]) + " |")
    rows, same = verdict
    print(f"\n- the same lake from both engines: {same} ({rows} records, sorted tables)")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
