"""A bad mapping spec fails at load time with the file, line, key path and what to do."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

import pytest

import odse
from odse.errors import MappingError

GOOD = """\
odse_mapping: 1
name: my_oem
format: csv
fields:
  timestamp: {column: Time, format: "%Y-%m-%d %H:%M:%S"}
  kWh: {column: Energy, unit: Wh}
  error_type: {const: normal}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def load_error(tmp_path: Path, text: str) -> MappingError:
    with pytest.raises(MappingError) as info:
        odse.load_mapping(write(tmp_path, text))
    return info.value


def test_good_spec_loads(tmp_path):
    mapping = odse.load_mapping(write(tmp_path, GOOD))
    assert mapping.name == "my_oem"
    assert odse.check_mapping(write(tmp_path, GOOD)) == []


def test_misspelled_key_names_line_path_and_nearest(tmp_path):
    err = load_error(tmp_path, GOOD.replace("unit: Wh", "unti: Wh"))
    assert err.line == 6
    assert err.key_path == "fields.kWh.unti"
    assert err.file.endswith("spec.yaml")
    assert "unknown key 'unti'" in str(err)
    assert "Did you mean 'unit'?" in str(err)


def test_unit_of_the_wrong_quantity_says_add_measure_power(tmp_path):
    err = load_error(tmp_path, GOOD.replace("unit: Wh", "unit: W"))
    assert err.key_path == "fields.kWh.unit"
    assert "unit W measures power, but kWh holds energy" in str(err)
    assert "Add measure: power" in str(err)


def test_unknown_unit_lists_known_units(tmp_path):
    err = load_error(tmp_path, GOOD.replace("unit: Wh", "unit: Whr"))
    assert "unknown unit 'Whr'" in str(err)
    assert "Did you mean 'Wh'?" in str(err)


def test_enum_value_lists_the_allowed_ones(tmp_path):
    err = load_error(tmp_path, GOOD.replace("format: csv", "format: xml"))
    assert err.line == 3
    assert "format is 'xml', which is not allowed" in str(err)
    assert "Use one of: csv, json, jsonl" in str(err)


def test_scalar_field_says_what_a_value_object_is(tmp_path):
    err = load_error(tmp_path, GOOD.replace("{const: normal}", "normal"))
    assert err.key_path == "fields.error_type"
    assert "must be an object, not the text 'normal'" in str(err)
    assert "{const: normal}" in str(err)


def test_undeclared_parameter(tmp_path):
    err = load_error(tmp_path, GOOD.replace("{const: normal}", "{param: default_status}"))
    assert "unknown parameter 'default_status'" in str(err)
    assert "Declare it under params:" in str(err)


def test_condition_with_two_comparisons(tmp_path):
    err = load_error(tmp_path, GOOD.replace(
        "error_type: {const: normal}",
        "error_type:\n    rules:\n      - when: {column: s, eq: 0, gt: 1}\n        then: offline"))
    assert err.key_path == "fields.error_type.rules[0].when"
    assert "several comparisons: eq, gt" in str(err)


def test_time_format_without_directives(tmp_path):
    err = load_error(tmp_path, GOOD.replace('"%Y-%m-%d %H:%M:%S"', "YYYY-MM-DD"))
    assert "time format 'YYYY-MM-DD' has no % directive" in str(err)


def test_unknown_time_zone(tmp_path):
    err = load_error(tmp_path, GOOD.replace("format: csv", "format: csv\ntimezone: Mars/Olympus"))
    assert "unknown time zone 'Mars/Olympus'" in str(err)


def test_yaml_syntax_error_has_a_line(tmp_path):
    err = load_error(tmp_path, GOOD.replace("{column: Energy, unit: Wh}",
                                            "{column: Energy, unit: Wh [x]}"))
    assert err.code == "MAPPING_SYNTAX"
    assert err.line == 6
    assert "not valid YAML" in str(err)


def test_wrong_language_version(tmp_path):
    err = load_error(tmp_path, GOOD.replace("odse_mapping: 1", "odse_mapping: 2"))
    assert "unsupported mapping language version 2" in str(err)
    assert "reads versions 1 and 1.1" in str(err)


def test_a_version_1_spec_may_not_use_what_1_1_added(tmp_path):
    spec = GOOD + "where: {column: kWh, gt: 0}\n"
    err = load_error(tmp_path, spec)
    assert err.code == "MAPPING_VERSION"
    assert "where: was added in mapping language 1.1" in str(err)
    assert "odse_mapping: 1.1" in str(err)
    assert odse.load_mapping(spec.replace("odse_mapping: 1", "odse_mapping: 1.1"))


def test_missing_fields_and_format(tmp_path):
    err = load_error(tmp_path, "odse_mapping: 1\nname: x\n")
    assert "the spec has no 'format'" in str(err)


def test_missing_kwh(tmp_path):
    err = load_error(tmp_path, GOOD.replace("  kWh: {column: Energy, unit: Wh}\n", ""))
    assert "no kWh field" in str(err)


