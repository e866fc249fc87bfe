"""Conformance corpus: mapping cases kept as data, and the examples every mapping carries.

A case file is YAML holding one case or a list of cases. A case::

    name: what the case shows                  # required
    source: sma                                # a source name (any alias), or
    mapping: {odse_mapping: 1, ...}            # a full spec inline, or a path relative to
                                               # the case file
    params: {timezone: Europe/Berlin}          # keyword arguments of odse.transform
    input: |                                   # the input, as text
      ...
    input_file: data/report.xlsx               # or a file (a workbook), relative to the case
    expect:                                    # the records, in output order
      - {timestamp: "2024-06-01T10:00:00Z", kWh: 1.5, error_type: normal}
    rejects: 1                                 # rows rejected (optional; when absent and
                                               # reject_codes absent, no rejects at all)
    reject_codes: [MISSING_VALUE]              # codes present (a list), or exact counts
                                               # of reject entries by code (a mapping)
    variant: webui_csv3                        # the input shape that must match (optional)
    unordered: true                            # compare regardless of record order
    raises: {error: InputError, match: [needs]}  # instead of expect: the call must fail

Floats compare with a relative tolerance of 1e-9; quote timestamps and string codes
(``error_code: "512"``) so that YAML keeps them as text. A failing case lists every
difference.

Run it on your own mappings (nothing else from odse's tests is needed)::

    ODSE_MAPPINGS=path/to/my_mappings ODSE_CONFORMANCE=path/to/my_cases \\
        pytest -q path/to/odse/tests/test_conformance.py

``ODSE_MAPPINGS`` is a folder of mapping files: the ``examples:`` of each are run, and a
case's ``source:`` is looked up among them before odse's built-in sources.
``ODSE_CONFORMANCE`` is a folder searched recursively for ``*.yaml`` case files. Without
them, the built-in mappings and ``tests/conformance/`` are used, and the corpus must cover
every input shape of every built-in source with at least three cases per source.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import odse
from odse import errors as odse_errors
from odse import registry
from odse.mapping import Mapping, load_mapping
from odse.mapping.examples import run_examples

REL_TOL = 1e-9
ABS_TOL = 1e-12
HERE = Path(__file__).resolve().parent
CASES_DIR = Path(os.environ.get("ODSE_CONFORMANCE") or HERE / "conformance")
MAPPINGS_DIR = Path(os.environ["ODSE_MAPPINGS"]) if os.environ.get("ODSE_MAPPINGS") else None
BUILT_IN = MAPPINGS_DIR is None and "ODSE_CONFORMANCE" not in os.environ
CASE_KEYS = {"name", "source", "mapping", "params", "input", "input_file", "expect", "rejects",
             "reject_codes", "variant", "unordered", "raises", "description"}


# ----------------------------------------------------------------------------- loading


@dataclass
class Case:
    """One case of a case file."""

    file: Path
    index: int
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        rel = self.file.relative_to(CASES_DIR) if self.file.is_relative_to(CASES_DIR) \
            else self.file
        return f"{rel.with_suffix('')}::{self.spec.get('name') or self.index}"


def load_cases(folder: Path) -> list[Case]:
    cases = []
    for path in sorted(folder.rglob("*.yaml")):
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = loaded if isinstance(loaded, list) else [loaded]
        cases += [Case(path, i, item) for i, item in enumerate(items, start=1)]
    return cases


@cache
def own_mappings() -> dict[str, Mapping]:
    """Mappings of ODSE_MAPPINGS by name and alias (empty without it)."""
    if MAPPINGS_DIR is None:
        return {}
    found: dict[str, Mapping] = {}
    for path in sorted(MAPPINGS_DIR.glob("*.y*ml")) + sorted(MAPPINGS_DIR.glob("*.json")):
        spec = load_mapping(path)
        for name in [spec.name, *(getattr(spec, "aliases", None) or [])]:
            if name:
                found.setdefault(str(name).lower(), spec)
    return found


def mappings_with_examples() -> list[tuple[str, Mapping]]:
    if MAPPINGS_DIR is not None:
        seen: dict[int, tuple[str, Mapping]] = {}
        for name, spec in own_mappings().items():
            seen.setdefault(id(spec), (name, spec))
        return sorted(seen.values(), key=lambda pair: pair[0])
    return [(s["name"], registry.get(s["name"])) for s in registry.sources()
            if not registry.is_generic(s["name"])]


CASES = load_cases(CASES_DIR) if CASES_DIR.is_dir() else []
MAPPINGS = mappings_with_examples()


# ----------------------------------------------------------------------------- comparing


def normalise(value: Any) -> Any:
    """Turn what YAML made of an unquoted time back into the record's text form."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        text = moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
        return text.replace(".000000", "")
    if isinstance(value, date):
        return value.isoformat()
    return value


