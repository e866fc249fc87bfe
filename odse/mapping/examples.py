"""Run the examples a mapping spec carries: input text, parameters, expected records.

A spec can hold small examples under ``examples:`` (at the top level, or in a variant).
``run_examples`` transforms each input and compares the records with the expected ones, so
a third party tests a mapping the same way odse tests its built-in ones
(``odse mapping test FILE``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from odse.errors import OdseError
from odse.mapping import Mapping

REL_TOLERANCE = 1e-9


@dataclass
class ExampleResult:
    """The outcome of one example."""

    name: str
    variant: str | None
    passed: bool
    problems: list[str]


def examples_of(mapping: Mapping) -> list[tuple[str | None, dict[str, Any]]]:
    """Return (variant name or None, example) for every example in the spec."""
    out: list[tuple[str | None, dict[str, Any]]] = [(None, ex) for ex in mapping.examples]
    for variant in mapping.variants:
        out += [(variant.name, ex) for ex in variant.examples]
    return out


def run_examples(mapping: Mapping) -> list[ExampleResult]:
    """Transform every example input and compare with its expected records."""
    from odse.api import transform

    results = []
    for i, (variant, example) in enumerate(examples_of(mapping), start=1):
        name = example.get("name") or f"example {i}"
        problems: list[str] = []
        try:
            records = transform(example["input"], mapping=mapping,
                                **(example.get("params") or {}))
        except OdseError as exc:
            results.append(ExampleResult(name, variant, False, [f"raised {exc}"]))
            continue
        if variant is not None and records.report.variant != variant:
            problems.append(f"read as variant '{records.report.variant}', not '{variant}'")
        problems += compare(records, example["expect"])
        want_rejects = example.get("rejects")
        if want_rejects is not None and records.report.rows_rejected != want_rejects:
            problems.append(f"{records.report.rows_rejected} rows rejected, expected "
                            f"{want_rejects}: {[str(r) for r in records.rejects][:3]}")
        elif want_rejects is None and records.report.reject_count:
            problems.append(f"unexpected rejects: {[str(r) for r in records.rejects][:3]}")
        results.append(ExampleResult(name, variant, not problems, problems))
    return results


def compare(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> list[str]:
    """Describe the differences between records (floats compared with a tolerance)."""
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} records, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        for key in sorted(set(g) | set(w)):
            if key not in w:
                problems.append(f"record {i}: unexpected {key}={g[key]!r}")
            elif key not in g:
                problems.append(f"record {i}: missing {key} (expected {w[key]!r})")
            elif not _same(g[key], w[key]):
                problems.append(f"record {i}: {key}={g[key]!r}, expected {w[key]!r}")
    return problems


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=REL_TOLERANCE, abs_tol=1e-12)
        except (TypeError, ValueError):
            return False
    return a == b
