"""The transform API: one input file to ODS-E records, as dicts or as Arrow.

All four entry points run the same engine. ``transform_batches`` is the streaming Arrow form
the others are built on; ``transform_table`` collects it; ``transform_stream`` yields dicts
batch by batch; ``transform`` returns a list of dicts with the report attached.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse import records, registry
from odse.engine import reading
from odse.engine.fields import ZONE_SOURCE
from odse.engine.rejects import LOCATION_FIELD
from odse.engine.timestamps import zone_name
from odse.engine.variant import RunContext, Variant
from odse.errors import MappingError, ParameterError
from odse.mapping import Mapping, generic, load_mapping, short_form
from odse.mapping.generic import parse_column_map
from odse.readers.inputs import InputData
from odse.report import Records, Report

ERROR_MODES = ("collect", "raise")
STREAM_SLICE = 8192
"""Records turned into dicts at a time by ``transform_stream``."""


class BatchStream:
    """An iterator of Arrow record batches with the transform's :class:`Report`.

    ``report`` fills in as batches are consumed; it is complete once the stream ends.
    """

    def __init__(self, variant: Variant, batches: Iterator[pa.RecordBatch], report: Report,
                 absent: tuple[str, ...] = (), extra: tuple[pa.Field, ...] = ()) -> None:
        self.variant = variant
        schema = variant.schema
        self.schema: pa.Schema = pa.schema([*(f for f in schema if f.name not in absent),
                                            *extra])
        self.report = report
        self._batches = batches

    def __iter__(self) -> BatchStream:
        return self

    def __next__(self) -> pa.RecordBatch:
        try:
            return next(self._batches)
        except StopIteration:
            if not self.report.finished:
                self.report.finished = True
                self.report.timings["reading_mapping"] = round(
                    time.perf_counter() - self.report.started, 6)
                self.report.log()
            raise

    def read_all(self) -> pa.Table:
        """Collect the remaining batches into a table."""
        return pa.Table.from_batches(list(self), schema=self.schema)

    def to_reader(self) -> pa.RecordBatchReader:
        """Return the stream as a ``pyarrow.RecordBatchReader``."""
        return pa.RecordBatchReader.from_batches(self.schema, self)


class RecordStream:
    """An iterator of record dicts with the transform's :class:`Report`."""

    def __init__(self, batches: BatchStream) -> None:
        self.report = batches.report
        self._batches = batches
        self._records = self._generate()

    def _generate(self) -> Iterator[dict[str, Any]]:
        # dicts are made a slice at a time: a few thousand live dicts, not a whole batch
        for batch in self._batches:
            for start in range(0, batch.num_rows, STREAM_SLICE):
                yield from records.table_to_dicts(batch.slice(start, STREAM_SLICE))

    def __iter__(self) -> RecordStream:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._records)


def resolve(source: str | None, mapping: Any = None, column_map: Any = None) -> Mapping:
    """Return the mapping for a source name and/or a caller's mapping."""
    if column_map is not None:
        if mapping is not None:
            raise ParameterError("give either mapping or column_map, not both",
                                 code="MAPPING_TWICE")
        mapping = parse_column_map(column_map) if isinstance(column_map, str) else column_map
    if mapping is not None:
        if source is not None and not registry.is_generic(source):
            raise ParameterError(
                f"source '{source}' is built in and takes no mapping", code="MAPPING_TWICE",
                hint="Drop mapping= to use the built-in source, or drop source= (or use "
                     "source='csv') to use your mapping")
        return load_mapping(mapping, name=str(source).lower() if source else None)
    if source is None:
        raise ParameterError("no source given", code="NO_SOURCE",
                             hint="Pass source=<name> (odse.sources() lists them) or mapping=...")
    if registry.is_generic(source):
        raise MappingError(
            f"source '{source}' needs a mapping", code="MAPPING_REQUIRED",
            hint="Pass mapping={'timestamp': <column>, 'kWh': <column>} or the path of a "
                 "mapping file")
    return registry.get(source)