def same(got: Any, want: Any) -> bool:
    numbers = (int, float)
    if isinstance(got, numbers) and isinstance(want, numbers) and \
            not isinstance(got, bool) and not isinstance(want, bool):
        return math.isclose(float(got), float(want), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return got == want


def record_key(record: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(record.get(k)) for k in ("timestamp", "asset_id", "channel", "direction",
                                              "kWh"))


def differences(got: list[dict[str, Any]], want: list[dict[str, Any]],
                unordered: bool = False) -> list[str]:
    """Describe every difference between the records and the expected ones."""
    want = [{k: normalise(v) for k, v in rec.items()} for rec in want]
    if unordered:
        got, want = sorted(got, key=record_key), sorted(want, key=record_key)
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} records, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        for key in sorted(set(g) | set(w)):
            if key not in w:
                problems.append(f"record {i}: unexpected {key}={g[key]!r}")
            elif key not in g:
                problems.append(f"record {i}: missing {key} (expected {w[key]!r})")
            elif not same(g[key], w[key]):
                problems.append(f"record {i}: {key}={g[key]!r}, expected {w[key]!r}")
    for i, extra in enumerate(got[len(want):], start=len(want)):
        problems.append(f"record {i}: not expected: {extra}")
    for i, absent in enumerate(want[len(got):], start=len(got)):
        problems.append(f"record {i}: missing: {absent}")
    return problems


def reject_problems(records: odse.Records, case: dict[str, Any]) -> list[str]:
    report = records.report
    shown = [str(r) for r in records.rejects][:5]
    problems = []
    if report.rows_read != report.rows_out + report.rows_rejected + report.rows_skipped:
        problems.append(f"rows_read {report.rows_read} != rows_out {report.rows_out} + "
                        f"rows_skipped {report.rows_skipped} + "
                        f"rows_rejected {report.rows_rejected}")
    want_rows = case.get("rejects")
    want_codes = case.get("reject_codes")
    if want_rows is not None and report.rows_rejected != want_rows:
        problems.append(f"{report.rows_rejected} rows rejected, expected {want_rows}: {shown}")
    codes = Counter(r.code for r in records.rejects)
    if isinstance(want_codes, dict) and dict(codes) != want_codes:
        problems.append(f"reject codes {dict(codes)}, expected {want_codes}: {shown}")
    if isinstance(want_codes, list) and set(codes) != set(want_codes):
        problems.append(f"reject codes {sorted(codes)}, expected {sorted(want_codes)}: {shown}")
    if want_rows is None and want_codes is None and report.reject_count:
        problems.append(f"unexpected rejects ({report.summary()}): {shown}")
    return problems


# ----------------------------------------------------------------------------- running


def transform_case(case: Case) -> odse.Records:
    spec = case.spec
    mapping = spec.get("mapping")
    if isinstance(mapping, str):
        mapping = case.file.parent / mapping
    source = spec.get("source")
    own = own_mappings().get(str(source).lower()) if source else None
    if own is not None:
        source, mapping = None, own
    if "input_file" in spec:
        data = case.file.parent / spec["input_file"]
    else:
        text = spec["input"]
        data = text.encode("utf-8") if isinstance(text, str) else text
    return odse.transform(data, source=source, mapping=mapping, **(spec.get("params") or {}))


