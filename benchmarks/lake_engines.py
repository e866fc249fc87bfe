"""The Huawei lake job in odse's CLI, in polars and in DuckDB; and merging one day into a lake.

Run from the repository root with this checkout's venv (needs numpy, polars, duckdb)::

    .venv/bin/python benchmarks/lake_engines.py                 # 1M rows, 5 rounds; merge 1M/5M
    .venv/bin/python benchmarks/lake_engines.py --rows 1m --repeat 3 --no-merge

Part 1, *write*: the same job three ways, each a whole process, interleaved round by round
(odse, polars, duckdb, odse, ...) into a fresh output folder every time:

* ``odse``: ``odse transform -s huawei -i huawei_1m.csv --asset-id INV-01 -o LAKE/ -q``
  (read, map, validate the values the mapping checks, write the lake partitioned by
  asset_id/year/month/day);
* ``polars``: the same mapping written by hand as a lazy query (local time to UTC, kW to kWh
  over 5 minutes, state codes to error types, rows without a time or energy dropped), then
  ``sink_parquet(pl.PartitionBy(LAKE, key=[asset_id, year, month, day]))``;
* ``duckdb``: the same query in SQL, ``COPY (...) TO LAKE (FORMAT parquet, PARTITION_BY
  (asset_id, year, month, day))``.

Part 2, *merge*: a 1M-row and a 5M-row odse lake are built once; then one day of the export
(288 rows, a day both lakes hold) is merged into each with the CLI, interleaved. The ratio of
the two medians says whether merge cost follows the new data (1.0) or the lake (5.0).

Reports medians of wall time, CPU time (user + system of the process) and peak RSS, the
ratios to odse, and the load average before and after. Inputs are made with
``benchmarks/generate.py`` under ``benchmarks/.work/data`` and kept between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))

import generate  # noqa: E402 - the benchmark folder is not a package
import steps  # noqa: E402

ODSE = str(Path(sys.executable).with_name("odse"))
KEYS = ["asset_id", "year", "month", "day"]

POLARS_JOB = r"""
import sys, polars as pl
src, out, asset = sys.argv[1:4]
codes = {CODES}
kind = pl.col("inverter_state").replace_strict(
    list(codes), list(codes.values()), default="unknown", return_dtype=pl.String)
offline = (pl.col("run_state") == 0).fill_null(False)
kwh = pl.col("power") * (5 / 60)
lf = (pl.scan_csv(src, schema_overrides={"timestamp": pl.String, "power": pl.Float64,
                                          "inverter_state": pl.Int64, "run_state": pl.Int64},
                  null_values=["", "--", "N/A"])
      .select(
          timestamp=(pl.col("timestamp").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S",
                                                      strict=False)
                     .dt.replace_time_zone("+02:00").dt.convert_time_zone("UTC")),
          kWh=pl.when(offline & pl.col("power").is_null()).then(0.0).otherwise(kwh),
          error_type=pl.when(offline).then(pl.lit("offline")).otherwise(kind),
          error_code=pl.col("inverter_state").cast(pl.String),
          asset_id=pl.lit(asset))
      .filter(pl.col("timestamp").is_not_null() & pl.col("kWh").is_not_null())
      .with_columns(year=pl.col("timestamp").dt.year().cast(pl.String),
                    month=pl.col("timestamp").dt.month().cast(pl.String).str.zfill(2),
                    day=pl.col("timestamp").dt.day().cast(pl.String).str.zfill(2)))
lf.sink_parquet(pl.PartitionBy(out, key=["asset_id", "year", "month", "day"],
                               include_key=False), mkdir=True)
"""

DUCKDB_JOB = r"""
import sys, duckdb
src, out, asset = sys.argv[1:4]
codes = {CODES}
cases = " ".join(f"WHEN {code} THEN '{kind}'" for code, kind in codes.items())
duckdb.sql("SET TimeZone = 'UTC'")
query = '''
COPY (
  WITH raw AS (
    SELECT try_strptime(timestamp, '%Y-%m-%d %H:%M:%S') - INTERVAL 2 HOUR AS local_utc,
           power, inverter_state, run_state
    FROM read_csv('@SRC', header=true, nullstr=['', '--', 'N/A'],
                  columns={'timestamp': 'VARCHAR', 'power': 'DOUBLE',
                           'inverter_state': 'BIGINT', 'run_state': 'BIGINT'})),
  rec AS (
    SELECT local_utc::TIMESTAMPTZ AS timestamp,
           CASE WHEN coalesce(run_state = 0, false) AND power IS NULL THEN 0.0
                ELSE power * 5 / 60 END AS kWh,
           CASE WHEN coalesce(run_state = 0, false) THEN 'offline'
                ELSE CASE inverter_state @CASES ELSE 'unknown' END END AS error_type,
           inverter_state::VARCHAR AS error_code, '@ASSET' AS asset_id
    FROM raw)
  SELECT *, strftime(timestamp, '%Y') AS year, strftime(timestamp, '%m') AS month,
         strftime(timestamp, '%d') AS day
  FROM rec WHERE timestamp IS NOT NULL AND kWh IS NOT NULL
) TO '@OUT' (FORMAT parquet, PARTITION_BY (asset_id, year, month, day))'''
duckdb.sql(query.replace("@SRC", src).replace("@OUT", out).replace("@ASSET", asset)
           .replace("@CASES", cases))
