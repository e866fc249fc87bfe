"""Which files a Spark transform reads, and how they are grouped into tasks.

The driver lists the files with Spark's own ``binaryFile`` source (only ``path`` and
``length`` are selected, so no file is read): globs, directories and every filesystem the
cluster reads (``s3://``, ``abfss://``, ``gs://``, ``hdfs://``, local paths) are expanded by
the cluster's Hadoop filesystems, with the cluster's credentials. The files are then packed
into tasks by size: largest first, each to the task with the fewest bytes so far.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from odse.errors import InputError, InputNotFoundError, ParameterError

TASK_BYTES = 128 << 20
"""Bytes of input a task aims for when there are more files than cores can balance."""
TASKS_PER_CORE = 3
"""Tasks per core (``defaultParallelism``) aimed for: enough to even out unequal files."""


@dataclass(frozen=True)
class Listed:
    """One input file as the cluster lists it."""

    path: str
    length: int


def as_paths(paths: Any) -> list[str]:
    """Return the caller's ``paths`` (one path or glob, or a list of them) as strings."""
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]
    if not isinstance(paths, Sequence) or not paths:
        raise ParameterError("paths must be a path, a glob or a non-empty list of them",
                             code="BAD_PARAMETER",
                             hint="For example paths='s3://bucket/exports/*.csv'")
    out = []
    for p in paths:
        text = p.decode() if isinstance(p, bytes) else str(p.__fspath__() if hasattr(
            p, "__fspath__") else p)
        if not text.strip():
            raise ParameterError("paths holds an empty path", code="BAD_PARAMETER")
        out.append(text)
    return out


def reader(spark: Any, recursive: bool, glob: str | None) -> Any:
    """A ``binaryFile`` reader with the listing options."""
    read = spark.read.format("binaryFile")
    if recursive:
        read = read.option("recursiveFileLookup", "true")
    if glob:
        read = read.option("pathGlobFilter", glob)
    return read


def load(spark: Any, paths: list[str], recursive: bool, glob: str | None) -> Any:
    """``spark.read.format("binaryFile").load(paths)``, with a missing path as odse's error."""
    try:
        return reader(spark, recursive, glob).load(paths)
    except Exception as exc:
        text = str(exc)
        if "PATH_NOT_FOUND" in text or "Path does not exist" in text:
            raise InputNotFoundError(
                f"no file matches {', '.join(paths)}", code="INPUT_NOT_FOUND",
                file=", ".join(paths),
                hint="Check the paths and globs as the cluster sees them (its filesystem "
                     "and credentials)") from None
        raise


def list_files(spark: Any, paths: list[str], recursive: bool = False,
               glob: str | None = None) -> list[Listed]:
    """List the input files on the driver, sorted by path."""
    rows = load(spark, paths, recursive, glob).select("path", "length").collect()
    if not rows:
        raise InputError(f"no files to read in {', '.join(paths)}", code="INPUT_EMPTY",
                         file=", ".join(paths),
                         hint="Check the folder and the glob filter (names starting with "
                              "'.' or '_' are skipped, as Spark skips them)")
    return sorted((Listed(r["path"], int(r["length"])) for r in rows), key=lambda f: f.path)


def default_tasks(files: list[Listed], cores: int) -> int:
    """How many tasks to spread ``files`` over: at least ``TASKS_PER_CORE`` per core (so
    unequal files even out), more when the input exceeds ``TASK_BYTES`` a task, never more
    than one per file."""
    total = sum(f.length for f in files)
    wanted = max(TASKS_PER_CORE * max(cores, 1), math.ceil(total / TASK_BYTES))
    return max(1, min(len(files), wanted))


def pack(files: list[Listed], tasks: int) -> list[list[str]]:
    """Pack files into ``tasks`` groups of about equal bytes (largest file first, each to
    the lightest group); each group lists its files by path."""
    tasks = max(1, min(tasks, len(files)))
    heap = [(0, i) for i in range(tasks)]
    groups: list[list[str]] = [[] for _ in range(tasks)]
    for f in sorted(files, key=lambda f: (-f.length, f.path)):
        size, i = heapq.heappop(heap)
        groups[i].append(f.path)
        heapq.heappush(heap, (size + max(f.length, 1), i))
    return [sorted(g) for g in groups]


def parallelism(spark: Any) -> int:
    """The cluster's default parallelism (its cores), or 2 where the session hides it."""
    try:
        return int(spark.sparkContext.defaultParallelism)
    except Exception:  # Spark Connect has no SparkContext
        try:
            return int(spark.conf.get("spark.default.parallelism"))
        except Exception:
            return 2
