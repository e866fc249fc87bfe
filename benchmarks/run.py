"""The benchmark suite: odse against the original odse 0.12.0 and a hand-written pyarrow pipeline.

Run from the repository root with this checkout's venv::

    .venv/bin/python benchmarks/run.py                      # full: 1M per source, 100k-5M scaling
    .venv/bin/python benchmarks/run.py --size 200k --scaling 100k,200k --repeat 3   # quick

What it does, all on this machine in one run:

1. generates the inputs under ``benchmarks/.work/data/`` with ``benchmarks/generate.py``
   (Huawei CSV, Enphase JSON, SolarEdge JSON; kept between runs);
2. creates ``benchmarks/.work/venv-original/`` with ``odse[parquet]==0.12.0`` from PyPI
   (once; ``--no-original`` skips it);
3. runs every step of every implementation as its own process (``benchmarks/steps.py``, or
   odse's CLI for the lake), ``--repeat`` times (once when a run takes longer than
   ``--long``), and takes the median whole-process wall time and the peak RSS of each;
4. prints Markdown tables with ratios and the targets of issue 4, and writes them with the
   raw figures to ``benchmarks/.work/results-<time>.md`` and ``.json``.

Steps: ``startup`` (interpreter and imports; for odse also finding and compiling the spec),
``dicts`` (``transform()`` to a list of dicts), ``arrow`` (``transform_table``), ``lake`` (the
input to a Parquet lake partitioned by asset_id/year/month/day: odse's CLI, the original's
``transform`` + ``to_parquet``, since its CLI cannot partition), ``validate``
(``validate_batch`` at the semantic level on the records, after a transform; the call's own
time is in the details), ``stream`` (``transform_stream`` consumed to the end). Scaling repeats
the Huawei steps at each ``--scaling`` size.

The machine is shared and noisy: read the ratios, and the load averages printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402 - the benchmark folder is not a package
import steps  # noqa: E402

WORK = HERE / ".work"
ORIGINAL = "0.12.0"
IMPLS = ("odse", "original", "handwritten")
SOURCES = ("huawei", "enphase", "solaredge")
STEP_ORDER = ("startup", "dicts", "arrow", "lake", "validate", "validate_arrow", "stream")
STEP_LABEL = {
    "startup": "start-up (imports, spec)",
    "dicts": "transform() to dicts",
    "arrow": "transform_table() to Arrow",
    "lake": "to partitioned Parquet (CLI)",
    "validate": "validate_batch, dicts",
    "validate_arrow": "validate_batch, Arrow",
    "stream": "transform_stream, all records",
}
# which implementations have which step (the original has no Arrow API; hand-written has
# no separate dict and Arrow validation)
HAS_STEP = {
    "odse": set(STEP_ORDER),
    "original": {"startup", "dicts", "lake", "validate", "stream"},
    "handwritten": {"startup", "dicts", "arrow", "lake", "validate", "stream"},
}
# the step a row of the table compares against, per implementation
PAIRED = {("validate_arrow", "original"): "validate",
          ("validate_arrow", "handwritten"): "validate"}


@dataclass
class Measure:
    step: str
    source: str
    rows: int
    impl: str
    wall: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    call: list[float] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    records: int | None = None
    note: str = ""
    failed: str = ""

    @property
    def seconds(self) -> float | None:
        return statistics.median(self.wall) if self.wall else None

    @property
    def peak(self) -> float | None:
        return max(self.rss_mb) if self.rss_mb else None

    def median(self, values: list[float]) -> float | None:
        return statistics.median(values) if values else None


# ---------------------------------------------------------------- processes
def run_process(argv: list[str], cwd: Path | None = None
                ) -> tuple[float, float, float, int, str, str]:
    """Run a command; return (wall s, CPU s, peak RSS MB, exit code, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode,
                out.read().decode(), err.read().decode())


def original_python(work: Path) -> Path:
    """Return the interpreter of a venv with odse 0.12.0 (and pandas, pyarrow for Parquet)."""
    env = work / "venv-original"
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        print(f"creating {env} with odse[parquet]=={ORIGINAL} from PyPI ...", file=sys.stderr)
        venv.create(env, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q",
                        f"odse[parquet]=={ORIGINAL}"], check=True)
    return python


