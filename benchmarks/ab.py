"""Interleaved A/B of this checkout against another copy of odse, step by step.

The machine is shared and noisy, so the two are run alternately, process by process (A, B,
A, B ...), and compared by the median of each: what a change costs, not what the machine
was doing meanwhile. The steps and inputs are those of ``run.py`` (odse only). CPU time
(user + system of the process) is reported beside wall time: on a loaded machine it is the
steadier of the two.

Usage, from the repository root (BASE is a folder holding another ``odse/``, ``mappings/``
and ``schemas/``, e.g. ``git archive main odse mappings schemas | tar -x -C /tmp/base``)::

    .venv/bin/python benchmarks/ab.py --base /tmp/base --size 1m --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402 - the benchmark folder is not a package
import run  # noqa: E402

STEPS = [("startup", "huawei"), *[(step, source) for source in run.SOURCES
                                 for step in ("dicts", "arrow", "lake")],
         ("validate", "huawei"), ("validate_arrow", "huawei"), ("stream", "huawei")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, type=Path,
                        help="folder with the other odse/ (and mappings/, schemas/)")
    parser.add_argument("--this", type=Path, default=None,
                        help="folder with this side's odse/ (default: the checkout); a frozen "
                             "copy keeps edits made during the run out of it")
    parser.add_argument("--size", type=generate.parse_rows, default="1m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", default="", help="step:source,... (default: all)")
    args = parser.parse_args(argv)
    steps = [tuple(s.split(":")) for s in args.steps.split(",") if s] or STEPS
    sources = sorted({source for _, source in steps}, key=run.SOURCES.index)
    paths = generate.generate(run.WORK / "data", args.size, sources)
    run.compile_bytecode()
    scratch = Path(tempfile.mkdtemp(prefix="odse-ab-", dir="/dev/shm"
                                    if Path("/dev/shm").is_dir() else None))
    load = os.getloadavg()
    print(f"load at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}", file=sys.stderr)
    rows = ["| step | source | A wall [s] | B wall [s] | B/A wall | A CPU [s] | B CPU [s] | "
            "B/A CPU | A RSS [MB] | B RSS [MB] |", "|---|---|---|---|---|---|---|---|---|---|"]
    for step, source in steps:
        times: dict[str, list[float]] = {"A": [], "B": []}
        peaks: dict[str, list[float]] = {"A": [], "B": []}
        cpus: dict[str, list[float]] = {"A": [], "B": []}
        for _ in range(args.repeat):
            for side in ("A", "B"):
                argv_, cwd = run.command("odse", step, source, paths[source], scratch, None)
                env_before = os.environ.get("PYTHONPATH")
                if side == "A":
                    os.environ["PYTHONPATH"] = str(args.base.resolve())
                elif args.this is not None:
                    os.environ["PYTHONPATH"] = str(args.this.resolve())
                try:
                    wall, cpu, rss, code, _, err = run.run_process(argv_, cwd)
                finally:
                    if env_before is None:
                        os.environ.pop("PYTHONPATH", None)
                    else:
                        os.environ["PYTHONPATH"] = env_before
                shutil.rmtree(scratch / "lake", ignore_errors=True)
                if code != 0:
                    print(f"{side} {step} {source} failed ({code}): {err[-400:]}",
                          file=sys.stderr)
                    return 1
                times[side].append(wall)
                cpus[side].append(cpu)
                peaks[side].append(rss)
        a, b = statistics.median(times["A"]), statistics.median(times["B"])
        ca, cb = statistics.median(cpus["A"]), statistics.median(cpus["B"])
        rows.append(f"| {step} | {source} | {a:.2f} | {b:.2f} | {b / a:.3f} | {ca:.2f} | "
                    f"{cb:.2f} | {cb / ca:.3f} | {max(peaks['A']):,.0f} | "
                    f"{max(peaks['B']):,.0f} |")
        print(rows[-1], file=sys.stderr)
    load = os.getloadavg()
    rows.append(f"\nload at end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
