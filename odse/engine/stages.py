"""The stages one batch goes through, from input rows to record batch.

1. ``evaluate`` every field of every entry (unpivot entries make several records per row);
   reject rows whose required fields have no usable value, drop unusable optional values;
2. ``series_stage``: resolve repeated local hours by order, sort when the spec says
   ``order: time``, difference counters, apply intervals (power to energy, end labels);
3. ``final_checks``: energy must be finite and non-negative unless net, optional values
   inside the record schema's ranges;
4. ``output`` in the variant's schema. Rejects of all stages are accounted together.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from odse import records
from odse.engine import pivot, rejects, series, timestamps
from odse.engine.fields import TimeCol
from odse.engine.frame import Frame
from odse.engine.names import ALT, ENTRY, INDEX, LOCAL, PREVIOUS, ROW, SCALE
from odse.engine.run_context import RunContext
from odse.engine.values import Col, null_where
from odse.errors import ParameterError

if TYPE_CHECKING:
    from odse.engine.variant import Entry, Variant


def process(variant: Variant, frame: Frame, run: RunContext, extra_rejects: pa.Table | None = None
            ) -> pa.RecordBatch | None:
    """Turn one frame into a record batch; record rejects in the run's report."""
    parts: list[pa.Table] = []
    found: list[pa.Table] = []
    if extra_rejects is not None and extra_rejects.num_rows:
        found.append(extra_rejects)
    skipped = where_stage(variant, frame, run)
    if variant.pivot is not None:
        frame = pivot.apply(variant.pivot, frame, run.report, skipped)
        skipped = None
    for entry in variant.entries:
        if entry.optional and any(not any(frame.has(n) for n in g)
                                  for g in entry.own_columns):
            continue
        table = evaluate(variant, entry, frame, run, found, skipped)
        parts.append(table)
    if not parts:
        found.append(rejects.for_records_without_entry(frame))
        rejects.account(None, found, run)
        return None
    table = parts[0] if len(parts) == 1 else pa.concat_tables(parts, promote_options="default")
    if len(parts) > 1:
        table = table.take(pc.sort_indices(table, sort_keys=[(ROW, "ascending"),
                                                             (ENTRY, "ascending")]))
    table = series_stage(variant, table, frame, run, found)
    table = final_checks(variant, table, frame, run, found)
    rejects.account(table, found, run)
    run.report.values_clipped.update(run.state.clipped)
    run.report.assumed_zone = run.state.assumed_zone
    run.report.records += table.num_rows
    batch = output(variant, table, run.absent)
    if run.lineage:
        batch = batch.append_column(rejects.LOCATION_FIELD, rejects.locations_of(table, frame))
    return batch


def where_stage(variant: Variant, frame: Frame, run: RunContext) -> pa.Array | None:
    """Return the rows the spec's ``where:`` skips (counted in the report), or None."""
    if variant.where is None or frame.n == 0:
        return None
    skipped = pc.invert(variant.where(frame, run.state))
    count = pc.sum(skipped.cast(pa.int64())).as_py() or 0
    run.report.skip(variant.where_text, count)
    return skipped if count else None


def evaluate(variant: Variant, entry: Entry, frame: Frame, run: RunContext,
             found: list[pa.Table], skipped: pa.Array | None = None) -> pa.Table:
    """Evaluate one entry's fields; drop and report the rows a required field rejects.

    Rows in ``skipped`` (the spec's ``where:``) make no record and no reject."""
    fields = {name: program for name, program in entry.fields.items()
              if name not in run.absent}
    cols: dict[str, Col] = {}
    for name, program in fields.items():
        cols[name] = program.evaluate(frame, run.state)
    n = frame.n
    rejected = pa.repeat(pa.scalar(False), n) if skipped is None else skipped
    for name, program in fields.items():
        col = cols[name]
        if program.required:
            missing = pc.is_null(col.values)
            fresh = pc.and_(missing, pc.invert(rejected))
            if pc.any(fresh).as_py():
                found.append(rejects.for_values(frame, fresh, name, col, "record"))
                rejected = pc.or_(rejected, fresh)
        else:
            bad = col.problem_mask()
            if bad is not None:
                fresh = pc.and_(bad, pc.invert(rejected))
                if pc.any(fresh).as_py():
                    found.append(rejects.for_values(frame, fresh, name, col, "value"))
    kept = pc.invert(rejected)
    index = pc.indices_nonzero(kept)
    keep = None if len(index) == n else kept

    def pick(values: pa.Array) -> pa.Array:
        return values if keep is None else pc.filter(values, keep)

    data: dict[str, pa.Array] = {}
    for name, col in cols.items():
        data[name] = pick(col.values)
        if isinstance(col, TimeCol) and col.alt is not None:
            data[ALT] = pick(col.alt)
            data[LOCAL] = pick(col.local)
    for name, program in fields.items():
        if program.factor is not None:
            data[SCALE + name] = pick(program.factor(frame, run.state))
    data[ROW] = pick(frame.rows)
    data[ENTRY] = pa.repeat(pa.scalar(entry.index, pa.int32()), len(index))
    data[INDEX] = index
    return pa.table(data)


