"""odse on Spark: local[1] against local[2], and against the same mapping by hand in Spark SQL.

Run from the repository root with this checkout's venv (needs pyspark and Java 17+)::

    .venv/bin/python benchmarks/spark.py                        # 2M Huawei rows in 50 files
    .venv/bin/python benchmarks/spark.py --files 10 --rows 200k --repeat 1   # quick

Inputs: ``--files`` FusionSolar device-history CSVs of ``--rows`` rows in all, written by
``benchmarks/generate.py`` (each file its own seed and start; 0.1 % of each bad-row kind)
under ``benchmarks/.work/spark/`` and kept between runs.

Cases, each its own process (a fresh JVM and SparkSession), interleaved, ``--repeat`` times:

``odse``
    ``odse.spark.transform(spark, "<dir>/*.csv", "huawei", timezone="+02:00")``, records
    and rejects each written as Parquet (two passes of the engine, one with the records).
``sql``
    what a Spark user writes by hand instead: ``spark.read.csv`` with a schema of strings,
    then the Huawei mapping in Spark SQL (local time at +02:00 to UTC, kW x 5 min to kWh, a
    disconnected inverter's missing reading as 0, the state codes to error_type), rows without
    a time or a reading dropped (no rejects kept), records written as Parquet.

each on ``local[1]`` and ``local[2]``. Per run: ``job`` (from the call to the last
file written, after a warm-up run of the same case on one file: what the cores do on a
running cluster), ``job CPU`` (the CPU seconds of the JVM and the Python workers during the
job: how many cores it kept busy) and ``process`` (the whole process: JVM start-up and
warm-up included).

``--pin`` confines each ``local[N]`` run (its JVM, its threads and its Python workers) to N
of the machine's cores (``sched_setaffinity``): ``local[1]`` alone only says one task at a
time, and its task's Python worker, the JVM's task thread and the JVM's compiler and
collector threads then share every core there is; pinned, the two cases compare one core
with two.
The machine is shared: read the ratios and the load printed with them.
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work" / "spark"
START = 1_451_606_400  # 2016-01-01 00:00 local
CASES = [("odse", "local[1]"), ("odse", "local[2]"), ("sql", "local[1]"), ("sql", "local[2]")]

SQL = """
SELECT
  try_to_timestamp(timestamp, 'yyyy-MM-dd HH:mm:ss') - INTERVAL 2 HOURS AS timestamp,
  CASE WHEN try_cast(run_state AS INT) = 0 AND try_cast(power AS DOUBLE) IS NULL THEN 0.0
       ELSE try_cast(power AS DOUBLE) * 5 / 60 END AS kWh,
  CASE WHEN try_cast(run_state AS INT) = 0 THEN 'offline'
       WHEN try_cast(inverter_state AS INT) IN (0, 1, 2, 3, 256, 512, 1025, 1026, 1280, 1281,
            1536, 1792, 2048, 2304, 40960, 49152) THEN 'normal'
       WHEN try_cast(inverter_state AS INT) IN (513, 514, 772, 773, 774) THEN 'warning'
       WHEN try_cast(inverter_state AS INT) IN (768, 770, 771, 45056) THEN 'critical'
       WHEN try_cast(inverter_state AS INT) IN (769, 1024) THEN 'fault'
       ELSE 'unknown' END AS error_type,
  inverter_state AS error_code
