"""How fast the command line starts: ``odse --help`` and friends, against a bare interpreter.

The target is under 0.3 s for ``odse --help`` (the CLI imports click only; pyarrow and the
engine load when a command runs). Run from the repository root:

    .venv/bin/python benchmarks/cli_startup.py [--runs 15]

Prints the median and best wall time of each command, and the slowest imports behind
``odse --help`` (from ``python -X importtime``). Nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.3
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass (baseline)", [sys.executable, "-c", "pass"]),
    ("odse --help", [sys.executable, "-m", "odse", "--help"]),
    ("odse --version", [sys.executable, "-m", "odse", "--version"]),
    ("odse transform --help", [sys.executable, "-m", "odse", "transform", "--help"]),
    ("odse schema", [sys.executable, "-m", "odse", "schema"]),
    ("odse sources (loads the specs)", [sys.executable, "-m", "odse", "sources"]),
]


def wall_times(argv: list[str], runs: int) -> list[float]:
    """Run ``argv`` ``runs`` times (after one warm-up); return the wall times [s]."""
    subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return times


def slowest_imports(argv: list[str], top: int = 8) -> list[tuple[int, str]]:
    """Return the ``top`` imports by cumulative time [us] under ``python -X importtime``."""
    out = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        # "import time:  self [us] | cumulative [us] | name"
        _, cumulative, name = line.split("|")
        rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per command")
    args = parser.parse_args()
    print(f"{'command':34} {'median':>8} {'best':>8}")
    medians = {}
    for label, argv in COMMANDS:
        times = wall_times(argv, args.runs)
        medians[label] = statistics.median(times)
        print(f"{label:34} {medians[label]:7.3f}s {min(times):7.3f}s")
    help_argv = [sys.executable, "-m", "odse", "--help"]
    median = medians["odse --help"]
    verdict = "OK" if median < TARGET_SECONDS else "TOO SLOW (a busy machine? run it again)"
    print(f"\nodse --help median {median:.3f}s, target {TARGET_SECONDS}s: {verdict}")
    print("\nslowest imports behind odse --help (cumulative):")
    for micros, name in slowest_imports(help_argv):
        print(f"  {micros / 1000:7.1f} ms  {name}")
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, odse.cli; print(sorted(m for m in sys.modules "
         "if m.split('.')[0] in ('pyarrow', 'yaml', 'jsonschema', 'jmespath')))"],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    print(f"\nheavy modules imported by odse.cli: {loaded}")


if __name__ == "__main__":
    main()
