"""Streaming must not change results: the same input read in tiny batches gives the same
records, rejects and counts as in one batch.

CSV and JSON Lines inputs stream in batches; counters, intervals, daylight-saving folds and
row numbers carry state from one batch to the next. Every CSV and JSON Lines case of the
conformance corpus, and every real CSV sample, runs here with the normal block size and
with blocks of a few hundred bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_conformance import CASES, Case, transform_case

import odse
from odse.engine import reading
from odse.readers import csv_input, json_input

REAL = Path(__file__).resolve().parent / "data" / "real"
SMALL = 700  # bytes: more than the longest line of the real samples


def streamed(case: Case) -> bool:
    text = case.spec.get("input", "")
    first = text.lstrip("\ufeff \n")[:1]
    return ("raises" not in case.spec and first not in ("{", "[")) or \
        (first == "{" and text.strip().count("\n") > 0 and
         all(line.strip().startswith("{") for line in text.strip().splitlines()))


def outcome(records: odse.Records) -> tuple:
    report = records.report
    rejects = [(r.row, r.line, r.path, r.field, r.column, r.value, r.code, r.scope)
               for r in records.rejects]
    return (list(records), sorted(rejects, key=repr), report.rows_read, report.rows_rejected,
            report.records)


def small_blocks(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    monkeypatch.setattr(csv_input, "BLOCK_SIZE", size)
    monkeypatch.setattr(json_input, "LINES_BLOCK", size)


@pytest.mark.parametrize("case", [c for c in CASES if streamed(c)], ids=lambda c: c.id)
def test_conformance_case_in_small_batches(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = outcome(transform_case(case))
    if "input_file" in case.spec:
        # a workbook: its sheet goes through the engine one row at a time
        monkeypatch.setattr(reading, "WORKBOOK_SLICE", 1)
    else:
        longest = max(len(line) for line in case.spec["input"].splitlines() or [""])
        small_blocks(monkeypatch, max(64, 2 * longest + 2))
    assert outcome(transform_case(case)) == whole


SAMPLES = [("enphase/enlighten_custom_report_9999998.csv", "enphase", "Europe/Amsterdam"),
           ("sma/SUNNY_TRIPOWER_8.0_XXXXXXXXXX_5Min_2025_07_14_13_32_21.csv", "sma",
            "Europe/Berlin"),
           ("sma/SUNNY_TRIPOWER_6.0_XXXXXXXXXX_Daily_2025_07_14_14_27_50.csv", "sma",
            "Europe/Berlin"),
           ("sungrow/isolarcloud_Monthly.Report_PLANT_NAME_20241011100248.csv", "sungrow",
            "Europe/Berlin")]


@pytest.mark.parametrize(("path", "source", "zone"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_real_sample_in_small_batches(path: str, source: str, zone: str,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    whole = outcome(odse.transform(REAL / path, source=source, timezone=zone))
    small_blocks(monkeypatch, SMALL)
    assert outcome(odse.transform(REAL / path, source=source, timezone=zone)) == whole


def test_counters_and_spacing_across_many_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # two counter series interleaved, and a power series whose spacing comes from the data
    lines = ["T,A,E,P"]
    for i in range(280):
        asset = "A" if i % 3 else "B"
        energy = i * 1.5 + (7 if asset == "B" else 0)
        lines.append(f"2026-02-09 {i // 12:02d}:{i % 12 * 5:02d}:00,{asset},{energy},2")
    text = "\n".join(lines) + "\n"
    spec = {"odse_mapping": 1, "name": "t", "format": "csv", "fields": {
        "timestamp": {"column": "T", "format": "%Y-%m-%d %H:%M:%S"},
        "asset_id": {"column": "A"}, "kWh": {"column": "E", "measure": "counter"},
        "error_type": {"const": "normal"}}}
    power = {**spec, "interval": "data", "fields": {
        **spec["fields"], "asset_id": {"const": "S"}, "kWh": {"column": "P", "measure": "power"}}}
    wholes = [outcome(odse.transform(text, mapping=s)) for s in (spec, power)]
    small_blocks(monkeypatch, 120)
    assert [outcome(odse.transform(text, mapping=s)) for s in (spec, power)] == wholes


def test_json_lines_whose_types_change_after_the_first_block(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    lines = [json.dumps({"t": f"2026-01-01 00:{i:02d}:00", "e": i}) for i in range(50)]
    lines[40] = json.dumps({"t": "2026-01-01 00:40:00", "e": "N/A"})
    spec = {"odse_mapping": 1, "name": "t", "format": "jsonl", "json": {"records": "@"},
            "fields": {"timestamp": {"column": "t", "format": "iso8601"},
                       "kWh": {"column": "e"}, "error_type": {"const": "normal"}}}
    text = "\n".join(lines) + "\n"
    whole = outcome(odse.transform(text, mapping=spec))
    small_blocks(monkeypatch, 300)
    assert outcome(odse.transform(text, mapping=spec)) == whole
    assert whole[2:] == (50, 1, 49)
