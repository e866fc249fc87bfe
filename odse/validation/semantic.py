"""Physical plausibility: warnings about values a schema cannot judge.

Run with ``level="semantic"`` on the records that have no errors. They only ever produce
warnings (a record stays valid). Symbols: ``E`` the record's kWh, ``P`` the capacity
(``capacity_kw``) [kW], ``h`` the record's interval [h].

The interval ``h``: the caller's ``interval_minutes`` when given; otherwise the spacing of the
series' timestamps (``intervals.spacing_hours``: the gap to the next record of the same
asset_id/direction/channel); otherwise 60 minutes, the longest interval in common use, so that
a lone record is never flagged for being short.

- EXCEEDS_PHYSICAL_MAXIMUM (``$.kWh``), when ``capacity_kw`` is given: ``E > P * h * 1.1`` for
  a record that is not consumption (absent direction, generation or net). 10 % headroom
  covers inverters that run slightly above their rating and rounding in OEM exports.
- NIGHTTIME_GENERATION (``$.kWh``), when ``latitude`` and ``longitude`` are given: generation
  (absent direction or generation) with ``E`` above the production floor while the sun stays
  more than 6 deg below the horizon (past civil dusk) at the interval's start, middle and end.
  Records of batteries (``dispatch_mode``) or wind turbines (``wind_speed_ms``) are not
  checked. The usual cause is a timestamp in local time labelled as UTC.
- STATE_PRODUCTION_MISMATCH (``$``): generation with ``E`` above the production floor while
  ``error_type`` is ``offline`` or ``fault``.

The production floor is ``0.01 * P * h`` (1 % of rated output, which meter noise and standby
flows stay under) when ``capacity_kw`` is given, else 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.records import TIMESTAMP_TYPE
from odse.validation import codes
from odse.validation.checks import Finding
from odse.validation.columns import Columns
from odse.validation.fleet import SeriesData, fleet_findings
from odse.validation.intervals import SeriesFrame, series_frame, spacing_hours
from odse.validation.solar import day_table, solar_elevation

HEADROOM = 1.1
NIGHT_ELEVATION_DEG = -6.0
NIGHT_MARGIN_DEG = 1.0
"""Records whose elevation from the per-day sun (``solar.day_table``, off by at most 0.35 deg)
is this close to ``NIGHT_ELEVATION_DEG`` are decided by the full formulas."""
PRODUCTION_FLOOR_SHARE = 0.01
FALLBACK_INTERVAL_MINUTES = 60.0
SERIES_KEYS = ("asset_id", "direction", "channel")
_STOPPED_STATES = ("offline", "fault")
_NOT_SOLAR = ("dispatch_mode", "wind_speed_ms")
_US_PER_HOUR = 3_600 * 1_000_000
_MICROS_LIMIT = float(2**62)  # well inside int64, far beyond any calendar date


@dataclass(frozen=True)
class SemanticOptions:
    """Context for the semantic checks.

    Parameters:
        capacity_kw: Rated capacity of the asset [kW], or None.
        latitude: Site latitude [deg, north positive], or None.
        longitude: Site longitude [deg, east positive], or None.
        interval_minutes: Length of every record's interval [min], or None to read it from
            the data.
    """

    capacity_kw: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    interval_minutes: float | None = None


def semantic_findings(cols: Columns, eligible: pa.BooleanArray,
                      options: SemanticOptions) -> list[Finding]:
    """Return the semantic warnings for the eligible records (those without errors)."""
    kwh_column = cols.get("kWh")
    if kwh_column is None or cols.n == 0 or not eligible.true_count:
        return []
    everyone = eligible.true_count == cols.n
    kwh = kwh_column.values if everyone else pc.if_else(eligible, kwh_column.values,
                                                         pa.scalar(None, pa.float64()))
    # None stands for "every record" (no direction column: all generation)
    generation = not_consumption = None
    if cols.has("direction"):
        direction = _strings(cols, "direction")
        generation = _true(pc.equal(direction, "generation"), absent=True)
        not_consumption = pc.invert(_true(pc.equal(direction, "consumption"), absent=False))
    times = _timestamps(cols, eligible, everyone)
    keys = {k: _strings(cols, k) for k in SERIES_KEYS if cols.has(k)}
    frame = series_frame(times, [v for v in keys.values() if v.null_count < len(v)])
    hours, spaced = _interval_hours(cols, times, frame, options)
    capacity = options.capacity_kw
    floor = (pc.multiply(hours, PRODUCTION_FLOOR_SHARE * capacity) if capacity
             else pa.scalar(0.0))
    producing = _true(pc.greater(kwh, floor), absent=False)

    out = []
    if capacity:
        limit = pc.multiply(hours, capacity * HEADROOM)
        mask = _all(not_consumption, _true(pc.greater(kwh, limit), absent=False))
        out.append(Finding(codes.EXCEEDS_PHYSICAL_MAXIMUM, "$.kWh", mask,
                           _maximum_render(kwh, limit, hours, spaced, options)))
    if options.latitude is not None and options.longitude is not None:
        candidates = _all(generation, producing, pc.is_valid(times),
                          *(pc.invert(cols.presence(name)) for name in _NOT_SOLAR
                            if cols.has(name)))
        night, highest = _night(times, hours, candidates, options)
        out.append(Finding(codes.NIGHTTIME_GENERATION, "$.kWh", night,
                           _night_render(kwh, highest, options)))
    states = _strings(cols, "error_type")
    stopped = _true(pc.is_in(states, value_set=pa.array(_STOPPED_STATES)), absent=False)
    mask = _all(stopped, generation, producing)
    out.append(Finding(codes.STATE_PRODUCTION_MISMATCH, "$", mask, _state_render(kwh, states)))
    out = [f for f in out if f.mask.true_count]
    not_solar = [pc.invert(cols.presence(name)) for name in _NOT_SOLAR if cols.has(name)]
    solar = _all(generation, *not_solar) if generation is not None or not_solar else None
    data = SeriesData(frame=frame, kwh=kwh, hours=hours, generation=generation,
                      direction=keys.get("direction", pa.nulls(cols.n, pa.string())),
                      keys=keys, solar=solar)
    out.extend(fleet_findings(data, options.latitude, options.longitude, capacity))
    return out


def _interval_hours(cols: Columns, times: pa.Array, frame: SeriesFrame,
                    options: SemanticOptions) -> tuple[pa.Array, pa.Array | None]:
    """Return each record's interval [h] and where it was read from the spacing (or None)."""
    if options.interval_minutes is not None:
        return pa.repeat(pa.scalar(options.interval_minutes / 60.0), cols.n), None
    spacing = spacing_hours(times, [], frame)
    fallback = pa.scalar(FALLBACK_INTERVAL_MINUTES / 60.0)
    return pc.fill_null(spacing, fallback), pc.is_valid(spacing)