def command(impl: str, step: str, source: str, path: Path, scratch: Path,
            original: Path | None) -> tuple[list[str], Path | None]:
    """The argv (and working folder) of one measurement."""
    script = str(HERE / "steps.py")
    if impl == "odse" and step == "lake":
        cli = Path(sys.executable).with_name("odse")
        head = [str(cli)] if cli.exists() else [sys.executable, "-m", "odse"]
        return head + steps.odse_cli(source, str(path), str(scratch / "lake")), None
    if impl == "original":
        # -I and cwd in .work: import the installed 0.12.0, never this checkout
        assert original is not None
        return [str(original), "-I", script, impl, step, source, str(path), str(scratch)], WORK
    return [sys.executable, script, impl, step, source, str(path), str(scratch)], None


def compile_bytecode() -> None:
    """Compile this checkout's modules (and the steps script) to bytecode once.

    An installed package has bytecode (pip compiles it at install, as it did for the original
    package); an editable checkout gets it on first import, unless PYTHONDONTWRITEBYTECODE is
    set, in which case every process would compile odse from source (0.13 s a run here).
    """
    root = HERE.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "odse"),
                    str(HERE / "steps.py")], check=True)


def default_scratch() -> Path:
    """Where the steps write: a RAM folder when there is one (see --scratch)."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm / f"odse-bench-{os.getpid()}"
    return WORK / "scratch"


def measure_group(group: list[Measure], path: Path, repeat: int, long_s: float,
                  original: Path | None, scratch: Path) -> None:
    """Run the implementations of one step in turns (odse, original, hand-written, odse,
    ...), so that a change in the machine's load hits all of them alike."""
    active = list(group)
    for attempt in range(repeat):
        for m in list(active):
            wall = run_once(m, path, original, attempt, scratch)
            if wall is None or wall > long_s:
                active.remove(m)
        if not active:
            break


def run_once(m: Measure, path: Path, original: Path | None, attempt: int,
             scratch_root: Path) -> float | None:
    """Run one measurement once; return its wall time, or None when it failed."""
    scratch = scratch_root / f"{m.impl}-{m.step}-{m.source}-{m.rows}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    argv, cwd = command(m.impl, m.step, m.source, path, scratch, original)
    wall, cpu, rss, code, out, err = run_process(argv, cwd)
    shutil.rmtree(scratch, ignore_errors=True)
    if code != 0:
        m.failed = (err.strip().splitlines() or [f"exit {code}"])[-1][:200]
        print(f"  FAILED {m.impl} {m.step} {m.source} {m.rows}: {m.failed}", file=sys.stderr)
        return None
    m.wall.append(wall)
    m.cpu.append(cpu)
    m.rss_mb.append(rss)
    result = _last_json(out)
    if result:
        m.records = result.get("records", m.records)
        if "call_s" in result:
            m.call.append(result["call_s"])
        if "first_s" in result:
            m.first.append(result["first_s"])
        m.note = result.get("summary", m.note)
    elif m.step == "lake" and m.impl == "odse":
        m.records = _cli_records(err)
    print(f"  {m.impl:<12}{m.step:<15}{m.source:<10}{m.rows:>9,}  run {attempt + 1}: "
          f"{wall:7.2f} s {cpu:7.2f} s CPU {rss:7.0f} MB", file=sys.stderr, flush=True)
    return wall


def _last_json(out: str) -> dict[str, Any] | None:
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return None


def _cli_records(err: str) -> int | None:
    # the CLI's summary: "... 998059 records written to ..."
    words = err.replace(",", " ").split()
    for i, word in enumerate(words[1:], start=1):
        if word == "records" and words[i - 1].isdigit():
            return int(words[i - 1])
    return None


