"""The pipeline on Spark: ``odse run PIPELINE.yaml --engine spark``.

:class:`SparkExecutor` is an executor of the pipeline runner (``odse.pipeline.executors``:
``imap(function, items)``, results in the items' order): each item (a few files to ingest)
becomes one Spark task, which runs the pipeline's own per-file worker (transform, validate,
enrich, lineage) on an executor, and the results travel back to the driver. Discovery,
planning, the lake write and the ingest-log commit stay in the driver's process, exactly as
in a local run, so the lake and the log are those of a local run: one writer, one atomic
commit with the log.

The items go in **waves**: a wave is one Spark job (``spark.range`` with one partition per
item, ``mapInArrow``, ``collect``); two waves are in flight, so the cluster works on the
next while the driver writes the records of the last. At most ``WAVE_BYTES`` of input are in
a wave, which bounds the driver's memory (and keeps a wave's results under
``spark.driver.maxResultSize``).

A result travels as pickle protocol 5 with its buffers (Arrow's column buffers) out of band,
one Spark row per buffer slice: no value is larger than ``PIECE_BYTES``. This module imports
pyspark only on the driver; what runs on the executors (``run_items``) needs odse and pyarrow.
"""

from __future__ import annotations

import functools
import os
import pickle
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from odse.errors import OdseError, require

WAVE_BYTES = 256 << 20
"""Input bytes per wave (one Spark job), at most (a wave has at least one item)."""
WAVE_TASKS = 4
"""Items per wave, at most, per core of the cluster."""
PIECE_BYTES = 64 << 20
"""The largest value a task hands Spark: a result's buffers are cut into slices of this."""
CLUSTER_ENV = ("PYSPARK_GATEWAY_PORT", "SPARK_HOME", "SPARK_CONF_DIR", "MASTER")
"""Set by ``spark-submit`` or a Spark installation: then the master is theirs."""
RESULT_SCHEMA = pa.schema([("item", pa.int64()), ("part", pa.int64()), ("data", pa.binary())])


class SparkJobError(OdseError, RuntimeError):
    """A Spark job of the pipeline failed (an executor could not run odse, or lost a task)."""

    code = "SPARK_JOB_FAILED"
    exit_code = 3


class SparkExecutor:
    """Run a pipeline's per-file work as Spark tasks: ``run_pipeline(spec,
    executor=SparkExecutor(spark))``.

    Args:
        spark: the ``SparkSession`` (classic or Spark Connect); default: the one
            :func:`session` gives (with ``master``), started only when there is a file to
            ingest, and stopped by :meth:`close`.
        master: the master URL of the session to start (``local[2]``, ``yarn``, ...).
        wave_bytes: input bytes per Spark job, at most (see the module docstring).

    Raises:
        MissingExtraError: pyspark is not installed (``pip install 'odse[spark]'``).
    """

    def __init__(self, spark: Any = None, *, master: str | None = None,
                 wave_bytes: int = WAVE_BYTES) -> None:
        require("pyspark", "spark", "odse run --engine spark")
        self._spark = spark
        self._own = False
        self.master = master
        self.wave_bytes = wave_bytes

    @property
    def spark(self) -> Any:
        """The session (started on first use when none was given)."""
        if self._spark is None:
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession() if self.master is None else None
            self._spark, self._own = (active, False) if active else (session(self.master), True)
        return self._spark

    @property
    def jobs(self) -> int:
        """The cluster's cores: the runner sizes its chunks of files by it."""
        from odse.spark.files import parallelism

        return parallelism(self.spark)

    def close(self) -> None:
        """Stop the session if this executor started it."""
        if self._own and self._spark is not None:
            self._spark.stop()
        self._spark, self._own = None, False

    def imap(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Yield ``function(item)`` for every item, in order, each computed in a Spark task."""
        from odse import __version__

        waves = _waves(list(items), WAVE_TASKS * self.jobs, self.wave_bytes)
        with ThreadPoolExecutor(2, thread_name_prefix="odse-spark") as pool:
            pending: deque[Future[list[Any]]] = deque()
            try:
                for wave in waves:
                    pending.append(pool.submit(self._run_wave, function, wave, __version__))
                    if len(pending) >= 2:
                        yield from pending.popleft().result()
                while pending:
                    yield from pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    def _run_wave(self, function: Callable[[Any], Any], wave: list[Any],
                  version: str) -> list[Any]:
        texts: dict[str, str] = {}
        shipped = [pickle.dumps(_portable(item, texts), protocol=5) for item in wave]
        run = functools.partial(run_items, function, shipped, version)
        ids = self.spark.range(0, len(wave), 1, len(wave))
        frame = ids.mapInArrow(run, _spark_schema())
        try:
            rows = frame.collect()
        except Exception as exc:  # py4j / Spark Connect errors: no common base class
            raise _job_error(exc) from None
        pieces: dict[int, list[tuple[int, bytes]]] = {}
        for row in rows:
            pieces.setdefault(row[0], []).append((row[1], bytes(row[2])))
        return [_restore(_decode(sorted(pieces[i])), item) for i, item in enumerate(wave)]


def session(master: str | None = None) -> Any:
    """A SparkSession for ``odse run --engine spark``: ``master`` if given, else Spark's
    default: the master of the Spark installation's configuration (``SPARK_HOME``,
    ``SPARK_CONF_DIR``; or of ``spark-submit``), else ``local[*]``. In local mode the session
    listens on 127.0.0.1 and its workers run this Python (unless ``PYSPARK_PYTHON`` says)."""
    require("pyspark", "spark", "odse run --engine spark")
    from pyspark.sql import SparkSession

    if master is None and not any(os.environ.get(name) for name in CLUSTER_ENV):
        master = "local[*]"  # no spark-submit, no Spark installation: this machine
    builder = SparkSession.builder.appName("odse run")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    local = master is not None and master.startswith("local")
    if master is not None:
        builder = builder.master(master)
    if local:
        # one machine: listen on the loopback only, and run the workers in this Python
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        if not os.environ.get("PYSPARK_PYTHON"):
            os.environ["PYSPARK_PYTHON"] = sys.executable
    try:
        started = builder.getOrCreate()
        started.sparkContext.setLogLevel("FATAL")  # a failed task is one Error: line
        return started
    except Exception as exc:  # no Java, a master that does not answer, ...
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SparkJobError(f"cannot start Spark: {message}", code="SPARK_UNAVAILABLE",
                            hint="Spark needs a Java 17 runtime (java on PATH or JAVA_HOME); "
                                 "check --master") from None


# ------------------------------------------------------------------ on the executors

def run_items(function: Callable[[Any], Any], shipped: list[bytes], version: str,
              batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The body of a Spark task: ``function`` on each item whose index the task was given,
    each result as rows of ``RESULT_SCHEMA`` (see the module docstring)."""
    from odse import __version__

    if __version__ != version:
        raise RuntimeError(f"odse {__version__} on this executor, {version} on the driver: "
                           f"install odse=={version} on the cluster")
    for batch in batches:
        for index in batch.column(0).to_pylist():
            result = function(pickle.loads(shipped[index]))
            for part, data in enumerate(_encode(result)):  # a batch each: no 2 GiB batch
                yield pa.record_batch([pa.array([index], pa.int64()),
                                       pa.array([part], pa.int64()),
                                       pa.array([data], pa.binary())], schema=RESULT_SCHEMA)


