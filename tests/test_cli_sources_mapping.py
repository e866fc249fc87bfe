"""``odse sources``, ``odse mapping check|test`` and ``odse schema``."""

from __future__ import annotations

import json
from pathlib import Path

import click.testing
import pytest
import yaml
from click.testing import CliRunner

from odse.cli import cli

ROOT = Path(__file__).resolve().parent.parent
HISTORIAN = ROOT / "examples" / "data" / "historian"
SPEC = HISTORIAN / "historian_spec.yaml"
SHORT = HISTORIAN / "generic_mapping.yaml"


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args))


# ------------------------------------------------------------------ sources

def test_sources_lists_names_aliases_shapes_and_parameters() -> None:
    result = invoke("sources")
    assert result.exit_code == 0
    rows = result.stdout.splitlines()
    assert rows[0].split() == ["NAME", "ALIASES", "SHAPES", "PARAMETERS", "TITLE"]
    by_name = {row.split()[0]: row for row in rows[1:] if row and not row.startswith("Every")}
    assert {"csv", "enphase", "fronius", "huawei", "sma", "solaredge", "sungrow"} <= set(by_name)
    assert "enlighten, envoy" in by_name["enphase"]
    assert "csv, json" in by_name["enphase"]
    assert "expected_devices, interval_minutes" in by_name["enphase"]
    assert "generic, generic_csv" in by_name["csv"]


def test_sources_json_is_for_machines() -> None:
    listing = json.loads(invoke("sources", "--json").stdout)
    huawei = next(s for s in listing if s["name"] == "huawei")
    assert huawei["aliases"] == ["fusionsolar", "huawei_fusionsolar"]
    assert huawei["file"].endswith("huawei.yaml")
    assert {v["format"] for v in huawei["variants"]} == {"csv", "json", "workbook"}


def test_sources_long_describes_shapes_and_parameters() -> None:
    text = invoke("sources", "--long").stdout
    assert "enphase: Enphase" in text
    assert "    envoy_intervals_json (json) - " in text
    assert "    expected_devices (integer) - number of microinverters" in text


@pytest.mark.parametrize("name", ["huawei", "FusionSolar"])
def test_sources_show_prints_the_spec_as_shipped(name: str) -> None:
    result = invoke("sources", "show", name)
    assert result.exit_code == 0
    shipped = (ROOT / "mappings" / "huawei.yaml").read_text()
    assert result.stdout == shipped
    assert yaml.safe_load(result.stdout)["name"] == "huawei"


def test_sources_show_for_the_generic_mapper_prints_a_short_form_template() -> None:
    result = invoke("sources", "show", "generic_csv")
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout) == {
        "timestamp": "Timestamp", "kWh": "ActiveEnergy_kWh", "asset_id": "SiteTag",
        "extra": {"kVAr": "ReactivePower_kVAr"}}


def test_sources_show_json() -> None:
    info = json.loads(invoke("sources", "show", "enlighten", "--json").stdout)
    assert info["name"] == "enphase"
    assert "expected_devices" in info["params"]


def test_sources_show_an_unknown_name_suggests_the_nearest() -> None:
    result = invoke("sources", "show", "solaredg")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: unknown source 'solaredg'. Did you mean "
                                    "'solaredge'? Known sources: ")
    assert "csv, " in result.stderr


# ------------------------------------------------------------------ mapping check

def test_mapping_check_ok_lines() -> None:
    result = invoke("mapping", "check", str(SPEC), str(SHORT), "huawei")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"OK: {SPEC} (source site_historian, 1 variant, 1 example)",
        f"OK: {SHORT} (source csv, 1 variant)",
        "OK: huawei (source huawei, 4 variants, 2 examples)"]
    # three huawei shapes read naive local times and declare no zone: warnings, not errors
    warnings = result.stderr.splitlines()
    assert [w.split(" reads ")[0] for w in warnings] == [
        "Warning: huawei: variant huawei", "Warning: huawei: variant plant_report_csv",
        "Warning: huawei: variant plant_report_xlsx"]
    assert warnings[0].endswith(
        "reads times without an offset (%Y/%m/%d %H:%M:%S) and declares no zone: they are "
        "read as UTC unless the caller passes timezone= (add timezone: to the variant when "
        "its exports use one zone)")


