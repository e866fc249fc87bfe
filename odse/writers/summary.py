"""What a write did, returned by every writer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WriteSummary:
    """The outcome of one call to ``to_json``, ``to_csv`` or ``to_parquet``.

    path: the output as given (path or URI); ``None`` when writing to an open file object.
    format: ``"jsonl"``, ``"csv"``, ``"parquet"`` or ``"delta"``.
    rows_in: records received.
    rows_written: records this write put in the output (after de-duplication in merge mode).
    files_written: files created or replaced.
    partitions: touched partition folders relative to the lake root, sorted (Parquet only;
        ``""`` is the root of an unpartitioned lake).
    mode: ``"merge"``, ``"overwrite"`` or ``"append"`` (Parquet only).
    duplicates_dropped: incoming records replaced by a later incoming record with the same key
        (merge only).
    rows_replaced: rows that were in the lake and are gone: replaced by incoming rows with the
        same key (merge), or in a partition that was overwritten (overwrite).
    files_upgraded: existing files of partitions the write did not replace that were
        rewritten with new columns (nulls), so that every file has the lake's columns
        (Parquet only).
    """

    path: str | None
    format: str
    rows_in: int
    rows_written: int
    files_written: int
    partitions: tuple[str, ...] = ()
    mode: str | None = None
    duplicates_dropped: int = 0
    rows_replaced: int = 0
    files_upgraded: int = 0

    def __str__(self) -> str:
        where = self.path if self.path is not None else "the open file"
        text = f"wrote {self.rows_written} of {self.rows_in} records to {where}"
        if self.format in ("parquet", "delta"):
            count = len(self.partitions)
            text += (f" ({self.mode}: {count} partition{'s' if count != 1 else ''}, "
                     f"{self.files_written} file{'s' if self.files_written != 1 else ''}")
            if self.duplicates_dropped:
                text += f", {self.duplicates_dropped} duplicate records dropped"
            if self.rows_replaced:
                text += f", {self.rows_replaced} existing rows replaced"
            if self.files_upgraded:
                text += f", {self.files_upgraded} older files given the new columns"
            text += ")"
        return text
