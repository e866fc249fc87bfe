"""The generic mapper: the guide's column map becomes a full spec on the same engine."""

from __future__ import annotations

import json

import pytest

import odse

BYOD = """Reading_Time,Site_Name,Active_Energy_Delivered,Reactive_Power,Device_Status
2026-02-09 00:00:00,CPT-SOLAR-01,0.0,0.0,OK
2026-02-09 00:15:00,CPT-SOLAR-01,1.25,0.3,Warning
2026-02-09 00:30:00,CPT-SOLAR-01,2.5,0.4,FAULT
2026-02-09 00:45:00,CPT-SOLAR-01,2.0,0.2,Off
2026-02-09 01:00:00,,2.0,0.2,
2026-02-09 01:15:00,CPT-SOLAR-01,2.0,0.2,strange
"""
MAP = {"timestamp": "Reading_Time", "kWh": "Active_Energy_Delivered", "asset_id": "Site_Name",
       "error_type": "Device_Status", "extra": {"kVAr": "Reactive_Power"}}


def test_bring_your_own_data_vector():
    rows = odse.transform(BYOD, source="csv", mapping=MAP)
    assert rows[0] == {"timestamp": "2026-02-09T00:00:00Z", "kWh": 0.0, "error_type": "normal",
                       "asset_id": "CPT-SOLAR-01", "kVAr": 0.0}
    assert [r["error_type"] for r in rows] == ["normal", "warning", "fault", "offline", "normal",
                                               "unknown"]


def test_asset_column_falls_back_to_the_parameter():
    rows = odse.transform(BYOD, source="generic", mapping=MAP, asset_id="FALLBACK")
    assert [r["asset_id"] for r in rows][3:5] == ["CPT-SOLAR-01", "FALLBACK"]


def test_default_error_type_fills_empty_status():
    rows = odse.transform(BYOD, source="csv", mapping=MAP, default_error_type="unknown")
    assert rows[4]["error_type"] == "unknown"
    rows = odse.transform(BYOD, source="csv", mapping={"timestamp": "Reading_Time",
                                                       "kWh": "Active_Energy_Delivered"})
    assert {r["error_type"] for r in rows} == {"normal"}


def test_power_only_uses_the_interval():
    text = "Ts,P\n2026-02-09 12:00:00,6\n"
    rows = odse.transform(text, source="csv", mapping={"timestamp": "Ts", "kW": "P"})
    assert rows == [{"timestamp": "2026-02-09T12:00:00Z", "kWh": 0.5, "error_type": "normal",
                     "kW": 6.0}]
    rows = odse.transform(text, source="csv", mapping={"timestamp": "Ts", "kW": "P"},
                          interval_minutes=15)
    assert rows[0]["kWh"] == 1.5


def test_cumulative_column_by_a_full_value_object():
    text = "Ts,E\n2026-02-09 12:00:00,100\n2026-02-09 12:05:00,102.5\n2026-02-09 12:10:00,1\n"
    rows = odse.transform(text, source="csv", mapping={
        "timestamp": "Ts", "kWh": {"column": "E", "measure": "counter"}})
    assert [r["kWh"] for r in rows] == [2.5, 1.0]
    assert [r["timestamp"] for r in rows] == ["2026-02-09T12:00:00Z", "2026-02-09T12:05:00Z"]


def test_mapping_from_yaml_and_json_files(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps(MAP))
    (tmp_path / "m.yaml").write_text(
        "timestamp: Reading_Time\nkWh: Active_Energy_Delivered\nasset_id: Site_Name\n"
        "error_type: Device_Status\nextra:\n  kVAr: Reactive_Power\n")
    want = odse.transform(BYOD, source="csv", mapping=MAP)
    assert odse.transform(BYOD, source="csv", mapping=str(tmp_path / "m.json")) == want
    assert odse.transform(BYOD, source="generic_csv", mapping=tmp_path / "m.yaml") == want


def test_inline_column_map():
    rows = odse.transform(BYOD, source="generic_csv",
                          column_map="timestamp=Reading_Time,kWh=Active_Energy_Delivered")
    assert len(rows) == 6


def test_bad_column_map_says_how_to_write_it():
    with pytest.raises(odse.MappingError, match="Write field=column pairs"):
        odse.transform(BYOD, source="csv", column_map="timestamp:Reading_Time")


def test_unknown_key_in_the_short_form():
    with pytest.raises(odse.MappingError) as info:
        odse.transform(BYOD, source="csv", mapping={**MAP, "kwh": "x"})
    assert "unknown key 'kwh' in the column map" in str(info.value)
    assert "Did you mean 'kWh'?" in str(info.value)


def test_neither_energy_nor_power():
    with pytest.raises(odse.MappingError, match="neither 'kWh' nor 'kW'"):
        odse.transform(BYOD, source="csv", mapping={"timestamp": "Reading_Time"})


