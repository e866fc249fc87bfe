"""Run the checks in order over a batch and assemble the result.

Order: schema (every record) -> profile (records without schema errors) -> semantic warnings
(records without errors). Everything up to here is masks over the whole batch; only the
findings are turned into Python objects, one ValidationError per record and check.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.validation.checks import Finding, schema_findings
from odse.validation.columns import ArrowColumns, Columns, DictColumns
from odse.validation.profiles import profile_findings
from odse.validation.results import BatchValidationResult, ValidationError, summarize
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

    error_pairs = _materialise(errors)
    warning_pairs = _materialise(warnings)
    valid_mask = pc.invert(failed)
    valid = pc.sum(pc.cast(valid_mask, pa.int64())).as_py() or 0
    summary = summarize(valid, n, level, (e for _, e in error_pairs),
                        (w for _, w in warning_pairs))
    return BatchValidationResult(total=n, valid=valid, invalid=n - valid, errors=error_pairs,
                                 summary=summary, warnings=warning_pairs, level=level,
                                 valid_mask=valid_mask)


def _union(findings: list[Finding], n: int,
           start: pa.BooleanArray | None = None) -> pa.BooleanArray:
    out = start if start is not None else pa.repeat(pa.scalar(False), n)
    for f in findings:
        out = pc.or_(out, f.mask)
    return out


def _and_not(a: pa.BooleanArray, b: pa.BooleanArray) -> pa.BooleanArray:
    return pc.and_(a, pc.invert(b))


def _materialise(findings: list[Finding]) -> list[tuple[int, ValidationError]]:
    """Render each finding's records into (index, ValidationError), ordered by index.

    Findings arrive field by field in check order; the stable sort keeps that order within a
    record.
    """
    out: list[tuple[int, ValidationError]] = []
    # Millions of small objects and no cycles among them: the cyclic garbage collector would
    # only rescan them again and again (a third of the time for a batch of bad records).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for f in findings:
            indices = pc.indices_nonzero(f.mask).to_pylist()
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
