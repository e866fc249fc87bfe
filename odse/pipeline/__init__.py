"""Fleet ingest: a declarative pipeline over many files, in parallel, once each, with lineage.

A pipeline spec (YAML, ``schemas/pipeline-v1.json``) says where the files are, how each
finds its site and source, how records are validated and enriched, and which lake they go
to. :func:`run_pipeline` (``odse run``) finds the files, skips those the lake's ingest log
already holds unchanged, ingests the rest in worker processes and writes the lake and the
log in one commit. Modules: ``spec`` (load and check), ``discovery`` (find files),
``planning`` (what to ingest and why), ``worker`` (one file), ``ingest_log``, ``executors``
(where the work runs) and ``runner``. See ``docs/pipeline.md``.
"""

from __future__ import annotations

from odse.pipeline.ingest_log import IngestLog, read_log
from odse.pipeline.runner import RunResult, run_pipeline
from odse.pipeline.spec import PipelineSpec, load_pipeline

__all__ = ["IngestLog", "PipelineSpec", "RunResult", "load_pipeline", "read_log",
           "run_pipeline"]
