"""Validate ODS-E records against the record JSON Schema, profiles and physical sense.

Three levels, each on the records that passed the one before:

1. schema: the checks compiled from ``schemas/energy-timeseries.json`` (required fields,
   types, enums, bounds, patterns); codes REQUIRED_FIELD_MISSING, TYPE_MISMATCH,
   ENUM_MISMATCH, OUT_OF_BOUNDS, PATTERN_MISMATCH.
2. profile (``profile=``): the fields and values a market use case needs; codes
   PROFILE_FIELD_MISSING, PROFILE_VALUE_MISMATCH, UNKNOWN_PROFILE.
3. semantic (``level="semantic"``): warnings only, never invalidating; codes
   EXCEEDS_PHYSICAL_MAXIMUM, NIGHTTIME_GENERATION, STATE_PRODUCTION_MISMATCH.

Every check runs column by column with Arrow kernels, for a list of dicts as for an Arrow
table; ``validate()`` is a batch of one. ``odse docs validation`` lists every code, path,
message and formula.

Modules: ``rules`` (schema -> rules), ``columns`` (records -> typed columns), ``checks``
(schema checks), ``profiles``, ``semantic``, ``intervals`` (interval from timestamp spacing),
``solar`` (sun elevation), ``engine`` (order and assembly), ``results``, ``codes``, ``api``.
"""

from __future__ import annotations

from odse.validation.api import validate, validate_batch, validate_file
from odse.validation.profiles import PROFILES
from odse.validation.results import BatchValidationResult, ValidationError, ValidationResult

__all__ = [
    "PROFILES",
    "BatchValidationResult",
    "ValidationError",
    "ValidationResult",
    "validate",
    "validate_batch",
    "validate_file",
]
