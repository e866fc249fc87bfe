"""odse: turn OEM energy exports into validated ODS-E records.

Every OEM format is a declarative mapping spec (YAML) run by one vectorised engine over
Apache Arrow. The names below are the public API; everything else may change.

Heavy modules (pyarrow and the engine) load on first use, so ``import odse`` and
``odse --help`` stay fast.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The library logs through logging.getLogger("odse") and leaves printing to the application:
# without a handler of its own, Python's last-resort handler would print WARNINGs on stderr
# (stray lines in a notebook). Configure logging to see them.
logging.getLogger("odse").addHandler(logging.NullHandler())

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # transform
    "transform": "odse.api",
    "transform_stream": "odse.api",
    "transform_table": "odse.api",
    "transform_batches": "odse.api",
    "Records": "odse.report",
    "RecordStream": "odse.api",
    "BatchStream": "odse.api",
    "Report": "odse.report",
    "Reject": "odse.report",
    # sources and mappings
    "sources": "odse.registry",
    "source_info": "odse.registry",
    "load_mapping": "odse.mapping",
    "check_mapping": "odse.mapping",
    "Mapping": "odse.mapping",
    # validation and enrichment
    "validate": "odse.validation",
    "validate_file": "odse.validation",
    "validate_batch": "odse.validation",
    "ValidationResult": "odse.validation",
    "ValidationError": "odse.validation",
    "BatchValidationResult": "odse.validation",
    "PROFILES": "odse.validation",
    "enrich": "odse.enrichment",
    # adapters to other libraries' DataFrames
    "odse_to_pvlib": "odse.adapters.pvlib",
    "pvlib_to_odse": "odse.adapters.pvlib",
    "odse_to_openoa": "odse.adapters.openoa",
    "openoa_to_odse": "odse.adapters.openoa",
    # regulatory events
    "normalize_regulatory_events": "odse.regulatory",
    "REGULATORY_EVENT_SCHEMA_VERSION": "odse.regulatory",
    # writers
    "to_json": "odse.writers",
    "to_csv": "odse.writers",
    "to_parquet": "odse.writers",
    "to_delta": "odse.writers",
    "to_dataframe": "odse.writers",
    # pipelines
    "run_pipeline": "odse.pipeline",
    "load_pipeline": "odse.pipeline",
    "read_log": "odse.pipeline",
    # errors
    "OdseError": "odse.errors",
    "MappingError": "odse.errors",
    "TransformError": "odse.errors",
    "UnknownSourceError": "odse.errors",
    "InputError": "odse.errors",
    "LimitError": "odse.limits",
}
_SUBMODULES = ("limits",)  # odse.limits.override(...) works after a plain `import odse`

__all__ = [
    "PROFILES",
    "REGULATORY_EVENT_SCHEMA_VERSION",
    "BatchStream",
    "BatchValidationResult",
    "InputError",
    "LimitError",
    "Mapping",
    "MappingError",
    "OdseError",
    "RecordStream",
    "Records",
    "Reject",
    "Report",
    "TransformError",
    "UnknownSourceError",
    "ValidationError",
    "ValidationResult",
    "__version__",
    "check_mapping",
    "enrich",
    "load_mapping",
    "load_pipeline",
    "normalize_regulatory_events",
    "odse_to_openoa",
    "odse_to_pvlib",
    "openoa_to_odse",
    "pvlib_to_odse",
    "read_log",
    "run_pipeline",
    "source_info",
    "sources",
    "to_csv",
    "to_dataframe",
    "to_delta",
    "to_json",
    "to_parquet",
    "transform",
    "transform_batches",
    "transform_stream",
    "transform_table",
    "validate",
    "validate_batch",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"odse.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'odse' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from odse.adapters.openoa import odse_to_openoa, openoa_to_odse
    from odse.adapters.pvlib import odse_to_pvlib, pvlib_to_odse
    from odse.api import (
        BatchStream,
        RecordStream,
        transform,
        transform_batches,
        transform_stream,
        transform_table,
    )
    from odse.enrichment import enrich
    from odse.errors import InputError, MappingError, OdseError, TransformError, UnknownSourceError
    from odse.mapping import Mapping, check_mapping, load_mapping
    from odse.pipeline import load_pipeline, read_log, run_pipeline
    from odse.registry import source_info, sources
    from odse.regulatory import REGULATORY_EVENT_SCHEMA_VERSION, normalize_regulatory_events
    from odse.report import Records, Reject, Report
    from odse.validation import (
        PROFILES,
        BatchValidationResult,
        ValidationError,
        ValidationResult,
        validate,
        validate_batch,
        validate_file,
    )
    from odse.writers import to_csv, to_dataframe, to_delta, to_json, to_parquet