def check_case(case: Case) -> list[str]:
    spec = case.spec
    unknown = set(spec) - CASE_KEYS
    if unknown:
        return [f"unknown case keys {sorted(unknown)}; known: {sorted(CASE_KEYS)}"]
    if ("input" in spec) == ("input_file" in spec) or \
            ("expect" not in spec) == ("raises" not in spec):
        return ["a case needs input (or input_file) and exactly one of expect or raises"]
    raises = spec.get("raises")
    try:
        records = transform_case(case)
    except odse_errors.OdseError as exc:
        if raises is None:
            return [f"raised {type(exc).__name__} [{exc.code}]: {exc}"]
        problems = []
        want_type = getattr(odse_errors, raises.get("error", "OdseError"))
        if not isinstance(exc, want_type):
            problems.append(f"raised {type(exc).__name__}, expected {want_type.__name__}")
        match = raises.get("match") or []
        for text in [match] if isinstance(match, str) else match:
            if text not in str(exc):
                problems.append(f"the message lacks {text!r}: {exc}")
        return problems
    if raises is not None:
        return [f"expected {raises.get('error', 'an error')}, got {len(records)} records "
                f"({records.report.summary()})"]
    problems = []
    if spec.get("variant") and records.report.variant != spec["variant"]:
        problems.append(f"read as variant {records.report.variant!r}, "
                        f"expected {spec['variant']!r}")
    problems += differences(list(records), spec["expect"] or [], bool(spec.get("unordered")))
    problems += reject_problems(records, spec)
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case) -> None:
    problems = check_case(case)
    assert not problems, f"{case.file}: case {case.spec.get('name')!r}:\n  " + \
        "\n  ".join(problems)


@pytest.mark.parametrize(("name", "mapping"), MAPPINGS, ids=[n for n, _ in MAPPINGS])
def test_mapping_examples(name: str, mapping: Mapping) -> None:
    failed = [r for r in run_examples(mapping) if not r.passed]
    assert not failed, f"mapping {name}: " + "; ".join(
        f"example {r.name!r} ({r.variant or 'top level'}): {r.problems}" for r in failed)


# ----------------------------------------------------------------------------- the corpus itself


@pytest.mark.skipif(not BUILT_IN, reason="coverage of the built-in corpus only")
def test_corpus_has_three_cases_per_built_in_source() -> None:
    counts = Counter()
    for case in CASES:
        source = case.spec.get("source")
        if source:
            counts[registry.get(source).name] += 1
    thin = {name: counts[name] for name, _ in MAPPINGS if counts[name] < 3}
    assert not thin, f"sources with fewer than three conformance cases: {thin}"


@pytest.mark.skipif(not BUILT_IN, reason="coverage of the built-in corpus only")
def test_corpus_covers_every_input_shape() -> None:
    """Every variant of every built-in source is matched by some case."""
    matched: set[tuple[str, str]] = set()
    for case in CASES:
        source = case.spec.get("source")
        if not source or "expect" not in case.spec:
            continue
        try:
            records = transform_case(case)
        except odse_errors.OdseError:
            continue
        matched.add((registry.get(source).name, records.report.variant))
    shapes = {(name, v.name) for name, spec in MAPPINGS for v in spec.variants}
    missing = sorted(shapes - matched)
    assert not missing, f"input shapes no conformance case reaches: {missing}"


@pytest.mark.skipif(not BUILT_IN, reason="built-in mappings only")
@pytest.mark.parametrize(("name", "mapping"), MAPPINGS, ids=[n for n, _ in MAPPINGS])
def test_built_in_mapping_carries_examples(name: str, mapping: Mapping) -> None:
    from odse.mapping.examples import examples_of

    assert examples_of(mapping), (
        f"mappings/{name}.yaml has no examples: add a small input and its expected records "
        "under examples: so that `odse mapping test` and this suite check it")


def test_runner_reports_every_difference() -> None:
    """The comparison itself: tolerance, missing and unexpected fields, record counts."""
    got = [{"timestamp": "2024-01-01T00:00:00Z", "kWh": 1.0000000000001, "error_type": "normal",
            "kW": 2.0}]
    want = [{"timestamp": datetime(2024, 1, 1, tzinfo=timezone.utc), "kWh": 1,
             "error_type": "warning", "channel": "production"},
            {"timestamp": "2024-01-01T01:00:00Z", "kWh": 1.0, "error_type": "normal"}]
    assert differences(got, want) == [
        "1 records, expected 2",
        "record 0: missing channel (expected 'production')",
        "record 0: error_type='normal', expected 'warning'",
        "record 0: unexpected kW=2.0",
        "record 1: missing: {'timestamp': '2024-01-01T01:00:00Z', 'kWh': 1.0, "
        "'error_type': 'normal'}",
    ]
    assert not differences([{"kWh": 0.1 + 0.2}], [{"kWh": 0.3}])
    assert differences([{"kWh": 0.3001}], [{"kWh": 0.3}])
