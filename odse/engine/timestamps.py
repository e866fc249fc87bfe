"""Parse times and place them in UTC: formats, zones and daylight saving.

Parsing yields the wall-clock time as written plus the UTC offset when the text carries one
(``Z``, ``+02:00``, ``CEST+0200``). Times without an offset are read in a zone: an offset
(``+02:00``) or an IANA name (``Europe/Berlin``). In a named zone a wall-clock time can be
ambiguous (the repeated hour in autumn) or not exist (the skipped hour in spring); both are
reported so the caller can resolve them by order or reject them.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.engine.convert import to_number, to_text
from odse.engine.values import Col, null_where, problem

UTC = pa.timestamp("us", tz="UTC")
NAIVE = pa.timestamp("us")

_ISO = (r"^\s*(?P<date>\d{4}-\d{2}-\d{2})"
        r"(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?))?"
        r"\s*(?:(?P<abbr>[A-Za-z]{1,5})\s*)?(?P<off>[+-]\d{2}(?::?\d{2})?)?\s*$")
_OFFSET = re.compile(r"^(?:UTC|GMT|Z)?([+-])(\d{1,2})(?::?(\d{2}))?$|^(?:UTC|GMT|Z)$")
_UTC_ABBREVIATIONS = ("Z", "z", "UTC", "GMT", "UT")
# Zone abbreviations that name one offset. Others (CST, IST, AST ...) name several and a
# time carrying one of them without an offset is rejected rather than guessed.
ZONE_ABBREVIATIONS = {
    "Z": 0, "z": 0, "UTC": 0, "GMT": 0, "UT": 0, "WET": 0, "WEST": 3600, "BST": 3600,
    "CET": 3600, "CEST": 7200, "MEZ": 3600, "MESZ": 7200, "EET": 7200, "EEST": 10800,
    "SAST": 7200, "MSK": 10800, "EST": -18000, "EDT": -14400, "CDT": -18000,
    "MST": -25200, "MDT": -21600, "PST": -28800, "PDT": -25200, "AKST": -32400,
    "AKDT": -28800, "HST": -36000, "JST": 32400, "KST": 32400, "AEST": 36000,
    "AEDT": 39600, "ACST": 34200, "AWST": 28800, "NZST": 43200, "NZDT": 46800,
}

# Formats tried, in order, by format "auto" on text that is not ISO 8601.
AUTO_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
    "%Y%m%d%H%M%S", "%Y%m%dT%H%M%S",
)
EPOCH_FORMATS = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1}
NAMED_FORMATS = ("iso8601", "auto", "excel", *EPOCH_FORMATS)
EXCEL_EPOCH_DAYS = 25569          # 1970-01-01 as an Excel day serial (1900 date system)
EXCEL_MAX_SERIAL = 2_958_465      # 9999-12-31


@dataclass
class Parsed:
    """Wall-clock times as written, and the UTC offset in seconds where the text had one."""

    local: pa.Array            # timestamp[us] (naive)
    offset: pa.Array           # int64 seconds, null where the text had no zone
    col: Col                   # the input, with parse problems


@dataclass
class Placed:
    """Times in UTC; ``alt`` holds the later reading of an ambiguous local time."""

    utc: pa.Array              # timestamp[us, UTC]
    alt: pa.Array | None       # timestamp[us, UTC], valid only where ambiguous
    local: pa.Array | None     # naive wall-clock time, for resolving ambiguity by order
    nonexistent: pa.Array | None


def fixed_offset_seconds(zone: str) -> int | None:
    """Return the offset of a fixed zone (``+02:00``, ``UTC``), or None for a named zone."""
    m = _OFFSET.match(zone.strip())
    if not m:
        return None
    if m.group(1) is None:
        return 0
    sign = -1 if m.group(1) == "-" else 1
    return sign * (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60)


def zone_name(zone: str) -> str:
    """Return the zone as Arrow names it: fixed offsets as +HH:MM (UTC+2 -> +02:00)."""
    seconds = fixed_offset_seconds(zone)
    if seconds is None:
        return zone
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def check_zone(zone: str) -> str | None:
    """Return None when ``zone`` is usable, else a message saying why not."""
    if fixed_offset_seconds(zone) is not None:
        return None
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return (f"unknown time zone '{zone}'; use an IANA name such as 'Europe/Berlin' "
                "or an offset such as '+02:00'")
    return None


def check_format(fmt: str) -> str | None:
    """Return None when ``fmt`` is a usable time format, else a message."""
    if fmt in NAMED_FORMATS:
        return None
    if "%" not in fmt:
        return (f"time format '{fmt}' has no % directive; use a strptime format such as "
                f"'%Y-%m-%d %H:%M:%S' or one of: {', '.join(NAMED_FORMATS)}")
    return None


def strptime(text: pa.Array, fmt: str) -> pa.Array:
    """Parse with a strptime format; impossible dates (31 February) have no value.

    Arrow's strptime rolls an impossible day over into the next month; a rolled date lands on
    1 to 3 March (from 29 to 31 February) or on the 1st of a month after a 30-day month, so
    only those rows are checked against the day and month as written.
    """
    parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    named_month = "%b" in fmt or "%B" in fmt
    if "%d" not in fmt or not ("%m" in fmt or named_month) or parsed.type.tz is not None:
        return parsed
    early = pc.fill_null(pc.less_equal(pc.day(parsed), 3), False)
    if not pc.any(early).as_py():
        return parsed
    first_days = pc.filter(parsed, early)
    day, month = pc.day(first_days), pc.month(first_days)
    rollable = pc.or_(pc.and_(pc.equal(month, 3), pc.less_equal(day, 3)),
                      pc.and_(pc.is_in(month, _AFTER_SHORT_MONTH), pc.equal(day, 1)))
    if not pc.any(rollable).as_py():
        return parsed
    early = pc.replace_with_mask(early, early, rollable)
    written = pc.extract_regex(pc.filter(text, early), _format_regex(fmt))
    day = pc.cast(pc.struct_field(written, "d"), pa.int64())
    if named_month:
        name = pc.utf8_slice_codeunits(pc.utf8_lower(pc.struct_field(written, "m")), 0, 3)
        month = pc.add(pc.index_in(name, pa.array(_MONTHS)), 1).cast(pa.int64())
    else:
        month = pc.cast(pc.struct_field(written, "m"), pa.int64())
    kept = pc.filter(parsed, early)
    rolled = pc.or_(pc.not_equal(day, pc.day(kept)), pc.not_equal(month, pc.month(kept)))
    rolled = pc.fill_null(rolled, True)
    if not pc.any(rolled).as_py():
        return parsed
    return pc.replace_with_mask(parsed, early, null_where(kept, rolled))


_AFTER_SHORT_MONTH = pa.array([5, 7, 10, 12], pa.int64())
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@functools.cache
def _format_regex(fmt: str) -> str:
    """A regular expression capturing the day and month of text written with ``fmt``."""
    pieces = {"%d": r"(?P<d>\d{1,2})", "%m": r"(?P<m>\d{1,2})", "%Y": r"\d{4}", "%y": r"\d{2}",
              "%b": r"(?P<m>[A-Za-z]+)", "%B": r"(?P<m>[A-Za-z]+)", "%%": "%"}
    out = ""
    i = 0
    while i < len(fmt):
        two = fmt[i:i + 2]
        if two in pieces:
            out += pieces[two]
            i += 2
        elif fmt[i] == "%":
            out += r".*?"
            i += 2
        else:
            out += re.escape(fmt[i])
            i += 1
    return "^" + out


def parse_strptime(col: Col, fmt: str) -> Parsed:
    """Parse text with one strptime format (``%z`` in the format gives an offset)."""
    text = to_text(col.values)
    parsed = strptime(pc.utf8_trim_whitespace(text), fmt)
    offset = pa.nulls(len(text), pa.int64())
    if parsed.type.tz is not None:
        parsed = parsed.cast(pa.int64()).view(NAIVE)
        offset = pc.if_else(pc.is_valid(parsed), pa.scalar(0, pa.int64()), offset)
    bad = pc.and_(pc.is_valid(text), pc.is_null(parsed))
    return Parsed(parsed, offset, col.with_values(
        parsed, *problem(bad, "NOT_A_TIMESTAMP", f"does not match the time format {fmt}")))


# Layouts most exports use, parsed directly before the general ISO 8601 pattern.
_FAST_ISO = (("%Y-%m-%d %H:%M:%S", None), ("%Y-%m-%dT%H:%M:%S", None),
             ("%Y-%m-%dT%H:%M:%SZ", 0), ("%Y-%m-%d %H:%M", None), ("%Y-%m-%dT%H:%M", None))


def parse_iso(col: Col) -> Parsed:
    """Parse ISO 8601 text with an optional zone (``Z``, ``+02:00``, ``CEST+0200``)."""
    text = to_text(col.values)
    n = len(text)
    local = pa.nulls(n, NAIVE)
    offset = pa.nulls(n, pa.int64())
    left = pc.is_valid(text)
    for i, (fmt, fixed) in enumerate(_FAST_ISO):
        if i == 0:
            local = strptime(text, fmt)
            left = pc.and_(left, pc.is_null(local))
            continue
        if not pc.any(left).as_py():
            break
        # later layouts only see the values the earlier ones could not read
        attempt = strptime(pc.filter(text, left), fmt)
        if attempt.null_count == len(attempt):
            continue
        local = pc.replace_with_mask(local, left, pc.coalesce(pc.filter(local, left), attempt))
        if fixed is not None:
            offset = pc.replace_with_mask(offset, left, pc.if_else(
                pc.is_valid(attempt), pa.scalar(fixed, pa.int64()), pc.filter(offset, left)))
        left = pc.and_(left, pc.is_null(local))
    if pc.any(left).as_py():
        sub_local, sub_offset = _parse_iso_general(pc.filter(text, left))
        local = pc.replace_with_mask(local, left, sub_local)
        offset = pc.replace_with_mask(offset, left, sub_offset)
    bad = pc.and_(pc.is_valid(text), pc.is_null(local))
    return Parsed(local, offset, col.with_values(
        local, *problem(bad, "NOT_A_TIMESTAMP", "not an ISO 8601 time")))


def _parse_iso_general(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    n = len(text)
    parts = pc.extract_regex(text, _ISO)
    date = pc.struct_field(parts, "date")
    time = pc.struct_field(parts, "time")
    has_time = pc.greater(pc.utf8_length(time), 0)
    base = pc.if_else(has_time, pc.binary_join_element_wise(date, time, "T"), date)
    base = pc.replace_substring(base, ",", ".")
    local = _naive(base)
    abbr = pc.struct_field(parts, "abbr")
    off = pc.struct_field(parts, "off")
    offset = _offset_seconds(off, n)
    # an abbreviation without an offset: its offset when it names one, else no time at all
    names = list(ZONE_ABBREVIATIONS)
    known = pc.take(pa.array(list(ZONE_ABBREVIATIONS.values()), pa.int64()),
                    pc.index_in(abbr, pa.array(names)))
    only_abbr = pc.and_(pc.is_null(offset), pc.greater(pc.fill_null(pc.utf8_length(abbr), 0), 0))
    offset = pc.if_else(only_abbr, known, offset)
    local = null_where(local, pc.and_(only_abbr, pc.is_null(known)))
    return local, null_where(offset, pc.is_null(local))


def _naive(base: pa.Array) -> pa.Array:
    try:
        return pc.cast(base, NAIVE)
    except pa.ArrowInvalid:
        pass
    # some value is out of range (month 13, hour 25): parse the rest, null the bad ones
    whole = pc.replace_substring_regex(base, r"\.\d+$", "")
    out: Any = None
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        attempt = strptime(whole, fmt)
        out = attempt if out is None else pc.coalesce(out, attempt)
    fraction = pc.extract_regex(base, r"\.(?P<f>\d+)$")
    digits = pc.utf8_slice_codeunits(pc.struct_field(fraction, "f"), 0, 6)
    digits = pc.utf8_rpad(digits, 6, "0")
    micros = pc.fill_null(pc.cast(pc.if_else(pc.is_valid(fraction), digits, "0"), pa.int64()), 0)
    return pc.cast(pc.add(out.cast(pa.int64()), micros), NAIVE)


def _offset_seconds(off: pa.Array, n: int) -> pa.Array:
    present = pc.greater(pc.fill_null(pc.utf8_length(off), 0), 0)
    if not pc.any(present).as_py():
        return pa.nulls(n, pa.int64())
    digits = pc.replace_substring(off, ":", "")
    digits = pc.utf8_rpad(digits, 5, "0")
    sign = pc.if_else(pc.equal(pc.utf8_slice_codeunits(digits, 0, 1), "-"), -1, 1)
    hours = pc.cast(pc.if_else(present, pc.utf8_slice_codeunits(digits, 1, 3), "0"), pa.int64())
    minutes = pc.cast(pc.if_else(present, pc.utf8_slice_codeunits(digits, 3, 5), "0"), pa.int64())
    seconds = pc.multiply(pc.add(pc.multiply(hours, 3600), pc.multiply(minutes, 60)), sign)
    return null_where(seconds, pc.invert(present))


def parse_epoch(col: Col, fmt: str) -> Parsed:
    """Parse numbers of seconds, milliseconds or microseconds since 1970 (UTC)."""
    num = to_number(col)
    factor = EPOCH_FORMATS[fmt]
    micros = pc.multiply(num.values, float(factor))
    in_range = pc.and_(pc.greater_equal(micros, -6.2e16), pc.less_equal(micros, 2.5e17))
    bad = pc.and_(pc.is_valid(micros), pc.invert(pc.fill_null(in_range, False)))
    micros = null_where(micros, bad)
    local = pc.cast(pc.cast(micros, pa.int64(), safe=False), NAIVE)
    offset = pc.if_else(pc.is_valid(local), pa.scalar(0, pa.int64()),
                        pa.nulls(len(local), pa.int64()))
    problems = [*num.problems, *problem(bad, "NOT_A_TIMESTAMP", "epoch value out of range")]
    raw = col.raw if col.raw is not None else to_text(col.values)   # shown as written
    return Parsed(local, offset, Col(local, raw, col.column, [*col.problems, *problems]))


def parse_excel(col: Col) -> Parsed:
    """Parse Excel day serials (days since 1899-12-30, the fraction the time of day).

    A serial is a wall-clock time with no zone (a date cell shows local time); it is rounded
    to the millisecond, since a serial's binary fraction is rarely exact (00:15 is
    45413.010416666664).
    """
    num = to_number(col)
    days = num.values
    bad = pc.and_(pc.is_valid(days), pc.invert(pc.fill_null(pc.and_(
        pc.greater_equal(days, 1), pc.less_equal(days, EXCEL_MAX_SERIAL)), False)))
    days = null_where(days, bad)
    millis = pc.round(pc.multiply(pc.subtract(days, EXCEL_EPOCH_DAYS), 86_400_000.0))
    micros = pc.multiply(pc.cast(millis, pa.int64(), safe=False), 1000)
    local = pc.cast(micros, NAIVE)
    problems = [*num.problems, *problem(bad, "NOT_A_TIMESTAMP",
                                        "not an Excel date serial (1 to 2958465)")]
    return Parsed(local, pa.nulls(len(local), pa.int64()),
                  Col(local, col.raw, col.column, [*col.problems, *problems]))


def parse_with(col: Col, fmt: str) -> Parsed:
    """Parse with one format: a strptime string or a named format."""
    if fmt == "iso8601":
        return parse_iso(col)
    if fmt == "excel":
        return parse_excel(col)
    if fmt in EPOCH_FORMATS:
        return parse_epoch(col, fmt)
    return parse_strptime(col, fmt)


def choose_auto_format(col: Col) -> str:
    """Pick the format that reads the most values of a first batch.

    When several read them all (day and month both 12 or less: is 03/04 the 3rd of April
    or the 4th of March?), the one under which the times run in order wins: an export is
    a time series, and the wrong reading of day and month scrambles it. ISO 8601 and the
    earlier formats of ``AUTO_FORMATS`` win remaining ties.
    """
    values = col.values
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return _numeric_format(pc.max(pc.abs(pc.cast(values, pa.float64()))).as_py() or 0)
    present = pc.drop_null(to_text(values))
    if len(present) == 0:
        return "iso8601"
    sample = Col(present)
    scored = []
    for rank, fmt in enumerate(("iso8601", *AUTO_FORMATS)):
        local = parse_with(sample, fmt).local
        count = len(local) - local.null_count
        if count:
            in_order = _in_order(local)
            if count == len(present) and in_order == 1.0:
                return fmt  # every value, in order: a later format could only tie, ranked lower
            scored.append((count, in_order, -rank, fmt))
    best = max(scored) if scored else None
    if best is None or best[0] < len(present):
        numeric = to_number(sample)
        if numeric.values.null_count == 0:
            return _numeric_format(pc.max(pc.abs(numeric.values)).as_py() or 0)
    return best[3] if best else "iso8601"


def _numeric_format(biggest: float) -> str:
    """Numbers as times: Excel day serials below 3 million, else seconds or milliseconds
    since 1970 (a time after 1970-02-04 in epoch seconds is above 3 million)."""
    if 0 < biggest <= EXCEL_MAX_SERIAL:
        return "excel"
    return "epoch_ms" if biggest > 1e11 else "epoch_s"


def _in_order(local: pa.Array) -> float:
    """Share of consecutive readings that do not go back in time."""
    micros = pc.drop_null(local).cast(pa.int64())
    if len(micros) < 2:
        return 1.0
    steps = pc.subtract(micros.slice(1), micros.slice(0, len(micros) - 1))
    return pc.mean(pc.cast(pc.greater_equal(steps, 0), pa.float64())).as_py()


def place(parsed: Parsed, zone: str) -> Placed:
    """Convert wall-clock times to UTC: their own offset, else the zone's rules."""
    local, offset = parsed.local, parsed.offset
    local_us = local.cast(pa.int64())
    zoned = pc.subtract(local_us, pc.multiply(offset, 1_000_000))
    fixed = fixed_offset_seconds(zone)
    needs_zone = pc.and_(pc.is_valid(local), pc.is_null(offset))
    if fixed is not None or not pc.any(needs_zone).as_py():
        naive_utc = pc.subtract(local_us, (fixed or 0) * 1_000_000)
        return Placed(_as_utc(pc.coalesce(zoned, naive_utc)), None, None, None)
    early = pc.assume_timezone(local, timezone=zone, ambiguous="earliest",
                               nonexistent="earliest")
    shifted = pc.assume_timezone(local, timezone=zone, ambiguous="earliest",
                                 nonexistent="latest")
    late = pc.assume_timezone(local, timezone=zone, ambiguous="latest", nonexistent="latest")
    early_us, shifted_us, late_us = (a.cast(pa.int64()) for a in (early, shifted, late))
    nonexistent = pc.and_(needs_zone, pc.not_equal(early_us, shifted_us))
    ambiguous = pc.and_(needs_zone, pc.not_equal(shifted_us, late_us))
    if pc.any(nonexistent).as_py():
        # A local time in a spring-forward gap, moved forward by the gap: read it with the
        # offset in force before the change (02:15 in a 02:00-03:00 gap is 03:15 after it).
        before = pc.subtract(pc.local_timestamp(early).cast(pa.int64()), early_us)
        moved = pc.subtract(local_us, before)
        shifted_us = pc.if_else(pc.fill_null(nonexistent, False), moved, shifted_us)
        # midnight in a gap (zones that change at midnight) is the first instant of the day
        midnight = pc.equal(pc.remainder(local_us, 86_400_000_000), 0)
        nonexistent = pc.and_(nonexistent, pc.invert(pc.fill_null(midnight, False)))
    utc = _as_utc(pc.coalesce(zoned, shifted_us))
    alt = _as_utc(null_where(late_us, pc.invert(pc.fill_null(ambiguous, False))))
    has_gap = pc.any(nonexistent).as_py()
    has_fold = pc.any(ambiguous).as_py()
    return Placed(utc, alt if has_fold else None, local if has_fold else None,
                  nonexistent if has_gap else None)


