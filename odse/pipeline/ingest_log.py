"""The ingest log: which input files a lake holds, from which content, mapping and run.

The log lives under the lake root in ``_odse/ingest-log/``, one JSON Lines file per run
(``<run id>.jsonl``, one line per ingested input). Hive readers (pyarrow, Spark) skip names
starting with ``_``, and a ``**/*.parquet`` glob never finds it; polars' plain folder read
sees it, so read a pipeline lake with a glob there (``docs/output.md``, side files).

A run's file is committed by the lake writer in the same write as the run's data, after
every partition (``to_parquet(..., extra_files=...)``): a run whose log file is present has
all its data in the lake; a run killed before has no log file, and the next run ingests its
files again (merge makes that idempotent).

Each line: ``uri``, ``size``, ``mtime_ns``, ``sha256`` (of the content), ``asset_id``,
``source``, ``mapping`` (name) and ``mapping_sha256``, ``settings_sha256`` (parameters,
context and validation the file was ingested with), ``odse_version``, ``run_id``,
``reason``, ``rows_read``, ``records_written``, ``rows_rejected``, ``rejects`` (count by
code), ``invalid`` and ``invalid_codes``, ``first`` and ``last``, ``ingested_at`` (UTC) and
``seconds``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from odse.errors import OutputError

LOG_DIR = "_odse/ingest-log"
SUFFIX = ".jsonl"


@dataclass
class IngestLog:
    """The entries of every committed run, and the latest entry per input URI."""

    entries: list[dict[str, Any]]

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last committed entry of each input URI."""
        out: dict[str, dict[str, Any]] = {}
        for entry in self.entries:
            out[entry["uri"]] = entry
        return out

    @property
    def runs(self) -> list[str]:
        """Run ids with a committed log file, oldest first."""
        return sorted({entry["run_id"] for entry in self.entries})


def log_folder(lake_root: str) -> str:
    """The log folder of a lake (a path, or a URI for a remote lake)."""
    if "://" in lake_root:
        return f"{lake_root.rstrip('/')}/{LOG_DIR}"
    return os.path.join(os.path.abspath(lake_root), *LOG_DIR.split("/"))


def log_name(run_id: str) -> str:
    """One run's log file, relative to the lake root."""
    return f"{LOG_DIR}/{run_id}{SUFFIX}"


def encode(entries: list[dict[str, Any]]) -> bytes:
    """One run's log file content."""
    return "".join(json.dumps(entry, sort_keys=True) + "\n" for entry in entries).encode()


def read_log(lake_root: str) -> IngestLog:
    """Read the log of a lake (empty when the lake or its log does not exist yet).

    Files are read in run order (run ids sort by start time), so a later run's entry for an
    input wins.
    """
    folder = log_folder(lake_root)
    if "://" not in folder:
        try:
            names = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                           if name.endswith(SUFFIX) and not name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return IngestLog([])
        except OSError as exc:
            raise OutputError(f"cannot read the ingest log: {exc}", file=folder) from None
        return IngestLog(_parse(names, _read_local))
    import pyarrow.fs as pafs

    from odse.writers.targets import resolve

    location = resolve(folder)
    folder = location.path
    try:
        infos = location.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))
    except OSError as exc:
        raise OutputError(f"cannot read the ingest log: {exc}", file=folder) from None
    names = sorted(info.path for info in infos
                   if info.base_name.endswith(SUFFIX) and not info.base_name.startswith("."))

    def read(path: str) -> str:
        with location.fs.open_input_stream(path) as stream:
            return stream.read().decode("utf-8")

    return IngestLog(_parse(names, read))


def _read_local(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _parse(names: list[str], read: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in names:
        text = read(path)
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise OutputError(f"the ingest log is damaged: {exc.msg}", code="LOG_DAMAGED",
                                  file=path, line=number,
                                  hint="Restore or remove that file (its inputs are then "
                                       "ingested again)") from None
    return entries
