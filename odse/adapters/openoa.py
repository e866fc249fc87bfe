"""Records as OpenOA plant data, and OpenOA plant data as records.

OpenOA (v3) names SCADA columns by IEC 61400-25 tags: ``time``, ``asset_id``, ``WTUR_W``
(power [kW]), ``WTUR_SupWh`` (energy [kWh]), ``WMET_HorWdSpd`` (wind speed [m/s]),
``WROT_BlPthAngVal`` (blade pitch [deg]), ``WMET_EnvTmp`` (ambient temperature [degC]),
``WTUR_TurSt`` (turbine status); the revenue meter's energy is ``MMTR_SupWh`` [kWh]. Record
fields without an OpenOA tag keep their own names. ``time`` is the start of each record's
interval, in UTC. Needs ``pip install 'odse[openoa]'`` (pandas; OpenOA for ``PlantData``).
"""

from __future__ import annotations

from typing import Any

from odse.adapters.frames import Column, from_frame, to_frame, units
from odse.errors import require

EXTRA = "openoa"

SCADA: list[Column] = [
    Column("asset_id", "asset_id"),
    Column("kW", "WTUR_W", 1.0, "kW"),
    Column("kWh", "WTUR_SupWh", 1.0, "kWh"),
    Column("wind_speed_ms", "WMET_HorWdSpd", 1.0, "m/s"),
    Column("blade_pitch_deg", "WROT_BlPthAngVal", 1.0, "deg"),
    Column("ambient_temperature_c", "WMET_EnvTmp", 1.0, "C"),
    Column("error_type", "WTUR_TurSt"),
]
"""Record field -> OpenOA SCADA column (same units: OpenOA's SCADA power is in kW)."""

METER: list[Column] = [Column("kWh", "MMTR_SupWh", 1.0, "kWh")]
"""Record field -> OpenOA meter column."""


def odse_to_openoa(records: Any, meter: Any = None, *, plant_name: str = "ODSE_Plant",
                   map_variables: bool = True, drop_invalid: bool = False,
                   plant_data: bool = False) -> Any:
    """Return turbine records (and optionally meter records) in OpenOA's shapes.

    Args:
        records: SCADA records (a list of dicts or Arrow data), one series per asset_id.
        meter: the plant's revenue meter records, if any (their kWh becomes ``MMTR_SupWh``).
        plant_name: written to the metadata.
        map_variables: rename to OpenOA's tags; False keeps the record's names.
        drop_invalid: leave out records whose error_type is fault or offline.
        plant_data: return an ``openoa.PlantData`` (needs OpenOA) instead of the frames.

    Returns:
        ``{"scada": DataFrame, "meter": DataFrame (when given), "metadata": {...}}``, the
        metadata in the form of ``openoa.plant.PlantMetaData.from_dict`` (column maps, the
        data's frequency such as ``10min``, units); or the PlantData built from them.
    """
    scada = to_frame(records, SCADA, index=None, time_column="time",
                     map_variables=map_variables, drop_invalid=drop_invalid,
                     what="odse_to_openoa()", extra=EXTRA)
    time = "time" if map_variables else "timestamp"
    out: dict[str, Any] = {"scada": scada}
    metadata: dict[str, Any] = {"name": plant_name, "scada": {
        "time": time, "frequency": _frequency(scada[time]),
        **{c.column: (c.column if map_variables else c.field) for c in SCADA
           if (c.column if map_variables else c.field) in scada.columns
           and c.column != "WTUR_SupWh"}}}
    metadata["units"] = {"scada": units([c for c in SCADA if c.column in scada.columns])}
    if meter is not None:
        frame = to_frame(meter, METER, index=None, time_column="time",
                         map_variables=map_variables, drop_invalid=drop_invalid,
                         what="odse_to_openoa()", extra=EXTRA)
        out["meter"] = frame
        metadata["meter"] = {"time": time, "frequency": _frequency(frame[time]),
                             "MMTR_SupWh": "MMTR_SupWh" if map_variables else "kWh"}
        metadata["units"]["meter"] = units(METER)
    out["metadata"] = metadata
    if not plant_data:
        return out
    plant = require("openoa.plant", EXTRA, "odse_to_openoa(plant_data=True)")
    meta = {k: v for k, v in metadata.items() if k in ("scada", "meter")}
    meta["scada"] = {**meta["scada"], "WTUR_W": meta["scada"].get("WTUR_W", "WTUR_W")}
    return plant.PlantData(metadata=plant.PlantMetaData.from_dict(meta),
                           scada=scada.drop(columns=["WTUR_SupWh"], errors="ignore"),
                           meter=out.get("meter"))


def openoa_to_odse(data: Any, asset_id: str | None = None,
                   error_type: str = "unknown") -> list[dict[str, Any]]:
    """Return OpenOA SCADA data as records: a ``PlantData`` (its ``scada``) or a DataFrame.

    Args:
        data: ``PlantData``, or a frame with ``time`` (column or index) and OpenOA's tags;
            energy comes from ``WTUR_SupWh`` [kWh] (OpenOA computes it from ``WTUR_W``).
        asset_id: for frames without an ``asset_id`` column.
        error_type: for frames without ``WTUR_TurSt`` (``unknown``: no device status).
    """
    frame = getattr(data, "scada", data)
    return from_frame(frame, SCADA, time_column="time", asset_id=asset_id,
                      error_type=error_type, what="openoa_to_odse()", extra=EXTRA)


def _frequency(times: Any) -> str | None:
    """The median spacing of the times as a pandas frequency (``10min``), or None."""
    import pandas as pd

    steps = pd.Series(times.drop_duplicates().sort_values()).diff().dropna()
    if steps.empty:
        return None
    minutes = steps.median() / pd.Timedelta(minutes=1)
    return f"{round(minutes)}min" if minutes >= 1 else f"{round(minutes * 60)}s"


__all__ = ["METER", "SCADA", "odse_to_openoa", "openoa_to_odse"]
