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
    # text keys become small integer codes once (one hash pass each), so that the group-bys
    # below hash integers; the codes are turned back into text on the few result rows
    (a_code, a_names), (k_code, k_names), (c_code, _), (s_code, s_names) = (
        _codes(v) for v in (asset, direction, channel, state))
    frame = pa.table({"a": a_code, "d": day, "k": k_code, "c": c_code, "e": kwh, "s": s_code,
                      "t": micros})
    # each group-by key is packed into one int64 (one hash column instead of three or four)
    first_day = pc.min(day).as_py() or 0
    days_n = (pc.max(day).as_py() or 0) - first_day + 1
    day0 = pc.subtract(day, first_day)
    sizes = (len(k_names) + 1, (pc.max(c_code).as_py() or 0) + 1, len(s_names) + 1)
    series = _pack([a_code, k_code, c_code], [sizes[0], sizes[1]])
    generation = pc.equal(k_code, _code_of(k_names, "generation"))
    energy = _group(pc.filter(_pack([a_code, day0], [days_n]), generation),
                    pc.filter(kwh, generation), [len(a_names), days_n], ["a", "d"])
    counts = _group(_pack([series, day0], [days_n]), None,
                    [len(a_names) * sizes[0] * sizes[1], days_n], ["series", "d"])
    counts = counts.append_column("a", pc.divide(counts.column("series"),
                                                 sizes[0] * sizes[1]))
    states = _group(_pack([a_code, day0, s_code], [days_n, sizes[2]]), None,
                    [len(a_names), days_n, sizes[2]], ["a", "d", "s"])
    cadence = {a_names[a]: minutes
               for a, minutes in _cadence(frame, series, sizes[0] * sizes[1]).items()}
    energy = _decode(energy, {"a": a_names}, first_day)
    counts = _decode(counts, {"a": a_names}, first_day)
    states = _decode(states, {"a": a_names, "s": s_names}, first_day)

    by_asset: dict[str, dict[str, Any]] = {}
    for a, d, e in zip(*(energy.column(c).to_pylist() for c in ("a", "d", "sum")),
                       strict=True):
        by_asset.setdefault(a, {"energy": {}, "records": {}, "states": {}})["energy"][d] = e
    for a, d, count in zip(*(counts.column(c).to_pylist() for c in ("a", "d", "count")),
                           strict=True):
        entry = by_asset.setdefault(a, {"energy": {}, "records": {}, "states": {}})
        entry["records"][d] = max(entry["records"].get(d, 0), count)
    for a, d, s, count in zip(*(states.column(c).to_pylist()
                                for c in ("a", "d", "s", "count")), strict=True):
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


def _codes(values: pa.Array) -> tuple[pa.Array, list[str]]:
    encoded = pc.dictionary_encode(values)
    return encoded.indices, encoded.dictionary.to_pylist()


def _code_of(names: list[str], name: str) -> int:
    return names.index(name) if name in names else -1


def _pack(parts: list[pa.Array], sizes: list[int]) -> pa.Array:
    """Pack integer parts into one int64: ``((p0 * s0 + p1) * s1 + p2) ...``."""
    out = pc.cast(parts[0], pa.int64())
    for part, size in zip(parts[1:], sizes, strict=True):
        out = pc.add(pc.multiply(out, size), pc.cast(part, pa.int64()))
    return out


def _group(key: pa.Array, values: pa.Array | None, sizes: list[int],
           names: list[str]) -> pa.Table:
    """Count (or sum ``values``) per packed key; return the key's parts as columns."""
    if values is None:
        counted = pc.value_counts(key)
        keys, result, label = counted.field("values"), counted.field("counts"), "count"
    else:
        summed = pa.table({"k": key, "v": values}).group_by("k").aggregate([("v", "sum")])
        keys, result, label = summed.column("k"), summed.column("v_sum"), "sum"
    columns = {}
    rest = pc.cast(keys, pa.int64())
    for name, size in zip(reversed(names[1:]), reversed(sizes[1:]), strict=True):
        columns[name] = pc.subtract(rest, pc.multiply(pc.divide(rest, size), size))
        rest = pc.divide(rest, size)
    columns[names[0]] = rest
    return pa.table({**{n: columns[n] for n in names}, label: result})


def _decode(table: pa.Table, names: dict[str, list[str]], first_day: int) -> pa.Table:
    for column, values in names.items():
        index = table.schema.get_field_index(column)
        table = table.set_column(index, column, pc.take(pa.array(values, pa.string()),
                                                        table.column(column)))
    index = table.schema.get_field_index("d")
    return table.set_column(index, "d", pc.add(table.column("d"), first_day))


def _cadence(frame: pa.Table, series: pa.Array, per_asset: int) -> dict[int, float]:
    """Return each asset's cadence [min] by asset code: the most common gap of its finest series.

    ``series`` is the packed (asset, direction, channel) code, ``per_asset`` the number of codes
    per asset. The series are put in time order as the validator does (no sort when they
    already are, as in a lake read partition by partition).
    """
    from odse.validation.fleet import _cadence as series_cadence
    from odse.validation.fleet import _shift
    from odse.validation.intervals import series_frame

    times = frame.column("t").combine_chunks().view(pa.timestamp("us", tz="UTC"))
    order = series_frame(times, [series])
    if len(order.rows) < 2:
        return {}
    same = order.same_as_previous()
    gaps = pc.if_else(same, pc.subtract(order.micros, _shift(order.micros)),
                      pa.scalar(None, pa.int64()))
    positive = pc.fill_null(pc.greater(gaps, 0), False)
    if not positive.true_count:
        return {}
    codes = (order.series if order.series is not None
             else pa.repeat(pa.scalar(0, pa.int64()), len(gaps)))
    cadence = series_cadence(codes, gaps, positive)
    assets = pc.divide(order.take(series), per_asset)
    finest = pa.table({"a": assets, "c": cadence}).group_by("a").aggregate([("c", "min")])
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
