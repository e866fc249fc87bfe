"""Units: what each unit measures and its factor to the canonical unit of that quantity.

Canonical units are the record's: kWh, kW, kvar, kVA, kvarh, kVAh, V, A, Hz, degC, %,
W/m2. A unit written ``[Wh]`` (as in a CSV units row) reads as ``Wh``.
"""

from __future__ import annotations

import re

# unit -> (quantity, factor to the canonical unit of that quantity)
UNITS: dict[str, tuple[str, float]] = {
    "Wh": ("energy", 1e-3), "kWh": ("energy", 1.0), "MWh": ("energy", 1e3), "GWh": ("energy", 1e6),
    "W": ("power", 1e-3), "kW": ("power", 1.0), "MW": ("power", 1e3), "GW": ("power", 1e6),
    "var": ("reactive_power", 1e-3), "kvar": ("reactive_power", 1.0),
    "Mvar": ("reactive_power", 1e3),
    "VA": ("apparent_power", 1e-3), "kVA": ("apparent_power", 1.0),
    "MVA": ("apparent_power", 1e3),
    "varh": ("reactive_energy", 1e-3), "kvarh": ("reactive_energy", 1.0),
    "Mvarh": ("reactive_energy", 1e3),
    "VAh": ("apparent_energy", 1e-3), "kVAh": ("apparent_energy", 1.0),
    "MVAh": ("apparent_energy", 1e3),
    "mV": ("voltage", 1e-3), "V": ("voltage", 1.0), "kV": ("voltage", 1e3),
    "mA": ("current", 1e-3), "A": ("current", 1.0), "kA": ("current", 1e3),
    "Hz": ("frequency", 1.0), "mHz": ("frequency", 1e-3),
    "degC": ("temperature", 1.0), "°C": ("temperature", 1.0), "C": ("temperature", 1.0),
    "%": ("fraction_percent", 1.0),
    "W/m2": ("irradiance", 1.0), "W/m²": ("irradiance", 1.0), "kW/m2": ("irradiance", 1e3),
    "m/s": ("speed", 1.0), "km/h": ("speed", 1 / 3.6),
    "rpm": ("rotation", 1.0), "deg": ("angle", 1.0), "°": ("angle", 1.0),
    "Ohm": ("resistance", 1.0), "kOhm": ("resistance", 1e3),
}
# spellings seen in exports
_ALIASES = {
    "kVAr": "kvar", "kVAR": "kvar", "VAr": "var", "VAR": "var", "MVAr": "Mvar",
    "kVArh": "kvarh", "VArh": "varh", "KWH": "kWh", "KW": "kW", "kwh": "kWh", "kw": "kW",
    "wh": "Wh", "w": "W", "mwh": "MWh", "hz": "Hz", "Celsius": "degC", "deg C": "degC",
}
CANONICAL = {"energy": "kWh", "power": "kW", "reactive_power": "kvar", "apparent_power": "kVA",
             "reactive_energy": "kvarh", "apparent_energy": "kVAh", "voltage": "V",
             "current": "A", "frequency": "Hz", "temperature": "degC",
             "fraction_percent": "%", "irradiance": "W/m2", "speed": "m/s", "rotation": "rpm",
             "angle": "deg", "resistance": "Ohm"}
# a power-like quantity times an interval gives the matching energy-like quantity
POWER_TO_ENERGY = {"power": "energy", "reactive_power": "reactive_energy",
                   "apparent_power": "apparent_energy"}

# quantity of the record's own fields, where the schema fixes it
_FIELD_QUANTITY = {
    "kWh": "energy", "kW": "power", "kVA": "apparent_power", "kVAr": "reactive_power",
    "kVArh": "reactive_energy", "frequency": "frequency", "temperature": "temperature",
    "poa_irradiance": "irradiance", "ghi": "irradiance", "dni": "irradiance",
    "dhi": "irradiance", "wind_speed_ms": "speed", "rotor_rpm": "rotation",
    "soc": "fraction_percent", "soh": "fraction_percent",
}


def normalise(unit: str) -> str | None:
    """Return the canonical spelling of ``unit`` (``[Wh]`` -> ``Wh``), or None if unknown."""
    text = re.sub(r"^\[(.*)\]$", r"\1", unit.strip()).strip()
    if text in UNITS:
        return text
    if text in _ALIASES:
        return _ALIASES[text]
    folded = [u for u in UNITS if u.lower() == text.lower()]
    return folded[0] if len(folded) == 1 else None


def lookup(unit: str) -> tuple[str, float] | None:
    """Return (quantity, factor to canonical) for ``unit``, or None if unknown."""
    name = normalise(unit)
    return UNITS[name] if name else None


def field_quantity(field: str) -> str | None:
    """Return the quantity a record field holds (``kWh`` -> energy), or None if free."""
    if field in _FIELD_QUANTITY:
        return _FIELD_QUANTITY[field]
    if field.startswith(("voltage_",)) or field.endswith("_v"):
        return "voltage"
    if field.startswith(("current_",)):
        return "current"
    if field.endswith("_kWh"):
        return "energy"
    if field.endswith("_kW"):
        return "power"
    if field.endswith("_c"):
        return "temperature"
    return None


def known_units() -> list[str]:
    """Return the unit names odse understands."""
    return sorted(UNITS)
