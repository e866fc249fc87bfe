"""Add market context (settlement, tariff, topology fields) to every record.

``enrich`` does not validate: any key is accepted, and ``validate``/``validate_batch`` judge
the result. Typical context keys (none is required):

- settlement: seller_party_id, buyer_party_id, network_operator_id, wheeling_agent_id,
  settlement_period_start, settlement_period_end, loss_factor, contract_reference,
  settlement_type;
- tariff: tariff_schedule_id, tariff_period, tariff_currency, tariff_version_effective_at,
  energy_charge_component, network_charge_component (and the unbundled components);
- topology (asset metadata, not declared by the record schema, so never checked): country_code,
  municipality_id, municipality_name, distribution_zone, feeder_id, voltage_level, meter_id,
  connection_point_id, licensed_service_area.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.errors import ParameterError
from odse.records import field_type

_IMMUTABLE = (str, int, float, bool, bytes, type(None), tuple, frozenset)


def enrich(rows: Any, context: Mapping[str, Any] | None = None, *,
           override: bool = False) -> Any:
    """Add every key of ``context`` to every record.

    Parameters:
        rows: The records. A list (or tuple) of dicts is changed in place and returned (the
            same object). An Arrow ``Table``, ``RecordBatch`` or ``RecordBatchReader`` gives a
            new one of the same kind, with a column per context key. Any other iterable (of
            dicts, or of record batches) gives a lazy iterator that enriches each item as it
            passes (for ``transform_stream``).
        context: Field names and values to add. None or ``{}`` leaves the records as they are.
        override: False (default): a field the record already has keeps its value (in Arrow,
            only nulls are filled). True: the context value replaces it.

    Mutable values (dicts, lists, sets) are copied for each record, so changing one record's
    value never changes another's.
    """
    if context is None:
        return rows
    if not isinstance(context, Mapping):
        raise ParameterError(f"enrich() context must be a mapping of field names to values, "
                             f"got {type(context).__name__}")
    for key in context:
        if not isinstance(key, str):
            raise ParameterError(f"enrich() context keys must be field names (str), got {key!r}")
    if not context:
        return rows
    if isinstance(rows, pa.Table):
        return _enrich_table(rows, context, override)
    if isinstance(rows, pa.RecordBatch):
        return _enrich_batch(rows, context, override)
    if isinstance(rows, pa.RecordBatchReader):
        schema = _enrich_table(rows.schema.empty_table(), context, override).schema
        batches = (_enrich_batch(b, context, override) for b in rows)
        return pa.RecordBatchReader.from_batches(schema, batches)
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
        raise ParameterError(f"enrich() needs a list of records or Arrow data, "
                             f"got {type(rows).__name__}")
    if isinstance(rows, Sequence):
        _enrich_dicts(rows, context, override)
        return rows
    return _enrich_stream(rows, context, override)


def _enrich_batch(batch: pa.RecordBatch, context: Mapping[str, Any],
                  override: bool) -> pa.RecordBatch:
    table = _enrich_table(pa.Table.from_batches([batch]), context, override)
    if not table.num_rows:
        return pa.RecordBatch.from_pylist([], schema=table.schema)
    return table.combine_chunks().to_batches()[0]


def _enrich_dicts(rows: Sequence[Any], context: Mapping[str, Any],
                  override: bool) -> None:
    shared = {k: v for k, v in context.items() if isinstance(v, _IMMUTABLE)}
    copied = {k: v for k, v in context.items() if k not in shared}
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ParameterError(f"enrich() needs dicts, got {type(row).__name__}",
                                 row=index)
        if override:
            row.update(shared)
            for key, value in copied.items():
                row[key] = copy.deepcopy(value)
        else:
            for key, value in shared.items():
                if key not in row:
                    row[key] = value
            for key, value in copied.items():
                if key not in row:
                    row[key] = copy.deepcopy(value)


def _enrich_stream(rows: Iterable[Any], context: Mapping[str, Any],
                   override: bool) -> Iterator[Any]:
    for row in rows:
        if isinstance(row, pa.RecordBatch):  # a stream of batches (transform_batches)
            yield _enrich_batch(row, context, override)
        else:
            _enrich_dicts((row,), context, override)
            yield row


def _enrich_table(table: pa.Table, context: Mapping[str, Any], override: bool) -> pa.Table:
    n = table.num_rows
    for key, value in context.items():
        if key in table.column_names:
            current = table.column(key)
            if override:
                new = _constant(key, value, n)
            elif current.null_count == 0:
                continue
            else:  # null means absent in Arrow: fill the gaps, keep the values
                new = _fill_nulls(key, current, value)
            table = table.set_column(table.column_names.index(key), key, new)
        else:
            table = table.append_column(key, _constant(key, value, n))
    return table


def _constant(key: str, value: Any, n: int) -> pa.Array:
    """Return ``value`` repeated n times, typed as the schema declares the field if it fits."""
    declared = field_type(key)
    scalar = None
    if declared is not None and value is not None:
        try:
            scalar = pa.scalar(value, declared)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            scalar = None  # not of the declared type: keep its own; validation will say so
    if scalar is None:
        scalar = pa.scalar(value) if value is not None else pa.scalar(None, declared or pa.null())
    return pa.repeat(scalar, n)


def _fill_nulls(key: str, current: pa.ChunkedArray, value: Any) -> pa.ChunkedArray:
    try:
        fill = pa.scalar(value, current.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        raise ParameterError(
            f"enrich() cannot fill the {current.type} column '{key}' with {value!r}",
            hint="Pass a value of the column's type, or override=True to replace the "
                 "column") from exc
    return pc.fill_null(current, fill)