def transform_batches(data: Any, source: str | None = None, asset_id: str | None = None,
                      timezone: str | None = None, mapping: Any = None, *,
                      errors: str = "collect", lineage: bool = False,
                      **params: Any) -> BatchStream:
    """Transform one input into a stream of Arrow record batches.

    Args:
        data: a path (str or Path), the file's text or bytes, or a binary file object.
        source: a source name (any alias, any case; ``odse.sources()`` lists them), or
            ``csv``/``generic``/``generic_csv`` with ``mapping``.
        asset_id: identifier written to every record (where the input has none).
        timezone: zone of naive input times: IANA name (``Africa/Johannesburg``) or offset
            (``+02:00``); default: the source's own zone, else UTC.
        mapping: your mapping: a full spec or a short column map, as a dict or a path to a
            YAML/JSON file.
        errors: ``collect`` (default: bad rows go to the report's rejects) or ``raise``
            (stop at the first bad row with a TransformError).
        lineage: add a ``source_location`` column: the CSV line (``line 12``) or the JSON
            path (``$.production[3]``) each record came from.
        **params: source parameters such as ``interval_minutes`` [minutes] or
            ``expected_devices``; ``column_map`` is accepted for the generic mapper.

    Returns:
        A BatchStream: iterate it for ``pyarrow.RecordBatch``es; ``.report`` holds the counts
        and rejects; ``.read_all()`` gives a table.
    """
    if errors not in ERROR_MODES:
        raise ParameterError(f"errors must be one of {', '.join(ERROR_MODES)}, got {errors!r}",
                             code="BAD_PARAMETER")
    column_map = params.pop("column_map", None)
    spec = resolve(source, mapping, column_map)
    given = {"asset_id": asset_id, "timezone": timezone, **params}
    resolved = spec.resolve_params(given)
    inp = InputData.of(data)
    spec = _settle_counter(spec, source, column_map if column_map is not None else mapping, inp)
    variant, root = spec.select(inp)
    run_params = dict(resolved)
    # fixed offsets normalised once (UTC+2 -> +02:00): every later step passes it to Arrow
    spec_zone = variant.zone or resolved.get("timezone")     # the variant's, or a default
    run_params["timezone"] = zone_name(str(timezone or spec_zone or "UTC"))
    run_params[ZONE_SOURCE] = "caller" if timezone else "spec" if spec_zone else "assumed"
    report = Report(source=spec.name, variant=variant.name, input=inp.name,
                    input_bytes=inp.size, spec_sha256=spec.sha256,
                    input_path=str(inp.path) if inp.path is not None and not inp.spooled
                    else None, input_sha256=inp.sha256)
    absent = variant.absent_fields(inp, root)
    run = RunContext(params=run_params, report=report, errors=errors, absent=frozenset(absent),
                     lineage=bool(lineage))
    extra = (LOCATION_FIELD,) if lineage else ()
    return BatchStream(variant, reading.run(variant, inp, run, root), report, absent, extra)


def _settle_counter(spec: Mapping, source: str | None, mapping: Any, inp: InputData) -> Mapping:
    """Under ``generic_csv``, read a kWh column that never falls as a cumulative counter.

    Decided from the head of the input (its first 64 KiB): at least two readings, none lower
    than the one before; the report's variant is then ``rising_kwh_counter``. Name the
    measure in the map to decide yourself.
    """
    short = mapping if isinstance(mapping, dict) else None
    if isinstance(mapping, str) and "=" in mapping and "\n" not in mapping:
        short = parse_column_map(mapping)
    elif short is None and mapping is not None:
        short = short_form(mapping)
    column = generic.counter_candidate(source, short)
    if column is None or short is None:
        return spec
    head = inp.head()
    head = head[:head.rfind(b"\n") + 1] if b"\n" in head else head
    sample = transform_table(head, source="csv", mapping=short)
    energy = sample.column("kWh").combine_chunks().drop_null()
    if len(energy) < 2 or pc.any(pc.less(pc.pairwise_diff(energy), 0)).as_py():
        return spec
    return load_mapping(generic.as_counter(short, column, name=str(source).lower()))


def transform_table(data: Any, source: str | None = None, asset_id: str | None = None,
                    timezone: str | None = None, mapping: Any = None, *,
                    errors: str = "collect", **params: Any) -> pa.Table:
    """Transform one input into a ``pyarrow.Table`` of records.

    Same arguments as :func:`transform_batches`. For the rejects, use
    ``transform_batches(...)``, then ``.read_all()`` and ``.report``.
    """
    return transform_batches(data, source, asset_id, timezone, mapping, errors=errors,
                             **params).read_all()


def transform_stream(data: Any, source: str | None = None, asset_id: str | None = None,
                     timezone: str | None = None, mapping: Any = None, *,
                     errors: str = "collect", **params: Any) -> RecordStream:
    """Transform one input into an iterator of record dicts, reading it batch by batch.

    Same arguments as :func:`transform_batches`; memory stays bounded by a batch (and, for
    CSV, the next two blocks of the file, read ahead).
    """
    return RecordStream(transform_batches(data, source, asset_id, timezone, mapping,
                                          errors=errors, **params))


def transform(data: Any, source: str | None = None, asset_id: str | None = None,
              timezone: str | None = None, mapping: Any = None, *, errors: str = "collect",
              **params: Any) -> Records:
    """Transform one input into a list of ODS-E record dicts.

    Same arguments as :func:`transform_batches`. The list has ``.report`` (counts) and
    ``.rejects`` (rows not in the output, with row, column, value and reason); a single
    log warning summarises the rejects when there are any.
    """
    stream = transform_batches(data, source, asset_id, timezone, mapping, errors=errors,
                               **params)
    out: list[dict[str, Any]] = []
    with records.collector_paused():
        for batch in stream:
            out.extend(records.table_to_dicts(batch))
    return Records(out, stream.report)


__all__ = ["BatchStream", "RecordStream", "transform", "transform_batches", "transform_stream",
           "transform_table"]
