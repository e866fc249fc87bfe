"""validate_batch on the 1M-row Huawei table from transform_table: odse, a baseline, the original.

Run from the repository root:

    .venv/bin/python benchmarks/validate_huawei.py --rows 1m --rounds 5 --baseline 003a43a

Three implementations run in interleaved whole processes (ours, the baseline, the original,
ours, ...), each process timing its own calls once after one warm-up call, so that a burst of
load on the shared machine hits all three alike:

- ``odse``: this checkout, on the Arrow table ``transform_table`` returns;
- ``baseline``: this project at an earlier commit (``--baseline REV``, extracted with
  ``git archive`` into ``benchmarks/.work/baseline-REV``), on the same table;
- ``original``: odse 0.12.0 from PyPI (``run.original_python``) on the dicts its own
  ``transform`` returns, as a user of it would call it.

Levels: ``schema``; ``semantic`` with ``capacity_kw=10`` (418k EXCEEDS_PHYSICAL_MAXIMUM warnings
on this 100 kW inverter, plus the fleet checks in odse); and, for odse, ``semantic + read`` which
also renders every warning message (``list(result.warnings)``), since odse renders them when
first read. Medians and ratios of medians are printed with the load (``uptime``).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))

from generate import generate, label_for, parse_rows  # noqa: E402
from run import original_python  # noqa: E402

OURS = """
import json, sys, time
sys.path.insert(0, {bench!r})
import odse
from steps import ASSET_ID, TIMEZONE, PARAMS
table = odse.transform_table(sys.argv[1], source="huawei", asset_id=ASSET_ID,
                             timezone=TIMEZONE, **PARAMS["huawei"])
out = {{"odse": odse.__file__}}
semantic = {{"level": "semantic", "capacity_kw": 10.0}}
for label, kwargs, read in (("schema", {{}}, False), ("semantic", semantic, False),
                            ("semantic + read", semantic, True)):
    if label == "semantic + read" and not {read_all}:
        continue
    odse.validate_batch(table, **kwargs)  # warm-up (first calls compile the schema rules)
    start = time.perf_counter()
    result = odse.validate_batch(table, **kwargs)
    if read:
        rendered = list(result.warnings) + list(result.errors)
    out[label] = [time.perf_counter() - start, result.summary]
print(json.dumps(out))
"""

ORIGINAL = """
import json, sys, time
sys.path.insert(0, {bench!r})
from pathlib import Path
from odse import transform, validate_batch
from steps import ASSET_ID, TIMEZONE, PARAMS, INTERVAL_MIN
kwargs = {{"asset_id": ASSET_ID, "timezone": TIMEZONE, "interval_minutes": INTERVAL_MIN,
          **PARAMS["huawei"]}}
records = transform(Path(sys.argv[1]), "huawei", **kwargs)
out = {{}}
semantic = {{"level": "semantic", "capacity_kw": 10.0}}
for label, options in (("schema", {{}}), ("semantic", semantic)):
    start = time.perf_counter()
    result = validate_batch(records, **options)
    out[label] = [time.perf_counter() - start, result.summary]
print(json.dumps(out))
"""


def baseline_tree(rev: str) -> Path:
    """Extract odse/, mappings/ and schemas/ at ``rev`` (once) and return the folder."""
    target = WORK / f"baseline-{rev}"
    if not (target / "odse").exists():
        archive = subprocess.run(["git", "archive", rev, "odse", "mappings", "schemas"],
                                 cwd=ROOT, check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
    return target


def run(argv: list[str], env: dict[str, str] | None = None) -> dict:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=WORK, check=False)
    if done.returncode:
        raise SystemExit(f"{argv[:3]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def load() -> str:
    return os.getloadavg().__repr__() if hasattr(os, "getloadavg") else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="1m")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", metavar="REV", help="also time this commit of odse")
    parser.add_argument("--no-original", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    rows = parse_rows(args.rows)
    data = WORK / "data" / f"huawei_{label_for(rows)}.csv"
    if not data.exists():
        generate(WORK / "data", rows, ["huawei"])
    ours = [sys.executable, "-I", "-c", OURS.format(bench=str(HERE), read_all=True), str(data)]
    impls: list[tuple[str, list[str], dict[str, str] | None]] = [("odse", ours, None)]
    if args.baseline:
        tree = baseline_tree(args.baseline)
        env = {**os.environ, "PYTHONPATH": str(tree)}
        impls.append((f"baseline {args.baseline}",
                      [sys.executable, "-c", OURS.format(bench=str(HERE), read_all=False),
                       str(data)], env))
    if not args.no_original:
        python = original_python(WORK)
        impls.append(("original 0.12.0",
                      [str(python), "-I", "-c", ORIGINAL.format(bench=str(HERE)), str(data)],
                      None))
    times: dict[tuple[str, str], list[float]] = {}
    summaries: dict[tuple[str, str], str] = {}
    loads = []
    for round_ in range(args.rounds):
        for name, argv, env in impls:
            loads.append(os.getloadavg()[0])
            out = run(argv, env)
            for label, value in out.items():
                if label == "odse":
                    continue
                times.setdefault((name, label), []).append(value[0])
                summaries[(name, label)] = value[1]
        print(f"round {round_ + 1}/{args.rounds} done, load {os.getloadavg()[0]:.1f}",
              file=sys.stderr)
    print(f"validate_batch on the Huawei table of {rows:,} rows; {args.rounds} interleaved "
          f"rounds; load average (1 min) during the runs: median {statistics.median(loads):.1f}, "
          f"range {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores")
    for (name, label), values in times.items():
        print(f"  {name:<18} {label:<16} median {statistics.median(values):7.3f} s  "
              f"(min {min(values):.3f}, max {max(values):.3f})  {summaries[(name, label)][:110]}")
    def med(name: str, label: str) -> float | None:
        values = times.get((name, label))
        return statistics.median(values) if values else None
    for other in [n for n, *_ in impls[1:]]:
        for label in ("schema", "semantic"):
            a, b = med("odse", label), med(other, label)
            if a and b:
                print(f"  {label}: {other} / odse = {b / a:.1f}x")


if __name__ == "__main__":
    main()