def _night(times: pa.Array, hours: pa.Array, candidates: pa.BooleanArray,
           options: SemanticOptions) -> tuple[pa.BooleanArray, Any]:
    """Return where the sun stays well below the horizon, and a function giving its highest
    elevation [deg] at given record indices (for the messages).

    The sun's elevation is first computed from its declination and equation of time at each
    UTC day's noon (``solar.day_table``), a few kernels per instant; that is within
    ``NIGHT_MARGIN_DEG`` of the elevation at the instant itself, so only the records that
    near the threshold are computed again with the full formulas, which decide.
    """
    n = len(times)
    latitude, longitude = options.latitude or 0.0, options.longitude or 0.0
    if not candidates.true_count:
        return candidates, _highest_at(times, hours, latitude, longitude)
    start = pc.cast(pc.cast(pc.filter(times, candidates), pa.int64()), pa.float64())
    length = pc.multiply(pc.filter(hours, candidates), float(_US_PER_HOUR))
    instants = [pc.add(start, pc.multiply(length, share)) for share in (0.0, 0.5, 1.0)]
    table = day_table([pc.min_max(i) for i in instants], latitude, longitude)
    if table is None:  # an absurd span of days: the full formulas for every record
        dark = pc.less(_highest(start, length, latitude, longitude), NIGHT_ELEVATION_DEG)
    else:
        sine = None
        for at in instants:
            value = table.sine_of_elevation(at)
            sine = value if sine is None else pc.max_element_wise(sine, value)
        dark = pc.less(sine, math.sin(math.radians(NIGHT_ELEVATION_DEG)))
        near = pc.and_(
            pc.greater(sine, math.sin(math.radians(NIGHT_ELEVATION_DEG - NIGHT_MARGIN_DEG))),
            pc.less(sine, math.sin(math.radians(NIGHT_ELEVATION_DEG + NIGHT_MARGIN_DEG))))
        if near.true_count:
            exact = pc.less(_highest(pc.filter(start, near), pc.filter(length, near),
                                     latitude, longitude), NIGHT_ELEVATION_DEG)
            dark = pc.replace_with_mask(dark, near, exact)
    all_false = pa.repeat(pa.scalar(False), n)
    mask = pc.replace_with_mask(all_false, candidates, dark)
    return mask, _highest_at(times, hours, latitude, longitude)


def _highest(start: pa.Array, length: pa.Array, latitude: float,
             longitude: float) -> pa.Array:
    """Return the sun's highest elevation [deg] at the start, middle and end of intervals
    (``start`` [us since the epoch] and ``length`` [us], as float64)."""
    highest = None
    for share in (0.0, 0.5, 1.0):
        at = micros_at(pc.add(start, pc.multiply(length, share)))
        elevation = solar_elevation(at, latitude, longitude)
        highest = elevation if highest is None else pc.max_element_wise(highest, elevation)
    return highest


def _highest_at(times: pa.Array, hours: pa.Array, latitude: float, longitude: float) -> Any:
    def at(indices: list[int]) -> pa.Array:
        take = pa.array(indices, pa.int64())
        start = pc.cast(pc.cast(times.take(take), pa.int64()), pa.float64())
        return _highest(start, pc.multiply(hours.take(take), float(_US_PER_HOUR)), latitude,
                        longitude)

    return at