def _encode(result: Any) -> list[bytes]:
    """Part 0: how many slices each buffer has, then the pickle; then the buffers' slices."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(result, protocol=5, buffer_callback=buffers.append)
    slices: list[bytes] = []
    counts: list[int] = []
    for buffer in buffers:
        raw = buffer.raw()
        cut = [raw[i:i + PIECE_BYTES] for i in range(0, len(raw), PIECE_BYTES)] or [raw[:0]]
        counts.append(len(cut))
        slices.extend(bytes(piece) for piece in cut)
    return [pickle.dumps((counts, head), protocol=5), *slices]


def _decode(parts: list[tuple[int, bytes]]) -> Any:
    counts, head = pickle.loads(parts[0][1])
    data = [piece for _, piece in parts[1:]]
    buffers, at = [], 0
    for count in counts:
        buffers.append(b"".join(data[at:at + count]))
        at += count
    return pickle.loads(head, buffers=buffers)


# ------------------------------------------------------------------ what travels

def _portable(item: Any, texts: dict[str, str]) -> Any:
    """The item as the executors need it: a pipeline task's mapping file travels as its
    text (the driver's files need not exist on the executors); ``texts`` caches them."""
    if isinstance(item, list):
        return [_portable(one, texts) for one in item]
    mapping = getattr(item, "mapping", None)
    if isinstance(mapping, str) and "\n" not in mapping and Path(mapping).is_file():
        if mapping not in texts:
            text = Path(mapping).read_text(encoding="utf-8-sig")
            texts[mapping] = text if "\n" in text else text + "\n"  # YAML text, not a path
        return replace(item, mapping=texts[mapping])
    return item


def _restore(result: Any, item: Any) -> Any:
    """Give a pipeline result's outcomes the driver's own tasks back (as they were planned,
    with the mapping's path, not its text)."""
    outcomes = getattr(result, "outcomes", None)
    if isinstance(item, list) and isinstance(outcomes, list) and len(outcomes) == len(item):
        for outcome, task in zip(outcomes, item, strict=True):
            outcome.task = task
    return result


def _weight(item: Any) -> int:
    if isinstance(item, list):
        return sum(_weight(one) for one in item)
    return int(getattr(item, "size", 0) or 0)


def _waves(items: list[Any], most: int, budget: int) -> list[list[Any]]:
    """Consecutive items in waves of at most ``most`` items and ``budget`` input bytes."""
    waves: list[list[Any]] = []
    wave: list[Any] = []
    weight = 0
    for item in items:
        size = _weight(item)
        if wave and (len(wave) >= most or weight + size > budget):
            waves.append(wave)
            wave, weight = [], 0
        wave.append(item)
        weight += size
    if wave:
        waves.append(wave)
    return waves


def _spark_schema() -> Any:
    from pyspark.sql import types as T

    return T.StructType([T.StructField("item", T.LongType(), True),
                         T.StructField("part", T.LongType(), True),
                         T.StructField("data", T.BinaryType(), True)])


def _job_error(exc: Exception) -> SparkJobError:
    """The last line of what failed on the executor (the Python error), not the JVM's trace."""
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    reason = next((line for line in reversed(lines) if "Error:" in line or
                   "Exception:" in line), lines[-1] if lines else type(exc).__name__)
    return SparkJobError(f"a Spark job of the pipeline failed: {reason[:500]}",
                         hint="Check that every executor has this odse installed and can "
                              "read the input paths; nothing was written to the lake, so run "
                              "again once it is fixed")
