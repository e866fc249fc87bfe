"""Conformance profiles: which fields a market use case needs, and what values they may take.

A profile is a layer over the schema, checked only on records that passed the schema: each
field in ``required_fields`` must be present (PROFILE_FIELD_MISSING), and each field in
``field_constraints`` must satisfy its constraint, written in JSON Schema keywords such as
``enum``, ``const``, ``minimum`` or ``pattern`` (PROFILE_VALUE_MISMATCH). Profiles check
presence and values only; they never compare fields with each other (a settlement window need
not contain the record's timestamp).

``PROFILES`` is an ordinary dict: a team may add its own profile to it before validating.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from odse.errors import ParameterError
from odse.suggest import did_you_mean
from odse.validation import codes
from odse.validation.checks import Finding, first_failures, type_render, value_checks
from odse.validation.columns import Columns
from odse.validation.rules import RecordRules, SchemaCompileError, compile_property

_BILATERAL = ["seller_party_id", "buyer_party_id", "settlement_period_start",
              "settlement_period_end", "contract_reference", "settlement_type"]

PROFILES: dict[str, dict[str, Any]] = {
    "bilateral": {
        "required_fields": list(_BILATERAL),
        "field_constraints": {"settlement_type": {"enum": ["bilateral"]}},
    },
    "wheeling": {
        "required_fields": [*_BILATERAL, "network_operator_id", "wheeling_type",
                            "wheeling_status", "injection_point_id", "offtake_point_id",
                            "loss_factor"],
        "field_constraints": {"settlement_type": {"enum": ["bilateral"]}},
    },
    "sawem_brp": {
        "required_fields": ["seller_party_id", "balance_responsible_party_id", "settlement_type",
                            "forecast_kWh", "settlement_period_start", "settlement_period_end"],
        "field_constraints": {"settlement_type": {
            "enum": ["sawem_day_ahead", "sawem_intra_day", "balancing", "ancillary"]}},
    },
    "municipal_recon": {
        "required_fields": ["buyer_party_id", "billing_period", "billed_kWh", "billing_status"],
        "field_constraints": {},
    },
    "bess_dispatch": {
        "required_fields": ["dispatch_mode", "soc"],
        "field_constraints": {"dispatch_mode": {
            "enum": ["charging", "discharging", "standby", "balancing"]}},
    },
    "wind_scada": {
        "required_fields": ["wind_speed_ms"],
        "field_constraints": {},
    },
}


def profile_findings(name: Any, rules: RecordRules, cols: Columns,
                     eligible: pa.BooleanArray) -> list[Finding]:
    """Return the profile's findings on the eligible records (those that passed the schema).

    Parameters:
        name: Profile name, a key of ``PROFILES``.
        rules: The compiled record schema (gives each constrained field its type).
        cols: The records as columns.
        eligible: True for the records to check.
    """
    if name not in PROFILES:
        known = ", ".join(PROFILES)
        message = (f"unknown profile {name!r}; {did_you_mean(str(name), PROFILES)}"
                   f"known profiles: {known}")
        return [Finding(codes.UNKNOWN_PROFILE, "$", eligible,
                        lambda indices: [(message, name)] * len(indices))]
    profile = _checked(name, PROFILES[name])
    out = []
    for field in profile["required_fields"]:
        missing = pc.and_(eligible, pc.invert(cols.presence(field)))
        message = f"profile '{name}' requires field '{field}'"
        def render(indices: list[int], m: str = message) -> list[tuple[str, Any]]:
            return [(m, None)] * len(indices)

        out.append(Finding(codes.PROFILE_FIELD_MISSING, f"$.{field}", missing, render))
    for field, constraint in profile["field_constraints"].items():
        declared = rules.fields.get(field)
        try:
            rule = compile_property(field, constraint,
                                    declared_type=declared.type if declared else None)
        except SchemaCompileError as exc:
            raise ParameterError(f"profile '{name}' has a constraint on '{field}' odse "
                                 f"cannot use: {exc.message}", hint="Write it with enum, "
                                 "const, minimum, maximum or pattern (and a type for a field "
                                 "the schema does not declare)") from exc
        column = cols.column_for(rule)
        if column is None:
            continue  # absent everywhere: PROFILE_FIELD_MISSING says so when it is required
        checks = [(codes.TYPE_MISMATCH, column.wrong_type, type_render(rule, column)),
                  *value_checks(rule, column, cols)]
        out.extend(first_failures(
            ((codes.PROFILE_VALUE_MISMATCH, pc.and_(eligible, mask), _prefixed(name, render))
             for _, mask, render in checks if mask is not None),
            f"$.{field}"))
    return [f for f in out if f.mask.true_count]


def _prefixed(profile: str, render: Any) -> Any:
    def wrapped(indices: list[int]) -> list[tuple[str, Any]]:
        return [(f"profile '{profile}': {message}", value)
                for message, value in render(indices)]

    return wrapped


def _checked(name: str, profile: Any) -> dict[str, Any]:
    if (not isinstance(profile, dict) or not isinstance(profile.get("required_fields"), list)
            or not isinstance(profile.get("field_constraints", {}), dict)):
        raise ParameterError(f"profile '{name}' is malformed",
                             hint="A profile is {'required_fields': [...], "
                                  "'field_constraints': {field: {JSON Schema keywords}}}")
    return {"required_fields": profile["required_fields"],
            "field_constraints": profile.get("field_constraints", {})}
