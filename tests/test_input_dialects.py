"""CSV dialects and JSON shapes the readers handle, each through a small inline spec."""

from __future__ import annotations

import json

import pytest

import odse

GERMAN = """\
odse_mapping: 1
name: plant_report
format: csv
csv: {delimiter: ";", decimal: ",", thousands: "."}
timezone: Europe/Berlin
fields:
  timestamp: {column: Zeit, format: "%d.%m.%Y %H:%M"}
  kWh: {column: "Ertrag [kWh]", unit: kWh}
  error_type: {const: normal}
"""


def test_semicolon_decimal_comma_thousands_and_a_bom():
    text = "\ufeffZeit;Ertrag [kWh]\n01.06.2024 12:00;1.234,5\n01.06.2024 13:00;1,5\n"
    rows = odse.transform(text.encode(), mapping=GERMAN)
    assert [r["kWh"] for r in rows] == [1234.5, 1.5]
    assert rows[0]["timestamp"] == "2024-06-01T10:00:00Z"


def test_sep_line_sets_the_delimiter():
    spec = GERMAN.replace('csv: {delimiter: ";", decimal: ",", thousands: "."}',
                          'csv: {decimal: ","}')
    rows = odse.transform("sep=;\nZeit;Ertrag [kWh]\n01.06.2024 12:00;1,5\n", mapping=spec)
    assert rows[0]["kWh"] == 1.5


def test_delimiter_is_sniffed_when_not_given():
    spec = GERMAN.replace('csv: {delimiter: ";", decimal: ",", thousands: "."}',
                          'csv: {decimal: ","}')
    rows = odse.transform("Zeit;Ertrag [kWh]\n01.06.2024 12:00;1,5\n", mapping=spec)
    assert rows[0]["kWh"] == 1.5


def test_missing_value_tokens_are_missing_not_bad():
    text = "Zeit;Ertrag [kWh]\n01.06.2024 12:00;--\n01.06.2024 13:00;N/A\n01.06.2024 14:00;x\n"
    rows = odse.transform(text, mapping=GERMAN)
    assert rows == []
    codes = [(r.line, r.code, r.value) for r in rows.rejects]
    assert codes == [(2, "MISSING_VALUE", "--"), (3, "MISSING_VALUE", "N/A"),
                     (4, "NOT_A_NUMBER", "x")]


HEADER_ROWS = """\
odse_mapping: 1
name: multi_header
format: csv
csv: {skip_lines: 1, header: {rows: 3, names: 1, units: 3}}
fields:
  timestamp: {column: column_1, format: "%Y-%m-%d %H:%M"}
  kWh: {column: Yield, unit: {header: true}}
  kW: {column: Power, unit: {header: true}}
  error_type: {const: normal}
"""


def test_several_header_rows_with_units():
    text = ("Exported by the portal\n"
            ",Yield,Power,Power\n,Counter,Analog,Analog\ntime,[Wh],[W],[W]\n"
            "2024-06-01 12:00,1500,3000,1\n")
    table = odse.transform_table(text, mapping=HEADER_ROWS)
    assert table.column("kWh").to_pylist() == [1.5]
    assert table.column("kW").to_pylist() == [3.0]


def test_a_malformed_line_is_rejected_and_the_rest_read():
    text = "Zeit;Ertrag [kWh]\n01.06.2024 12:00;1,5\n01.06.2024 13:00;1;2;3\n01.06.2024 14:00;2\n"
    rows = odse.transform(text, mapping=GERMAN)
    assert [r["kWh"] for r in rows] == [1.5, 2.0]
    assert rows.report.rows_read == 3
    assert rows.report.rows_rejected == 1
    bad = rows.rejects[0]
    assert bad.code == "MALFORMED_ROW" and bad.value == "01.06.2024 13:00;1;2;3"


UNITS_BESIDE = """\
odse_mapping: 1
name: daily_api
format: json
json: {records: data}
fields:
  timestamp: {column: date, format: "%Y-%m-%d"}
  kWh: {column: eToday, unit: {column: eTodayStr}}
  error_type: {const: normal}
"""


