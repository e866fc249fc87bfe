"""What one run of a variant carries from batch to batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odse.engine import series
from odse.engine.compile_ctx import RunState
from odse.report import Report


@dataclass
class RunContext:
    """Parameters, the report being filled, and the state carried between batches."""

    params: dict[str, Any]
    report: Report
    errors: str = "collect"
    state: RunState = field(default_factory=RunState)
    series: series.SeriesState = field(default_factory=series.SeriesState)
    header_lines: int = 0
    absent: frozenset[str] = frozenset()
    """Fields never evaluated and left out of the records (see ``Variant.absent_fields``)."""
    lineage: bool = False
    """Add ``source_location`` (the CSV line or JSON path each record came from)."""
