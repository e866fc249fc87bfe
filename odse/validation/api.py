"""The public entry points: validate one record, one JSON file, or a batch."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa

from odse.errors import InputError, InputNotFoundError, ParameterError
from odse.suggest import did_you_mean
from odse.validation.engine import run
from odse.validation.results import BatchValidationResult, ValidationResult
from odse.validation.semantic import SemanticOptions

LEVELS = ("schema", "semantic")


# The positional order is the documented (original) signature, kept for compatibility.
def validate(data: Any, level: str = "schema", capacity_kw: float | None = None,
             latitude: float | None = None, longitude: float | None = None,
             profile: str | None = None, *,
             interval_minutes: float | None = None) -> ValidationResult:
    """Validate one record.

    Parameters:
        data: The record: a dict; JSON text holding one object (text whose first non-blank
            character is ``{``); or a path (str or ``os.PathLike``) to a JSON file holding one
            object. Any other text is read as a path. A list, or JSON holding an array, is
            refused with a pointer to :func:`validate_batch`.
        level: ``schema`` (default) or ``semantic`` (schema plus plausibility warnings).
        capacity_kw: Rated capacity for EXCEEDS_PHYSICAL_MAXIMUM [kW].
        latitude: Site latitude for the night-time check [deg, north positive].
        longitude: Site longitude for the night-time check [deg, east positive].
        profile: Conformance profile to check (a key of ``PROFILES``), or None.
        interval_minutes: The record's interval [min]; without it a single record is taken
            to cover 60 minutes.

    Returns:
        ValidationResult: ``is_valid`` is True when there are no errors; warnings are apart.

    Raises:
        ParameterError: A bad argument (unknown level, a list instead of a record, ...).
        InputError: The text is not JSON, or the file cannot be read.
    """
    options = _options(level, capacity_kw, latitude, longitude, interval_minutes)
    record = load_record(data)
    batch = run([record], level=level, profile=profile, options=options)
    return ValidationResult(is_valid=batch.invalid == 0,
                            errors=[e for _, e in batch.errors],
                            warnings=[w for _, w in batch.warnings], level=level)


def validate_file(file_path: str | os.PathLike[str], level: str = "schema",
                  **kwargs: Any) -> ValidationResult:
    """Validate the one record held in a JSON file.

    Parameters:
        file_path: Path to a JSON file holding one object.
        level: ``schema`` or ``semantic``.
        **kwargs: As for :func:`validate` (capacity_kw, latitude, longitude, profile,
            interval_minutes).
    """
    if not isinstance(file_path, (str, os.PathLike)):
        raise ParameterError(f"validate_file() needs a path, got {type(file_path).__name__}",
                             hint="Pass a str or pathlib.Path; for a dict use validate()")
    return validate(_read_json_file(Path(file_path)), level, **kwargs)


def validate_batch(records: Any, level: str = "schema", profile: str | None = None, *,
                   capacity_kw: float | None = None, latitude: float | None = None,
                   longitude: float | None = None,
                   interval_minutes: float | None = None) -> BatchValidationResult:
    """Validate many records at once, column by column.

    Parameters:
        records: A list (or other iterable) of dicts; or Arrow data: a ``pyarrow.Table``, a
            ``RecordBatch``, a ``RecordBatchReader``, a list of record batches, or any object
            that exports an Arrow stream (``__arrow_c_stream__``: polars, pandas 2.2+, ...).
            In dicts an explicit None is a TYPE_MISMATCH; in Arrow a null means absent.
        level: ``schema`` (default) or ``semantic``.
        profile: Conformance profile to check, or None.
        capacity_kw: Rated capacity for EXCEEDS_PHYSICAL_MAXIMUM [kW].
        latitude: Site latitude for the night-time check [deg].
        longitude: Site longitude for the night-time check [deg].
        interval_minutes: Every record's interval [min]; without it each record's interval
            is read from the spacing of its series' timestamps.

    Returns:
        BatchValidationResult: counts, ``errors`` and ``warnings`` as (index, error) pairs in
        input order, the summary line, and ``valid_mask`` for filtering Arrow data.
    """
    options = _options(level, capacity_kw, latitude, longitude, interval_minutes)
    return run(_as_batch(records), level=level, profile=profile, options=options)


def load_record(data: Any) -> Any:
    """Return the record that ``validate()`` was given, reading JSON text or a file."""
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8", errors="replace")
    if isinstance(data, str):
        text = data.lstrip()
        if text.startswith(("{", "[")) or "\n" in data:
            record = _parse_json(data, where=None)
        else:
            record = _read_json_file(Path(data))
    elif isinstance(data, os.PathLike):
        record = _read_json_file(Path(data))
    else:
        record = data
    if isinstance(record, (list, tuple)):
        raise ParameterError(
            f"validate() checks one record, but was given a list of {len(record)}",
            hint="Use validate_batch(records) for several records")
    return record


def _read_json_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"file not found: {path}", file=str(path),
                                 hint="Check the path, or pass the record as a dict or "
                                      "JSON text") from exc
    except (OSError, ValueError) as exc:  # a directory, no permission, a name too long ...
        raise InputError(f"cannot read {path}: {exc}", file=str(path)) from exc
    return _parse_json(text, where=str(path))


def _parse_json(text: str, where: str | None) -> Any:
    from odse.readers import json_input

    try:
        return json.loads(text, object_pairs_hook=json_input.no_duplicate_keys)
    except json_input.DuplicateKey as exc:
        raise json_input.duplicate_key_error(exc, where or "the JSON text") from None
    except RecursionError:
        from odse import limits
        raise limits.exceeded("json_depth", "the JSON nests too deep for the JSON reader",
                              file=where) from None
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            raise ParameterError(
                "validate() checks one record, but the JSON holds more than one value "
                "(JSON Lines?)", file=where, line=exc.lineno,
                hint="Use validate_batch() with the records as a list") from exc
        raise InputError(f"invalid JSON: {exc.msg}", code="INVALID_JSON", file=where,
                         line=exc.lineno, location=f"column {exc.colno}",
                         hint="Pass a dict, JSON text holding one object, or a path to "
                              "such a file") from exc


def _as_batch(records: Any) -> list[Any] | pa.Table:
    if isinstance(records, pa.Table):
        return records
    if isinstance(records, pa.RecordBatch):
        return pa.Table.from_batches([records])
    if isinstance(records, pa.RecordBatchReader):
        return records.read_all()
    if isinstance(records, (str, bytes, os.PathLike, dict)):
        kind = "a dict (one record)" if isinstance(records, dict) else type(records).__name__
        raise ParameterError(f"validate_batch() needs a list of records or Arrow data, "
                             f"got {kind}",
                             hint="Use validate() for one record; read files with "
                                  "transform() or pyarrow first")
    if isinstance(records, list):
        if records and all(isinstance(b, pa.RecordBatch) for b in records):
            return pa.Table.from_batches(records)
        return records
    if hasattr(records, "__arrow_c_stream__") or type(records).__module__.startswith("pandas"):
        return pa.table(records)
    if isinstance(records, Iterable):
        return list(records)
    raise ParameterError(f"validate_batch() needs a list of records or Arrow data, "
                         f"got {type(records).__name__}")


def _options(level: Any, capacity_kw: Any, latitude: Any, longitude: Any,
             interval_minutes: Any) -> SemanticOptions:
    if level not in LEVELS:
        raise ParameterError(f"unknown validation level {level!r}; "
                             f"{did_you_mean(str(level), LEVELS)}known levels: "
                             f"{', '.join(LEVELS)}")
    capacity = _positive("capacity_kw", capacity_kw)
    interval = _positive("interval_minutes", interval_minutes)
    if (latitude is None) != (longitude is None):
        raise ParameterError("latitude and longitude go together; got only one",
                             hint="Pass both, or neither")
    lat = _within("latitude", latitude, 90.0)
    lon = _within("longitude", longitude, 180.0)
    return SemanticOptions(capacity_kw=capacity, latitude=lat, longitude=lon,
                           interval_minutes=interval)


def _number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive(name: str, value: Any) -> float | None:
    number = _number(name, value)
    if number is not None and number <= 0:
        raise ParameterError(f"{name} must be greater than 0, got {value!r}")
    return number


def _within(name: str, value: Any, limit: float) -> float | None:
    number = _number(name, value)
    if number is not None and not -limit <= number <= limit:
        raise ParameterError(f"{name} must be between -{limit:g} and {limit:g}, got {value!r}")
    return number
