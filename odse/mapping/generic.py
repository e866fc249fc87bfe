"""The short generic form: a column map that becomes a full mapping spec.

``{"timestamp": "Timestamp", "kWh": "Energy", "asset_id": "Site", "extra": {"kVAr": "Q"}}``
is sugar for a spec with one CSV variant; it then runs exactly like a built-in source.
Values may be column names or full field objects (``{"column": "E", "measure": "counter"}``).
"""

from __future__ import annotations

from typing import Any

from odse.errors import MappingError

GENERIC_NAMES = ("csv", "generic", "generic_csv")
SHORT_KEYS = ("timestamp", "kWh", "kW", "error_type", "error_code", "asset_id", "extra")

# Status words found in exports, matched without regard to case (mapping case 18).
STATUS_WORDS: dict[str, list[str]] = {
    "normal": ["ok", "normal", "running", "run", "online", "on", "producing", "production",
               "mppt", "operating", "active", "good"],
    "warning": ["warning", "warn", "degraded", "alarm", "limited", "derating", "derated"],
    "critical": ["critical", "severe"],
    "fault": ["fault", "error", "err", "failure", "fail", "failed", "trip", "tripped"],
    "offline": ["offline", "off", "disconnected", "comm lost", "communication lost", "no data",
                "nodata", "lost"],
    "standby": ["standby", "idle", "sleep", "sleeping", "night", "waiting", "stopped"],
    "unknown": ["unknown", "n/a"],
}


def is_short_form(data: Any) -> bool:
    """Return True for a column map rather than a full spec (no odse_mapping key, and keys
    of the short form)."""
    return (isinstance(data, dict) and "odse_mapping" not in data and bool(data)
            and any(k in SHORT_KEYS for k in data))


def parse_column_map(text: str) -> dict[str, str]:
    """Parse the CLI's inline form ``timestamp=Ts,kWh=Energy`` into a column map."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise MappingError(
                f"cannot read '{part}' in the column map", code="COLUMN_MAP",
                hint="Write field=column pairs separated by commas, e.g. "
                     "timestamp=Reading_Time,kWh=Energy_kWh")
        out[key.strip()] = value.strip()
    return out


def expand(short: dict[str, Any], *, name: str = "csv", file: str | None = None) -> dict[str, Any]:
    """Return the full spec for a short generic column map."""
    unknown = [k for k in short if k not in SHORT_KEYS]
    if unknown:
        from odse.suggest import did_you_mean
        key = unknown[0]
        raise MappingError(
            f"unknown key '{key}' in the column map", code="MAPPING_INVALID", file=file,
            key_path=key,
            hint=f"{did_you_mean(key, SHORT_KEYS, capital=True)}Keys: {', '.join(SHORT_KEYS)}; "
                 "other fields go under extra: {field: column}")
    if "timestamp" not in short:
        raise MappingError("the column map has no 'timestamp'", code="MAPPING_INVALID",
                           file=file, hint="Name the time column: timestamp: <column>")
    fields: dict[str, Any] = {"timestamp": {"format": "auto", **_field(short["timestamp"])}}
    if "kWh" in short:
        fields["kWh"] = _field(short["kWh"])
    elif "kW" in short:
        fields["kWh"] = {**_field(short["kW"]), "measure": "power"}
    else:
        raise MappingError("the column map has neither 'kWh' nor 'kW'", code="MAPPING_INVALID",
                           file=file, hint="Name the energy column (kWh: <column>) or the power "
                                           "column (kW: <column>, multiplied by interval_minutes)")
    if "kW" in short:
        fields["kW"] = _field(short["kW"])
    if "error_type" in short:
        status = _field(short["error_type"])
        fields["error_type"] = {
            **status, "codes": STATUS_WORDS, "case_insensitive": True, "default": "unknown",
            "rules": [{"when": {**status, "is_null": True},
                       "then": {"param": "default_error_type"}}]}
    else:
        fields["error_type"] = {"param": "default_error_type"}
    if "error_code" in short:
        fields["error_code"] = {**_field(short["error_code"]), "type": "string"}
    if "asset_id" in short:
        fields["asset_id"] = {**_field(short["asset_id"]), "type": "string",
                              "default": {"param": "asset_id"}}
    extra = short.get("extra") or {}
    if not isinstance(extra, dict):
        raise MappingError("'extra' must map field names to columns", code="MAPPING_INVALID",
                           file=file, key_path="extra")
    for field_name, column in extra.items():
        fields[field_name] = _field(column)
    return {
        "odse_mapping": 1,
        "name": name,
        "title": "Generic CSV (column map)",
        "params": {
            "interval_minutes": {"type": "number", "default": 5,
                                 "description": "interval of power readings [minutes]"},
            "default_error_type": {"type": "string", "default": "normal",
                                   "description": "error_type for rows without a status"},
        },
        "format": "csv",
        "interval": {"param": "interval_minutes"},
        "fields": fields,
    }


# The name under which a rising kWh column reads as a cumulative counter (the command line's
# name for the generic mapper); csv and generic always read kWh as energy per row.
COUNTER_NAME = "generic_csv"


def counter_candidate(name: str | None, short: dict[str, Any] | None) -> str | None:
    """Return the kWh column of a ``generic_csv`` map that names it plainly, else None."""
    if not name or name.lower() != COUNTER_NAME or not short:
        return None
    column = short.get("kWh")
    return column if isinstance(column, str) else None


COUNTER_VARIANT = "rising_kwh_counter"
"""The variant name (in the report) when a generic_csv kWh column is read as a counter."""


def as_counter(short: dict[str, Any], column: str, *, name: str) -> dict[str, Any]:
    """Return the full spec with kWh read as a cumulative counter (first reading: 0 kWh)."""
    spec = expand({**short, "kWh": {"column": column, "measure": "counter",
                                    "first_reading": "zero"}}, name=name)
    shape = {k: spec.pop(k) for k in ("format", "interval", "fields")}
    spec["variants"] = [{"name": COUNTER_VARIANT, **shape,
                         "description": f"the kWh column '{column}' never falls: a counter"}]
    return spec


def _field(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    return {"column": value}