# ---------------------------------------------------------------- plan
def plan(args: argparse.Namespace) -> list[Measure]:
    """Every measurement, in the order they run."""
    out: list[Measure] = []
    seen: set[tuple[str, str, int, str]] = set()

    def add(step: str, source: str, rows: int, impls: tuple[str, ...]) -> None:
        if step not in args.steps:
            return
        for impl in impls:
            if impl not in args.impls or step not in HAS_STEP[impl]:
                continue
            if impl == "original" and rows > args.original_max_rows:
                continue
            if impl == "handwritten" and step == "stream" and source != "huawei":
                continue
            key = (step, source, rows, impl)
            if key not in seen:
                seen.add(key)
                out.append(Measure(step, source, rows, impl))

    add("startup", "huawei", 0, IMPLS)
    for source in args.sources:
        for step in ("dicts", "arrow", "lake"):
            add(step, source, args.size, IMPLS)
    for step in ("validate", "validate_arrow", "stream"):
        add(step, "huawei", args.size, IMPLS)
    for rows in args.scaling:
        for step in ("arrow", "dicts", "lake", "stream"):
            add(step, "huawei", rows, IMPLS)
    return out


# ---------------------------------------------------------------- report
def fmt_s(value: float | None) -> str:
    return "—" if value is None else (f"{value:.2f}" if value < 100 else f"{value:.0f}")


def fmt_mb(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.1f}x" if a / b >= 10 else f"{a / b:.2f}x"


def label_rows(rows: int) -> str:
    return "—" if rows == 0 else generate.label_for(rows).upper()


def _get(results: dict[tuple[str, str, int, str], Measure], step: str, source: str, rows: int,
         impl: str) -> Measure | None:
    m = results.get((step, source, rows, impl))
    if m is None and (step, impl) in PAIRED:
        m = results.get((PAIRED[step, impl], source, rows, impl))
    return m if m is not None and m.wall else None


