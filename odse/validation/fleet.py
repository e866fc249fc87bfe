"""Fleet checks: what goes wrong in series of records, judged per asset and channel.

Run at ``level="semantic"`` with the other plausibility warnings, on the records without
errors. A *series* is the records of one ``asset_id``, ``direction`` and ``channel``; each check
works on the series in time order (``intervals.SeriesFrame``), with Arrow kernels and group-bys,
and turns only its findings into Python objects. Symbols: ``t`` a record's timestamp, ``E`` its
kWh, ``c`` the series' cadence, ``h`` the record's interval (as in ``semantic``).

- DUPLICATE_TIMESTAMP (``$.timestamp``): a record whose series already has a record at the same
  ``t`` (the first one is not flagged; every later one is).
- MISSING_INTERVALS (``$.timestamp``): ``t - t_prev > 1.5 c`` between neighbours of a series,
  where the cadence ``c`` is the most common positive gap of the series; reported on the record
  after the gap with ``round((t - t_prev) / c) - 1`` intervals missing.
- STUCK_VALUE (``$.kWh``): a run of at least ``STUCK_MIN_RECORDS`` consecutive records of a
  series with the same non-zero ``E``, spanning at least ``STUCK_MIN_HOURS``; reported on the
  run's first record.
- TIMEZONE_SUSPECT (``$.timestamp``), when ``latitude`` and ``longitude`` are given: for each
  generation series and UTC calendar month, the energy-weighted circular mean of the true solar
  time at each interval's middle (``t + h/2``) is the time of day production centres on; on a
  correct clock that is solar noon. When it is more than ``TZ_TOLERANCE_HOURS`` away in any
  month, the series gets one warning naming the shift per month and the most likely cause:
  the zone (from the tz database, the nearest to the site among those whose UTC offset equals
  the shift in every month) or fixed offset to pass as ``timezone``, or end-labelled times
  (a shift of one interval).
- ENERGY_BALANCE (``$``): per asset and UTC day where generation, consumption and net (grid)
  records are all present, ``B = G + N - C`` (production - export + import - consumption, with
  the net channels signed import-positive) must stay within ``max(BALANCE_MIN_KWH,
  BALANCE_SHARE * max(G, C))``; reported on the day's first record.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.validation import codes
from odse.validation.checks import Finding
from odse.validation.intervals import SeriesFrame
from odse.validation.solar import true_solar_minutes

GAP_FACTOR = 1.5
STUCK_MIN_RECORDS = 6
STUCK_MIN_HOURS = 3.0
CLIP_SHARE = 0.9
TZ_TOLERANCE_HOURS = 0.75
TZ_MIN_RECORDS = 6
TZ_MIN_DAY_RECORDS = 3
TZ_MIN_DAYS = 1
MONTHS_SHOWN = 12
END_LABEL_MIN_HOURS = 0.5
BALANCE_MIN_KWH = 0.1
BALANCE_SHARE = 0.05
_US_PER_HOUR = 3_600 * 1_000_000
_US_PER_DAY = 24 * _US_PER_HOUR
_SECONDS_MASK = 2**32 - 1


@dataclass
class SeriesData:
    """What the fleet checks read, in batch order (null where a record is not eligible)."""

    frame: SeriesFrame
    kwh: pa.Array            # float64
    hours: pa.Array          # interval [h], float64
    generation: pa.BooleanArray | None  # None: every record is generation
    direction: pa.Array      # string
    keys: dict[str, pa.Array]  # asset_id, direction, channel as strings
    solar: pa.BooleanArray | None  # True where the time-zone check may use the record


def fleet_findings(data: SeriesData, latitude: float | None, longitude: float | None,
                   capacity: float | None = None) -> list[Finding]:
    """Return the fleet checks' warnings (only the non-empty ones)."""
    frame = data.frame
    if len(frame.rows) < 2:
        return []
    same = frame.same_as_previous()
    gaps = pc.if_else(same, pc.subtract(frame.micros, _shift(frame.micros)),
                      pa.scalar(None, pa.int64()))
    out = [_duplicates(data, gaps), _missing(data, gaps), _stuck(data, same, capacity)]
    if latitude is not None and longitude is not None:
        out.append(_time_zone(data, latitude, longitude))
    out.append(_balance(data))
    return [f for f in out if f is not None and f.mask.true_count]


# ---- duplicates and gaps ----------------------------------------------------------------------

