"""Property-based fuzzing of the readers and the spec loader (hypothesis), about a minute in all.

Whatever the bytes of a CSV or JSON input, or the content of a spec, odse either raises an
OdseError or returns records with every row accounted for: no other exception, and
``rows_read == records + rows_rejected`` for a one-record-per-row column map.
"""

from __future__ import annotations

import contextlib
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import odse
from odse.errors import OdseError

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
COLUMNS = {"timestamp": "Time", "kWh": "Energy"}

# cells a real export or an attacker might write: times, numbers, quotes, breaks, odd text
CELL = st.one_of(
    st.sampled_from(["2024-01-01 00:00", "2024-01-01T00:05:00Z", "1700000000", "", "N/A",
                     '"', '""', '"a,b"', '"x\ny"', "1.5", "-0", "1e400", "9" * 400, "\r",
                     "nan", "\ufeff", "\x00", "é", "\udc80"]),
    st.text(max_size=12),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
LINE = st.lists(CELL, min_size=0, max_size=4).map(",".join)


def _accounted(records: odse.Records) -> None:
    report = records.report
    assert report.rows_read == len(records) + report.rows_rejected, report


@FUZZ
@given(lines=st.lists(LINE, max_size=40), ending=st.sampled_from(["\n", "\r\n"]))
def test_csv_text(lines: list[str], ending: str) -> None:
    text = "Time,Energy" + ending + ending.join(lines)
    data = text.encode("utf-8", "surrogatepass")
    try:
        out = odse.transform(data, column_map=COLUMNS)
    except OdseError:
        return
    _accounted(out)


@FUZZ
@given(raw=st.binary(max_size=400))
def test_csv_bytes(raw: bytes) -> None:
    try:
        out = odse.transform(b"Time,Energy\n" + raw, column_map=COLUMNS)
    except OdseError:
        return
    _accounted(out)


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                      st.text(max_size=8), st.just("\ud800"), st.just(2 ** 64 + 1))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=30)
READING = st.fixed_dictionaries({"end_at": st.one_of(st.integers(), JSON_VALUE),
                                 "wh_del": st.one_of(st.floats(), JSON_VALUE),
                                 "devices_reporting": st.one_of(st.integers(0, 30), JSON_VALUE)})


@FUZZ
@given(doc=st.one_of(
    st.fixed_dictionaries({"system_id": st.integers(), "production": st.lists(READING,
                                                                              max_size=8)}),
    JSON_VALUE))
def test_json_documents(doc: object) -> None:
    text = json.dumps(doc, allow_nan=True)
    try:
        odse.transform(text.encode("utf-8", "surrogatepass"), source="enphase")
    except OdseError:
        return


@FUZZ
@given(lines=st.lists(JSON_VALUE.map(json.dumps), max_size=6))
def test_json_lines(lines: list[str]) -> None:
    data = ("\n".join(['{"a": 1}', *lines]) + "\n").encode("utf-8", "surrogatepass")
    try:
        odse.transform(data, mapping={"odse_mapping": 1, "name": "fz", "format": "jsonl",
                                      "fields": {"timestamp": {"column": "t"},
                                                 "kWh": {"column": "v"},
                                                 "error_type": {"const": "normal"}}})
    except OdseError:
        return


SPEC_KEYS = st.sampled_from(["odse_mapping", "name", "format", "fields", "timestamp", "kWh",
                             "column", "unit", "measure", "interval", "csv", "json", "records",
                             "path", "match", "variants", "params", "default", "codes",
                             "error_type", "const", "label", "matches", "when", "x"])
SPEC_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6),
              st.sampled_from(["csv", "json", "kW", "power", "(?=a)", "(a)\\1", "[", "data"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(SPEC_KEYS, inner, max_size=4)),
    max_leaves=25)


@FUZZ
@given(spec=st.dictionaries(SPEC_KEYS, SPEC_VALUE, max_size=6))
def test_specs_as_data(spec: dict) -> None:
    base = {"odse_mapping": 1, "name": "fuzz", "format": "csv"}
    for candidate in (spec, {**base, **spec}):
        with contextlib.suppress(OdseError):
            odse.load_mapping(candidate)


@FUZZ
@given(spec=st.dictionaries(SPEC_KEYS, SPEC_VALUE, max_size=6),
       cut=st.integers(0, 400), anchor=st.booleans())
def test_specs_as_text(spec: dict, cut: int, anchor: bool) -> None:
    text = yaml.safe_dump({"odse_mapping": 1, "name": "fuzz", **spec}, allow_unicode=True)
    if anchor:
        text = "x: &a [1, 2]\ny: [*a, *a]\n" + text
    for candidate in (text, text[:cut] + "\n"):
        with contextlib.suppress(OdseError):
            odse.load_mapping(candidate)
