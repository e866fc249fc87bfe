"""Value expressions and modifiers, each through a small inline spec."""

from __future__ import annotations

import json

import odse

BASE = """\
odse_mapping: 1
name: t
format: csv
fields:
  timestamp: {column: T, format: "%Y-%m-%d %H:%M"}
  error_type: {const: normal}
"""


def run(fields: str, csv: str, **params):
    return odse.transform(csv, mapping=BASE + fields, **params)


def test_arithmetic_pow_mod_min_max_abs():
    rows = run("""\
  kWh: {pow: [{column: P}, {const: 0.5}]}
  kW: {mod: [{column: P}, {const: 7}]}
  kVA: {max: [{column: P}, {column: Q}]}
  kVAr: {min: [{column: P}, {column: Q}]}
  voltage_dc: {column: Q, abs: true}
""", "T,P,Q\n2026-01-01 00:00,16,-3\n")
    assert rows[0] == {"timestamp": "2026-01-01T00:00:00Z", "kWh": 4.0, "error_type": "normal",
                       "kW": 2.0, "kVA": 16.0, "kVAr": -3.0, "voltage_dc": 3.0}


def test_a_reject_names_the_operand_at_fault():
    rows = run("  kWh: {add: [{column: A}, {column: B}]}\n",
               "T,A,B\n2026-01-01 00:00,1,oops\n2026-01-01 01:00,x,2\n")
    assert [(r.column, r.value, r.code) for r in rows.rejects] == [
        ("B", "oops", "NOT_A_NUMBER"), ("A", "x", "NOT_A_NUMBER")]


def test_default_and_clip_inside_a_nested_value():
    rows = run("  kWh: {sub: [{column: A, default: 0}, {column: B, clip: {min: 0}}]}\n",
               "T,A,B\n2026-01-01 00:00,,-1\n2026-01-01 01:00,5,\n")
    assert [r["kWh"] for r in rows] == [0.0]
    assert rows.rejects[0].code == "MISSING_VALUE" and rows.rejects[0].column == "B"


def test_clip_keeps_missing_values_missing():
    rows = run("  kWh: {column: E, clip: {min: 0}}\n",
               "T,E\n2026-01-01 00:00,-0.002\n2026-01-01 01:00,\n")
    assert [r["kWh"] for r in rows] == [0.0]
    assert rows.report.values_clipped == {"kWh": 1}
    assert rows.rejects[0].code == "MISSING_VALUE"


def test_unit_conversion_divides_exactly():
    rows = run("  kWh: {column: E, unit: Wh}\n  kW: {column: P, unit: W}\n",
               "T,E,P\n2026-01-01 00:00,5100,5100\n")
    assert (rows[0]["kWh"], rows[0]["kW"]) == (5.1, 5.1)


def test_whole_number_codes_match_decimal_text():
    rows = run("  kWh: {column: E}\n  error_code: {column: S, type: string}\n"
               "  error_type: {column: S, codes: {normal: [2], fault: [4]}, default: unknown}\n",
               "T,E,S\n2026-01-01 00:00,1,2.0\n2026-01-01 01:00,1, 4\n2026-01-01 02:00,1,2.5\n")
    assert [r["error_type"] for r in rows] == ["normal", "fault", "unknown"]


def test_impossible_dates_are_rejected_not_rolled_over():
    rows = run("  kWh: {column: E}\n", "T,E\n2026-02-31 00:00,1\n2026-02-28 00:00,1\n")
    assert [r["timestamp"] for r in rows] == ["2026-02-28T00:00:00Z"]
    assert rows.rejects[0].code == "NOT_A_TIMESTAMP"


def test_every_roll_over_into_the_next_month_is_caught():
    days = ["2026-02-29", "2026-02-30", "2026-04-31", "2026-06-31", "2026-09-31", "2026-11-31",
            "2024-02-29", "2026-03-01", "2026-05-01", "2026-12-01"]
    rows = run("  kWh: {column: E}\n", "T,E\n" + "".join(f"{d} 00:00,1\n" for d in days))
    assert [r["timestamp"][:10] for r in rows] == ["2024-02-29", "2026-03-01", "2026-05-01",
                                                   "2026-12-01"]
    assert [r.code for r in rows.rejects] == ["NOT_A_TIMESTAMP"] * 6


def test_a_list_item_by_index():
    spec = """\
odse_mapping: 1
name: t
format: json
json: {records: readings}
fields:
  timestamp: {column: t, format: iso8601}
  kWh: {column: e}
  asset_id: {column: "$.meters[1].serial"}
  error_type: {const: normal}
"""
    doc = {"meters": [{"serial": "A"}, {"serial": "B"}], "readings": [{"t": "2026-01-01", "e": 1}]}
    assert odse.transform(json.dumps(doc), mapping=spec)[0]["asset_id"] == "B"
    doc["meters"] = [{"serial": "A"}]
    assert "asset_id" not in odse.transform(json.dumps(doc), mapping=spec)[0]


UNPIVOT = BASE + """\
  kWh: {column: P, unit: kW, measure: power}
  channel: {const: production}
  direction: {const: generation}
interval: 60
unpivot:
  - optional: true
  - optional: true
    kWh: {column: Load, unit: kWh}
    channel: {const: consumption}
    direction: {const: consumption}
"""


def test_unpivot_entries_may_mix_power_and_energy():
    rows = odse.transform("T,P,Load\n2026-01-01 00:00,2,3\n", mapping=UNPIVOT)
    assert [(r["channel"], r["kWh"]) for r in rows] == [("production", 2.0),
                                                         ("consumption", 3.0)]


def test_an_optional_entry_is_judged_by_its_energy_column():
    rows = odse.transform("T,P\n2026-01-01 00:00,2\n", mapping=UNPIVOT)
    assert [r["channel"] for r in rows] == ["production"]
