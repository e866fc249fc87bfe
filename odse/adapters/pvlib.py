"""Records as pvlib data, and pvlib data as records.

pvlib's nomenclature (``pvlib.iotools`` and ``ModelChain`` results): a UTC
``DatetimeIndex``; AC power ``ac`` [W], DC operating point ``v_mp`` [V] and ``i_mp`` [A],
irradiance ``poa_global``, ``ghi``, ``dni``, ``dhi`` [W/m2], ``temp_air`` and ``temp_cell``
[degC], ``wind_speed`` [m/s]. Record fields without a pvlib name keep their own
(``kWh``, ``error_type``, ``asset_id``, ...). The index is the start of each record's
interval. Needs ``pip install 'odse[pvlib]'`` (pandas; pvlib itself is optional).
"""

from __future__ import annotations

from typing import Any

from odse.adapters.frames import Column, from_frame, to_frame, units

EXTRA = "pvlib"

COLUMNS: list[Column] = [
    Column("kW", "ac", 1000.0, "W"),
    Column("voltage_dc", "v_mp", 1.0, "V"),
    Column("current_dc", "i_mp", 1.0, "A"),
    Column("poa_irradiance", "poa_global", 1.0, "W/m2"),
    Column("ghi", "ghi", 1.0, "W/m2"),
    Column("dni", "dni", 1.0, "W/m2"),
    Column("dhi", "dhi", 1.0, "W/m2"),
    Column("ambient_temperature_c", "temp_air", 1.0, "degC"),
    Column("module_temperature_c", "temp_cell", 1.0, "degC"),
    Column("wind_speed_ms", "wind_speed", 1.0, "m/s"),
    Column("kWh", "kWh", 1.0, "kWh"),
]
"""Record field -> pvlib column, with the factor from the record's unit to pvlib's."""


def odse_to_pvlib(records: Any, map_variables: bool = True,
                  drop_invalid: bool = False) -> tuple[Any, dict[str, Any]]:
    """Return records as ``(data, metadata)``, the shape of ``pvlib.iotools`` readers.

    Args:
        records: a list of record dicts (``odse.transform(...)``) or Arrow data.
        map_variables: rename and scale to pvlib's names and units (kW -> ``ac`` in W);
            False keeps the record's own names and units.
        drop_invalid: leave out records whose error_type is fault or offline.

    Returns:
        data: a DataFrame on a UTC DatetimeIndex named ``timestamp`` (interval starts),
        sorted by time; metadata: ``{"source": "odse", "index": "interval start",
        "units": {column: unit}}``.
    """
    data = to_frame(records, COLUMNS, index="timestamp", time_column="timestamp",
                    map_variables=map_variables, drop_invalid=drop_invalid,
                    what="odse_to_pvlib()", extra=EXTRA)
    present = [c for c in COLUMNS if (c.column if map_variables else c.field) in data.columns]
    if not map_variables:
        present = [Column(c.field, c.field, 1.0, _record_unit(c)) for c in present]
    return data, {"source": "odse", "index": "interval start", "units": units(present)}


def pvlib_to_odse(data: Any, asset_id: str | None = None,
                  error_type: str = "unknown") -> list[dict[str, Any]]:
    """Return pvlib data (a DataFrame on a DatetimeIndex, as ``odse_to_pvlib`` gives) as records.

    Args:
        data: the frame; ``ac`` [W] becomes kW, and so on back through :data:`COLUMNS`;
            it needs interval energy in a ``kWh`` column.
        asset_id: written to records where the frame has no ``asset_id`` column.
        error_type: for frames without an ``error_type`` column (a simulation has no
            device status: ``unknown``).
    """
    return from_frame(data, COLUMNS, time_column="timestamp", asset_id=asset_id,
                      error_type=error_type, what="pvlib_to_odse()", extra=EXTRA)


def _record_unit(column: Column) -> str:
    return "kW" if column.field == "kW" else column.unit


__all__ = ["COLUMNS", "odse_to_pvlib", "pvlib_to_odse"]
