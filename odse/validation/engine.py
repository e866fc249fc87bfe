"""Run the checks in order over a batch and assemble the result.

Order: schema (every record) -> profile (records without schema errors) -> semantic warnings
(records without errors). Everything up to here is masks over the whole batch; only the
findings are turned into Python objects, one ValidationError per record and check.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any, overload

import pyarrow as pa
import pyarrow.compute as pc

from odse.validation.checks import Finding, schema_findings
from odse.validation.columns import ArrowColumns, Columns, DictColumns
from odse.validation.profiles import profile_findings
from odse.validation.results import BatchValidationResult, ValidationError, summary_of_counts
from odse.validation.rules import record_rules
from odse.validation.semantic import SemanticOptions, semantic_findings


def run(records: Sequence[Any] | pa.Table, *, level: str, profile: str | None,
        options: SemanticOptions) -> BatchValidationResult:
    """Validate records (a sequence of dicts or an Arrow table) and return the batch result.

    Parameters:
        records: The records; the caller has already normalised the input kind.
        level: ``schema`` or ``semantic`` (already checked).
        profile: Conformance profile name, or None.
        options: Context for the semantic checks.
    """
    rules = record_rules()
    cols: Columns = (ArrowColumns(records, rules) if isinstance(records, pa.Table)
                     else DictColumns(records, rules))
    n = cols.n
    errors = schema_findings(rules, cols)
    failed = _union(errors, n)
    if profile is not None:
        found = profile_findings(profile, rules, cols, _and_not(cols.objects, failed))
        errors.extend(found)
        failed = _union(found, n, failed)
    warnings: list[Finding] = []
    if level == "semantic":
        warnings = semantic_findings(cols, _and_not(cols.objects, failed), options)

    error_list = FindingList(errors)
    warning_list = FindingList(warnings)
    valid_mask = pc.invert(failed)
    valid = valid_mask.true_count
    summary = summary_of_counts(valid, n, level, error_list.counts(), warning_list.counts())
    return BatchValidationResult(total=n, valid=valid, invalid=n - valid, errors=error_list,
                                 summary=summary, warnings=warning_list, level=level,
                                 valid_mask=valid_mask)


class FindingList(Sequence[tuple[int, ValidationError]]):
    """``(index, ValidationError)`` pairs in record order, rendered when first looked at.

    The counts (``len``, :meth:`counts`) come from the masks, and :meth:`head` renders only
    the first few, so a batch with half a million warnings costs their messages only when a
    caller reads them all. Compares equal to a list of the same pairs.
    """

    def __init__(self, findings: list[Finding]) -> None:
        self._findings = findings
        self._pairs: list[tuple[int, ValidationError]] | None = None
        self._len = sum(f.mask.true_count for f in findings)

    def counts(self) -> dict[str, int]:
        """Return the number of findings per code (no message is rendered)."""
        out: dict[str, int] = {}
        for f in self._findings:
            out[f.code] = out.get(f.code, 0) + f.mask.true_count
        return out

    def head(self, limit: int, code: str | None = None) -> list[tuple[int, ValidationError]]:
        """Return the first ``limit`` pairs in record order (of one code, when given)."""
        if self._pairs is not None:
            pairs = self._pairs if code is None else [p for p in self._pairs
                                                      if p[1].code == code]
            return pairs[:limit]
        chosen = [f for f in self._findings if code is None or f.code == code]
        return _materialise(chosen, limit)[:limit]

    def _all(self) -> list[tuple[int, ValidationError]]:
        if self._pairs is None:
            self._pairs = _materialise(self._findings)
        return self._pairs

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    @overload
    def __getitem__(self, index: int) -> tuple[int, ValidationError]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[int, ValidationError]]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice) and (index.start in (None, 0)) and index.step is None \
                and index.stop is not None and index.stop >= 0:
            return self.head(index.stop)
        return self._all()[index]

    def __iter__(self) -> Iterator[tuple[int, ValidationError]]:
        return iter(self._all())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FindingList):
            return self._all() == other._all()
        if isinstance(other, list):
            return self._all() == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._all())


def _union(findings: list[Finding], n: int,
           start: pa.BooleanArray | None = None) -> pa.BooleanArray:
    out = start if start is not None else pa.repeat(pa.scalar(False), n)
    for f in findings:
        out = pc.or_(out, f.mask)
    return out


def _and_not(a: pa.BooleanArray, b: pa.BooleanArray) -> pa.BooleanArray:
    return pc.and_(a, pc.invert(b))


def _materialise(findings: list[Finding],
                 limit: int | None = None) -> list[tuple[int, ValidationError]]:
    """Render each finding's records into (index, ValidationError), ordered by index.

    Findings arrive field by field in check order; the stable sort keeps that order within a
    record. With ``limit``, only each finding's first ``limit`` records are rendered (enough
    for the first ``limit`` overall).
    """
    out: list[tuple[int, ValidationError]] = []
    # Millions of small objects and no cycles among them: the cyclic garbage collector would
    # only rescan them again and again (a third of the time for a batch of bad records).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for f in findings:
            where = pc.indices_nonzero(f.mask)
            if limit is not None:
                where = where[:limit]
            indices = where.to_pylist()
            if not indices:
                continue
            code, path = f.code, f.path
            out.extend((i, ValidationError(path, message, code, value))
                       for i, (message, value) in zip(indices, f.render(indices), strict=True))
        if len(findings) > 1:
            out.sort(key=itemgetter(0))
    finally:
        if collecting:
            gc.enable()
    return out
