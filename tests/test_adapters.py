"""Records to pvlib's and OpenOA's DataFrames and back, on the real vendor samples."""

from __future__ import annotations

import math
import sys
from typing import Any

import pytest

import odse
from odse.adapters.openoa import odse_to_openoa, openoa_to_odse
from odse.adapters.pvlib import odse_to_pvlib, pvlib_to_odse
from odse.errors import MissingExtraError, ParameterError

pytest.importorskip("pandas")

from test_real_samples import IDS, REAL, SAMPLES


def by_time(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["timestamp"])


def assert_same(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a.keys() == b.keys(), (i, a, b)
        for key, value in b.items():
            if isinstance(value, float):
                assert math.isclose(a[key], value, rel_tol=1e-12, abs_tol=1e-12), (i, key, a, b)
            else:
                assert a[key] == value, (i, key, a, b)


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_real_samples_round_trip_through_pvlibs_shape(sample) -> None:
    rows = odse.transform(REAL / sample.path, source=sample.source, **dict(sample.params))
    data, meta = odse_to_pvlib(rows)
    assert str(data.index.dtype) == "datetime64[us, UTC]" and data.index.name == "timestamp"
    assert data.index.is_monotonic_increasing
    if any("kW" in r for r in rows):
        assert "ac" in data.columns and "kW" not in data.columns
        assert meta["units"]["ac"] == "W"
        watts = [r["kW"] * 1000 for r in by_time(list(rows)) if "kW" in r]
        assert data["ac"].dropna().tolist() == pytest.approx(watts)
    assert_same(pvlib_to_odse(data), by_time(list(rows)))


@pytest.mark.parametrize("sample", SAMPLES, ids=IDS)
def test_real_samples_round_trip_through_openoas_shape(sample) -> None:
    rows = odse.transform(REAL / sample.path, source=sample.source, **dict(sample.params))
    out = odse_to_openoa(rows, meter=rows)
    scada = out["scada"]
    assert {"time", "WTUR_SupWh", "WTUR_TurSt"} <= set(scada.columns)
    assert scada["WTUR_SupWh"].sum() == pytest.approx(sum(r["kWh"] for r in rows))
    assert out["meter"]["MMTR_SupWh"].sum() == pytest.approx(sum(r["kWh"] for r in rows))
    assert out["metadata"]["scada"]["time"] == "time"
    assert_same(openoa_to_odse(scada), by_time(list(rows)))


def test_pvlib_names_and_units() -> None:
    rows = [{"timestamp": "2026-02-09T10:00:00Z", "kWh": 0.5, "error_type": "normal",
             "kW": 6.0, "poa_irradiance": 810.0, "ambient_temperature_c": 24.0,
             "module_temperature_c": 41.0, "wind_speed_ms": 2.5, "voltage_dc": 380.0,
             "current_dc": 16.0}]
    data, meta = odse_to_pvlib(rows)
    assert data.iloc[0][["ac", "poa_global", "temp_air", "temp_cell", "wind_speed", "v_mp",
                         "i_mp", "kWh"]].tolist() == [6000.0, 810.0, 24.0, 41.0, 2.5, 380.0,
                                                      16.0, 0.5]
    assert meta["units"]["ac"] == "W" and meta["index"] == "interval start"
    raw, raw_meta = odse_to_pvlib(rows, map_variables=False)
    assert raw.iloc[0]["kW"] == 6.0 and raw_meta["units"]["kW"] == "kW"


def test_drop_invalid_leaves_out_fault_and_offline() -> None:
    rows = [{"timestamp": f"2026-02-09T10:0{i}:00Z", "kWh": 0.1, "error_type": t}
            for i, t in enumerate(["normal", "fault", "offline", "standby"])]
    data, _ = odse_to_pvlib(rows, drop_invalid=True)
    assert data["error_type"].tolist() == ["normal", "standby"]


def test_frames_without_energy_or_time_are_refused() -> None:
    import pandas as pd

    index = pd.date_range("2026-02-09", periods=2, freq="h", tz="UTC")
    with pytest.raises(ParameterError, match="no energy column") as err:
        pvlib_to_odse(pd.DataFrame({"ac": [1000.0, 2000.0]}, index=index))
    assert "kWh" in str(err.value)
    with pytest.raises(ParameterError, match="no times"):
        openoa_to_odse(pd.DataFrame({"WTUR_SupWh": [1.0]}))


def test_simulated_frame_becomes_records_with_unknown_status() -> None:
    import pandas as pd

    index = pd.date_range("2026-02-09 10:00", periods=2, freq="h", tz="Europe/Berlin")
    frame = pd.DataFrame({"ac": [1500.0, 2500.0], "kWh": [1.5, 2.5]}, index=index)
    assert pvlib_to_odse(frame, asset_id="SIM") == [
        {"timestamp": "2026-02-09T09:00:00Z", "kWh": 1.5, "error_type": "unknown",
         "asset_id": "SIM", "kW": 1.5},
        {"timestamp": "2026-02-09T10:00:00Z", "kWh": 2.5, "error_type": "unknown",
         "asset_id": "SIM", "kW": 2.5}]


def test_without_pandas_the_error_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtraError, match=r"odse\[pvlib\]"):
        odse_to_pvlib([{"timestamp": "2026-02-09T10:00:00Z", "kWh": 1.0,
                        "error_type": "normal"}])
    with pytest.raises(MissingExtraError, match=r"odse\[openoa\]"):
        odse_to_openoa([{"timestamp": "2026-02-09T10:00:00Z", "kWh": 1.0,
                         "error_type": "normal"}])


def test_real_pvlib_reads_the_frame() -> None:
    pvlib = pytest.importorskip("pvlib")
    rows = [{"timestamp": f"2026-02-09T1{h}:00:00Z", "kWh": 4.0, "error_type": "normal",
             "kW": 4.0, "poa_irradiance": 800.0, "ambient_temperature_c": 25.0,
             "wind_speed_ms": 1.0} for h in range(3)]
    data, _ = odse_to_pvlib(rows)
    cell = pvlib.temperature.faiman(data["poa_global"], data["temp_air"], data["wind_speed"])
    assert cell.index.equals(data.index)
    assert cell.iloc[0] == pytest.approx(25.0 + 800.0 / (25.0 + 6.84 * 1.0))
    site = pvlib.location.Location(-33.9, 18.4, tz="Africa/Johannesburg")
    sun = site.get_solarposition(data.index)
    assert (sun["apparent_elevation"] > 0).all()   # midday in Cape Town


def test_real_openoa_builds_plant_data() -> None:
    pytest.importorskip("openoa")
    rows = [{"timestamp": f"2026-02-09T10:{m:02d}:00Z", "kWh": 250.0, "error_type": "normal",
             "asset_id": f"T{t}", "kW": 1500.0, "wind_speed_ms": 9.5}
            for m in range(0, 60, 10) for t in (1, 2)]
    plant = odse_to_openoa(rows, plant_data=True)
    assert sorted(plant.turbine_ids) == ["T1", "T2"]
    assert plant.scada["WTUR_W"].sum() == pytest.approx(1500.0 * len(rows))
    back = openoa_to_odse(plant)
    assert len(back) == len(rows)
    assert sum(r["kWh"] for r in back) == pytest.approx(sum(r["kWh"] for r in rows))