def test_unit_from_a_sibling_field_and_unknown_units():
    doc = {"data": [{"date": "2024-06-01", "eToday": 12.1, "eTodayStr": "MWh"},
                    {"date": "2024-06-02", "eToday": 900, "eTodayStr": "kWh"},
                    {"date": "2024-06-03", "eToday": 5, "eTodayStr": "furlongs"}]}
    rows = odse.transform(json.dumps(doc), mapping=UNITS_BESIDE)
    assert [r["kWh"] for r in rows] == [12100.0, 900.0]
    assert rows.rejects[0].code == "UNKNOWN_UNIT"
    assert rows.rejects[0].path == "$.data[2]"


NESTED = """\
odse_mapping: 1
name: meters
format: json
json:
  records:
    - {path: energyDetails.meters, as: meter}
    - {path: values}
fields:
  timestamp: {column: date, format: iso8601}
  kWh: {column: value, unit: {column: $.energyDetails.unit}}
  channel: {column: meter.type, map: {Production: production, Consumption: consumption}}
  direction: {column: meter.type, map: {Production: generation, Consumption: consumption}}
  error_type: {const: normal}
"""


def test_arrays_of_arrays_with_a_parent_field():
    doc = {"energyDetails": {"unit": "Wh", "meters": [
        {"type": "Production", "values": [{"date": "2024-06-01 12:00:00", "value": 100},
                                          {"date": "2024-06-01 13:00:00", "value": 200}]},
        {"type": "Consumption", "values": [{"date": "2024-06-01 12:00:00", "value": 50}]}]}}
    rows = odse.transform(json.dumps(doc), mapping=NESTED)
    assert [(r["channel"], r["kWh"]) for r in rows] == [
        ("production", 0.1), ("production", 0.2), ("consumption", 0.05)]


def test_json_lines_with_line_numbers_in_rejects():
    spec = NESTED.replace("format: json", "format: jsonl").replace(
        """json:
  records:
    - {path: energyDetails.meters, as: meter}
    - {path: values}""", 'json: {records: "@"}').replace(
        "{column: value, unit: {column: $.energyDetails.unit}}", "{column: wh, unit: Wh}").replace(
        "meter.type", "type")
    lines = [{"date": "2024-06-01 12:00:00", "wh": 100, "type": "Production"},
             {"date": "2024-06-01 13:00:00", "wh": None, "type": "Production"},
             {"date": "2024-06-01 14:00:00", "wh": 300, "type": "Production"}]
    text = "\n".join(json.dumps(x) for x in lines) + "\n"
    rows = odse.transform(text, mapping=spec)
    assert [r["kWh"] for r in rows] == [0.1, 0.3]
    assert rows.rejects[0].path == "line 2 $"


def test_mixed_number_and_text_values_in_json():
    doc = {"production": [{"end_at": 1770595500, "wh_del": 30, "devices_reporting": 12},
                          {"end_at": "N/A", "wh_del": 20, "devices_reporting": 12},
                          {"end_at": 1770596100, "wh_del": "--", "devices_reporting": 12}]}
    rows = odse.transform(json.dumps(doc), source="enphase", expected_devices=12,
                          interval_minutes=5)
    assert [r["kWh"] for r in rows] == [0.03]
    assert sorted(r.code for r in rows.rejects) == ["NOT_A_NUMBER", "NOT_A_NUMBER"]


def test_invalid_json_is_a_clear_input_error():
    with pytest.raises(odse.InputError, match="is not valid JSON"):
        odse.transform('{"production": [1, 2', source="enphase")


def test_a_list_where_a_number_belongs_is_a_reject_not_a_crash():
    doc = {"data": [{"date": "2024-06-01", "eToday": [1, 2], "eTodayStr": "kWh"},
                    {"date": "2024-06-02", "eToday": 3, "eTodayStr": "kWh"}]}
    rows = odse.transform(json.dumps(doc), mapping=UNITS_BESIDE)
    assert [r["kWh"] for r in rows] == [3.0]
    assert (rows.rejects[0].code, rows.rejects[0].value) == ("NOT_A_NUMBER", '["1", "2"]')
