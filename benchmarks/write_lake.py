"""Time and peak memory of odse's writers on synthetic records streamed as Arrow batches.

Each scenario runs in a fresh process so that its peak RSS (``ru_maxrss``) is its own. The
records are generated batch by batch with pyarrow only (no transform engine): a 5-minute
single-asset series starting 2026-02-09, with ``timestamp``, ``kWh``, ``error_type``,
``error_code`` and ``asset_id``, i.e. the record's Arrow form. The lake is partitioned by
``asset_id/year/month/day``, so 1M rows make about 3,500 partitions.

Scenarios (``--scenarios``):

* ``jsonl``: ``to_json`` to one file;
* ``parquet``: ``to_parquet`` (default mode merge) into a fresh lake;
* ``parquet-rerun``: the same write again into the lake it made (every partition merged);
* ``baseline``: a hand-written pyarrow pipeline for the same lake (``write_dataset`` called
  in slices of partitions), the reference the team compares against;
* ``dicts``: ``to_parquet`` from a list of dicts (as ``transform()`` returns), with the dicts
  built before the clock starts.

Usage::

    python benchmarks/write_lake.py                        # 1M and 5M rows, main scenarios
    python benchmarks/write_lake.py --rows 1m --scenarios parquet,baseline --repeat 3
    python benchmarks/write_lake.py --out /dev/shm/odse-bench   # keep the disk out of it

Numbers on a shared 2-core machine vary by +-25%; compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

START_US = 1_770_595_200_000_000  # 2026-02-09T00:00:00Z
STEP_US = 300_000_000  # 5 minutes
BATCH_ROWS = 65_536
PARTITION_BY = ["asset_id", "year", "month", "day"]
DEFAULT_SCENARIOS = "jsonl,parquet,parquet-rerun,baseline"


def synthetic_batches(rows: int) -> Iterator[object]:
    """Yield the record's Arrow form in batches: a 5-minute single-asset series."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schema = pa.schema([("timestamp", pa.timestamp("us", tz="UTC")), ("kWh", pa.float64()),
                        ("error_type", pa.string()), ("error_code", pa.string()),
                        ("asset_id", pa.string())])
    for start in range(0, rows, BATCH_ROWS):
        size = min(BATCH_ROWS, rows - start)
        index = pa.array(range(start, start + size), pa.int64())
        micros = pc.add(pc.multiply(index, STEP_US), START_US)
        yield pa.RecordBatch.from_arrays([
            micros.cast(pa.timestamp("us", tz="UTC")),
            pc.multiply(pc.random(size), 400.0),
            pa.repeat(pa.scalar("normal"), size),
            pa.repeat(pa.scalar("512"), size),
            pa.repeat(pa.scalar("SITE-ALPHA"), size),
        ], schema=schema)


def run_child(scenario: str, rows: int, out: str) -> dict[str, object]:
    """Run one scenario in this process; return its figures."""
    if scenario == "dicts":
        import pyarrow as pa

        from odse.records import table_to_dicts

        records = table_to_dicts(pa.Table.from_batches(list(synthetic_batches(rows))))
    started = time.perf_counter()
    if scenario == "jsonl":
        from odse import to_json

        summary = to_json(synthetic_batches(rows), os.path.join(out, "records.jsonl"))
    elif scenario in ("parquet", "parquet-rerun"):
        from odse import to_parquet

        summary = to_parquet(synthetic_batches(rows), os.path.join(out, "lake"), PARTITION_BY)
    elif scenario == "dicts":
        from odse import to_parquet

        summary = to_parquet(records, os.path.join(out, "lake"), PARTITION_BY)
    elif scenario == "baseline":
        summary = _baseline(rows, os.path.join(out, "lake"))
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"scenario": scenario, "rows": rows, "seconds": round(seconds, 2),
            "peak_rss_mb": round(peak_kb / 1024), "summary": str(summary)}


def _baseline(rows: int, root: str) -> str:
    # What a careful engineer writes by hand with pyarrow: derive the partition columns and
    # hand slices of about 200 days to write_dataset (one call for thousands of partitions
    # thrashes its open-file limit).
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    files = 0
    part = ds.partitioning(pa.schema([("asset_id", pa.string()), ("year", pa.int32()),
                                      ("month", pa.int32()), ("day", pa.int32())]),
                           flavor="hive")
    for index, batch in enumerate(synthetic_batches(rows)):
        ts = batch.column("timestamp")
        table = pa.Table.from_batches([batch]).append_column(
            "year", pc.year(ts).cast(pa.int32())).append_column(
            "month", pc.month(ts).cast(pa.int32())).append_column(
            "day", pc.day(ts).cast(pa.int32()))
        written: list[str] = []
        ds.write_dataset(table, root, format="parquet", partitioning=part,
                         existing_data_behavior="overwrite_or_ignore",
                         basename_template=f"part-{index}-{{i}}.parquet",
                         file_visitor=lambda f, out=written: out.append(f.path))
        files += len(written)
    return f"{files} files"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1m,5m", help="comma-separated sizes, e.g. 1m,5m")
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", default=None, help="scratch folder (default: a temp folder)")
    parser.add_argument("--child", nargs=3, metavar=("SCENARIO", "ROWS", "OUT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scenario, rows, out = args.child
        print(json.dumps(run_child(scenario, int(rows), out)), flush=True)
        # pyarrow's dataset writer threads sometimes abort the interpreter's teardown
        # ("terminate called without an active exception"); the figures are out already
        os._exit(0)
    base = args.out or tempfile.mkdtemp(prefix="odse-bench-")
    os.makedirs(base, exist_ok=True)
    sizes = [_size(text) for text in args.rows.split(",")]
    print(f"{'scenario':<15}{'rows':>10}{'seconds':>10}{'peak RSS MB':>13}  summary")
    try:
        for rows in sizes:
            for scenario in args.scenarios.split(","):
                for _ in range(args.repeat):
                    out = os.path.join(base, f"{scenario}-{rows}")
                    if scenario == "parquet-rerun":
                        out = os.path.join(base, f"parquet-{rows}")
                        if not os.path.isdir(os.path.join(out, "lake")):
                            _child("parquet", rows, out)
                    else:
                        shutil.rmtree(out, ignore_errors=True)
                        os.makedirs(out)
                    figures = _child(scenario, rows, out)
                    print(f"{scenario:<15}{rows:>10}{figures['seconds']:>10}"
                          f"{figures['peak_rss_mb']:>13}  {figures['summary']}", flush=True)
    finally:
        if args.out is None:
            shutil.rmtree(base, ignore_errors=True)


def _child(scenario: str, rows: int, out: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, "--child", scenario, str(rows), out],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


if __name__ == "__main__":
    main()