FROM huawei
"""


def generate_inputs(files: int, rows: int) -> Path:
    """Write ``files`` Huawei CSVs of ``rows`` rows in all (once)."""
    sys.path.insert(0, str(HERE))
    import generate

    folder = WORK / f"huawei-{files}x{rows // files}"
    done = folder / "done"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    make, _ = generate.GENERATORS["huawei"]
    for i in range(files):
        make(folder / f"huawei_{i:03d}.csv", rows // files, 100 + i, 0.001,
             START + 86_400 * 7 * i)
    done.write_text("ok\n")
    return folder


def tree_cpu() -> float:
    """CPU seconds of this process's descendants (the JVM, its Python workers, and their
    finished children), from ``/proc``; 0 where there is no ``/proc``."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    text = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                fields = text[text.rindex(")") + 2:].split()
                stats[int(entry)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
    except OSError:
        return 0.0
    tree, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [child for child, (parent, _) in stats.items() if parent == pid]
    return sum(stats[pid][1] for pid in tree if pid in stats) / ticks


def session(master: str):
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master(master).appName("odse-bench")
             .config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.memory", "2g")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def pipeline(spark, case: str, pattern: str | list[str], out: Path) -> None:
    """The case's whole job: read the files matching ``pattern``, write ``out``."""
    if case == "odse":
        import odse.spark

        records, rejects = odse.spark.transform(spark, pattern, "huawei", timezone="+02:00")
        records.write.parquet(str(out / "records"))
        rejects.write.parquet(str(out / "rejects"))
    else:
        raw = spark.read.csv(pattern, header=True,
                             schema="timestamp string, power string, inverter_state string, "
                                    "run_state string")
        raw.createOrReplaceTempView("huawei")
        spark.sql(SQL).where("timestamp IS NOT NULL AND kWh IS NOT NULL") \
            .write.parquet(str(out / "records"))


def run_case(case: str, master: str, data: Path, out: Path) -> dict:
    """One run in this process: a warm-up on one file per core (the JVM compiles the code
    paths, every Python worker starts), then the job on all files, timed."""
    spark = session(master)
    cores = spark.sparkContext.defaultParallelism
    began = time.perf_counter()
    pipeline(spark, case, [str(data / f"huawei_{i:03d}.csv") for i in range(cores)],
             out / "warm-up")
    warm_up = time.perf_counter() - began
    began, cpu = time.perf_counter(), tree_cpu()
    pipeline(spark, case, str(data / "*.csv"), out)
    job, job_cpu = time.perf_counter() - began, tree_cpu() - cpu
    records = spark.read.parquet(str(out / "records")).count()
    rejects = (spark.read.parquet(str(out / "rejects")).count()
               if (out / "rejects").exists() else None)
    spark.stop()
    return {"job_s": job, "job_cpu_s": job_cpu, "warm_up_s": warm_up, "records": records,
            "rejects": rejects}


def cores_of(master: str) -> set[int]:
    """The first N of the cores this process may use, for ``local[N]``."""
    mine = sorted(os.sched_getaffinity(0))
    wanted = int(master[len("local["):-1])
    if wanted > len(mine):
        raise SystemExit(f"--pin: {master} wants {wanted} cores, this process has {len(mine)}")
    return set(mine[:wanted])


def measure(case: str, master: str, data: Path, pin: bool = False) -> dict:
    """Run one case as its own process (on N cores with ``pin``); return its figures and
    the load before it."""
    out = Path(tempfile.mkdtemp(prefix="odse-spark-bench-"))
    load = os.getloadavg()[0]
    cores = cores_of(master) if pin else None
    began = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--case", case, "--master", master,
                           "--data", str(data), "--out", str(out)],
                          capture_output=True, text=True, check=False,
                          preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if pin else None)
    wall = time.perf_counter() - began
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{case} on {master} failed (exit {proc.returncode})")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**figures, "process_s": wall, "load1": load}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--rows", default="2m", help="rows in all, e.g. 200k, 2m")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pin", action="store_true",
                        help="run each local[N] case on N cores only (see above)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--master", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case:  # a child process: one run; its figures also go to runs.jsonl, for the record
        figures = run_case(args.case, args.master, args.data, args.out)
        with open(WORK / "runs.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps({"case": args.case, "master": args.master,
                                  "data": args.data.name, "at": time.time(),
                                  "load1": os.getloadavg()[0], **figures}) + "\n")
        print(json.dumps(figures))
        return 0

    sys.path.insert(0, str(HERE))
    from generate import parse_rows

    rows = parse_rows(args.rows)
    data = generate_inputs(args.files, rows)
    runs: dict[tuple[str, str], list[dict]] = {c: [] for c in CASES}
    for r in range(args.repeat):
        for case in CASES:
            figures = measure(*case, data, args.pin)
            runs[case].append(figures)
            print(f"run {r + 1} {case[0]:4} {case[1]}: job {figures['job_s']:.1f} s, "
                  f"job CPU {figures['job_cpu_s']:.1f} s, process {figures['process_s']:.1f} s, "
                  f"load {figures['load1']:.2f}, "
                  f"{figures['records']} records, {figures['rejects']} rejects", flush=True)
    print(report(runs, args.files, rows, args.pin))
    return 0


def report(runs: dict, files: int, rows: int, pin: bool = False) -> str:
    med = {c: {k: statistics.median(r[k] for r in rs) for k in ("job_s", "job_cpu_s", "process_s")}
           for c, rs in runs.items()}
    loads = [r["load1"] for rs in runs.values() for r in rs]
    lines = [f"{rows:,} Huawei rows in {files} files; medians of {len(runs[CASES[0]])} "
             f"interleaved runs{'; local[N] pinned to N cores' if pin else ''}; "
             f"1-min load before the runs {min(loads):.2f}-{max(loads):.2f}",
             "", "| case | job [s] | job CPU [s] | process [s] | records | rejects |",
             "|---|---|---|---|---|---|"]
    for c in CASES:
        last = runs[c][-1]
        lines.append(f"| {c[0]} {c[1]} | {med[c]['job_s']:.1f} | {med[c]['job_cpu_s']:.1f} | "
                     f"{med[c]['process_s']:.1f} | "
                     f"{last['records']:,} | "
                     f"{'-' if last['rejects'] is None else format(last['rejects'], ',')} |")

    def ratio(a, b, key):
        return med[a][key] / med[b][key]

    o1, o2, s1, s2 = CASES
    lines += ["",
              f"- odse local[1] / local[2]: job {ratio(o1, o2, 'job_s'):.2f}x, "
              f"process {ratio(o1, o2, 'process_s'):.2f}x (target >= 1.6x)",
              f"- odse / hand-written SQL on local[2]: job {ratio(o2, s2, 'job_s'):.2f}x, "
              f"process {ratio(o2, s2, 'process_s'):.2f}x (target <= 1.5x); on local[1]: "
              f"job {ratio(o1, s1, 'job_s'):.2f}x",
              f"- hand-written SQL local[1] / local[2]: job {ratio(s1, s2, 'job_s'):.2f}x"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