def test_auto_time_formats():
    for text, want in [
        ("2026/02/09 12:00:00", "2026-02-09T12:00:00Z"),
        ("09.02.2026 12:00", "2026-02-09T12:00:00Z"),
        ("02/09/2026 12:00", "2026-02-09T12:00:00Z"),
        ("2026-02-09T12:00:00+02:00", "2026-02-09T10:00:00Z"),
        ("1770638400", "2026-02-09T12:00:00Z"),
        ("1770638400000", "2026-02-09T12:00:00Z"),
    ]:
        rows = odse.transform(f"Ts,E\n{text},1\n", source="csv",
                              mapping={"timestamp": "Ts", "kWh": "E"})
        assert rows[0]["timestamp"] == want, text


def test_the_guide_scada_snippet(incoming):
    rows = odse.transform(incoming / "scada_export.csv", source="csv", mapping={
        "timestamp": "Timestamp",
        "kWh": "ActiveEnergy_kWh",
        "asset_id": "SiteTag",
        "extra": {"kVAr": "ReactivePower_kVAr"},
    })
    assert {r["asset_id"] for r in rows} == {"SITE-DELTA", "SITE-EPSILON"}
    assert len(rows) == 192


def test_generic_csv_reads_a_rising_kwh_column_as_a_counter() -> None:
    text = "ts,e\n2026-02-09 12:00:00,100.0\n2026-02-09 12:05:00,100.5\n2026-02-09 12:10:00,101.5\n"
    rows = odse.transform(text, source="generic_csv", column_map="timestamp=ts,kWh=e")
    assert [(r["timestamp"], r["kWh"]) for r in rows] == [
        ("2026-02-09T11:55:00Z", 0.0), ("2026-02-09T12:00:00Z", 0.5),
        ("2026-02-09T12:05:00Z", 1.0)]
    assert rows.report.variant == "rising_kwh_counter"      # the guess is in the report
    # csv and generic never guess; a column that falls is energy per row under any name
    plain = odse.transform(text, source="csv", mapping={"timestamp": "ts", "kWh": "e"})
    assert [r["kWh"] for r in plain] == [100.0, 100.5, 101.5]
    falling = text.replace("101.5", "0.7")
    rows = odse.transform(falling, source="generic_csv", column_map="timestamp=ts,kWh=e")
    assert [r["kWh"] for r in rows] == [100.0, 100.5, 0.7]
    # one reading is energy, as is a map that names the measure
    one = odse.transform("ts,e\n2026-02-09 12:00:00,5.0\n", source="generic_csv",
                         column_map={"timestamp": "ts", "kWh": "e"})
    assert [r["kWh"] for r in one] == [5.0]
    named = odse.transform(text, source="generic_csv",
                           mapping={"timestamp": "ts", "kWh": {"column": "e"}})
    assert [r["kWh"] for r in named] == [100.0, 100.5, 101.5]


def test_a_dict_mapping_is_compiled_once_per_content() -> None:
    from odse.mapping import load_mapping

    first = load_mapping(dict(MAP))
    assert load_mapping(json.loads(json.dumps(MAP))) is first   # equal content, another dict
    changed = {**MAP, "extra": {"kVAr": "Reactive_Power", "energy": "Active_Energy_Delivered"}}
    assert load_mapping(changed) is not first
    rows = odse.transform(BYOD, source="csv", mapping=changed)
    assert rows[1]["energy"] == 1.25
    assert "energy" not in odse.transform(BYOD, source="csv", mapping=MAP)[1]
    # what compiling tells apart, the cache does too: key order (the records' column order),
    # a tuple from a list, and the caller's later edits of its own dict
    assert load_mapping(dict(reversed(list(MAP.items())))) is not first
    nested = {"timestamp": {"column": "Reading_Time", "format": ["iso8601"]}, "kWh": "kWh"}
    as_tuple = {**nested, "timestamp": {"column": "Reading_Time", "format": ("iso8601",)}}
    load_mapping(nested)
    with pytest.raises(odse.MappingError, match="wrong shape"):
        load_mapping(as_tuple)       # refused as when nothing was cached
    assert _key_of(nested) != _key_of(as_tuple)
    kept = load_mapping(nested)
    nested["timestamp"]["column"] = "Other"
    assert load_mapping(nested) is not kept
    assert kept.data["fields"]["timestamp"]["column"] == "Reading_Time"
    # a dict that is not plain JSON data is compiled each time, and still works
    odd = {**MAP, "timestamp": {"column": "Reading_Time", "format": "%Y-%m-%d %H:%M:%S"},
           "note": object()}
    with pytest.raises(odse.MappingError):
        load_mapping(odd)


def _key_of(data: dict) -> str | None:
    from odse.mapping import _content_key

    return _content_key(data, None)
