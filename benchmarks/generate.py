"""Write large, deterministic OEM exports with realistic bad rows, for the benchmark suite.

Three shapes, one inverter each, 5-minute cadence, starting 2016-01-01 00:00 local time at a
site in Johannesburg (UTC+02:00, no daylight saving):

``huawei_<label>.csv``
    FusionSolar device history: ``timestamp,power,inverter_state,run_state``; naive local
    time, power in kW with three decimals, a 100 kW inverter. Night standby (40960),
    on-grid (512), power limited at the inverter's rating (513), fault shutdowns (768, no
    power), and communication losses (running state 0, power empty) of one to three hours.
``enphase_<label>.json``
    Envoy interval JSON: ``{"system_id": ..., "production": [{"end_at": <epoch s UTC>,
    "wh_del": <Wh>, "devices_reporting": <n>}, ...]}``; 24 microinverters (7.2 kW), some
    days with a few of them not reporting, and outages with none reporting.
``solaredge_<label>.json``
    Monitoring API inverter technical data: ``{"data": {"count": N, "telemetries":
    [{"date": "YYYY-MM-DD HH:MM:SS", "totalActivePower": W, "dcVoltage", "totalEnergy",
    "temperature", "inverterMode", "operationMode", "L1Data": {...}}, ...]}}``; a 10 kW
    single-phase inverter whose readings jitter by a few seconds around the 5-minute grid.

Bad rows, each kind drawn independently per row at ``--bad-rate`` (default 0.001, so about
0.3 % of rows are bad), as found in real exports:

* an empty value: ``""``, ``--`` or ``N/A`` in CSV, ``null`` in JSON;
* a garbage timestamp: empty, ``N/A``, ``--``, ``#VALUE!``, an impossible date;
* an unknown state code (Huawei 9999/61440/1234/65535, SolarEdge ``MODE_255`` or
  ``LOCKED_UNKNOWN``, Enphase ``devices_reporting`` null).

Determinism: chunk ``k`` of 100,000 rows draws from a numpy PCG64 stream seeded with
``(seed, shape, k)``, so the output depends only on the options, and the first N rows of a
larger file equal the file of N rows (JSON envelopes aside). Formatting is vectorised with
pyarrow, so 5M Huawei rows take a few seconds.

Usage (from the repository root)::

    .venv/bin/python benchmarks/generate.py --rows 1m --out benchmarks/.work/data
    .venv/bin/python benchmarks/generate.py --rows 5m --formats huawei --out DIR

Each run writes ``manifest_<label>.json`` with the row counts of every injected kind.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK = 100_000
STEP_S = 300
UTC_OFFSET_S = 2 * 3600
LATITUDE = -26.2
LONGITUDE = 28.05
START_LOCAL = "2016-01-01T00:00:00"
SHAPES = ("huawei", "enphase", "solaredge")
SHAPE_IDS = {name: i + 1 for i, name in enumerate(SHAPES)}

# realistic events, per day: probability and length in 5-minute steps
COMM_LOSS_DAILY = 1 / 50
FAULT_DAILY = 1 / 40
PARTIAL_DAILY = 1 / 15


def parse_rows(text: str) -> int:
    """Read a row count such as 100k, 1m, 2.5m or 250000."""
    t = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t.rstrip("km")) * factor)


def label_for(rows: int) -> str:
    """Return the file-name label of a row count: 100k, 1m, 5m, 12345."""
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}m"
    if rows % 1_000 == 0:
        return f"{rows // 1_000}k"
    return str(rows)


_DAY_VALUES: dict[tuple[int, ...], np.ndarray] = {}


def day_values(day_seed: tuple[int, int], stream: int, days: int) -> np.ndarray:
    """At least `days` uniform values of one stream; a longer table extends a shorter one."""
    key = (*day_seed, stream)
    table = _DAY_VALUES.get(key)
    if table is None or table.shape[0] < days:
        size = max(days, 2 * (0 if table is None else table.shape[0]), 1024)
        table = np.random.Generator(np.random.PCG64([*day_seed, stream])).random(size)
        _DAY_VALUES[key] = table
    return table


class Chunk:
    """One block of rows: indexes, local epoch seconds and a random stream of its own."""

    def __init__(self, seed: int, shape: str, number: int, start: int, rows: int,
                 start_local: int) -> None:
        self.number = number
        self.index = np.arange(start, start + rows, dtype=np.int64)
        self.local = start_local + self.index * STEP_S
        self.rng = np.random.Generator(np.random.PCG64([seed, SHAPE_IDS[shape], number]))
        self.day_seed = (seed, SHAPE_IDS[shape])
        self.first_day = start_local // 86_400 - 1

    def __len__(self) -> int:
        return self.index.shape[0]

    def per_day(self, stream: int, local: np.ndarray | None = None) -> np.ndarray:
        """Uniform [0,1) per local day, the same whichever chunk the day falls in."""
        days = (self.local if local is None else local) // 86_400 - self.first_day
        return day_values(self.day_seed, stream, int(days.max()) + 1)[days]

    def day_event(self, stream: int, probability: float, min_steps: int,
                  max_steps: int) -> np.ndarray:
        """True inside an event window that happens on a day with the given probability."""
        hit = self.per_day(stream) < probability
        length = min_steps + (self.per_day(stream + 1) * (max_steps - min_steps)).astype(np.int64)
        start = (self.per_day(stream + 2) * (288 - length)).astype(np.int64)
        step = (self.local % 86_400) // STEP_S
        return hit & (step >= start) & (step < start + length)

    # Every draw takes a full chunk's worth of values, so that a short last chunk sees the
    # same values as the start of the full chunk: a file's rows are a prefix of a larger one's.
    def uniform(self) -> np.ndarray:
        return self.rng.random(CHUNK)[:len(self)]

    def normal(self) -> np.ndarray:
        return self.rng.standard_normal(CHUNK)[:len(self)]

    def integers(self, low: int, high: int) -> np.ndarray:
        return self.rng.integers(low, high, CHUNK)[:len(self)]

    def bad(self, rate: float) -> np.ndarray:
        """Per-row Bernoulli draw of one bad-row kind."""
        return self.uniform() < rate

    def bad_kinds(self, rate: float, counts: dict[str, int], spared: np.ndarray | None = None,
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw the three bad-row kinds every shape has (empty value, bad timestamp, unknown
        state; in this order, which the output depends on) and count them. ``spared`` rows
        keep their value (they are empty for another reason)."""
        empty = self.bad(rate)
        if spared is not None:
            empty &= ~spared
        bad_ts = self.bad(rate)
        unknown = self.bad(rate)
        counts["empty_value"] += int(empty.sum())
        counts["bad_timestamp"] += int(bad_ts.sum())
        counts["unknown_state"] += int(unknown.sum())
        return empty, bad_ts, unknown

    def pick(self, choices: list[Any]) -> np.ndarray:
        return np.array(choices, dtype=object)[self.integers(0, len(choices))]