def place_truncated(parsed: Parsed, zone: str, unit: str | None) -> Placed:
    """Place times in UTC; with ``unit`` (day, month), at the start of their local day or
    month in ``zone`` (a day total dated 2024-10-27 starts at that day's local midnight,
    whatever the offset in force later that day)."""
    if unit is None:
        return place(parsed, zone)
    local = parsed.local
    has_offset = pc.is_valid(parsed.offset)
    if pc.any(has_offset).as_py():
        # a time with its own offset: its instant, seen on the zone's clock
        first = place(parsed, zone)
        seen = pc.local_timestamp(first.utc.cast(pa.timestamp("us", tz=zone)))
        local = pc.if_else(has_offset, seen, local)
    local = pc.floor_temporal(local, unit=unit)
    return place(Parsed(local, pa.nulls(len(local), pa.int64()), parsed.col), zone)


def place_by_zone(parsed: Parsed, zones: pa.Array, unit: str | None = None
                  ) -> tuple[Placed, pa.Array | None]:
    """Place times in UTC, each row in its own zone (text: IANA names or offsets).

    Returns the placed times and the rows whose zone is unknown (None when there are none).
    Each distinct zone is placed in one vectorised pass.
    """
    zones = pc.utf8_trim_whitespace(zones)
    distinct = [z for z in pc.unique(zones).to_pylist() if z is not None]
    n = len(parsed.local)
    known = {z: zone_name(z) for z in distinct if check_zone(z) is None}
    unknown = [z for z in distinct if z not in known]
    bad = pc.fill_null(pc.is_in(zones, pa.array(unknown, pa.string())), False) \
        if unknown else None
    if len(known) == 1 and not unknown:
        return place_truncated(parsed, next(iter(known.values())), unit), None
    utc = pa.nulls(n, UTC)
    alt = local = gap = None
    for written, zone in known.items():
        mask = pc.fill_null(pc.equal(zones, written), False)
        sub = Parsed(pc.filter(parsed.local, mask), pc.filter(parsed.offset, mask), parsed.col)
        placed = place_truncated(sub, zone, unit)
        utc = pc.replace_with_mask(utc, mask, placed.utc)
        if placed.alt is not None:
            alt = pc.replace_with_mask(alt if alt is not None else pa.nulls(n, UTC), mask,
                                       placed.alt)
            local = pc.replace_with_mask(local if local is not None else pa.nulls(n, NAIVE),
                                         mask, placed.local)
        if placed.nonexistent is not None:
            gap = pc.replace_with_mask(gap if gap is not None else pa.nulls(n, pa.bool_()),
                                       mask, placed.nonexistent)
    return Placed(utc, alt, local, gap), bad


def _as_utc(micros: pa.Array) -> pa.Array:
    return pc.cast(micros, pa.int64()).view(UTC)
