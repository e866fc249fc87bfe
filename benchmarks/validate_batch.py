"""Time validate_batch on many records: odse on dicts and on Arrow, and the original package.

Run from the repository root:

    .venv/bin/python benchmarks/validate_batch.py                 # 1M records, odse only
    .venv/bin/python benchmarks/validate_batch.py --original      # also odse 0.12.0 from PyPI

The records look like transform()'s output for a 5-minute inverter export (timestamp,
kWh, error_type, error_code, asset_id; two assets), with one bad record in a thousand. The
Arrow table holds the same records in odse's Arrow form. Each figure is the best of
``--repeat`` runs; the machine is noisy, so read the ratios.

``--original`` uses the suite's venv with ``odse==0.12.0`` (``benchmarks/.work/venv-original``,
git-ignored; ``run.py``'s ``original_python`` creates it when missing) and times its
validate_batch on the same records in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from run import ORIGINAL as ORIGINAL_VERSION  # the suite's script, in this folder
from run import original_python

from odse import validate_batch

WORK = Path(__file__).resolve().parent / ".work"
START = 1_770_595_200  # 2026-02-09T00:00:00Z


def make_records(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """Build n records of two 5-minute PV assets, with one bad record in a thousand.

    Output follows the sun of a site two hours east of UTC (daylight 04:00 to 17:00 UTC), so
    the night-time check has real nights to look at.
    """
    rng = random.Random(seed)
    records = []
    for i in range(n):
        seconds = START + (i // 2) * 300
        moment = time.gmtime(seconds)
        hour = (seconds % 86_400) / 3_600
        daylight = max(0.0, math.sin(math.pi * (hour - 4.0) / 13.0)) if 4 < hour < 17 else 0.0
        records.append({
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", moment),
            "kWh": daylight * rng.uniform(0.6, 0.8),
            "error_type": "normal",
            "error_code": "512",
            "asset_id": f"SITE-{'AB'[i % 2]}",
        })
    for i in range(0, n, 1000):
        kind = (i // 1000) % 3
        if kind == 0:
            records[i]["kWh"] = -1.0
        elif kind == 1:
            records[i]["error_type"] = "degraded"
        else:
            del records[i]["error_type"]
    return records


def to_table(records: list[dict[str, Any]]) -> pa.Table:
    """Return the records in odse's Arrow form (timestamp[us, UTC], null = absent)."""
    table = pa.Table.from_pylist(records)
    stamps = pc.cast(table["timestamp"], pa.timestamp("us", tz="UTC"))
    return table.set_column(table.schema.get_field_index("timestamp"), "timestamp", stamps)


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


ORIGINAL_SCRIPT = """
import json, sys, time
from odse import validate_batch
records = [json.loads(line) for line in open(sys.argv[1])]
repeat = int(sys.argv[2])
out = {}
for label, kwargs in (("schema", {}), ("semantic", {"level": "semantic", "capacity_kw": 10.0})):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = validate_batch(records, **kwargs)
        best = min(best, time.perf_counter() - start)
    out[label] = [best, result.summary]
print(json.dumps(out))
"""


def time_original(records: list[dict[str, Any]], repeat: int) -> dict[str, Any]:
    """Time odse 0.12.0's validate_batch on the records, in the original's venv."""
    python = original_python(WORK)  # the suite's venv with the original: one for both
    data = WORK / f"records-{len(records)}.jsonl"
    if not data.exists():
        with open(data, "w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record) + "\n")
    # -I and cwd: import the installed 0.12.0, never this checkout's odse
    done = subprocess.run([str(python), "-I", "-c", ORIGINAL_SCRIPT, str(data), str(repeat)],
                          check=True, capture_output=True, text=True, cwd=WORK)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--original", "--with-0.12", action="store_true",
                        help=f"also time odse {ORIGINAL_VERSION} from PyPI (needs network once)")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)

    records = make_records(args.rows)
    table = to_table(records)
    semantic = {"level": "semantic", "capacity_kw": 10.0}
    geo = {**semantic, "latitude": -26.2, "longitude": 28.05}
    runs = [
        ("dicts, schema", lambda: validate_batch(records)),
        ("dicts, semantic", lambda: validate_batch(records, **semantic)),
        ("arrow, schema", lambda: validate_batch(table)),
        ("arrow, semantic", lambda: validate_batch(table, **semantic)),
        ("arrow, semantic, 5-min given", lambda: validate_batch(table, **semantic,
                                                                interval_minutes=5)),
        ("arrow, semantic + lat/lon", lambda: validate_batch(table, **geo)),
    ]
    print(f"validate_batch on {args.rows:,} records (best of {args.repeat}), "
          f"python {sys.version.split()[0]}, pyarrow {pa.__version__}")
    timings = {}
    for label, run in runs:
        seconds, result = best_of(args.repeat, run)
        timings[label] = seconds
        print(f"  odse {label:<29} {seconds:8.3f} s   {result.summary[:88]}")

    if args.original:
        original = time_original(records, args.repeat)
        print(f"  odse {ORIGINAL_VERSION} (original):")
        for level in ("schema", "semantic"):
            seconds, summary = original[level]
            ours_dicts = timings[f"dicts, {level}"]
            ours_arrow = timings[f"arrow, {level}"]
            print(f"    {level:<9} {seconds:8.3f} s   {summary}")
            print(f"      speed-up: dicts {seconds / ours_dicts:6.1f}x, "
                  f"arrow {seconds / ours_arrow:7.1f}x")


if __name__ == "__main__":
    main()