def table(results: dict[tuple[str, str, int, str], Measure],
          rows_of: list[tuple[str, str, int]]) -> list[str]:
    lines = ["| step | input | rows | odse s | odse MB | original s | original MB | "
             "hand-written s | hand-written MB | original ÷ odse | odse ÷ hand-written |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for step, source, rows in rows_of:
        ms = {impl: _get(results, step, source, rows, impl) for impl in IMPLS}
        if not any(ms.values()):
            continue
        s = {impl: (m.seconds if m else None) for impl, m in ms.items()}
        mb = {impl: (m.peak if m else None) for impl, m in ms.items()}
        shown_source = "—" if step == "startup" else source
        lines.append(
            f"| {STEP_LABEL[step]} | {shown_source} | {label_rows(rows)} | {fmt_s(s['odse'])} | "
            f"{fmt_mb(mb['odse'])} | {fmt_s(s['original'])} | {fmt_mb(mb['original'])} | "
            f"{fmt_s(s['handwritten'])} | {fmt_mb(mb['handwritten'])} | "
            f"{ratio(s['original'], s['odse'])} | {ratio(s['odse'], s['handwritten'])} |")
    return lines


def details(measures: list[Measure]) -> list[str]:
    lines = ["| impl | step | input | rows | runs | wall s (median, min-max) | CPU s | call s | "
             "first record s | records | peak MB |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in measures:
        if not m.wall:
            lines.append(f"| {m.impl} | {m.step} | {m.source} | {label_rows(m.rows)} | 0 | "
                         f"failed: {m.failed} | | | | | |")
            continue
        spread = f"{fmt_s(m.seconds)} ({fmt_s(min(m.wall))}-{fmt_s(max(m.wall))})"
        records = "—" if m.records is None else f"{m.records:,}"
        lines.append(f"| {m.impl} | {m.step} | {m.source} | {label_rows(m.rows)} | "
                     f"{len(m.wall)} | {spread} | {fmt_s(m.median(m.cpu))} | "
                     f"{fmt_s(m.median(m.call))} | "
                     f"{fmt_s(m.median(m.first))} | {records} | {fmt_mb(m.peak)} |")
    return lines


def targets(results: dict[tuple[str, str, int, str], Measure], size: int,
            scaling: list[int]) -> list[str]:
    """Issue 4's targets, checked on this run's figures."""
    out = []

    def sec(step: str, impl: str, rows: int = size) -> float | None:
        m = _get(results, step, "huawei", rows, impl)
        return m.seconds if m else None

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("**met**" if ok else "**missed**")

    lake, lake_hw, lake_orig = sec("lake", "odse"), sec("lake", "handwritten"), \
        sec("lake", "original")
    r = lake / lake_hw if lake and lake_hw else None
    out.append(f"- CLI to partitioned Parquet, Huawei {label_rows(size)}: odse ÷ hand-written "
               f"= {ratio(lake, lake_hw)} (target ≤ 1.3x): "
               f"{verdict(None if r is None else r <= 1.3)}")
    r = lake_orig / lake if lake and lake_orig else None
    out.append(f"- CLI to partitioned Parquet: original ÷ odse = {ratio(lake_orig, lake)} "
               f"(target ≥ 8x): {verdict(None if r is None else r >= 8)}")
    d, d_orig = sec("dicts", "odse"), sec("dicts", "original")
    r = d_orig / d if d and d_orig else None
    out.append(f"- transform() to dicts: original ÷ odse = {ratio(d_orig, d)} (target ≥ 5x): "
               f"{verdict(None if r is None else r >= 5)}")
    peaks = {rows: _get(results, "stream", "huawei", rows, "odse")
             for rows in sorted({size, *scaling})}
    shown = ", ".join(f"{label_rows(rows)}: {fmt_mb(m.peak)} MB" for rows, m in peaks.items() if m)
    ok = all(m.peak < 300 for m in peaks.values() if m) if any(peaks.values()) else None
    out.append(f"- transform_stream peak RSS under 300 MB at every size ({shown}): {verdict(ok)}")
    sizes = sorted(scaling)
    if len(sizes) >= 2:
        lo, hi = sizes[-2], sizes[-1]
        parts, ok = [], True
        for step in ("arrow", "dicts", "lake", "stream"):
            m_lo, m_hi = (_get(results, step, "huawei", rows, "odse") for rows in (lo, hi))
            if not (m_lo and m_hi):
                continue
            # the call time, without interpreter start-up and imports, when the step has one
            a = m_lo.median(m_lo.call) or m_lo.seconds
            b = m_hi.median(m_hi.call) or m_hi.seconds
            growth = b / a
            ok = ok and growth <= 1.25 * hi / lo
            parts.append(f"{step} x{growth:.1f}")
        out.append(f"- time linear in rows: {label_rows(lo)} -> {label_rows(hi)} is x{hi / lo:g} "
                   f"rows; odse time grows {', '.join(parts)} (target ≤ x{1.25 * hi / lo:g}): "
                   f"{verdict(ok if parts else None)}")
    return out


def report(args: argparse.Namespace, measures: list[Measure], started: float,
           loads: tuple[tuple[float, ...], tuple[float, ...]], scratch: Path) -> str:
    results = {(m.step, m.source, m.rows, m.impl): m for m in measures}
    main_rows = [("startup", "huawei", 0)]
    for source in args.sources:
        main_rows += [(step, source, args.size) for step in ("dicts", "arrow", "lake")]
    main_rows += [(step, "huawei", args.size) for step in ("validate", "validate_arrow",
                                                           "stream")]
    scale_rows = [(step, "huawei", rows) for step in ("arrow", "dicts", "lake", "stream")
                  for rows in args.scaling]
    import pyarrow

    cmd = " ".join(["python", "benchmarks/run.py", *sys.argv[1:]])
    lines = [
        f"Command: `{cmd}`",
        "",
        f"odse: {checkout()}.",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, pyarrow {pyarrow.__version__}; "
        f"load average {loads[0][0]:.2f} at the start, {loads[1][0]:.2f} at the end; "
        f"{(time.time() - started) / 60:.1f} min in all. Seconds are whole-process wall time "
        f"(interpreter start and imports included), the median of up to {args.repeat} runs "
        f"(one when a run took more than {args.long:g} s); MB is the largest peak RSS. "
        f"Lakes are written under {scratch.parent}.",
        "",
        f"### Per source, {label_rows(args.size)} rows",
        "",
        *table(results, main_rows),
        "",
        "### Scaling, Huawei CSV",
        "",
        *table(results, scale_rows),
        "",
        "### Targets (issue 4)",
        "",
        *targets(results, args.size, args.scaling),
        "",
        "### Details",
        "",
        "call s: the API call alone (imports and interpreter start excluded; for validate, "
        "validate_batch alone). records: records produced (odse and the hand-written "
        "pipeline reject rows without energy; the original writes 0 kWh for them).",
        "",
        *details(measures),
    ]
    return "\n".join(lines) + "\n"


def checkout() -> str:
    """The commit measured, and whether the package had uncommitted changes."""
    root = HERE.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "odse", "mappings"],
                               cwd=root, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    changed = len(dirty.splitlines())
    return f"commit {commit}" + (f" with {changed} uncommitted file(s) in odse/ or mappings/"
                                 if changed else "")


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=generate.parse_rows, default="1m",
                        help="rows of each input in the per-source table (default 1m)")
    parser.add_argument("--scaling", default="100k,1m,5m",
                        help="Huawei sizes for the scaling table (default 100k,1m,5m)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--long", type=float, default=60.0,
                        help="run once only when a run takes longer than this [s]")
    parser.add_argument("--impls", default=",".join(IMPLS))
    parser.add_argument("--no-original", "--without-0.12", action="store_true",
                        help="leave out odse 0.12.0 from PyPI (same as leaving 'original' out "
                             "of --impls)")
    parser.add_argument("--sources", default=",".join(SOURCES))
    parser.add_argument("--steps", default=",".join(STEP_ORDER))
    parser.add_argument("--scratch", type=Path, default=None,
                        help="folder the lakes are written to (default: a folder in /dev/shm "
                             "when it exists, else benchmarks/.work/scratch)")
    parser.add_argument("--original-max-rows", type=generate.parse_rows, default="5m",
                        help="skip the original above this size (default 5m)")
    args = parser.parse_args(argv)
    args.scaling = sorted({generate.parse_rows(x) for x in args.scaling.split(",") if x})
    args.impls = [x for x in args.impls.split(",") if x and not
                  (x == "original" and args.no_original)]
    args.sources = [x for x in args.sources.split(",") if x]
    args.steps = [x for x in args.steps.split(",") if x]
    for name, values, known in (("impl", args.impls, IMPLS), ("source", args.sources, SOURCES),
                                ("step", args.steps, STEP_ORDER)):
        unknown = sorted(set(values) - set(known))
        if unknown:
            parser.error(f"unknown {name}(s) {', '.join(unknown)}; known: {', '.join(known)}")

    scratch = default_scratch() if args.scratch is None else args.scratch.resolve()
    started = time.time()
    load_start = os.getloadavg()
    WORK.mkdir(exist_ok=True)
    measures = plan(args)
    sizes = {m.rows for m in measures if m.rows}
    inputs: dict[tuple[str, int], Path] = {}
    for rows in sorted(sizes):
        shapes = sorted({m.source for m in measures if m.rows == rows}, key=SOURCES.index)
        paths = generate.generate(WORK / "data", rows, shapes)
        inputs.update({(shape, rows): p for shape, p in paths.items()})
    smallest = min(sizes) if sizes else 100_000
    inputs.setdefault(("huawei", 0), generate.generate(WORK / "data", smallest,
                                                       ["huawei"])["huawei"])
    original = original_python(WORK) if "original" in args.impls else None
    compile_bytecode()

    print(f"{len(measures)} measurements, up to {args.repeat} runs each", file=sys.stderr)
    groups: dict[tuple[str, str, int], list[Measure]] = {}
    for m in measures:
        groups.setdefault((m.step, m.source, m.rows), []).append(m)
    for (_step, source, rows), group in groups.items():
        path = inputs[(source, rows)] if rows else inputs[("huawei", 0)]
        measure_group(group, path, args.repeat, args.long, original, scratch)

    shutil.rmtree(scratch, ignore_errors=True)
    text = report(args, measures, started, (load_start, os.getloadavg()), scratch)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (WORK / f"results-{stamp}.md").write_text(text)
    (WORK / f"results-{stamp}.json").write_text(json.dumps(
        [m.__dict__ for m in measures], indent=1) + "\n")
    print(text)
    print(f"written to {WORK / f'results-{stamp}.md'} and .json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
