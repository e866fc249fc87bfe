"""The stable codes a validation finding carries, one constant per code.

Errors make a record invalid; warnings never do. ``docs/validation.md`` gives each code's
path, message and, for the semantic warnings, the formula.
"""

from __future__ import annotations

# Schema level: each is derived from a JSON Schema keyword of schemas/energy-timeseries.json.
REQUIRED_FIELD_MISSING = "REQUIRED_FIELD_MISSING"  # required
TYPE_MISMATCH = "TYPE_MISMATCH"  # type (and a record that is not an object)
ENUM_MISMATCH = "ENUM_MISMATCH"  # enum, const
OUT_OF_BOUNDS = "OUT_OF_BOUNDS"  # minimum, maximum, exclusive*, finite_number
PATTERN_MISMATCH = "PATTERN_MISMATCH"  # pattern (timestamps without a zone included)

# Conformance profiles.
PROFILE_FIELD_MISSING = "PROFILE_FIELD_MISSING"
PROFILE_VALUE_MISMATCH = "PROFILE_VALUE_MISMATCH"
UNKNOWN_PROFILE = "UNKNOWN_PROFILE"

# Semantic level: warnings only.
EXCEEDS_PHYSICAL_MAXIMUM = "EXCEEDS_PHYSICAL_MAXIMUM"
NIGHTTIME_GENERATION = "NIGHTTIME_GENERATION"
STATE_PRODUCTION_MISMATCH = "STATE_PRODUCTION_MISMATCH"
# Fleet checks (semantic level, per series): warnings only.
DUPLICATE_TIMESTAMP = "DUPLICATE_TIMESTAMP"
MISSING_INTERVALS = "MISSING_INTERVALS"
STUCK_VALUE = "STUCK_VALUE"
TIMEZONE_SUSPECT = "TIMEZONE_SUSPECT"
ENERGY_BALANCE = "ENERGY_BALANCE"

ERROR_CODES = (
    REQUIRED_FIELD_MISSING,
    TYPE_MISMATCH,
    ENUM_MISMATCH,
    OUT_OF_BOUNDS,
    PATTERN_MISMATCH,
    PROFILE_FIELD_MISSING,
    PROFILE_VALUE_MISMATCH,
    UNKNOWN_PROFILE,
)
WARNING_CODES = (EXCEEDS_PHYSICAL_MAXIMUM, NIGHTTIME_GENERATION, STATE_PRODUCTION_MISMATCH,
                 DUPLICATE_TIMESTAMP, MISSING_INTERVALS, STUCK_VALUE, TIMEZONE_SUSPECT,
                 ENERGY_BALANCE)

# When one field breaks several keywords, the first code in this order is the one reported:
# a value of the wrong type says nothing useful about its bounds or pattern.
FIELD_PRECEDENCE = (
    REQUIRED_FIELD_MISSING, TYPE_MISMATCH, ENUM_MISMATCH, OUT_OF_BOUNDS, PATTERN_MISMATCH,
)
