"""What a transform reports besides its records: counts and rejected rows.

Every input row is either in the output or among the rejects with its row number, place in
the input, field, column, raw value and reason. ``Report`` carries the counts and the rejects
(as :class:`Reject` objects or as an Arrow table); ``Records`` is the list that
``transform()`` returns, with the report attached.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

logger = logging.getLogger("odse")

REJECT_SCHEMA = pa.schema([
    ("row", pa.int64()),        # 1-based data row (CSV) or record (JSON) number
    ("line", pa.int64()),       # line in the file (CSV), when known
    ("path", pa.string()),      # place in a JSON document
    ("field", pa.string()),     # record field the value was for
    ("column", pa.string()),    # input column or path it came from
    ("value", pa.string()),     # the raw value, as text
    ("code", pa.string()),      # stable reason code
    ("reason", pa.string()),    # what was wrong, for a person
    ("scope", pa.string()),     # "record": no record was made; "value": only the value dropped
])


@dataclass(frozen=True)
class Reject:
    """One input value that odse could not use."""

    row: int | None
    field: str | None
    column: str | None
    value: str | None
    code: str
    reason: str
    scope: str = "record"
    line: int | None = None
    path: str | None = None

    @property
    def location(self) -> str:
        """Where the value sits in the input: ``line 12`` or a JSON path."""
        if self.path:
            return self.path
        if self.line is not None:
            return f"line {self.line}"
        return f"row {self.row}" if self.row is not None else "(unknown place)"

    def __str__(self) -> str:
        parts = [self.location]
        if self.field:
            parts.append(f"{self.field} from {self.column!r}" if self.column else self.field)
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        parts.append(self.reason)
        return ": ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Return the reject as plain data (for JSON reports)."""
        return {"row": self.row, "location": self.location, "field": self.field,
                "column": self.column, "value": self.value, "code": self.code,
                "reason": self.reason, "scope": self.scope}


@dataclass
class Report:
    """Counts and rejects of one transform, filled in as the input streams through."""

    source: str | None = None
    variant: str | None = None
    input: str | None = None
    rows_read: int = 0
    rows_rejected: int = 0
    records: int = 0
    input_bytes: int | None = None      # size of the input, when known (for progress bars)
    bytes_read: int = 0                 # how far the reader has got
    values_clipped: dict[str, int] = field(default_factory=dict)
    counter_resets: int = 0             # counters that restarted (their reading counted whole)
    counter_jitter: int = 0             # small counter drops, read as intervals of no energy
    skipped: dict[str, int] = field(default_factory=dict)   # rows the spec skips, by reason
    assumed_zone: str | None = None     # zone naive times were read in, none being given
    sheet: str | None = None            # the workbook sheet read
    _reject_tables: list[pa.Table] = field(default_factory=list, repr=False)
    _rejects_cache: list[Reject] | None = field(default=None, repr=False)
    finished: bool = False

    @property
    def rows_out(self) -> int:
        """Input rows that are in the output (read, less rejected, less skipped)."""
        return self.rows_read - self.rows_rejected - self.rows_skipped

    @property
    def rows_skipped(self) -> int:
        """Input rows the spec skips on purpose (``skipped`` gives the reasons)."""
        return sum(self.skipped.values())

    def skip(self, reason: str, count: int) -> None:
        """Count ``count`` input rows as skipped by the spec, for ``reason``."""
        if count:
            self.skipped[reason] = self.skipped.get(reason, 0) + count

    def add_rejects(self, table: pa.Table) -> None:
        """Append rejects (a table in ``REJECT_SCHEMA``)."""
        if table.num_rows:
            self._reject_tables.append(table)
            self._rejects_cache = None

    @property
    def rejects_table(self) -> pa.Table:
        """All rejects as an Arrow table (``REJECT_SCHEMA``)."""
        if not self._reject_tables:
            return REJECT_SCHEMA.empty_table()
        return pa.concat_tables(self._reject_tables)

    @property
    def rejects(self) -> list[Reject]:
        """All rejects, in input order."""
        if self._rejects_cache is None:
            self._rejects_cache = [Reject(**r) for r in self.rejects_table.to_pylist()]
        return self._rejects_cache

    @property
    def reject_count(self) -> int:
        """Number of reject entries (rows and dropped values)."""
        return sum(t.num_rows for t in self._reject_tables)

    def reasons(self) -> dict[str, int]:
        """Count rejects by code."""
        out: dict[str, int] = {}
        for t in self._reject_tables:
            for code in t.column("code").to_pylist():
                out[code] = out.get(code, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def summary(self) -> str:
        """One line: rows read, records written, rows rejected (with the main reasons)."""
        text = (f"{self.rows_read} rows read, {self.records} records, "
                f"{self.rows_rejected} rows rejected")
        reasons = self.reasons()
        if reasons:
            text += " (" + ", ".join(f"{n}x {code}" for code, n in list(reasons.items())[:4])
            text += ", ..." if len(reasons) > 4 else ""
            text += ")"
        clipped = sum(self.values_clipped.values())
        if clipped:
            text += f", {clipped} values clipped"
        if self.counter_resets:
            text += f", {self.counter_resets} counter resets"
        if self.counter_jitter:
            text += f", {self.counter_jitter} counter drops read as no energy"
        if self.skipped:
            text += f", {self.rows_skipped} rows skipped (" + ", ".join(
                f"{n}x {reason}" for reason, n in self.skipped.items()) + ")"
        if self.assumed_zone:
            text += f"; naive times read as {self.assumed_zone}: pass timezone="
        return text

    def to_dict(self, max_rejects: int | None = 1000) -> dict[str, Any]:
        """Return counts and (up to ``max_rejects``) rejects as plain data."""
        rejects = self.rejects if max_rejects is None else self.rejects[:max_rejects]
        return {"source": self.source, "variant": self.variant, "input": self.input,
                "rows_read": self.rows_read, "rows_out": self.rows_out,
                "rows_rejected": self.rows_rejected, "records": self.records,
                "values_clipped": dict(self.values_clipped),
                "counter_resets": self.counter_resets, "counter_jitter": self.counter_jitter,
                "rows_skipped": self.rows_skipped, "skipped": dict(self.skipped),
                "assumed_zone": self.assumed_zone, "sheet": self.sheet,
                "reasons": self.reasons(), "rejects": [r.to_dict() for r in rejects]}

    def log(self) -> None:
        """Log one warning that summarises the rejects, if there are any."""
        if self.reject_count:
            first = self.rejects[0]
            logger.warning("odse: %s from %s; first: %s", self.summary(),
                           self.input or "input", first)


class Records(list):  # type: ignore[type-arg]
    """The list of record dicts that ``transform()`` returns, with its :class:`Report`."""

    report: Report

    def __init__(self, records: list[dict[str, Any]], report: Report) -> None:
        super().__init__(records)
        self.report = report

    @property
    def rejects(self) -> list[Reject]:
        """Input values that are not in the records, with row, column, value and reason."""
        return self.report.rejects
