"""The transform API: dicts, streams and Arrow, inputs of every kind, and clear errors."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pytest

import odse
from odse.errors import InputError, InputNotFoundError, ParameterError, UnknownSourceError

HUAWEI = """timestamp,power,inverter_state,run_state
2026-02-09 12:00:00,5000,512,1
2026-02-09 12:05:00,4800,512,1
"""


def test_huawei_vector():
    rows = odse.transform(HUAWEI, source="huawei")
    assert rows[0] == {"timestamp": "2026-02-09T12:00:00Z", "kWh": rows[0]["kWh"],
                       "error_type": "normal", "error_code": "512"}
    assert math.isclose(rows[0]["kWh"], 5000 * 5 / 60, rel_tol=1e-15)
    assert rows[0]["kWh"] == 416.6666666666667          # float64, never rounded
    assert rows[1] == {"timestamp": "2026-02-09T12:05:00Z", "kWh": 400.0,
                       "error_type": "normal", "error_code": "512"}
    assert len(rows) == 2


def test_records_are_json_native_and_carry_a_report():
    rows = odse.transform(HUAWEI, source="HUAWEI", asset_id="SITE-HW")
    assert isinstance(rows, list)
    json.dumps(rows)
    assert all(r["asset_id"] == "SITE-HW" for r in rows)
    assert rows.report.rows_read == 2
    assert rows.report.records == 2
    assert rows.rejects == []
    # FusionSolar times are naive local times and no zone was given: the summary says so
    assert rows.report.summary() == ("2 rows read, 2 records, 0 rows rejected; naive times "
                                     "read as UTC: pass timezone=")
    assert rows.report.assumed_zone == "UTC"


def test_a_given_zone_is_not_reported_as_assumed():
    rows = odse.transform(HUAWEI, source="huawei", timezone="Europe/Berlin")
    assert rows.report.assumed_zone is None
    assert rows.report.summary() == "2 rows read, 2 records, 0 rows rejected"


def test_interval_parameter_overrides_the_default():
    rows = odse.transform(HUAWEI, source="huawei", interval_minutes=15)
    assert rows[0]["kWh"] == 1250.0


def test_timezone_converts_naive_times_to_utc():
    rows = odse.transform(HUAWEI, source="huawei", timezone="+02:00")
    assert rows[0]["timestamp"] == "2026-02-09T10:00:00Z"
    rows = odse.transform(HUAWEI, source="huawei", timezone="Africa/Johannesburg")
    assert rows[0]["timestamp"] == "2026-02-09T10:00:00Z"


def test_inputs_of_every_kind(tmp_path):
    path = tmp_path / "site.csv"
    path.write_text(HUAWEI)
    want = odse.transform(HUAWEI, source="huawei")
    assert odse.transform(path, source="huawei") == want
    assert odse.transform(str(path), source="huawei") == want
    assert odse.transform(HUAWEI.encode(), source="huawei") == want
    assert odse.transform(("\ufeff" + HUAWEI).encode(), source="huawei") == want
    with open(path, "rb") as fh:
        assert odse.transform(fh, source="huawei") == want
    import gzip
    gz = tmp_path / "site.csv.gz"
    gz.write_bytes(gzip.compress(HUAWEI.encode()))
    assert odse.transform(gz, source="huawei") == want


def test_transform_table_is_arrow_native():
    table = odse.transform_table(HUAWEI, source="huawei", asset_id="A")
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("kWh").type == pa.float64()
    assert table.column_names[:5] == ["timestamp", "kWh", "error_type", "error_code", "asset_id"]
    assert table.num_rows == 2


def test_fields_whose_columns_a_csv_lacks_are_left_out_of_its_table():
    # huawei maps kW and four voltages too; this export has none of their columns
    table = odse.transform_table(HUAWEI, source="huawei", asset_id="A")
    assert table.column_names == ["timestamp", "kWh", "error_type", "error_code", "asset_id"]
    with_power = HUAWEI.replace("run_state", "run_state,active_power").replace(
        ",1\n", ",1,4.8\n")
    stream = odse.transform_batches(with_power, source="huawei", asset_id="A")
    assert stream.schema.names == [*table.column_names, "kW"]
    assert stream.read_all().column("kW").to_pylist() == [4.8, 4.8]
    # error_code is read only from a column this file lacks; asset_id comes from a parameter
    generic = odse.transform_table("Time,Energy\n2026-02-09 00:00,1\n", source="csv",
                                   mapping={"timestamp": "Time", "kWh": "Energy",
                                            "error_code": {"column": "Code"}})
    assert generic.column_names == ["timestamp", "kWh", "error_type", "asset_id"]


def test_transform_batches_reports_as_it_goes():
    stream = odse.transform_batches(HUAWEI + "bad,1,512,1\n", source="huawei")
    assert stream.schema.field("kWh").type == pa.float64()
    table = stream.read_all()
    assert table.num_rows == 2
    assert stream.report.rows_rejected == 1
    assert stream.report.rejects[0].code == "NOT_A_TIMESTAMP"
    reader = odse.transform_batches(HUAWEI, source="huawei").to_reader()
    assert reader.read_all().num_rows == 2


def test_stream_equals_list():
    assert list(odse.transform_stream(HUAWEI, source="huawei")) == \
        odse.transform(HUAWEI, source="huawei")


def test_stream_yields_before_the_file_is_read_through(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("timestamp,power,inverter_state,run_state\n")
        for i in range(300_000):
            fh.write(f"2026-02-09 {i // 12 % 24:02d}:{i % 12 * 5:02d}:00,1.5,512,1\n")
    stream = odse.transform_stream(path, source="huawei")
    next(stream)
    assert 0 < stream.report.rows_read < 300_000


def test_errors_raise_stops_at_the_first_bad_row():
    text = HUAWEI + "2026-02-09 12:10:00,abc,512,1\n"
    with pytest.raises(odse.TransformError) as info:
        odse.transform(text, source="huawei", errors="raise")
    err = info.value
    assert err.row == 3 and err.column == "power" and err.value == "abc"
    assert "not a number" in str(err) and "line 4" in str(err)


def test_unknown_source_suggests_the_nearest():
    with pytest.raises(UnknownSourceError) as info:
        odse.transform(HUAWEI, source="huwei")
    assert isinstance(info.value, ValueError)
    assert "unknown source 'huwei'" in str(info.value)
    assert "Did you mean 'huawei'?" in str(info.value)
    assert "enphase" in str(info.value)


def test_unknown_parameter_lists_the_known_ones():
    with pytest.raises(ParameterError) as info:
        odse.transform(HUAWEI, source="enphase", expected_device=12)
    assert "source 'enphase' has no parameter 'expected_device'" in str(info.value)
    assert "Did you mean 'expected_devices'?" in str(info.value)


def test_bad_parameter_value():
    with pytest.raises(ParameterError, match="'expected_devices' must be integer"):
        odse.transform("{}", source="enphase", expected_devices="twelve")
    with pytest.raises(ParameterError, match="unknown time zone 'Mars/Base'"):
        odse.transform(HUAWEI, source="huawei", timezone="Mars/Base")


def test_missing_file_is_file_not_found():
    with pytest.raises(InputNotFoundError) as info:
        odse.transform("no/such/file.csv", source="huawei")
    assert isinstance(info.value, FileNotFoundError)
    assert "file not found: no/such/file.csv" in str(info.value)


def test_input_of_another_shape_says_what_each_shape_needs():
    with pytest.raises(InputError) as info:
        odse.transform("a,b\n1,2\n", source="huawei")
    message = str(info.value)
    assert "does not look like any shape source 'huawei' knows" in message
    assert "'timestamp' or 'Time'" in message


def test_json_for_a_csv_only_source():
    with pytest.raises(InputError, match="reads CSV"):
        odse.transform('{"a": 1}', source="huawei")


def test_builtin_source_refuses_a_mapping():
    with pytest.raises(ParameterError, match="built in and takes no mapping"):
        odse.transform(HUAWEI, source="huawei", mapping={"timestamp": "t", "kWh": "e"})


def test_generic_source_needs_a_mapping():
    with pytest.raises(odse.MappingError, match="source 'generic_csv' needs a mapping"):
        odse.transform(HUAWEI, source="generic_csv")


def test_no_source_at_all():
    with pytest.raises(ParameterError, match="no source given"):
        odse.transform(HUAWEI)


def test_sources_lists_names_aliases_and_shapes():
    listing = {s["name"]: s for s in odse.sources()}
    assert {"huawei", "enphase", "solaredge", "sma", "fronius", "sungrow", "csv"} <= set(listing)
    assert "isolarcloud" in listing["sungrow"]["aliases"]
    assert {v["format"] for v in listing["enphase"]["variants"]} == {"csv", "json"}
    assert odse.source_info("GENERIC")["name"] == "csv"


def test_arrow_to_dicts_keeps_rows_whose_fields_are_all_null():
    from odse.records import table_to_dicts

    assert table_to_dicts(pa.table({"a": pa.array([None], pa.float64())})) == [{}]
    table = pa.table({"a": pa.array([None, 1.0]), "b": pa.array([None, None], pa.string())})
    assert table_to_dicts(table) == [{}, {"a": 1.0}]


def test_arrow_to_dicts_keeps_column_order_and_leaves_out_each_null_cell():
    from odse.records import table_to_dicts

    n = 1000  # long enough for the shared-text path for columns with few distinct values
    state = ["normal", None, "fault", "normal"] * (n // 4)
    table = pa.table({
        "timestamp": pa.array(range(n), pa.int64()).cast(pa.timestamp("s", tz="UTC")),
        "kWh": pa.array([None if i % 3 == 0 else float(i) for i in range(n)]),
        "error_type": pa.array(state, pa.string()),
        "asset_id": pa.array(["A"] * n, pa.string()),
        "note": pa.array([f"row {i}" for i in range(n)], pa.string()),
    })
    dicts = table_to_dicts(table)
    assert dicts[0] == {"timestamp": "1970-01-01T00:00:00Z", "error_type": "normal",
                        "asset_id": "A", "note": "row 0"}
    assert list(dicts[2]) == ["timestamp", "kWh", "error_type", "asset_id", "note"]
    assert dicts[5] == {"timestamp": "1970-01-01T00:00:05Z", "kWh": 5.0, "asset_id": "A",
                        "note": "row 5"}
    assert [d.get("error_type") for d in dicts[:4]] == ["normal", None, "fault", "normal"]
    # every row equals the row-by-row reading of the same table
    expected = [{k: v for k, v in row.items() if v is not None}
                for row in table.drop_columns(["timestamp"]).to_pylist()]
    assert [{k: v for k, v in d.items() if k != "timestamp"} for d in dicts] == expected


def test_arrow_to_dicts_takes_any_field_name_and_every_batch_of_a_table():
    from odse.records import table_to_dicts

    odd = "it's \"odd\"\n{x}"
    batch = pa.record_batch({odd: pa.array([1.0, 2.0]), "b": pa.array(["x", None])})
    table = pa.Table.from_batches([batch, batch])
    assert table_to_dicts(table) == [{odd: 1.0, "b": "x"}, {odd: 2.0}] * 2
    assert table_to_dicts(batch.slice(0, 0)) == []


def test_each_built_in_spec_file_is_named_for_its_source_and_no_name_is_claimed_twice():
    # registry.get() finds <name>.yaml directly; that is only right under these two rules
    import yaml

    from odse.resources import data_dir

    claimed: dict[str, str] = {}
    for path in sorted(data_dir("mappings").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert spec["name"] == path.stem
        for name in [spec["name"], *(spec.get("aliases") or [])]:
            assert name.lower() not in claimed, \
                f"{name} in {path.name} and {claimed[name.lower()]}"
            claimed[name.lower()] = path.name
    assert len(claimed) > 20


def test_arrow_to_dicts_with_a_repeated_name_keeps_the_later_value_that_is_not_null():
    from odse.records import table_to_dicts

    table = pa.Table.from_arrays([pa.array([1, None, None, 4]), pa.array([None, 2, None, 5])],
                                 names=["a", "a"])
    assert table_to_dicts(table) == [{"a": 1}, {"a": 2}, {}, {"a": 5}]


def test_arrow_to_dicts_refuses_times_it_cannot_hold_in_microseconds():
    from odse.records import table_to_dicts

    seconds = pa.table({"t": pa.array([0, 10**13]).cast(pa.timestamp("s"))})
    with pytest.raises(pa.ArrowInvalid):
        table_to_dicts(seconds)
    assert table_to_dicts(seconds.slice(0, 1)) == [{"t": "1970-01-01T00:00:00Z"}]