def _duplicates(data: SeriesData, gaps: pa.Array) -> Finding | None:
    frame = data.frame
    flags = pc.fill_null(pc.equal(gaps, 0), False)
    if not flags.true_count:
        return None
    mask = frame.batch_mask(flags)

    def render(indices: list[int]) -> list[tuple[str, Any]]:
        out = []
        for i, t in zip(indices, _times(frame, indices), strict=True):
            out.append((f"{_series_words(data, i)} has more than one record at {t}: a repeated "
                        "hour of a daylight-saving change read without its zone, or the same "
                        "export read twice (pass timezone=, or drop the repeats)", t))
        return out

    return Finding(codes.DUPLICATE_TIMESTAMP, "$.timestamp", mask, render)


def _missing(data: SeriesData, gaps: pa.Array) -> Finding | None:
    frame = data.frame
    positive = pc.fill_null(pc.greater(gaps, 0), False)
    if not positive.true_count:
        return None
    series = (frame.series if frame.series is not None
              else pa.repeat(pa.scalar(0, pa.int64()), len(gaps)))
    cadence = _cadence(series, gaps, positive)
    late = pc.fill_null(pc.greater(pc.cast(gaps, pa.float64()),
                                   pc.multiply(pc.cast(cadence, pa.float64()), GAP_FACTOR)),
                        False)
    if not late.true_count:
        return None
    mask = frame.batch_mask(late)
    # per batch row: the gap and the cadence, for the message
    picked = pc.filter(frame.rows, late)
    by_row = dict(zip(picked.to_pylist(), zip(pc.filter(gaps, late).to_pylist(),
                                             pc.filter(cadence, late).to_pylist(), strict=True),
                      strict=True))

    def render(indices: list[int]) -> list[tuple[str, Any]]:
        out = []
        for i, t in zip(indices, _times(frame, indices), strict=True):
            gap, step = by_row[i]
            missing = round(gap / step) - 1
            out.append((f"{_series_words(data, i)}: {missing} interval"
                        f"{'' if missing == 1 else 's'} of {_duration(step)} missing before "
                        f"{t} (a gap of {_duration(gap)}; the series' cadence is "
                        f"{_duration(step)})", t))
        return out

    return Finding(codes.MISSING_INTERVALS, "$.timestamp", mask, render)


def _cadence(series: pa.Array, gaps: pa.Array, positive: pa.BooleanArray) -> pa.Array:
    """Return, per row, the most common positive gap of its series [us] (ties: the shorter).

    Series and gap (in whole seconds) are packed into one int64, so that one hash count
    (``value_counts``) does the work of a two-key group-by.
    """
    seconds = pc.divide(pc.filter(gaps, positive), 1_000_000)
    seconds = pc.min_element_wise(seconds, _SECONDS_MASK)
    key = pc.add(pc.shift_left(pc.filter(series, positive), 32), seconds)
    counted = pc.value_counts(key)
    keys, counts = counted.field("values"), counted.field("counts")
    table = pa.table({"s": pc.shift_right(keys, 32), "g": pc.bit_wise_and(keys, _SECONDS_MASK),
                      "n": counts}).sort_by([("s", "ascending"), ("n", "descending"),
                                             ("g", "ascending")])
    s_sorted = table.column("s").combine_chunks()
    first = pc.invert(pc.fill_null(pc.equal(s_sorted, _shift(s_sorted)), False))
    per_series = pc.multiply(pc.filter(table.column("g").combine_chunks(), first), 1_000_000)
    return pc.take(per_series, pc.index_in(series, value_set=pc.filter(s_sorted, first)))


# ---- stuck values -----------------------------------------------------------------------------