def chunks(seed: int, shape: str, rows: int, start_local: int) -> Iterator[Chunk]:
    for number, start in enumerate(range(0, rows, CHUNK)):
        yield Chunk(seed, shape, number, start, min(CHUNK, rows - start), start_local)


# ---------------------------------------------------------------- physics
def sun_elevation_sin(local: np.ndarray) -> np.ndarray:
    """Sine of the sun's elevation at the site for local (UTC+02:00) epoch seconds."""
    utc = local - UTC_OFFSET_S
    day_of_year = (utc / 86_400.0) % 365.2422
    gamma = 2 * np.pi * day_of_year / 365.2422
    decl = (0.006918 - 0.399912 * np.cos(gamma) + 0.070257 * np.sin(gamma)
            - 0.006758 * np.cos(2 * gamma) + 0.000907 * np.sin(2 * gamma))
    eot = 229.18 * (0.000075 + 0.001868 * np.cos(gamma) - 0.032077 * np.sin(gamma)
                    - 0.014615 * np.cos(2 * gamma) - 0.040849 * np.sin(2 * gamma))
    minutes_utc = (utc % 86_400) / 60.0
    solar_minutes = minutes_utc + eot + 4 * LONGITUDE
    hour_angle = np.deg2rad(solar_minutes / 4.0 - 180.0)
    lat = np.deg2rad(LATITUDE)
    return np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)


