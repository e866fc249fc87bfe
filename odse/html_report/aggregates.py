"""What the data-quality report shows, computed with Arrow group-bys (no per-record Python).

Everything here works on the records' Arrow form (``timestamp[us, UTC]``, null = absent) and
returns small Python structures: one entry per asset and day, per code, per column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

_US_PER_DAY = 86_400 * 1_000_000
NO_ASSET = "(no asset_id)"


@dataclass
class AssetDays:
    """Per asset: daily energy, records per day, the cadence, and error_type per day."""

    asset: str
    days: list[dt.date]
    energy: list[float]             # generation (direction absent or generation) [kWh]
    records: list[int]              # records of the series with most records, per day
    expected: int                   # records a complete day holds at the cadence
    cadence_minutes: float | None
    states: dict[str, list[int]] = field(default_factory=dict)  # error_type -> per day

    @property
    def coverage(self) -> list[float]:
        """Share of the day's intervals present (0 to 1), per day."""
        return [min(1.0, n / self.expected) if self.expected else 1.0 for n in self.records]


def per_asset_days(table: pa.Table) -> list[AssetDays]:
    """Return the per-day view of every asset, assets sorted by name."""
    n = table.num_rows
    if not n or "timestamp" not in table.column_names:
        return []
    times = table.column("timestamp")
    if not pa.types.is_timestamp(times.type):
        return []
    micros = pc.cast(times.combine_chunks().cast(pa.timestamp("us", tz="UTC")), pa.int64())
    day = pc.divide(micros, _US_PER_DAY)
    asset = _text(table, "asset_id", NO_ASSET)
    direction = _text(table, "direction", "generation")
    channel = _text(table, "channel", "")
    kwh = (pc.cast(table.column("kWh"), pa.float64()) if "kWh" in table.column_names
           else pa.nulls(n, pa.float64()))
    state = _text(table, "error_type", "(none)")
    frame = pa.table({"a": asset, "d": day, "k": direction, "c": channel, "e": kwh, "s": state,
                      "t": micros})
    generation = frame.filter(pc.equal(frame.column("k"), "generation"))
    energy = generation.group_by(["a", "d"]).aggregate([("e", "sum")])
    counts = frame.group_by(["a", "k", "c", "d"]).aggregate([([], "count_all")])
    states = frame.group_by(["a", "d", "s"]).aggregate([([], "count_all")])
    cadence = _cadence(frame)

    by_asset: dict[str, dict[str, Any]] = {}
    for a, d, e in zip(*(energy.column(c).to_pylist() for c in ("a", "d", "e_sum")),
                       strict=True):
        by_asset.setdefault(a, {"energy": {}, "records": {}, "states": {}})["energy"][d] = e
    for a, _k, _c, d, count in zip(*(counts.column(c).to_pylist()
                                     for c in ("a", "k", "c", "d", "count_all")), strict=True):
        entry = by_asset.setdefault(a, {"energy": {}, "records": {}, "states": {}})
        entry["records"][d] = max(entry["records"].get(d, 0), count)
    for a, d, s, count in zip(*(states.column(c).to_pylist()
                                for c in ("a", "d", "s", "count_all")), strict=True):
        by_asset[a]["states"].setdefault(s, {})[d] = count

    out = []
    epoch = dt.date(1970, 1, 1)
    for a in sorted(by_asset):
        entry = by_asset[a]
        all_days = sorted(set(entry["records"]) | set(entry["energy"]))
        if not all_days:
            continue
        span = range(all_days[0], all_days[-1] + 1)  # every calendar day, gaps included
        minutes = cadence.get(a)
        expected = round(1440 / minutes) if minutes and minutes <= 1440 else 1
        out.append(AssetDays(
            asset=a, days=[epoch + dt.timedelta(days=d) for d in span],
            energy=[entry["energy"].get(d, 0.0) or 0.0 for d in span],
            records=[entry["records"].get(d, 0) for d in span], expected=expected,
            cadence_minutes=minutes,
            states={s: [per_day.get(d, 0) for d in span]
                    for s, per_day in sorted(entry["states"].items())}))
    return out


def _cadence(frame: pa.Table) -> dict[str, float]:
    """Return each asset's cadence [min]: the most common gap of its finest series.

    The series are put in time order as the validator does (no sort when they already are,
    as in a lake read partition by partition).
    """
    from odse.validation.fleet import _cadence as series_cadence
    from odse.validation.fleet import _shift
    from odse.validation.intervals import series_frame

    times = frame.column("t").combine_chunks().view(pa.timestamp("us", tz="UTC"))
    keys = [frame.column(c).combine_chunks() for c in ("a", "k", "c")]
    order = series_frame(times, keys)
    if len(order.rows) < 2:
        return {}
    same = order.same_as_previous()
    gaps = pc.if_else(same, pc.subtract(order.micros, _shift(order.micros)),
                      pa.scalar(None, pa.int64()))
    positive = pc.fill_null(pc.greater(gaps, 0), False)
    if not positive.true_count:
        return {}
    series = (order.series if order.series is not None
              else pa.repeat(pa.scalar(0, pa.int64()), len(gaps)))
    cadence = series_cadence(series, gaps, positive)
    table = pa.table({"a": order.take(keys[0]), "c": cadence})
    finest = table.group_by("a").aggregate([("c", "min")])
    return {a: c / 60_000_000 for a, c in zip(finest.column("a").to_pylist(),
                                               finest.column("c_min").to_pylist(), strict=True)
            if c}


def rejects_by_code_and_column(rejects: pa.Table | None,
                               examples: int = 3) -> list[dict[str, Any]]:
    """Return rejects grouped by (code, field, column): count and the first examples."""
    if rejects is None or not rejects.num_rows:
        return []
    keys = ["code", "field", "column"]
    frame = rejects.select([*keys, "value", "reason", "row", "line"])
    for name in keys:
        frame = frame.set_column(frame.schema.get_field_index(name), name,
                                 pc.fill_null(frame.column(name), ""))
    counts = frame.group_by(keys).aggregate([([], "count_all")]).sort_by(
        [("count_all", "descending"), ("code", "ascending")])
    out = []
    for code, fld, column, count in zip(*(counts.column(c).to_pylist()
                                          for c in (*keys, "count_all")), strict=True):
        mask = pc.and_(pc.and_(pc.equal(frame.column("code"), code),
                               pc.equal(frame.column("field"), fld)),
                       pc.equal(frame.column("column"), column))
        first = frame.filter(mask).slice(0, examples).to_pylist()
        out.append({"code": code, "field": fld, "column": column, "count": count,
                    "examples": first})
    return out


def findings_by_code(result: Any, examples: int = 5) -> list[dict[str, Any]]:
    """Return a validation result's errors and warnings by code: count and first messages.

    Only the listed messages are rendered (``FindingList.head``), however many findings.
    """
    out = []
    for kind, pairs in (("error", result.errors), ("warning", result.warnings)):
        counts = pairs.counts()
        out.extend({"kind": kind, "code": code, "count": counts[code],
                    "examples": [(i, f.message) for i, f in pairs.head(examples, code)]}
                   for code in sorted(counts) if counts[code])
    return out


def _text(table: pa.Table, name: str, default: str) -> pa.Array:
    if name not in table.column_names:
        return pa.repeat(pa.scalar(default), table.num_rows)
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not pa.types.is_string(column.type):
        column = pc.cast(column, pa.string())
    return pc.fill_null(column, default)