def micros_at(micros: pa.Array) -> pa.Array:
    """Return float microseconds since the epoch as ``timestamp[us, UTC]``.

    The value is rounded to the microsecond and held inside the int64 range first, so that
    an interval with a fraction of a microsecond (7.5 minutes is 450,000,000 us, but 0.125 h
    x 3.6e9 is not exactly that in floating point) or an absurd one never fails the cast.
    """
    clipped = pc.max_element_wise(pc.min_element_wise(pc.round(micros), _MICROS_LIMIT),
                                  -_MICROS_LIMIT)
    return pc.cast(pc.cast(clipped, pa.int64()), TIMESTAMP_TYPE)


def _timestamps(cols: Columns, eligible: pa.BooleanArray, everyone: bool) -> pa.Array:
    """Return the eligible records' timestamps as ``timestamp[us, UTC]`` (null elsewhere)."""
    column = cols.get("timestamp")
    if column is None or column.naive_time:
        return pa.nulls(cols.n, TIMESTAMP_TYPE)
    values = column.values
    if not everyone:
        values = pc.if_else(eligible, values, pa.scalar(None, values.type))
    if pa.types.is_timestamp(values.type):
        return values
    text = values
    if (pc.max(pc.utf8_length(text)).as_py() or 0) > len("2026-02-09T12:00:00Z"):
        # not all in odse's own form: Arrow parses at most microseconds, so finer fractions
        # are cut (not rounded)
        text = pc.replace_substring_regex(text, r"(\.[0-9]{6})[0-9]+", r"\1")
    try:
        return pc.cast(text, TIMESTAMP_TYPE)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([_parse(s) for s in text.to_pylist()], TIMESTAMP_TYPE)


def _parse(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None  # outside Python's calendar (year 0): no time-based checks for it
    return value.astimezone(timezone.utc)


def _strings(cols: Columns, name: str) -> pa.Array:
    column = cols.get(name)
    if column is None:
        return pa.nulls(cols.n, pa.string())
    if pa.types.is_large_string(column.values.type):
        return pc.cast(column.values, pa.string())
    if not pa.types.is_string(column.values.type):
        return pa.nulls(cols.n, pa.string())
    return column.values


def _all(*masks: pa.BooleanArray | None) -> pa.BooleanArray:
    """AND the masks together; None stands for all True."""
    present = [m for m in masks if m is not None]
    out = present[0]
    for mask in present[1:]:
        out = pc.and_(out, mask)
    return out


def _true(mask: Any, *, absent: bool) -> pa.BooleanArray:
    return pc.fill_null(mask, absent)


def _num(x: float) -> str:
    return f"{x:.6g}"


def _rows(indices: list[int], *arrays: pa.Array | None) -> list[tuple[Any, ...]]:
    """Return the values of several arrays at these indices, one tuple per index."""
    take = pa.array(indices, pa.int64())
    columns = [a.take(take).to_pylist() if a is not None else [None] * len(indices)
               for a in arrays]
    return list(zip(*columns, strict=True))


def _maximum_render(kwh: pa.Array, limit: pa.Array, hours: pa.Array, spaced: pa.Array | None,
                    options: SemanticOptions) -> Any:
    def render(indices: list[int]) -> list[tuple[str, Any]]:
        out = []
        for e, cap, h, from_data in _rows(indices, kwh, limit, hours, spaced):
            if spaced is None:
                source = "interval given by the caller"
            elif from_data:
                source = "interval from the spacing of the series' timestamps"
            else:
                source = f"no interval known, {FALLBACK_INTERVAL_MINUTES:g} minutes assumed"
            out.append((f"kWh {_num(e)} exceeds the physical maximum of {_num(cap)} kWh for a "
                        f"{_num(options.capacity_kw or 0)} kW capacity over {_num(h * 60)} "
                        f"minutes (capacity x interval x {HEADROOM}; {source})", e))
        return out

    return render


def _night_render(kwh: pa.Array, highest: Any, options: SemanticOptions) -> Any:
    where = f"latitude {_num(options.latitude or 0)}, longitude {_num(options.longitude or 0)}"

    def render(indices: list[int]) -> list[tuple[str, Any]]:
        tops = highest(indices).to_pylist() if indices else []
        return [(f"kWh {_num(e)} generated while the sun stays at least {-top:.1f} degrees "
                 f"below the horizon ({where}); are the timestamps local time labelled as "
                 "UTC?", e)
                for (e,), top in zip(_rows(indices, kwh), tops, strict=True)]

    return render


def _state_render(kwh: pa.Array, states: pa.Array) -> Any:
    def render(indices: list[int]) -> list[tuple[str, Any]]:
        return [(f"production of {_num(e)} kWh reported while error_type is '{s}'", e)
                for e, s in _rows(indices, kwh, states)]

    return render
