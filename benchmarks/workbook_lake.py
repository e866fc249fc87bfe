"""A 200,000-row, 10-column workbook to a Parquet lake: odse against what a user would write.

Three whole processes, run interleaved (A B C, A B C, ...) so that the load of a shared
machine falls on all of them alike:

* ``odse``: ``odse transform -i book.xlsx -m spec.yaml -o lake/`` (the workbook variant:
  fastexcel reads the sheet to Arrow, the mapping engine, the lake writer);
* ``pandas``: ``pandas.read_excel(engine="openpyxl")`` and the same mapping written by hand
  in pandas (local time to UTC, kWh, the status table, kW from W), then
  ``DataFrame.to_parquet(partition_cols=...)``;
* ``reader``: fastexcel alone, reading the sheet to an Arrow table (the floor: nothing odse
  does can be faster than reading the sheet).

Before each job the lakes are removed and ``os.sync()`` flushes what the previous job wrote
and deleted (on a disk mounted with ``discard`` the deletions of the pandas lake's files would
otherwise run on during the next job). ``--out /dev/shm/odse-bench`` keeps everything in memory.

The workbook (one inverter, one row a minute from 2024-01-01, so 200,000 rows are 139 days
and the lake 139 daily partitions; date cells, local time in Europe/Berlin, numbers in number
cells) is written once with openpyxl and kept in --out. ``--minutes 5`` writes 5-minute rows
(694 daily partitions: writing the many small files then weighs on both pipelines).

Usage::

    python benchmarks/workbook_lake.py                  # 200,000 rows, 3 rounds
    python benchmarks/workbook_lake.py --rows 20000 --repeat 1

Needs ``pip install -e '.[test]'`` (fastexcel, openpyxl, pandas). Compare ratios, not
seconds: the machine is shared.
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

SPEC = """\
odse_mapping: 1.1
name: bench_workbook
format: workbook
workbook: {sheet: Data, header: {row: 1}}
timezone: Europe/Berlin
fields:
  timestamp: {column: Time, format: iso8601}
  kWh: {column: Energy, unit: kWh}
  kW: {column: Power, unit: W}
  error_type:
    column: Status
    codes: {normal: [Running], fault: [Fault], standby: [Standby]}
    default: unknown
  error_code: {column: Status, type: string}
  asset_id: {column: Site, type: string}
  voltage: {column: Voltage}
  current: {column: Current}
  temperature: {column: Temperature}
  irradiance: {column: Irradiance}
  frequency: {column: Frequency}
"""

PANDAS = r"""
import sys, numpy as np, pandas as pd
src, out = sys.argv[1], sys.argv[2]
df = pd.read_excel(src, sheet_name="Data", engine="openpyxl")
local = pd.to_datetime(df["Time"])
# a repeated local hour read as summer time (odse: the earlier reading), as odse does
ts = local.dt.tz_localize("Europe/Berlin", ambiguous=np.ones(len(local), bool),
                          nonexistent="NaT")
ts = ts.dt.tz_convert("UTC")
status = df["Status"].astype(str)
codes = {"Running": "normal", "Fault": "fault", "Standby": "standby"}
recs = pd.DataFrame({
    "timestamp": ts,
    "kWh": pd.to_numeric(df["Energy"], errors="coerce"),
    "error_type": status.map(codes).fillna("unknown"),
    "error_code": status,
    "asset_id": df["Site"].astype(str),
    "kW": pd.to_numeric(df["Power"], errors="coerce") / 1000,
    "voltage": pd.to_numeric(df["Voltage"], errors="coerce"),
    "current": pd.to_numeric(df["Current"], errors="coerce"),
    "temperature": pd.to_numeric(df["Temperature"], errors="coerce"),
    "irradiance": pd.to_numeric(df["Irradiance"], errors="coerce"),
    "frequency": pd.to_numeric(df["Frequency"], errors="coerce"),
})
recs = recs.dropna(subset=["timestamp", "kWh"])
recs["year"] = recs["timestamp"].dt.year
recs["month"] = recs["timestamp"].dt.month
recs["day"] = recs["timestamp"].dt.day
recs.to_parquet(out, partition_cols=["asset_id", "year", "month", "day"], index=False)
print(len(recs))
"""

READER = r"""
import sys, fastexcel
table = fastexcel.read_excel(sys.argv[1]).load_sheet("Data").to_arrow()
print(table.num_rows)
"""


def write_workbook(path: Path, rows: int, minutes: int) -> None:
    """Write the benchmark workbook (openpyxl, write-only mode)."""
    from datetime import datetime, timedelta

    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(["Time", "Site", "Energy", "Power", "Status", "Voltage", "Current",
                  "Temperature", "Irradiance", "Frequency"])
    start = datetime(2024, 1, 1)
    step = timedelta(minutes=minutes)
    statuses = ("Running", "Running", "Running", "Standby", "Fault")
    for i in range(rows):
        watts = float((i * 37) % 5000)
        sheet.append([start + i * step, "INV-01", round(watts / 12000, 4), watts,
                      statuses[i % 5], 230.0 + (i % 7) * 0.5, round(watts / 230, 3),
                      20.0 + (i % 11), float((i * 13) % 1000), 50.0 - (i % 3) * 0.01])
    book.save(path)


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stderr}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=int, default=1, help="row cadence [minutes]")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "odse-bench")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    book = args.out / f"workbook_{args.rows}_{args.minutes}min.xlsx"
    if not book.exists():
        print(f"writing {book} ...", flush=True)
        write_workbook(book, args.rows, args.minutes)
    spec = args.out / "workbook_spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    odse_bin = str(Path(sys.executable).with_name("odse"))
    lakes = {name: args.out / f"lake_{name}" for name in ("odse", "pandas")}
    commands = {
        "odse": [odse_bin, "transform", "-i", str(book), "-m", str(spec), "-o",
                 str(lakes["odse"]), "-f", "parquet", "--mode", "overwrite", "-q"],
        "pandas": [sys.executable, "-c", PANDAS, str(book), str(lakes["pandas"])],
        "reader": [sys.executable, "-c", READER, str(book)],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(args.repeat):
        for name, cmd in commands.items():
            for lake in lakes.values():
                shutil.rmtree(lake, ignore_errors=True)
            # the previous job's writes and deletions reach the disk now, not during this one
            os.sync()
            times[name].append(run(cmd))
            print(f"round {round_ + 1} {name:7s} {times[name][-1]:7.2f} s", flush=True)
    median = {name: statistics.median(t) for name, t in times.items()}
    print(f"\n{args.rows} rows x 10 columns every {args.minutes} min, {args.repeat} "
          "interleaved rounds, medians; "
          f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    for name, value in median.items():
        print(f"  {name:7s} {value:7.2f} s   (runs: {', '.join(f'{t:.2f}' for t in times[name])})")
    print(f"  pandas / odse = {median['pandas'] / median['odse']:.2f}x (target >= 5x)")
    print(f"  odse / reader = {median['odse'] / median['reader']:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