def _stuck(data: SeriesData, same: pa.BooleanArray, capacity: float | None) -> Finding | None:
    frame = data.frame
    kwh = frame.take(data.kwh)
    repeat = pc.and_(pc.and_(same, pc.equal(kwh, _shift(kwh))), pc.not_equal(kwh, 0.0))
    repeat = pc.fill_null(repeat, False)
    if repeat.true_count < STUCK_MIN_RECORDS - 1:
        return None
    # only the rows that repeat the row before them: consecutive positions form one run
    pos = pc.indices_nonzero(repeat)
    new_run = pc.fill_null(pc.not_equal(pos, pc.add(_shift(pos), 1)), True)
    run = pc.cumulative_sum(pc.cast(new_run, pa.int64()))
    table = pa.table({"run": run, "pos": pos, "t": pc.take(frame.micros, pos),
                      "e": pc.take(kwh, pos), "h": pc.take(frame.take(data.hours), pos)})
    runs = table.group_by("run").aggregate([("pos", "min"), ("pos", "count"), ("t", "max"),
                                            ("e", "min"), ("h", "min")])
    starts_at = pc.subtract(runs.column("pos_min"), 1)  # the run's first record
    first_t = pc.take(frame.micros, starts_at)
    span = pc.divide(pc.cast(pc.subtract(runs.column("t_max"), first_t), pa.float64()),
                     float(_US_PER_HOUR))
    records = pc.add(runs.column("pos_count"), 1)
    keep = pc.and_(pc.greater_equal(records, STUCK_MIN_RECORDS),
                   pc.greater_equal(span, STUCK_MIN_HOURS))
    if capacity:  # an inverter clipped at its rating holds one value: not a frozen meter
        clipped = pc.greater_equal(runs.column("e_min"),
                                   pc.multiply(runs.column("h_min"), CLIP_SHARE * capacity))
        keep = pc.and_(keep, pc.invert(pc.fill_null(clipped, False)))
    kept = runs.filter(keep)
    if not kept.num_rows:
        return None
    starts = pc.take(frame.rows, pc.filter(starts_at, keep))
    mask = pc.is_in(_arange(frame.n), value_set=starts)
    info = dict(zip(starts.to_pylist(),
                    zip(pc.filter(records, keep).to_pylist(), kept.column("t_max").to_pylist(),
                        strict=True), strict=True))

    def render(indices: list[int]) -> list[tuple[str, Any]]:
        out = []
        values = pc.take(data.kwh, pa.array(indices, pa.int64())).to_pylist()
        for i, t, e in zip(indices, _times(frame, indices), values, strict=True):
            count, last = info[i]
            out.append((f"{_series_words(data, i)}: kWh stays at {e:.6g} for {count} records "
                        f"in a row, from {t} to {_iso(last)}: a frozen meter or logger repeats "
                        "its last reading (an inverter clipped at its limit also holds one "
                        "value: check against the capacity)", e))
        return out

    return Finding(codes.STUCK_VALUE, "$.kWh", mask, render)


# ---- time zone --------------------------------------------------------------------------------