def series_stage(variant: Variant, table: pa.Table, frame: Frame, run: RunContext,
                  found: list[pa.Table]) -> pa.Table:
    """Per series: resolve repeated local hours, order, counters, intervals."""
    if table.num_rows == 0:
        return table
    spacing = variant.interval == "data" or (
        isinstance(variant.interval, dict) and variant.interval.get("default") == "data")
    needs_groups = (ALT in table.column_names or spacing or variant.order == "time"
                    or variant.has_counters)
    if not needs_groups:
        if variant.needs_interval and table.num_rows:
            table = apply_interval(variant, table, None, run, found, frame)
        return table
    groups = series.Groups(table)
    if ALT in table.column_names:
        utc = series.resolve_folds(table.column("timestamp").combine_chunks(),
                                   table.column(ALT).combine_chunks(),
                                   table.column(LOCAL).combine_chunks(), groups, run.series)
        table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp", utc)
        table = table.drop_columns([ALT, LOCAL])
    if variant.order == "time":
        table = table.take(pc.sort_indices(table, sort_keys=[("timestamp", "ascending")]))
        groups = series.Groups(table)
    counter_fields = [name for name in variant.output_fields if name not in run.absent
                      and any(e.fields.get(name) is not None
                              and e.fields[name].measure == "counter" for e in variant.entries)]
    if counter_fields:
        table, groups = counters(variant, table, groups, counter_fields, frame, run, found)
    if variant.needs_interval and table.num_rows:
        table = apply_interval(variant, table, groups, run, found, frame)
    return table


def counters(variant: Variant, table: pa.Table, groups: series.Groups, names: list[str],
             frame: Frame, run: RunContext, found: list[pa.Table]
             ) -> tuple[pa.Table, series.Groups]:
    """Turn counter readings into interval values labelled by the previous reading."""
    primary = "kWh" if "kWh" in names else names[0]
    stale = series.late(table.column("timestamp").combine_chunks(), groups, run.series, primary)
    if pc.any(stale).as_py():
        found.append(rejects.for_records(
            table, stale, frame, "timestamp", "OUT_OF_ORDER",
            "a counter reading out of time order in its series (a clock jump, or input "
            "not sorted by time; order: time in the mapping sorts it)"))
        table = table.filter(pc.invert(stale))
        groups = series.Groups(table)
    diffs = series.difference(table.column(primary).combine_chunks(),
                              table.column("timestamp").combine_chunks(),
                              table.column(ROW).combine_chunks(), groups, run.series,
                              primary, True)
    diffs.commit()
    run.report.counter_resets += diffs.resets
    run.report.counter_jitter += diffs.jitter
    has_previous = pc.is_valid(diffs.values)
    program = next(e.fields[primary] for e in variant.entries if primary in e.fields)
    opening = None
    if program.first_reading == "zero":
        # the first reading of a series also closes the interval before it, with 0 kWh
        run.series.pending.clear()
        opening = pc.invert(pc.fill_null(has_previous, False))
        if pc.any(opening).as_py():
            back = interval_us(variant, table, groups, run)
            reading = table.column("timestamp").combine_chunks()
            before = pc.subtract(reading.cast(pa.int64()), back).view(reading.type)
            diffs.values = pc.if_else(opening, 0.0, diffs.values)
            diffs.start = pc.if_else(opening, before, diffs.start)
            diffs.previous_row = pc.if_else(opening, table.column(ROW).combine_chunks(),
                                            diffs.previous_row)
    # the previous reading opened the interval: that row is in the output too
    table = table.append_column(PREVIOUS, diffs.previous_row)
    table = table.set_column(table.schema.get_field_index(primary), primary,
                             post_scale(primary, diffs.values, table))
    table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp",
                             diffs.start)
    for name in names:
        if name == primary:
            continue
        other = series.difference(table.column(name).combine_chunks(),
                                  table.column("timestamp").combine_chunks(),
                                  table.column(ROW).combine_chunks(), groups, run.series,
                                  name, False)
        other.commit()
        table = table.set_column(table.schema.get_field_index(name), name,
                                 post_scale(name, other.values, table))
    # the first reading of a series only opens an interval (unless first_reading: zero)
    keep = pc.fill_null(has_previous, False)
    if opening is not None:
        keep = pc.or_(keep, opening)
    table = table.filter(keep)
    return table, series.Groups(table)