def test_duplicate_code_mapping(tmp_path):
    err = load_error(tmp_path, GOOD.replace(
        "error_type: {const: normal}",
        "error_type: {column: s, codes: {normal: [1], fault: [1]}}"))
    assert "code '1' is mapped twice" in str(err)


def test_missing_file():
    with pytest.raises(MappingError, match="mapping file not found"):
        odse.load_mapping("no/such/spec.yaml")


def test_check_mapping_returns_problems(tmp_path):
    problems = odse.check_mapping(write(tmp_path, GOOD.replace("unit: Wh", "unti: Wh")))
    assert len(problems) == 1
    assert problems[0].to_dict()["key_path"] == "fields.kWh.unti"


def test_errors_pickle(tmp_path):
    err = load_error(tmp_path, GOOD.replace("unit: Wh", "unti: Wh"))
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err)
    assert again.line == err.line


def test_every_builtin_mapping_loads():
    for info in odse.sources():
        if info["name"] != "csv":
            assert odse.load_mapping(info["file"]).name == info["name"]


def test_builtin_specs_pass_the_checks_their_loading_skips():
    # a shipped spec is loaded without the schema check and with its line table made on
    # demand: this test is that check, and shows the lazy line table is the eager one
    from odse.mapping.schema_check import check_schema
    from odse.mapping.source_text import parse_text, read_spec

    for info in odse.sources():
        if info["name"] == "csv":
            continue
        path = Path(info["file"])
        eager = parse_text(path.read_text(encoding="utf-8-sig"), str(path))
        check_schema(eager)
        lazy = read_spec(path)
        assert lazy.trusted and lazy.data == eager.data
        assert lazy.line_of(("name",)) == eager.line_of(("name",))
        assert lazy.lines == eager.lines


@pytest.mark.parametrize(("change", "message"), [
    (("unit: Wh", "unit: Wh, scale: 0"), "scale: 0 would make every value zero"),
    (("{const: normal}", "{const: normal, scale: 2}"), "scale applies to numbers"),
    (("{column: Energy, unit: Wh}", "{column: Energy, type: string}"), "kWh is a number"),
    (("format: csv", "format: csv\ncsv: {delimiter: ';;'}"), "is not one character"),
    (("format: csv", "format: csv\ncsv: {encoding: nope-enc}"), "unknown encoding 'nope-enc'"),
    (("unit: Wh", "unit: {header: true}"), "needs a CSV units row"),
    (("unit: Wh", "unit: Wh, clip: {min: 5, max: 1}"), "clip min is above its max"),
    (("  error_type: {const: normal}\n", ""), "no error_type field"),
])
def test_specs_that_would_fail_at_run_time_fail_at_load(tmp_path, change, message):
    err = load_error(tmp_path, GOOD.replace(*change))
    assert message in str(err)


def test_a_counter_other_than_kwh_needs_kwh_to_be_the_counter(tmp_path):
    # the records of counters are the intervals between readings: with kWh per interval and
    # another field a counter, every row was dropped without a reject
    err = load_error(tmp_path, GOOD + "  kWh_total: {column: Total, measure: counter}\n")
    assert err.key_path == "fields.kWh_total.measure"
    assert "kWh_total is a counter but kWh is not" in str(err)
    assert "drop measure: counter from kWh_total" in str(err)
    both = GOOD.replace("unit: Wh}", "unit: Wh, measure: counter}")
    assert odse.load_mapping(write(tmp_path, both + "  kWh_total: {column: T, measure: counter}\n"))


def test_first_reading_needs_a_counter_and_an_interval(tmp_path):
    err = load_error(tmp_path, GOOD.replace("unit: Wh}", "unit: Wh, first_reading: zero}"))
    assert "first_reading applies to counters only" in str(err)
    assert err.key_path == "fields.kWh.first_reading"
    err = load_error(tmp_path, GOOD.replace(
        "unit: Wh}", "unit: Wh, measure: counter, first_reading: zero}"))
    assert "first_reading: zero needs the interval" in str(err)
    assert "interval_minutes" in str(err)
    err = load_error(tmp_path, GOOD.replace(
        "unit: Wh}", "unit: Wh, measure: counter, first_reading: once}"))
    assert "first_reading" in str(err)


def test_interval_fallback_must_be_minutes(tmp_path):
    spec = GOOD.replace("format: csv\n", "format: csv\nparams: {interval_minutes: {type: number}}\n"
                        "interval: {param: interval_minutes, default: data, fallback: soon}\n")
    assert "fallback" in str(load_error(tmp_path, spec))


def test_an_unknown_unit_on_a_counter_is_a_mapping_error_not_a_crash(tmp_path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("odse_mapping: 1\nname: bad\nformat: csv\nfields:\n  timestamp: {column: t}\n"
                    "  kWh: {column: e, measure: counter, unit: furlongs}\n")
    problems = odse.check_mapping(spec)
    assert [p.to_dict()["key_path"] for p in problems] == ["fields.kWh.unit"]
    assert "unknown unit 'furlongs'" in str(problems[0]) and "Known units: " in str(problems[0])