def _time_zone(data: SeriesData, latitude: float, longitude: float) -> Finding | None:
    frame = data.frame
    use = data.solar if data.solar is not None else pa.repeat(pa.scalar(True), frame.n)
    use = frame.take(pc.fill_null(pc.and_(use, pc.greater(data.kwh, 0.0)), False))
    if use.true_count < TZ_MIN_RECORDS:
        return None
    micros = pc.filter(frame.micros, use)
    rows = pc.filter(frame.rows, use)
    hours = pc.take(data.hours, rows)
    weight = pc.take(data.kwh, rows)
    middle = pc.add(pc.cast(micros, pa.float64()), pc.multiply(hours, _US_PER_HOUR / 2))
    solar = true_solar_minutes(middle, longitude)
    series = (pc.filter(frame.series, use) if frame.series is not None
              else pa.repeat(pa.scalar(0, pa.int64()), len(rows)))
    # 1. a rough shift per series: the energy-weighted circular mean of the solar time
    angle = pc.multiply(solar, 2 * math.pi / 1440.0)
    rough = pa.table({"s": series, "ws": pc.multiply(weight, pc.sin(angle)),
                      "wc": pc.multiply(weight, pc.cos(angle))}).group_by("s").aggregate(
        [("ws", "sum"), ("wc", "sum")])
    rough_min = pc.multiply(pc.subtract(_wrap(pc.atan2(rough.column("ws_sum"),
                                                       rough.column("wc_sum"))), math.pi),
                            1440 / (2 * math.pi))
    rough_row = pc.take(rough_min, pc.index_in(series, value_set=rough.column("s")))
    # 2. per day (a solar day around the rough centre): the middle of the production window,
    # (first + last producing interval) / 2, which the orientation of the panels hardly moves
    deviation = pc.subtract(pc.subtract(solar, 720.0), rough_row)
    deviation = pc.subtract(_wrap_minutes(pc.add(deviation, 720.0)), 720.0)
    # the day number as int64: Arrow hashes whole-number doubles so poorly that grouping by
    # them takes seconds where int64 keys take a tenth of one
    day = pc.cast(pc.floor(pc.divide(pc.add(pc.subtract(middle, pc.multiply(rough_row, 60e6)),
                                            longitude * 240e6), float(_US_PER_DAY))),
                  pa.int64())
    days = pa.table({"s": series, "d": day, "v": deviation, "row": rows, "t": micros,
                     "h": hours}).group_by(["s", "d"]).aggregate([
                         ("v", "min"), ("v", "max"), ("v", "count"), ("row", "min"),
                         ("t", "min"), ("h", "min")])
    days = days.filter(pc.greater_equal(days.column("v_count"), TZ_MIN_DAY_RECORDS))
    if not days.num_rows:
        return None
    centre = pc.divide(pc.add(days.column("v_min"), days.column("v_max")), 2.0)
    centre = pc.add(centre, pc.take(rough_min, pc.index_in(days.column("s"),
                                                           value_set=rough.column("s"))))
    stamps = days.column("t_min").combine_chunks().view(pa.timestamp("us", tz="UTC"))
    month = pc.add(pc.multiply(pc.year(stamps), 12), pc.month(stamps))
    # 3. per month: the median day
    groups = pa.table({"s": days.column("s"), "m": month, "c": pc.divide(centre, 60.0),
                       "row": days.column("row_min"), "t": days.column("t_min"),
                       "h": days.column("h_min")}).group_by(["s", "m"]).aggregate([
                           ("c", "approximate_median"), ("c", "count"), ("row", "min"),
                           ("t", "min"), ("t", "max"), ("h", "approximate_median")])
    groups = groups.filter(pc.greater_equal(groups.column("c_count"), TZ_MIN_DAYS))
    if not groups.num_rows:
        return None
    shift = groups.column("c_approximate_median")
    per_series: dict[int, list[tuple[float, int, int, float, int]]] = {}
    for s, d, t0, t1, h, row in zip(groups.column("s").to_pylist(), shift.to_pylist(),
                                    groups.column("t_min").to_pylist(),
                                    groups.column("t_max").to_pylist(),
                                    groups.column("h_approximate_median").to_pylist(),
                                    groups.column("row_min").to_pylist(), strict=True):
        per_series.setdefault(s, []).append((d, t0, t1, h, row))
    flagged = {}
    for months in per_series.values():
        if any(abs(d) > TZ_TOLERANCE_HOURS for d, *_ in months):
            first_row = min(row for *_, row in months)
            flagged[first_row] = sorted(months, key=lambda m: m[1])
    if not flagged:
        return None
    mask = pc.is_in(_arange(frame.n), value_set=pa.array(sorted(flagged), pa.int64()))

    def render(indices: list[int]) -> list[tuple[str, Any]]:
        out = []
        for i in indices:
            months = flagged[i]
            mean = sum(d for d, *_ in months) / len(months)
            by_month = ", ".join(f"{_iso(t0)[:7]} {d:+.1f} h"
                                 for d, t0, *_ in months[:MONTHS_SHOWN])
            more = (f" and {len(months) - MONTHS_SHOWN} more months"
                    if len(months) > MONTHS_SHOWN else "")
            cause = likely_cause(months, latitude, longitude)
            out.append((f"{_series_words(data, i)}: generation centres {abs(mean):.1f} h "
                        f"{'after' if mean > 0 else 'before'} solar noon at latitude "
                        f"{latitude:g}, longitude {longitude:g} ({by_month}{more}); {cause}",
                        round(mean, 2)))
        return out

    return Finding(codes.TIMEZONE_SUSPECT, "$.timestamp", mask, render)