"""


def _codes() -> dict[int, str]:
    return {code: kind for kind, group in steps.HUAWEI_CODES.items() for code in group}


def measured(command: list[str]) -> dict[str, float]:
    """Run ``command`` under a wrapper process that reports the child's own peak RSS."""
    wrapper = ("import json, resource, subprocess, sys, time\n"
               "t = time.perf_counter()\n"
               "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "w = time.perf_counter() - t\n"
               "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(json.dumps({'rc': r.returncode, 'wall': w, 'cpu': u.ru_utime + "
               "u.ru_stime, 'rss_mb': u.ru_maxrss / 1024, 'err': r.stderr[-2000:]}))\n")
    done = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True,
                          text=True, check=True)
    figures = json.loads(done.stdout)
    if figures["rc"] != 0:
        raise SystemExit(f"{command[:4]} failed ({figures['rc']}):\n{figures['err']}")
    return figures


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def data_file(rows: int) -> Path:
    label = generate.label_for(rows)
    folder = WORK / "data"
    path = folder / f"huawei_{label}.csv"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), "--rows", label,
                        "--formats", "huawei", "--out", str(folder)], check=True)
    return path


def write_jobs(source: Path, scratch: Path) -> dict[str, Callable[[], dict[str, float]]]:
    codes = repr(_codes())
    polars_job = POLARS_JOB.replace("{CODES}", codes)
    duckdb_job = DUCKDB_JOB.replace("{CODES}", codes)

    def fresh(name: str) -> str:
        out = scratch / name
        shutil.rmtree(out, ignore_errors=True)
        os.sync()  # the last job's files reach the disk before this one is timed
        return str(out)

    return {
        "odse": lambda: measured([ODSE, "transform", "-s", "huawei", "-i", str(source),
                                  "--asset-id", steps.ASSET_ID, "-o", fresh("odse") + "/",
                                  "-q"]),
        "polars": lambda: measured([sys.executable, "-c", polars_job, str(source),
                                    fresh("polars"), steps.ASSET_ID]),
        "duckdb": lambda: measured([sys.executable, "-c", duckdb_job, str(source),
                                    fresh("duckdb"), steps.ASSET_ID]),
    }


def count_rows(root: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.read_metadata(path).num_rows for path in root.rglob("*.parquet"))


def summarise(results: dict[str, list[dict[str, float]]], base: str) -> list[str]:
    lines = ["| job | wall median [s] | runs | CPU median [s] | peak RSS median [MB] |"
             f" wall / {base} | CPU / {base} |", "|---|---|---|---|---|---|---|"]
    med = {name: {key: statistics.median(run[key] for run in runs)
                  for key in ("wall", "cpu", "rss_mb")} for name, runs in results.items()}
    for name, runs in results.items():
        figures = med[name]
        shown = ", ".join(f"{run['wall']:.2f}" for run in runs)
        lines.append(f"| {name} | {figures['wall']:.2f} | {shown} | {figures['cpu']:.2f} | "
                     f"{figures['rss_mb']:.0f} | {figures['wall'] / med[base]['wall']:.2f}x | "
                     f"{figures['cpu'] / med[base]['cpu']:.2f}x |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", default="1m", help="rows of the write job (default 1m)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--merge-sizes", default="1m,5m", help="lake sizes for the merge")
    parser.add_argument("--no-merge", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--scratch", default=None, help="output folder (default: a temp)")
    args = parser.parse_args()
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="odse-lake-engines-"))
    scratch.mkdir(parents=True, exist_ok=True)
    report = [f"load before: {load()}"]
    if not args.no_write:
        rows = generate.parse_rows(args.rows)
        source = data_file(rows)
        jobs = write_jobs(source, scratch)
        results: dict[str, list[dict[str, float]]] = {name: [] for name in jobs}
        for round_ in range(args.repeat):
            order = list(jobs) if round_ % 2 == 0 else list(reversed(jobs))
            for name in order:
                results[name].append(jobs[name]())
                print(f"round {round_ + 1} {name}: {results[name][-1]['wall']:.2f} s "
                      f"(load {load()})", file=sys.stderr)
        counts = {name: count_rows(scratch / name) for name in jobs}
        report += [f"write job: {source.name}, rows in each lake: {counts}",
                   *summarise(results, "odse"),
                   f"polars / odse wall: {statistics.median(r['wall'] for r in results['polars']) / statistics.median(r['wall'] for r in results['odse']):.2f}"]  # noqa: E501
    if not args.no_merge:
        sizes = [generate.parse_rows(size) for size in args.merge_sizes.split(",")]
        day = scratch / "one_day.csv"
        first = data_file(sizes[0])
        with open(first, encoding="utf-8") as fh:
            lines = fh.readlines()
        # day 100 of the export: in every lake of at least 100 days
        start = 1 + 288 * 100
        day.write_text(lines[0] + "".join(lines[start:start + 288]), encoding="utf-8")
        lakes = {}
        for size in sizes:
            label = generate.label_for(size)
            lake = scratch / f"lake_{label}"
            if not lake.exists():
                measured([ODSE, "transform", "-s", "huawei", "-i", str(data_file(size)),
                          "--asset-id", steps.ASSET_ID, "-o", f"{lake}/", "-q"])
            lakes[label] = lake
        merges: dict[str, list[dict[str, float]]] = {f"merge into {label}": []
                                                     for label in lakes}
        for round_ in range(args.repeat):
            order = list(lakes) if round_ % 2 == 0 else list(reversed(lakes))
            for label in order:
                merges[f"merge into {label}"].append(measured([
                    ODSE, "transform", "-s", "huawei", "-i", str(day), "--asset-id",
                    steps.ASSET_ID, "-o", f"{lakes[label]}/", "-q"]))
        base = next(iter(merges))
        report += ["merge one day (288 rows) into an existing partition:",
                   *summarise(merges, base)]
    report.append(f"load after: {load()}")
    print("\n".join(report))


if __name__ == "__main__":
    main()
