"""Fleet ingest benchmark: files per second of ``odse run`` against per-file loops.

Run from the repository root with this checkout's venv::

    .venv/bin/python benchmarks/fleet.py                    # 40 sites x 30 days, 3 rounds
    .venv/bin/python benchmarks/fleet.py --sites 8 --days 5 --repeat 1 --no-original

What it does:

1. generates the fleet with ``tools/gen_fleet.py`` under ``benchmarks/.work/fleet-<S>x<D>/``
   (Huawei CSV, Enphase JSON, SolarEdge JSON, generic CSV; one file per site and day);
2. writes a pipeline spec doing the same work as the loops (transform, write the lake
   partitioned by asset_id/year/month/day; no validation, enrichment or lineage), and uses
   the example spec ``examples/fleet/pipeline.yaml`` (schema validation, drop, enrichment,
   lineage) for one more row;
3. runs, as whole processes and interleaved round by round (each on a fresh lake):
   ``odse run -j 1``, ``odse run -j 2``, the example spec with ``-j 2``, a Python loop of
   ``odse.transform`` + ``odse.to_parquet`` per file (``fleet_loop.py``), the same loop under
   the original odse 0.12.0 (its venv is made by ``run.py``'s ``original_python``), and a
   re-run of ``odse run -j 2`` with nothing new;
4. prints a Markdown table of medians (wall time, files/s, CPU of the main process) with the
   load averages before and after, and the ratios the issue asks for.

The machine is shared: ``-j 2`` can only beat ``-j 1`` by what the other processes leave
free. Read the ratios beside the load averages.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import run as suite  # noqa: E402 - the benchmark folder is not a package

BENCH_SPEC = """\
odse_pipeline: 1
name: fleet-bench
inputs:
  - path: incoming
    pattern: "{vendor}/{asset_id}/{date}.{ext}"
sources:
  - {match: "huawei/*", source: huawei}
  - {match: "enphase/*", source: enphase, params: {expected_devices: 12}}
  - {match: "solaredge/*", source: solaredge}
  - {match: "generic/*", source: csv, mapping: generic_mapping.yaml}
timezone: "+02:00"
validation: {level: none}
output: {path: LAKE, partition_by: [asset_id, year, month, day]}
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def make_fleet(sites: int, days: int) -> Path:
    fleet = suite.WORK / f"fleet-{sites}x{days}"
    if not (fleet / "manifest.json").exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "gen_fleet.py"), str(fleet),
                        "--sites", str(sites), "--days", str(days)], check=True)
    shutil.copy(ROOT / "examples" / "fleet" / "generic_mapping.yaml", fleet)
    return fleet


def spec_for(fleet: Path, lake: Path, example: bool) -> Path:
    if example:
        text = (ROOT / "examples" / "fleet" / "pipeline.yaml").read_text(encoding="utf-8")
        text = text.replace("path: out/lake/energy", f"path: {lake}")
    else:
        text = BENCH_SPEC.replace("LAKE", str(lake))
    path = fleet / f"pipeline-{lake.name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-original", action="store_true")
    args = parser.parse_args(argv)
    suite.compile_bytecode()
    fleet = make_fleet(args.sites, args.days)
    files = len(list((fleet / "incoming").rglob("*.*")))
    original = None if args.no_original else suite.original_python(suite.WORK)
    scratch = suite.default_scratch()
    cli = Path(sys.executable).with_name("odse")
    odse = [str(cli)] if cli.exists() else [sys.executable, "-m", "odse"]
    loop = str(HERE / "fleet_loop.py")
    cases: dict[str, list[str] | None] = {}
    times: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    before = load()
    for round_no in range(args.repeat):
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        lake = {name: scratch / name for name in
                ("j1", "j2", "example", "loop", "original")}
        cases = {
            "odse run -j 1": [*odse, "run", str(spec_for(fleet, lake["j1"], False)), "-q",
                              "-j", "1"],
            "odse run -j 2": [*odse, "run", str(spec_for(fleet, lake["j2"], False)), "-q",
                              "-j", "2"],
            "re-run -j 2, nothing new": None,
            "example spec -j 2 (validate, lineage)": [
                *odse, "run", str(spec_for(fleet, lake["example"], True)), "-q", "-j", "2"],
            "loop: odse transform + to_parquet": [sys.executable, loop, str(fleet),
                                                  str(lake["loop"])],
        }
        if original is not None:
            cases["loop: original 0.12.0"] = [str(original), "-I", loop, str(fleet),
                                              str(lake["original"])]
        order = list(cases)
        if round_no % 2:  # interleave: alternate the order round by round
            order = order[::-1]
        for name in order:
            argv_ = cases[name]
            if argv_ is None:
                continue
            wall, cpu, _rss, code, _out, err = suite.run_process(
                argv_, cwd=suite.WORK if "original" in name else None)
            if code != 0:
                print(f"{name} failed ({code}):\n{err[-2000:]}", file=sys.stderr)
                return 1
            times.setdefault(name, []).append(wall)
            cpus.setdefault(name, []).append(cpu)
            if name == "odse run -j 2":
                again = [*odse, "run", str(spec_for(fleet, lake["j2"], False)), "-q", "-j", "2"]
                wall, cpu, _rss, code, _out, err = suite.run_process(again)
                if code != 0 or "ingested 0 of" not in err:
                    print(f"re-run did not skip everything:\n{err}", file=sys.stderr)
                    return 1
                times.setdefault("re-run -j 2, nothing new", []).append(wall)
                cpus.setdefault("re-run -j 2, nothing new", []).append(cpu)
        print(f"round {round_no + 1}: " + ", ".join(
            f"{name} {times[name][-1]:.2f} s" for name in cases if name in times),
            file=sys.stderr)
    after = load()
    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nFleet: {args.sites} sites x {args.days} days = {files} files; "
          f"{args.repeat} round(s), medians; load average before {before}, after {after}; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| run | wall s (median) | files/s | CPU s, main process | runs |")
    print("|---|---:|---:|---:|---|")
    for name in cases:
        if name not in med:
            continue
        wall = med[name]
        rate = f"{files / wall:.0f}" if "nothing new" not in name else "-"
        print(f"| {name} | {wall:.2f} | {rate} | {statistics.median(cpus[name]):.2f} | "
              + ", ".join(f"{t:.2f}" for t in times[name]) + " |")
    j1, j2 = med["odse run -j 1"], med["odse run -j 2"]
    print(f"\n- `-j 2` vs `-j 1`: {j1 / j2:.2f}x (target 1.6x on 2 free cores)")
    print(f"- `-j 2` vs the odse loop: {med['loop: odse transform + to_parquet'] / j2:.2f}x")
    if "loop: original 0.12.0" in med:
        print(f"- `-j 2` vs the original's loop: {med['loop: original 0.12.0'] / j2:.1f}x "
              "(target 20x)")
    print(f"- re-run with nothing new: {100 * med['re-run -j 2, nothing new'] / j2:.1f} % of "
          "the first run (target < 5 %)")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