def likely_cause(months: list[tuple[float, int, int, float, int]], latitude: float,
                 longitude: float) -> str:
    """Word the most likely reason for a shift of generation against the sun.

    ``months`` holds (shift [h], first time [us], last time [us], interval [h], row) per month.
    The candidates: the times are local time of a zone read as UTC (every zone in the tz
    database, the nearest to the site winning ties), a fixed offset, and end-labelled times
    (a shift of one interval, also combined with a zone).
    """
    best: tuple[float, float, str, list[float]] | None = None
    long_intervals = all(h >= END_LABEL_MIN_HOURS for *_, h, _ in months)
    instants = tuple((t0 + t1) // 2 for _, t0, t1, *_ in months)
    for zone, distance, offsets in _zone_offsets(instants, latitude, longitude):
        for end in (False, True) if long_intervals else (False,):
            error = sum(abs(d - off - (h if end else 0.0))
                        for (d, _, _, h, _), off in zip(months, offsets, strict=True))
            error /= len(months)
            key = (round(error, 1), distance, zone + (" end" if end else ""), offsets)
            if best is None or key[:3] < best[:3]:
                best = key
    mean = sum(d for d, *_ in months) / len(months)
    if best is not None and best[0] <= TZ_TOLERANCE_HOURS / 2:
        zone, offsets = best[2], best[3]
        words = ", ".join(_offset_words(o) for o in sorted(set(offsets)))
        if zone.endswith(" end"):
            zone = zone[:-4]
            if zone == "UTC":
                return ("the timestamps look like the end of each interval read as its start: "
                        "read them as end-labelled (label: end in the mapping)")
            return (f"the timestamps look like local time of {zone} (UTC{words} here) "
                    f"labelling the end of each interval: pass timezone='{zone}' and read "
                    "them as end-labelled (label: end)")
        return (f"the timestamps look like local time read as UTC: pass timezone='{zone}' "
                f"(the zone nearest the site whose UTC offset matches every month: "
                f"UTC{words} here)")
    offset = _offset_words(round(mean * 4) / 4)
    return (f"the timestamps may be local time read as UTC: try timezone='{offset}' or the "
            "site's zone, or check latitude and longitude")


def _zone_offsets(instants: tuple[int, ...], latitude: float,
                  longitude: float) -> list[tuple[str, float, list[float]]]:
    """Return (zone, distance to the site [km], UTC offset [h] at each instant) per zone."""
    from zoneinfo import ZoneInfo

    moments = [dt.datetime.fromtimestamp(t / 1e6, dt.timezone.utc) for t in instants]
    out = [("UTC", 0.0, [0.0] * len(moments))]
    for zone, lat, lon in _zones():
        try:
            info = ZoneInfo(zone)
        except (KeyError, ValueError, OSError):
            continue
        offsets = [(m.astimezone(info).utcoffset() or dt.timedelta()).total_seconds() / 3600
                   for m in moments]
        out.append((zone, _km(latitude, longitude, lat, lon), offsets))
    return out


@cache
def _zones() -> tuple[tuple[str, float, float], ...]:
    """Return (zone, latitude, longitude) for the tz database's zones (zone1970.tab)."""
    text = _zone_table()
    out = []
    seen: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        position = _iso6709(parts[1])
        if position is not None and parts[2] not in seen:
            seen.add(parts[2])
            out.append((parts[2], *position))
    return tuple(out)


def _zone_table() -> str:
    """Return the tz database's zone tables: zone.tab (a zone per country) and zone1970.tab."""
    import zoneinfo

    texts = []
    for name in ("zone.tab", "zone1970.tab"):
        for root in zoneinfo.TZPATH:
            path = Path(root) / name
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8"))
                break
        else:
            try:  # the tzdata package (Windows, slim images)
                from importlib.resources import files

                texts.append((files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8"))
            except (ImportError, OSError):
                pass
    return "\n".join(texts)


def _iso6709(text: str) -> tuple[float, float] | None:
    """Read ``+5222+00454`` (or with seconds) as (latitude, longitude) [deg]."""
    split = max(text.rfind("+"), text.rfind("-"))
    if split <= 0:
        return None

    def degrees(part: str, width: int) -> float:
        sign = -1.0 if part[0] == "-" else 1.0
        digits = part[1:]
        whole = float(digits[:width])
        minutes = float(digits[width:width + 2] or 0)
        seconds = float(digits[width + 2:width + 4] or 0)
        return sign * (whole + minutes / 60 + seconds / 3600)

    try:
        return degrees(text[:split], 2), degrees(text[split:], 3)
    except ValueError:
        return None


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12_742.0 * math.asin(min(1.0, math.sqrt(a)))


def _offset_words(hours: float) -> str:
    sign = "-" if hours < 0 else "+"
    minutes = round(abs(hours) * 60)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _wrap_minutes(minutes: pa.Array) -> pa.Array:
    """Return the minutes in [0, 1440)."""
    return pc.subtract(minutes, pc.multiply(pc.floor(pc.divide(minutes, 1440.0)), 1440.0))


def _wrap(angle: pa.Array) -> pa.Array:
    """Return the angle in [0, 2 pi)."""
    return pc.subtract(angle, pc.multiply(pc.floor(pc.divide(angle, 2 * math.pi)),
                                          2 * math.pi))


# ---- energy balance ---------------------------------------------------------------------------

def _balance(data: SeriesData) -> Finding | None:
    direction = data.direction
    if direction.null_count == len(direction):
        return None
    frame = data.frame
    rows = frame.rows
    kinds = pc.take(direction, rows)
    asset = pc.take(data.keys.get("asset_id", pa.nulls(frame.n, pa.string())), rows)
    day = pc.divide(frame.micros, _US_PER_DAY)
    kwh = pc.take(data.kwh, rows)
    table = pa.table({"a": pc.fill_null(asset, ""), "d": day,
                      "k": pc.fill_null(kinds, "generation"), "e": kwh, "row": rows})
    sums = table.group_by(["a", "d", "k"]).aggregate([("e", "sum"), ("row", "min")])
    per_day: dict[tuple[str, int], dict[str, float]] = {}
    first: dict[tuple[str, int], int] = {}
    for a, d, k, e, row in zip(*(sums.column(c).to_pylist()
                                 for c in ("a", "d", "k", "e_sum", "row_min")), strict=True):
        per_day.setdefault((a, d), {})[k] = e or 0.0
        first[(a, d)] = min(first.get((a, d), row), row)
    bad: dict[int, tuple[str, int, dict[str, float], float, float]] = {}
    for key, parts in per_day.items():
        if not {"generation", "consumption", "net"} <= set(parts):
            continue
        g, c, net = parts["generation"], parts["consumption"], parts["net"]
        residual = g + net - c
        allowed = max(BALANCE_MIN_KWH, BALANCE_SHARE * max(g, c))
        if abs(residual) > allowed:
            bad[first[key]] = (key[0], key[1], parts, residual, allowed)
    if not bad:
        return None
    mask = pc.is_in(_arange(frame.n), value_set=pa.array(sorted(bad), pa.int64()))

    def render(indices: list[int]) -> list[tuple[str, Any]]:
        out = []
        for i in indices:
            asset_id, d, parts, residual, allowed = bad[i]
            day_text = _iso(d * _US_PER_DAY)[:10]
            who = f"asset {asset_id!r}" if asset_id else "the records"
            out.append((f"{who} on {day_text}: production {parts['generation']:.3f} + net "
                        f"grid {parts['net']:.3f} - consumption {parts['consumption']:.3f} = "
                        f"{residual:+.3f} kWh, beyond the {allowed:.3f} kWh allowed: a "
                        "channel is missing records, mis-signed or in another unit",
                        round(residual, 6)))
        return out

    return Finding(codes.ENERGY_BALANCE, "$", mask, render)


# ---- helpers ----------------------------------------------------------------------------------

def _shift(values: pa.Array) -> pa.Array:
    """Return the values moved down one place (null first)."""
    if not len(values):
        return values
    return pa.concat_arrays([pa.nulls(1, values.type), values[:-1]])


def _arange(n: int) -> pa.Array:
    """Return 0, 1, ..., n - 1 as int64 (the set bits of an all-true mask: one fast pass)."""
    return pc.indices_nonzero(pa.repeat(pa.scalar(True), n)).cast(pa.int64()) if n \
        else pa.array([], pa.int64())

def _times(frame: SeriesFrame, indices: list[int]) -> list[str]:
    """Return the batch records' timestamps as ISO text (for messages)."""
    wanted = pa.array(indices, pa.int64())
    if frame.identity:
        return [_iso(t) for t in pc.take(frame.micros, wanted).to_pylist()]
    # look the few indices up among the rows (a hash set of the few, not of every row)
    where = pc.indices_nonzero(pc.is_in(frame.rows, value_set=wanted))
    found = dict(zip(pc.take(frame.rows, where).to_pylist(),
                     pc.take(frame.micros, where).to_pylist(), strict=True))
    return [_iso(found[i]) for i in indices]


def _iso(micros: int) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=micros)
    return moment.isoformat().replace("+00:00", "Z")


def _duration(micros: float) -> str:
    minutes = micros / 60_000_000
    if minutes >= 2880 and minutes % 1440 == 0:
        return f"{minutes / 1440:g} days"
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes / 60:g} hours"
    return f"{minutes:g} minutes"


def _series_words(data: SeriesData, index: int) -> str:
    parts = []
    for name in ("asset_id", "direction", "channel"):
        column = data.keys.get(name)
        if column is not None:
            value = column[index].as_py()
            if value is not None:
                parts.append(f"{name} {value!r}")
    return "series " + ", ".join(parts) if parts else "the series"

