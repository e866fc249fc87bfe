"""One benchmark step in one process: odse, the original odse 0.12.0, or hand-written pyarrow.

``run.py`` starts this script once per measurement, so that each figure is a whole process
(imports included) with its own peak RSS. It runs under two interpreters: this checkout's
venv (``odse``, ``handwritten``) and the venv with ``odse==0.12.0`` from PyPI
(``original``, started with ``python -I`` so that it never imports this checkout). It
therefore imports nothing from the repository.

    python benchmarks/steps.py IMPL STEP SOURCE INPUT SCRATCH

IMPL is ``odse``, ``original`` or ``handwritten``; STEP one of ``STEPS``; SOURCE ``huawei``,
``enphase`` or ``solaredge``. The last line printed is a JSON object: ``call_s`` (seconds
from the call to its end, imports excluded), ``records`` (records produced) and step
extras (``first_s``: seconds to the first streamed record).

The hand-written pipelines do the same work as odse's mapping specs, written for exactly
these files: read, parse local times and convert them to UTC (start of interval), turn
power into energy, map state codes to ``error_type``, drop rows without a time or an energy,
and (``lake``) write ``asset_id=/year=/month=/day=/part-00000.parquet`` with the partition
columns in the folder names only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

STEPS = ("startup", "dicts", "arrow", "lake", "validate", "validate_arrow", "stream")
ASSET_ID = "INV-01"
TIMEZONE = "+02:00"
UTC_OFFSET_S = 2 * 3600
INTERVAL_MIN = 5
CAPACITY_KW = {"huawei": 100.0, "enphase": 7.2, "solaredge": 10.0}
PARTITION_BY = ["asset_id", "year", "month", "day"]
# the sources' own parameters for these files, the same for every implementation
PARAMS: dict[str, dict[str, Any]] = {
    "huawei": {},
    "enphase": {"expected_devices": 24},
    "solaredge": {"interval_minutes": INTERVAL_MIN},
}


def consume(stream: Any, started: float, out: dict[str, Any]) -> None:
    """Read a record stream to its end; note the time to its first record and the count."""
    count = 0
    for _ in stream:
        if not count:
            out["first_s"] = time.perf_counter() - started
        count += 1
    out["records"] = count


# ---------------------------------------------------------------- odse
def odse_step(step: str, source: str, path: str, scratch: str) -> dict[str, Any]:
    import odse

    odse.transform_batches  # noqa: B018 - import the engine (lazy) before the clock starts
    if step == "startup":
        odse.source_info(source)  # what every call pays first: finding and compiling the spec
        return {"records": 0}
    kwargs = {"source": source, "asset_id": ASSET_ID, "timezone": TIMEZONE, **PARAMS[source]}
    started = time.perf_counter()
    out: dict[str, Any] = {}
    if step == "dicts":
        records = odse.transform(path, **kwargs)
        out["records"] = len(records)
    elif step == "arrow":
        out["records"] = odse.transform_table(path, **kwargs).num_rows
    elif step in ("validate", "validate_arrow"):
        data = odse.transform(path, **kwargs) if step == "validate" \
            else odse.transform_table(path, **kwargs)
        started = time.perf_counter()
        result = odse.validate_batch(data, level="semantic", capacity_kw=CAPACITY_KW[source])
        out.update(records=len(data), summary=result.summary[:80])
    elif step == "stream":
        consume(odse.transform_stream(path, **kwargs), started, out)
    else:
        raise SystemExit(f"odse has no step {step!r} here (lake runs the CLI)")
    out["call_s"] = time.perf_counter() - started
    return out


def odse_cli(source: str, path: str, lake: str) -> list[str]:
    """The command line that writes the lake (run as the step's process itself)."""
    argv = ["transform", "-s", source, "-i", path, "--asset-id", ASSET_ID, "--timezone", TIMEZONE,
            "-f", "parquet", "-o", lake, "-q"]
    for name, value in PARAMS[source].items():
        argv += (["--interval-minutes", str(value)] if name == "interval_minutes"
                 else ["--param", f"{name}={value}"])
    return argv


# ---------------------------------------------------------------- original odse 0.12.0
def original_step(step: str, source: str, path: str, scratch: str) -> dict[str, Any]:
    from odse import to_parquet, transform, transform_stream, validate_batch

    if step == "startup":
        return {"records": 0}
    kwargs = {"asset_id": ASSET_ID, "timezone": TIMEZONE, **PARAMS[source]}
    if source == "huawei":
        kwargs.setdefault("interval_minutes", INTERVAL_MIN)
    started = time.perf_counter()
    out: dict[str, Any] = {}
    if step == "dicts":
        out["records"] = len(transform(Path(path), source, **kwargs))
    elif step == "lake":
        # its CLI writes one unpartitioned file; the partitioned lake is a Python call
        records = transform(Path(path), source, **kwargs)
        to_parquet(records, os.path.join(scratch, "lake"), partition_by=PARTITION_BY)
        out["records"] = len(records)
    elif step == "validate":
        records = transform(Path(path), source, **kwargs)
        started = time.perf_counter()
        result = validate_batch(records, level="semantic", capacity_kw=CAPACITY_KW[source])
        out.update(records=len(records), summary=result.summary[:80])
    elif step == "stream":
        consume(transform_stream(Path(path), source, **kwargs), started, out)
    else:
        raise SystemExit(f"the original has no step {step!r}")
    out["call_s"] = time.perf_counter() - started
    return out


# ---------------------------------------------------------------- hand-written pyarrow
HUAWEI_CODES = {
    "normal": [0, 1, 2, 3, 256, 512, 1025, 1026, 1280, 1281, 1536, 1792, 2048, 2304, 40960,
               49152],
    "warning": [513, 514, 772, 773, 774],
    "critical": [768, 770, 771, 45056],
    "fault": [769, 1024],
}
SOLAREDGE_MODES = {
    "normal": ["MPPT", "ON", "PRODUCTION"],
    "warning": ["THROTTLED", "MAINTENANCE", "LOCKED_GRID", "LOCKED_INTERNAL", "LOCKED_STDBY",
                "LOCKED_COMM_TIMEOUT", "LOCKED_PHASE_BALANCER", "LOCKED_DG"],
    "standby": ["SLEEPING", "STARTING", "SHUTTING_DOWN", "STANDBY", "NIGHT", "NIGHT_MODE",
                "LOCKED_PRE_COMMISSIONING"],
    "fault": ["FAULT", "ERROR", "LOCKED_INV_TRIP", "LOCKED_INV_ARC_DETECTED",
              "LOCKED_FORCE_SHUTDOWN", "LOCKED_FIRE_FIGHTERS"],
    "offline": ["OFF"],
}
ERROR_TYPES = ["normal", "warning", "critical", "fault", "offline", "standby", "unknown"]


def _code_lookup(codes: dict[str, list[Any]], values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = [code for kind in codes.values() for code in kind]
    kinds = pa.array([kind for kind, group in codes.items() for _ in group])
    position = pc.index_in(values, value_set=pa.array(keys, type=values.type))
    return pc.fill_null(pc.take(kinds, position), "unknown")


def _utc_from_local(text: Any) -> Any:
    """Naive local text -> timestamp[us, UTC], unparseable -> null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    local = pc.strptime(text, format="%Y-%m-%d %H:%M:%S", unit="s", error_is_null=True)
    seconds = pc.subtract(local.cast(pa.int64()), UTC_OFFSET_S)
    return pc.multiply(seconds, 1_000_000).cast(pa.timestamp("us", tz="UTC"))


def _const(value: str, size: int) -> Any:
    import pyarrow as pa

    return pa.repeat(pa.scalar(value, pa.string()), size)


def _keep(columns: dict[str, Any]) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.table(columns)
    ok = pc.and_(pc.is_valid(table["timestamp"]), pc.is_valid(table["kWh"]))
    return table.filter(ok)


HUAWEI_CSV_TYPES = {"timestamp": "string", "power": "float64", "inverter_state": "int64",
                    "run_state": "int64"}


def _huawei_options() -> tuple[Any, Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    convert = pacsv.ConvertOptions(
        column_types={k: pa.type_for_alias(v) for k, v in HUAWEI_CSV_TYPES.items()},
        null_values=["", "--", "N/A"], strings_can_be_null=True)
    return pacsv.ReadOptions(block_size=1 << 20), convert


def hw_huawei(batch: Any) -> Any:
    """One Huawei CSV batch (or table) -> records table."""
    import pyarrow.compute as pc

    run = batch["run_state"]
    power = batch["power"]
    offline = pc.fill_null(pc.equal(run, 0), False)
    kwh = pc.multiply(power, INTERVAL_MIN / 60)
    kwh = pc.if_else(pc.and_(offline, pc.is_null(power)), 0.0, kwh)
    state = batch["inverter_state"]
    error_type = pc.if_else(offline, "offline", _code_lookup(HUAWEI_CODES, state))
    return _keep({"timestamp": _utc_from_local(batch["timestamp"]), "kWh": kwh,
                  "error_type": error_type, "error_code": state.cast("string"),
                  "asset_id": _const(ASSET_ID, len(batch))})


def hw_read_huawei(path: str) -> Any:
    import pyarrow.csv as pacsv

    _read, convert = _huawei_options()
    return hw_huawei(pacsv.read_csv(path, convert_options=convert))


def hw_read_enphase(path: str) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    with open(path, "rb") as fh:
        production = json.load(fh)["production"]
    # Arrow's JSON reader refuses a field that is a number here and text there ("N/A"),
    # so the document is parsed by Python and each column typed on the way
    end_at = pa.array([v if v.__class__ is int else None for v in
                       (r.get("end_at") for r in production)], pa.int64())
    wh = pa.array([v if v.__class__ in (int, float) else None for v in
                   (r.get("wh_del") for r in production)], pa.float64())
    devices = pa.array([v if v.__class__ is int else None for v in
                        (r.get("devices_reporting") for r in production)], pa.int64())
    start_us = pc.multiply(pc.subtract(end_at, INTERVAL_MIN * 60), 1_000_000)
    ratio = pc.divide(devices.cast(pa.float64()), float(PARAMS["enphase"]["expected_devices"]))
    error_type = pc.case_when(
        pc.make_struct(pc.fill_null(pc.less_equal(devices, 0), True),
                       pc.greater_equal(ratio, 0.95), pc.greater_equal(ratio, 0.80)),
        "offline", "normal", "warning", "critical")
    return _keep({"timestamp": start_us.cast(pa.timestamp("us", tz="UTC")),
                  "kWh": pc.divide(wh, 1000.0), "error_type": error_type,
                  "asset_id": _const(ASSET_ID, len(end_at))})


def hw_read_solaredge(path: str) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pajson

    with open(path, "rb") as fh:
        raw = fh.read()
    # one document: Arrow's reader parses it as a single row (one thread)
    doc = pajson.read_json(pa.BufferReader(raw), read_options=pajson.ReadOptions(
        block_size=len(raw) + 64, use_threads=False),
        parse_options=pajson.ParseOptions(newlines_in_values=True))
    rows = doc["data"].combine_chunks().field("telemetries").flatten()
    l1 = rows.field("L1Data")
    watts = rows.field("totalActivePower").cast(pa.float64())
    mode = rows.field("inverterMode")
    kw = pc.divide(watts, 1000.0)
    return _keep({
        "timestamp": _utc_from_local(rows.field("date")),
        "kWh": pc.multiply(kw, INTERVAL_MIN / 60),
        "error_type": _code_lookup(SOLAREDGE_MODES, pc.utf8_upper(mode)),
        "error_code": mode,
        "asset_id": _const(ASSET_ID, len(rows)),
        "kW": kw,
        "oem_error_code": rows.field("operationMode").cast(pa.string()),
        "kVA": pc.divide(l1.field("apparentPower"), 1000.0),
        "kVAr": pc.divide(l1.field("reactivePower"), 1000.0),
        "PF": l1.field("cosPhi"),
        "voltage_ac": l1.field("acVoltage"),
        "current_ac": l1.field("acCurrent"),
        "frequency": l1.field("acFrequency"),
        "voltage_dc": rows.field("dcVoltage"),
        "temperature": rows.field("temperature"),
    })


HW_READERS = {"huawei": hw_read_huawei, "enphase": hw_read_enphase,
              "solaredge": hw_read_solaredge}


def hw_dicts(table: Any) -> list[dict[str, Any]]:
    """Records as dicts with ISO 8601 UTC text timestamps, as odse and the original give."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # whole seconds in these files; cast and patch the text (pc.strftime is 6x slower)
    naive = table["timestamp"].cast(pa.int64()).cast(pa.timestamp("us")) \
        .cast(pa.timestamp("s"), safe=False)
    text = pc.binary_replace_slice(naive.cast(pa.string()), 10, 11, "T")
    text = pc.binary_join_element_wise(text, "Z", "")
    columns = [text.to_pylist()] + [table.column(i).to_pylist()
                                    for i in range(1, table.num_columns)]
    names = table.schema.names
    # no field has nulls in these tables; a careful engineer zips columns (Table.to_pylist
    # is several times slower)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def hw_lake(table: Any, root: str) -> int:
    """Write asset_id/year/month/day partitions, one part-00000.parquet each; return files."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    ts = table["timestamp"]
    for name, part in (("year", pc.year), ("month", pc.month), ("day", pc.day)):
        text = part(ts).cast(pa.string())
        table = table.append_column(name, text if name == "year" else pc.utf8_lpad(text, 2, "0"))
    part = ds.partitioning(pa.schema([(c, pa.string()) for c in PARTITION_BY]), flavor="hive")
    # one write_dataset call for thousands of partitions thrashes its open-file limit:
    # hand it slices of about 500 days (rows are time-ordered, so a day is in one slice)
    days = pc.binary_join_element_wise(table["year"], table["month"], table["day"], "")
    change = pc.not_equal(days.slice(1), days.slice(0, len(days) - 1))
    starts = [0, *(pc.indices_nonzero(change).to_numpy() + 1).tolist()]
    for first in range(0, len(starts), 500):
        lo = starts[first]
        hi = starts[first + 500] if first + 500 < len(starts) else len(table)
        ds.write_dataset(table.slice(lo, hi - lo), root, format="parquet", partitioning=part,
                         basename_template="part-0000{i}.parquet",
                         existing_data_behavior="overwrite_or_ignore",
                         max_partitions=1024, max_open_files=1024)
    return len(starts)


def hw_validate(table: Any, capacity_kw: float) -> str:
    """The schema and semantic checks as Arrow masks; return a summary."""
    import pyarrow as pa
    import pyarrow.compute as pc

    bad = pc.or_(pc.or_(pc.is_null(table["timestamp"]), pc.is_null(table["kWh"])),
                 pc.less(pc.fill_null(table["kWh"], 0.0), 0.0))
    bad = pc.or_(bad, pc.invert(pc.is_in(table["error_type"],
                                         value_set=pa.array(ERROR_TYPES))))
    limit = capacity_kw * INTERVAL_MIN / 60 * 1.1
    warn = pc.greater(table["kWh"], limit)
    offline = pc.and_(pc.equal(table["error_type"], "offline"), pc.greater(table["kWh"], 0.0))
    invalid = pc.sum(bad).as_py() or 0
    warnings = (pc.sum(warn).as_py() or 0) + (pc.sum(offline).as_py() or 0)
    return f"{len(table) - invalid}/{len(table)} valid, {warnings} warnings"


def hw_stream_huawei(path: str) -> Any:
    import pyarrow.csv as pacsv

    read, convert = _huawei_options()
    for batch in pacsv.open_csv(path, read_options=read, convert_options=convert):
        yield from hw_dicts(hw_huawei(batch))


def handwritten_step(step: str, source: str, path: str, scratch: str) -> dict[str, Any]:
    import importlib

    for module in ("pyarrow.compute", "pyarrow.csv", "pyarrow.dataset", "pyarrow.json",
                   "pyarrow.parquet"):
        importlib.import_module(module)  # before the clock, as the others import theirs
    if step == "startup":
        return {"records": 0}
    started = time.perf_counter()
    out: dict[str, Any] = {}
    if step == "stream":
        if source != "huawei":
            raise SystemExit("hand-written streaming is written for the Huawei CSV only")
        consume(hw_stream_huawei(path), started, out)
        out["call_s"] = time.perf_counter() - started
        return out
    table = HW_READERS[source](path)
    out["records"] = table.num_rows
    if step == "dicts":
        out["records"] = len(hw_dicts(table))
    elif step == "lake":
        out["files"] = hw_lake(table, os.path.join(scratch, "lake"))
    elif step in ("validate", "validate_arrow"):
        started = time.perf_counter()
        out["summary"] = hw_validate(table, CAPACITY_KW[source])
    elif step != "arrow":
        raise SystemExit(f"hand-written has no step {step!r}")
    out["call_s"] = time.perf_counter() - started
    return out


IMPLS = {"odse": odse_step, "original": original_step, "handwritten": handwritten_step}


def main(argv: list[str]) -> int:
    impl, step, source, path, scratch = argv
    result = IMPLS[impl](step, source, path, scratch)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
