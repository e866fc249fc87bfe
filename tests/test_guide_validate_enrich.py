"""The user guide's Step 2 (validate) and Step 3 (enrich) snippets, run as written.

The records come from ``transform()`` on inline Huawei text; the snippets' code is copied from
the guide unchanged between the ``# --- guide`` markers.
"""

from __future__ import annotations

import pytest

from odse import transform

HUAWEI = ("timestamp,power,inverter_state,run_state\n"
          "2026-02-09 12:00:00,5000,512,1\n"
          "2026-02-09 12:05:00,4800,512,1\n")


@pytest.fixture
def huawei_rows() -> list[dict]:
    return transform(HUAWEI, source="huawei", asset_id="SITE-ALPHA")


def test_step_2_schema_validation(huawei_rows: list[dict],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    # --- guide
    from odse import validate_batch

    result = validate_batch(huawei_rows)
    if result.invalid > 0:
        for idx, error in result.errors:
            print(f"  Row {idx}: {error.code} — {error.message}")
        raise RuntimeError(f"{result.invalid} invalid records")
    # --- guide
    assert result.summary == "2/2 valid (schema)"
    assert capsys.readouterr().out == ""


def test_step_2_schema_validation_reports_bad_rows(capsys: pytest.CaptureFixture[str]) -> None:
    huawei_rows = transform(HUAWEI, source="huawei", asset_id="SITE-ALPHA")
    huawei_rows[1]["kWh"] = -1.0
    with pytest.raises(RuntimeError, match="1 invalid records"):
        # --- guide
        from odse import validate_batch

        result = validate_batch(huawei_rows)
        if result.invalid > 0:
            for idx, error in result.errors:
                print(f"  Row {idx}: {error.code} — {error.message}")
            raise RuntimeError(f"{result.invalid} invalid records")
        # --- guide
    assert capsys.readouterr().out == (
        "  Row 1: OUT_OF_BOUNDS — kWh must be >= 0 unless direction is 'net', got -1.0\n")


def test_step_2_semantic_validation(huawei_rows: list[dict],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    from odse import validate_batch

    # --- guide
    result = validate_batch(huawei_rows, level="semantic", capacity_kw=10.0)
    for idx, warning in result.errors:
        print(f"  Row {idx}: {warning.message}")
    # --- guide
    # 5000 kW for 5 minutes is 416.7 kWh; 10 kW can give at most 0.917 kWh in that time.
    # Warnings are kept apart from errors, so the guide's loop over errors prints nothing
    # and every row stays valid; the warnings are in result.warnings.
    assert capsys.readouterr().out == ""
    assert result.invalid == 0
    assert [(i, w.code) for i, w in result.warnings] == [
        (0, "EXCEEDS_PHYSICAL_MAXIMUM"), (1, "EXCEEDS_PHYSICAL_MAXIMUM")]
    assert result.warnings[0][1].message == (
        "kWh 416.667 exceeds the physical maximum of 0.916667 kWh for a 10 kW capacity over 5 "
        "minutes (capacity x interval x 1.1; interval from the spacing of the series' "
        "timestamps)")
    assert result.summary == ("2/2 valid (semantic); 2 warnings: "
                              "2x EXCEEDS_PHYSICAL_MAXIMUM")


def test_step_3_enrich(huawei_rows: list[dict]) -> None:
    # --- guide
    from odse import enrich

    enriched = enrich(huawei_rows, {
        "seller_party_id": "nersa:gen:SOLARPK-001",
        "settlement_type": "bilateral",
        "tariff_currency": "ZAR",
    })
    # --- guide
    assert enriched is huawei_rows
    assert enriched[0] == {
        "timestamp": "2026-02-09T12:00:00Z", "kWh": pytest.approx(416.6666666666667),
        "error_type": "normal", "error_code": "512", "asset_id": "SITE-ALPHA",
        "seller_party_id": "nersa:gen:SOLARPK-001", "settlement_type": "bilateral",
        "tariff_currency": "ZAR"}
    from odse import validate_batch

    assert validate_batch(enriched).summary == "2/2 valid (schema)"


def test_get_started_enrich_then_bilateral_profile() -> None:
    # contract.md 1.8: enrich the two Huawei rows, then each passes the bilateral profile
    from odse import enrich, validate

    rows = transform(HUAWEI, source="huawei")
    rows = enrich(rows, {
        "seller_party_id": "nersa:gen:SOLARPK-001",
        "buyer_party_id": "nersa:offtaker:MUN042",
        "settlement_period_start": "2026-02-18T14:00:00+02:00",
        "settlement_period_end": "2026-02-18T14:30:00+02:00",
        "contract_reference": "PPA-001",
        "settlement_type": "bilateral",
    })
    for record in rows:
        assert validate(record, profile="bilateral").is_valid


def test_complete_pipeline_validate_and_enrich_steps(capsys: pytest.CaptureFixture[str]) -> None:
    from odse import enrich, validate_batch

    site_id, cfg = "SITE-ALPHA", {"source": "huawei", "seller": "nersa:gen:ALPHA"}
    rows = transform(HUAWEI + "2026-02-09 12:10:00,bad,512,1\n", source=cfg["source"],
                     asset_id=site_id)
    all_records: list[dict] = []
    # --- guide (the loop body's validate and enrich steps)
    result = validate_batch(rows, level="semantic", capacity_kw=10.0)
    print(f"{site_id}: {result.summary}")
    if result.invalid > 0:
        print(f"  WARNING: {result.invalid} invalid records skipped")
        rows = [r for i, r in enumerate(rows) if i not in {idx for idx, _ in result.errors}]

    # Enrich
    rows = enrich(rows, {
        "seller_party_id": cfg["seller"],
        "settlement_type": "bilateral",
    })

    all_records.extend(rows)
    # --- guide
    out = capsys.readouterr().out
    assert out.startswith(f"{site_id}: {result.summary}\n")
    assert all(r["seller_party_id"] == "nersa:gen:ALPHA" for r in all_records)
    assert validate_batch(all_records).invalid == 0