def post_scale(name: str, values: pa.Array, table: pa.Table) -> pa.Array:
    """Scale counter differences row by row (a counter's unit and scale)."""
    column = SCALE + name
    if column not in table.column_names:
        return values
    factor = table.column(column).combine_chunks()
    # divide by whole inverses (1/1000 for Wh) so that 120 Wh - 100 Wh is 0.02 kWh exactly
    inverse = pc.divide(1.0, factor)
    whole = pc.equal(pc.round(inverse), inverse)
    return pc.if_else(whole, pc.divide(values, inverse), pc.multiply(values, factor))


MIN_INTERVAL_MINUTES = 1 / 60
MAX_INTERVAL_MINUTES = 366 * 1440


def interval_problem(minutes: float) -> str | None:
    """Say what is wrong with an interval of ``minutes`` (None: nothing): it must be a
    finite number from one second to 366 days."""
    if math.isnan(minutes) or math.isinf(minutes):
        return "must be a finite number of minutes"
    if minutes <= 0:
        return "must be positive"
    if not MIN_INTERVAL_MINUTES <= minutes <= MAX_INTERVAL_MINUTES:
        return "must be from one second (1/60 minute) to 366 days (527040 minutes)"
    return None


def interval_us(variant: Variant, table: pa.Table, groups: series.Groups | None,
                 run: RunContext) -> pa.Array | None:
    """Return each record's interval in microseconds (null where it cannot be told)."""
    spec = variant.interval
    fallback = None
    if isinstance(spec, dict):
        given = run.params.get(spec["param"])
        fallback = spec.get("fallback")
        spec = given if given is not None else spec.get("default")
    if spec is None:
        raise ParameterError(
            "this source needs the interval length to turn power into energy",
            code="INTERVAL_REQUIRED", hint="Pass interval_minutes=")
    n = table.num_rows
    if spec == "data":
        groups = groups or series.Groups(table)
        spacing = series.median_spacing(table.column("timestamp").combine_chunks(), groups,
                                        run.series)
        if fallback is not None:
            # a lone reading: the length the source's documentation fixes
            spacing = pc.fill_null(spacing, pa.scalar(round(float(fallback) * 60_000_000),
                                                      pa.int64()))
        return spacing
    if spec == "day":
        # a calendar day in the zone: 23 or 25 hours on the days the clocks change
        stamp = table.column("timestamp").combine_chunks()
        zone = timestamps.zone_name(run.params.get("timezone") or "UTC")
        local = pc.local_timestamp(stamp.cast(pa.timestamp("us", tz=zone)))
        program = variant.program("timestamp")
        ends = program is not None and program.label == "end"
        day = -86_400_000_000 if ends else 86_400_000_000
        other = pc.add(local.cast(pa.int64()), day).view(pa.timestamp("us"))
        other = pc.assume_timezone(other, timezone=zone, ambiguous="earliest",
                                   nonexistent="latest")
        return pc.abs(pc.subtract(other.cast(pa.int64()), stamp.cast(pa.int64())))
    try:
        minutes = float(spec)
    except (TypeError, ValueError):
        raise ParameterError(f"interval must be a number of minutes, got {spec!r}",
                             code="BAD_INTERVAL") from None
    problem = interval_problem(minutes)
    if problem:
        raise ParameterError(f"interval {problem}, got {spec!r}", code="BAD_INTERVAL",
                             hint="Give the interval in minutes, e.g. interval_minutes=5")
    return pa.repeat(pa.scalar(round(minutes * 60_000_000), pa.int64()), n)