def pv_output(chunk: Chunk, local: np.ndarray, stream: int) -> np.ndarray:
    """Relative PV output 0..~1.1 with daily clearness, passing clouds and noise."""
    sin_el = sun_elevation_sin(local)
    clear_sky = np.clip(sin_el, 0.0, None) ** 1.2
    clearness = 0.3 + 0.75 * chunk.per_day(stream, local) ** 0.5
    hour_blocks = local // 1_200
    unique, inverse = np.unique(hour_blocks, return_inverse=True)
    rng = np.random.Generator(np.random.PCG64([*chunk.day_seed, stream + 1, chunk.number]))
    passing = 0.65 + 0.35 * rng.random(unique.shape[0])[inverse]
    clouds = np.where(clearness > 0.95, 1.0, passing)
    noise = 1.0 + 0.02 * chunk.normal()
    return np.clip(clear_sky * clearness * clouds * noise, 0.0, None)


# ---------------------------------------------------------------- formatting
def fixed(values: np.ndarray, decimals: int) -> pa.Array:
    """Format non-negative floats with a fixed number of decimals, as an OEM export does."""
    scale = 10 ** decimals
    scaled = np.rint(np.abs(values) * scale).astype(np.int64)
    whole = pa.array(scaled // scale).cast(pa.string())
    if decimals == 0:
        text = whole
    else:
        frac = pc.utf8_lpad(pa.array(scaled % scale).cast(pa.string()), width=decimals,
                            padding="0")
        text = pc.binary_join_element_wise(whole, frac, ".")
    negative = pa.array(values < 0)
    return pc.if_else(negative, pc.binary_join_element_wise("-", text, ""), text)


def local_text(local: np.ndarray) -> pa.Array:
    return pc.strftime(pa.array(local.astype("datetime64[s]")), format="%Y-%m-%d %H:%M:%S")


def pick(chunk: Chunk, choices: list[str]) -> pa.Array:
    return pa.array(chunk.pick(choices), pa.string())


def replace(mask: np.ndarray, values: pa.Array, other: pa.Array | str) -> pa.Array:
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), other, values)


def join(parts: list[Any]) -> pa.Array:
    """Concatenate string arrays and literals row by row."""
    return pc.binary_join_element_wise(*parts, "")


def write_lines(fh: BinaryIO, lines: pa.Array) -> None:
    """Write a string array's bytes as they are stored: no per-row Python work."""
    lines = pa.concat_arrays([lines]) if lines.offset else lines
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1)
    fh.write(memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]])


GARBAGE_TS_CSV = ["", "N/A", "--", "#VALUE!", "2016-13-45 25:61:00", "0000-00-00 00:00:00"]
EMPTY_CSV = ["", "--", "N/A"]


# ---------------------------------------------------------------- Huawei CSV
HUAWEI_KW = 100.0


def gen_huawei(path: Path, rows: int, seed: int, rate: float, start_local: int) -> dict:
    counts = dict.fromkeys(("empty_value", "bad_timestamp", "unknown_state", "comm_loss",
                            "fault", "power_limited"), 0)
    with open(path, "wb") as fh:
        fh.write(b"timestamp,power,inverter_state,run_state\n")
        for chunk in chunks(seed, "huawei", rows, start_local):
            sin_el = sun_elevation_sin(chunk.local)
            power = HUAWEI_KW * 1.1 * pv_output(chunk, chunk.local, 10)
            limited = power > HUAWEI_KW
            power = np.minimum(power, HUAWEI_KW)
            state = np.where(sin_el > 0.02, 512, 40960)
            state = np.where(limited, 513, state)
            power = np.where(state == 40960, 0.0, power)
            fault = chunk.day_event(20, FAULT_DAILY, 3, 12) & (sin_el > 0.1)
            state = np.where(fault, 768, state)
            power = np.where(fault, 0.0, power)
            comm = chunk.day_event(30, COMM_LOSS_DAILY, 12, 36)
            run = np.where(comm, 0, 1)
            empty, bad_ts, unknown = chunk.bad_kinds(rate, counts, spared=comm)
            codes = chunk.pick([9999, 61440, 1234, 65535]).astype(np.int64)
            state = np.where(unknown, codes, state)
            counts["comm_loss"] += int(comm.sum())
            counts["fault"] += int(fault.sum())
            counts["power_limited"] += int((state == 513).sum())
            ts = replace(bad_ts, local_text(chunk.local), pick(chunk, GARBAGE_TS_CSV))
            power_text = replace(empty, fixed(power, 3), pick(chunk, EMPTY_CSV))
            power_text = replace(comm, power_text, "")
            line = join([ts, ",", power_text, ",", pa.array(state).cast(pa.string()), ",",
                         pa.array(run).cast(pa.string()), "\n"])
            write_lines(fh, line)
    return counts