def test_mapping_check_fails_a_spec_that_would_crash_at_run_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash in an expression (here an operator made to fail, as the nested arithmetic
    did before it was fixed) is found at check time."""
    from odse.engine import expressions

    def build(spec: object, ctx: object) -> object:
        def run(frame: object, state: object) -> object:
            raise TypeError("Expected bytes, got a 'pyarrow.lib.StringArray' object")
        return run

    monkeypatch.setitem(expressions.SOURCES, "add", build)
    spec = tmp_path / "crash.yaml"
    spec.write_text("odse_mapping: 1\nname: x\nformat: csv\ntimezone: UTC\nfields:\n"
                    "  timestamp: {column: Time}\n"
                    "  kWh: {sub: [{column: A}, {add: [{column: B}, {column: C}]}]}\n"
                    "  error_type: {const: normal}\n")
    result = invoke("mapping", "check", str(spec))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"Error: {spec}:7: this expression fails when it meets data (TypeError: Expected "
        "bytes, got a 'pyarrow.lib.StringArray' object) (at fields.kWh)")


def test_mapping_check_passes_the_nested_arithmetic_spec(tmp_path: Path) -> None:
    spec = tmp_path / "nested.yaml"
    spec.write_text("odse_mapping: 1\nname: x\nformat: csv\ntimezone: UTC\nfields:\n"
                    "  timestamp: {column: Time}\n"
                    "  kWh: {sub: [{column: A}, {add: [{column: B}, {column: C}]}]}\n"
                    "  error_type: {const: normal}\n")
    result = invoke("mapping", "check", str(spec))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_mapping_check_reports_each_bad_spec_with_file_line_and_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("odse_mapping: 1\nname: x\nformat: csv\nfields:\n"
                      "  timestamp: {column: Time\n  kWh: {column: E}\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text("odse_mapping: 1\nname: x\nformat: csv\nfields:\n"
                    "  timestamp: {column: Time}\n  kWh: {column: E, unti: W}\n")
    result = invoke("mapping", "check", str(broken), str(SPEC), str(typo), "huwei")
    assert result.exit_code == 2
    assert result.stdout == f"OK: {SPEC} (source site_historian, 1 variant, 1 example)\n"
    errors = result.stderr.splitlines()
    assert errors[0] == (f"Error: {broken}:6: the mapping is not valid YAML: expected ',' or "
                         "'}', but got ':' (while parsing a flow mapping on line 5). Fix the "
                         "syntax there (indentation, a missing colon, quote or bracket)")
    assert errors[1].startswith(f"Error: {typo}:6: unknown key 'unti' in fields.kWh (at "
                                "fields.kWh.unti). Did you mean 'unit'? Allowed keys: ")
    assert errors[2].startswith("Error: unknown source 'huwei'. Did you mean 'huawei'?")


def test_mapping_check_a_missing_file() -> None:
    result = invoke("mapping", "check", "nope.yaml")
    assert result.exit_code == 2
    assert result.stderr == "Error: mapping file not found: nope.yaml. Check the path\n"


# ------------------------------------------------------------------ mapping test

def test_mapping_test_passes() -> None:
    result = invoke("mapping", "test", str(SPEC), "enphase")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{SPEC} (source site_historian): 1 example",
        "  PASS counter readings become interval energy; a reset starts a new cycle",
        "  1 passed, 0 failed",
        "enphase (source enphase): 2 examples",
        "  PASS production and grid columns become three records per hour "
        "[enlighten_report_csv]",
        "  PASS a full and a partly reporting interval [envoy_intervals_json]",
        "  2 passed, 0 failed"]


def test_mapping_test_shows_the_differences_and_exits_1(tmp_path: Path) -> None:
    failing = tmp_path / "failing.yaml"
    failing.write_text(SPEC.read_text().replace("kWh: 2.5,", "kWh: 2.6,"))
    result = invoke("mapping", "test", str(failing))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        "  FAIL counter readings become interval energy; a reset starts a new cycle",
        "       record 0: kWh=2.5, expected 2.6",
        "  0 passed, 1 failed"]


def test_mapping_test_without_examples_exits_1() -> None:
    result = invoke("mapping", "test", str(SHORT))
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {SHORT} has no examples to run; add some under "
                             "examples: (input, params, expect), see: "
                             "odse docs mapping-language\n")


def test_mapping_test_a_spec_that_does_not_load_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    result = invoke("mapping", "test", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {bad}:1: ")


# ------------------------------------------------------------------ schema

def test_schema_prints_the_record_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == json.loads((ROOT / "schemas" / "energy-timeseries.json").read_text())
    assert schema["required"] == ["timestamp", "kWh", "error_type"]


def test_schema_mapping_prints_the_mapping_language_schema() -> None:
    schema = json.loads(invoke("schema", "--mapping").stdout)
    assert schema["$id"].endswith("mapping-v1.json")