def apply_interval(variant: Variant, table: pa.Table, groups: series.Groups | None,
                   run: RunContext, found: list[pa.Table], frame: Frame) -> pa.Table:
    """Multiply power by the interval; move end-of-interval labels to the start."""
    interval = interval_us(variant, table, groups, run)
    unknown = pc.is_null(interval)
    if pc.any(unknown).as_py():
        found.append(rejects.for_records(
            table, unknown, frame, "timestamp", "UNKNOWN_INTERVAL",
            "the interval cannot be told from a single reading; pass interval_minutes"))
        keep = pc.invert(unknown)
        table, interval = table.filter(keep), pc.filter(interval, keep)
    micros = pc.cast(interval, pa.float64())
    for name in variant.output_fields:
        if name not in table.column_names:
            continue
        power_entries = [e.index for e in variant.entries
                         if name in e.fields and e.fields[name].measure == "power"]
        if not power_entries:
            continue
        idx = table.schema.get_field_index(name)
        # power x interval; multiply first so that 5000 kW x 5 min is 416.6666666666667
        energy = pc.divide(pc.multiply(table.column(idx), micros), 3_600_000_000.0)
        if len(power_entries) < len(variant.entries):
            # unpivot entries may mix power and energy: convert the power entries only
            is_power = pc.is_in(table.column(ENTRY), pa.array(power_entries, pa.int32()))
            energy = pc.if_else(is_power, energy, table.column(idx))
        table = table.set_column(idx, name, energy)
    time_program = variant.program("timestamp")
    if time_program is not None and time_program.label == "end":
        ts = table.column("timestamp").combine_chunks()
        start = pc.subtract(ts.cast(pa.int64()), interval).view(records.TIMESTAMP_TYPE)
        table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp",
                                 start)
    return table


def final_checks(variant: Variant, table: pa.Table, frame: Frame, run: RunContext,
                  found: list[pa.Table]) -> pa.Table:
    """Reject negative energy that is not net; drop optional values out of range."""
    if table.num_rows == 0:
        return table
    kwh = table.column("kWh").combine_chunks()
    negative = pc.fill_null(pc.less(kwh, 0), False)
    if "direction" in table.column_names:
        net = pc.fill_null(pc.equal(table.column("direction").combine_chunks(), "net"), False)
        negative = pc.and_(negative, pc.invert(net))
    if pc.any(negative).as_py():
        found.append(rejects.for_records(
            table, negative, frame, "kWh", "NEGATIVE_ENERGY",
            "negative energy in a record that is not a net reading; the mapping should "
            "clip it (clip: {min: 0}) or mark the series direction: net"))
        table = table.filter(pc.invert(negative))
    for name in table.column_names:
        if name == "kWh" or name.startswith("__"):
            continue
        low, high = records.field_bounds(name)
        if low is None and high is None:
            continue
        values = table.column(name).combine_chunks()
        outside = pa.repeat(pa.scalar(False), len(values))
        if low is not None:
            outside = pc.or_(outside, pc.fill_null(pc.less(values, low), False))
        if high is not None:
            outside = pc.or_(outside, pc.fill_null(pc.greater(values, high), False))
        if pc.any(outside).as_py():
            entry = rejects.for_records(
                table, outside, frame, name, "OUT_OF_BOUNDS",
                f"outside the record schema's range [{low}, {high}]; the value is dropped")
            found.append(entry.set_column(entry.schema.get_field_index("scope"), "scope",
                                            pa.repeat(pa.scalar("value"), entry.num_rows)))
            table = table.set_column(table.schema.get_field_index(name), name,
                                     null_where(values, outside))
    return table


def output(variant: Variant, table: pa.Table, absent: frozenset[str] = frozenset()
           ) -> pa.RecordBatch:
    """Return the records as a batch in the variant's output schema, less ``absent``."""
    arrays, names = [], []
    for name in variant.output_fields:
        if name in absent:
            continue
        program = variant.program(name)
        typ = program.arrow_type if program else pa.string()
        if name in table.column_names:
            values = table.column(name).combine_chunks().cast(typ)
            if pa.types.is_floating(typ):
                values = pc.add(values, 0.0)  # no -0.0 in the output
            arrays.append(values)
        else:
            arrays.append(pa.nulls(table.num_rows, typ))
        names.append(name)
    return pa.RecordBatch.from_arrays(arrays, names=names)