# ---------------------------------------------------------------- Enphase JSON
ENPHASE_DEVICES = 24
ENPHASE_KW = 7.2


def gen_enphase(path: Path, rows: int, seed: int, rate: float, start_local: int) -> dict:
    counts = dict.fromkeys(("empty_value", "bad_timestamp", "unknown_state",
                            "partial_reporting", "none_reporting"), 0)
    start_utc = start_local - UTC_OFFSET_S
    with open(path, "wb") as fh:
        fh.write(json.dumps({"system_id": 1765432, "total_devices": ENPHASE_DEVICES,
                             "granularity": "week", "unit": "Wh", "interval_length": STEP_S,
                             "start_at": start_utc + STEP_S,
                             "end_at": start_utc + (rows + 1) * STEP_S})[:-1].encode())
        fh.write(b', "production": [\n')
        for chunk in chunks(seed, "enphase", rows, start_local):
            n = len(chunk)
            end_local = chunk.local + STEP_S
            power = ENPHASE_KW * 0.97 * pv_output(chunk, chunk.local + STEP_S // 2, 40)
            devices = np.full(n, ENPHASE_DEVICES)
            sunny = sun_elevation_sin(chunk.local) > 0
            partial = chunk.day_event(50, PARTIAL_DAILY, 24, 96) & sunny
            down = 1 + (chunk.per_day(53) * 6).astype(np.int64)
            devices = np.where(partial, ENPHASE_DEVICES - down, devices)
            outage = chunk.day_event(60, COMM_LOSS_DAILY, 6, 24)
            devices = np.where(outage, 0, devices)
            wh = np.rint(power * 1000 * STEP_S / 3600 * devices / ENPHASE_DEVICES)
            empty, bad_ts, unknown = chunk.bad_kinds(rate, counts)
            counts["partial_reporting"] += int((partial & ~outage).sum())
            counts["none_reporting"] += int(outage.sum())
            end_at = replace(bad_ts, pa.array(end_local - UTC_OFFSET_S).cast(pa.string()),
                             pick(chunk, ["null", '"N/A"', '""']))
            wh_text = replace(empty, fixed(wh, 0), "null")
            dev_text = replace(unknown, pa.array(devices).cast(pa.string()), "null")
            sep = np.full(n, ",\n", dtype=object)
            if chunk.index[-1] == rows - 1:
                sep[-1] = "\n"
            line = join(['{"end_at": ', end_at, ', "wh_del": ', wh_text,
                         ', "devices_reporting": ', dev_text, "}", pa.array(sep, pa.string())])
            write_lines(fh, line)
        fh.write(b"]}\n")
    return counts


# ---------------------------------------------------------------- SolarEdge JSON
SOLAREDGE_KW = 10.0
MODES = ["SLEEPING", "STARTING", "MPPT", "THROTTLED", "FAULT", "SHUTTING_DOWN"]


def gen_solaredge(path: Path, rows: int, seed: int, rate: float, start_local: int) -> dict:
    counts = dict.fromkeys(("empty_value", "bad_timestamp", "unknown_state", "throttled",
                            "fault"), 0)
    with open(path, "wb") as fh:
        fh.write(b'{"data": {"count": %d, "telemetries": [\n' % rows)
        total_wh = 0.0
        for chunk in chunks(seed, "solaredge", rows, start_local):
            n = len(chunk)
            local = chunk.local + chunk.integers(0, 25)
            sin_el = sun_elevation_sin(local)
            kw = SOLAREDGE_KW * 1.08 * pv_output(chunk, local, 70)
            mode = np.where(sin_el > 0.03, 2, np.where(sin_el > 0.0, 1, 0))
            throttled = (kw > SOLAREDGE_KW) & (mode == 2)
            mode = np.where(throttled, 3, mode)
            kw = np.minimum(kw, SOLAREDGE_KW)
            fault = chunk.day_event(80, FAULT_DAILY, 3, 9) & (sin_el > 0.1)
            mode = np.where(fault, 4, mode)
            kw = np.where((mode == 2) | (mode == 3), kw, 0.0)
            watts = kw * 1000.0
            energy = total_wh + np.cumsum(watts * STEP_S / 3600.0)
            total_wh = float(energy[-1])
            empty, bad_ts, unknown = chunk.bad_kinds(rate, counts)
            counts["throttled"] += int(throttled.sum())
            counts["fault"] += int(fault.sum())
            volts = 230.0 + 2.5 * chunk.normal()
            freq = 50.0 + 0.02 * chunk.normal()
            temp = 20.0 + 25.0 * np.clip(sin_el, 0, None) + 1.5 * chunk.normal()
            cos_phi = np.where(watts > 0, 1.0 - 0.01 * chunk.uniform(), 0.0)
            reactive = np.where(watts > 0, watts * 0.05, 0.0)
            apparent = np.sqrt(watts ** 2 + reactive ** 2)
            date = replace(bad_ts, join(['"', local_text(local), '"']),
                           pick(chunk, ["null", '"N/A"', '"0000-00-00 00:00:00"']))
            mode_text = pa.array(np.array(MODES, dtype=object)[mode], pa.string())
            mode_text = replace(unknown, mode_text, pick(chunk, ["MODE_255", "LOCKED_UNKNOWN"]))
            sep = np.full(n, ",\n", dtype=object)
            if chunk.index[-1] == rows - 1:
                sep[-1] = "\n"
            line = join([
                '{"date": ', date,
                ', "totalActivePower": ', replace(empty, fixed(watts, 1), "null"),
                ', "dcVoltage": ', fixed(np.where(watts > 0, 745.0 + 10 * kw / SOLAREDGE_KW,
                                                   0.0), 1),
                ', "groundFaultResistance": 11000.0, "powerLimit": 100.0',
                ', "totalEnergy": ', fixed(energy, 1),
                ', "temperature": ', fixed(temp, 1),
                ', "inverterMode": "', mode_text, '", "operationMode": 0',
                ', "L1Data": {"acCurrent": ', fixed(apparent / volts, 2),
                ', "acVoltage": ', fixed(volts, 1),
                ', "acFrequency": ', fixed(freq, 3),
                ', "apparentPower": ', fixed(apparent, 1),
                ', "activePower": ', fixed(watts, 1),
                ', "reactivePower": ', fixed(reactive, 1),
                ', "cosPhi": ', fixed(cos_phi, 3), "}}",
                pa.array(sep, pa.string())])
            write_lines(fh, line)
        fh.write(b"]}}\n")
    return counts


GENERATORS = {"huawei": (gen_huawei, "csv"), "enphase": (gen_enphase, "json"),
              "solaredge": (gen_solaredge, "json")}


def generate(out: Path, rows: int, formats: list[str], seed: int = 4, rate: float = 0.001,
             start: str = START_LOCAL, force: bool = False) -> dict[str, Path]:
    """Write the files that are missing (or all, with force); return their paths by shape."""
    out.mkdir(parents=True, exist_ok=True)
    label = label_for(rows)
    start_local = int(np.datetime64(start, "s").astype(np.int64))
    manifest_path = out / f"manifest_{label}.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest.update({"generator": "benchmarks/generate.py", "rows": rows, "seed": seed,
                     "bad_rate_each": rate, "start_local": start, "utc_offset": "+02:00",
                     "step_s": STEP_S})
    files = manifest.setdefault("files", {})
    paths = {}
    for shape in formats:
        make, ext = GENERATORS[shape]
        path = out / f"{shape}_{label}.{ext}"
        paths[shape] = path
        if path.exists() and not force and path.name in files:
            continue
        began = time.perf_counter()
        tmp = path.with_suffix(path.suffix + ".tmp")
        counts = make(tmp, rows, seed, rate, start_local)
        tmp.replace(path)
        files[path.name] = {"rows": rows, **counts, "bytes": path.stat().st_size,
                            "seconds": round(time.perf_counter() - began, 2)}
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, "
              f"{time.perf_counter() - began:.1f} s)", file=sys.stderr, flush=True)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", required=True, type=parse_rows, help="e.g. 100k, 1m, 5m")
    parser.add_argument("--out", default="benchmarks/.work/data", type=Path)
    parser.add_argument("--formats", default=",".join(SHAPES),
                        help=f"comma-separated, of {', '.join(SHAPES)}")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--bad-rate", type=float, default=0.001,
                        help="rate of each bad-row kind (default 0.001)")
    parser.add_argument("--start", default=START_LOCAL, help="local (+02:00) start time")
    parser.add_argument("--force", action="store_true", help="rewrite existing files")
    args = parser.parse_args(argv)
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(SHAPES))
    if unknown:
        parser.error(f"unknown format(s) {', '.join(unknown)}; known: {', '.join(SHAPES)}")
    generate(args.out, args.rows, formats, args.seed, args.bad_rate, args.start, args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
