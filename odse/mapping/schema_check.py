"""Check a spec against the mapping language's JSON Schema (``schemas/mapping-v1.json``).

A failure becomes a :class:`~odse.errors.MappingError` that names the file, the line, the key
path and what was expected there, with the nearest known key for a misspelling.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from odse.errors import MappingError, OdseError
from odse.mapping.source_text import SpecText, render_path
from odse.resources import load_schema
from odse.suggest import did_you_mean

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "mapping-v1.json"
LANGUAGE_VERSION = 1.1
LANGUAGE_VERSIONS = (1, 1.1)
"""Versions this odse reads: a 1 spec runs unchanged; 1.1 adds workbooks, where:, pivot:, a
field's own timezone:, truncate:, the time format excel and const: null."""


@cache
def _validator(schema_file: str = SCHEMA_FILE) -> jsonschema.Draft202012Validator:
    # jsonschema loads here, not with the module: built-in specs are not checked at load
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(schema_file))


def check_against(spec: SpecText, schema_file: str, error: type[OdseError] = MappingError,
                  code: str = "MAPPING_INVALID") -> None:
    """Raise ``error`` for the most relevant violation of ``schemas/<schema_file>`` in ``spec``.

    The same messages as for mapping specs (file, line, key path, the nearest known key);
    other spec languages (pipelines) check themselves with it.
    """
    from jsonschema.exceptions import best_match

    found = best_match(_validator(schema_file).iter_errors(spec.data), key=_relevance)
    if found is None:
        return
    found = _deepest(found)
    path = tuple(found.absolute_path)
    message, hint, path = _describe(found, path)
    raise error(message, code=code, file=spec.file, line=spec.line_of(path),
                key_path=render_path(path), hint=hint)


def check_schema(spec: SpecText) -> None:
    """Raise MappingError for the most relevant schema violation in ``spec``, if any."""
    data = spec.data
    if not isinstance(data, dict):
        raise MappingError("a mapping spec must be a mapping of keys to values",
                           code="MAPPING_INVALID", file=spec.file, line=spec.line_of(()),
                           hint="Start the file with 'odse_mapping: 1' and 'name: ...'")
    version = data.get("odse_mapping")
    if version is not None and (isinstance(version, bool) or version not in LANGUAGE_VERSIONS):
        raise MappingError(
            f"unsupported mapping language version {version!r}",
            code="MAPPING_VERSION", file=spec.file, line=spec.line_of(("odse_mapping",)),
            key_path="odse_mapping",
            hint="This odse reads versions 1 and 1.1; write 'odse_mapping: 1.1'")
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data), key=_relevance)
    if error is None:
        _check_shape(spec)
        if version == 1:
            _check_version_1(spec)
        return
    error = _deepest(error)
    path = tuple(error.absolute_path)
    message, hint, path = _describe(error, path)
    raise MappingError(message, code="MAPPING_INVALID", file=spec.file,
                       line=spec.line_of(path), key_path=render_path(path), hint=hint)


def _check_shape(spec: SpecText) -> None:
    data = spec.data
    has_variants = "variants" in data
    inline = [k for k in ("format", "fields") if k in data]
    if has_variants and inline and len(inline) < 2:
        raise MappingError(
            f"the spec has both 'variants' and top-level '{inline[0]}'",
            code="MAPPING_INVALID", file=spec.file, line=spec.line_of((inline[0],)),
            key_path=inline[0],
            hint="Move the top-level shape into one of the variants, or drop 'variants'")
    if not has_variants and len(inline) < 2:
        missing = "fields" if "format" in inline else "format"
        raise MappingError(
            f"the spec has no '{missing}'", code="MAPPING_INVALID", file=spec.file,
            line=spec.line_of(()), key_path="(top level)",
            hint="Give 'format' and 'fields' at the top level, or a list of 'variants'")


def _check_version_1(spec: SpecText) -> None:
    """A spec that says version 1 may not use what 1.1 added (it would not run on 1.0)."""
    data = spec.data
    variants = [((), data)] + [(("variants", i), v) for i, v in
                               enumerate(data.get("variants") or [])]
    for where, variant in variants:
        found = _feature_11(variant, where)
        if found:
            path, what = found
            raise MappingError(
                f"{what} was added in mapping language 1.1, but the spec says odse_mapping: 1",
                code="MAPPING_VERSION", file=spec.file, line=spec.line_of(path),
                key_path=render_path(path), hint="Write 'odse_mapping: 1.1' at the top")


def _feature_11(variant: dict[str, Any], where: tuple[Any, ...]) -> tuple[tuple[Any, ...],
                                                                           str] | None:
    if variant.get("format") == "workbook":
        return (*where, "format"), "format: workbook"
    for key in ("workbook", "where", "pivot"):
        if key in variant:
            return (*where, key), f"{key}:"
    if "variants" in variant and where == () and ("format" in variant or "fields" in variant):
        return ("variants",), "variants beside a top-level shape"
    parts: list[tuple[tuple[Any, ...], Any]] = [(("fields",), variant.get("fields"))]
    parts += [(("unpivot", i), e) for i, e in enumerate(variant.get("unpivot") or [])]
    for base, fields in parts:
        for name, spec in (fields or {}).items():
            found = _expr_feature_11(spec, (*where, *base, name))
            if found:
                return found
    return None


def _expr_feature_11(spec: Any, path: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    if isinstance(spec, list):
        for i, item in enumerate(spec):
            found = _expr_feature_11(item, (*path, i))
            if found:
                return found
        return None
    if not isinstance(spec, dict):
        return None
    for key in ("timezone", "truncate"):
        if key in spec:
            return (*path, key), f"a field's {key}:"
    if "const" in spec and spec["const"] is None:
        return (*path, "const"), "const: null"
    formats = spec.get("format")
    if formats == "excel" or (isinstance(formats, list) and "excel" in formats):
        return (*path, "format"), "the time format excel"
    for key, value in spec.items():
        found = _expr_feature_11(value, (*path, key))
        if found:
            return found
    return None


def _relevance(error: ValidationError) -> Any:
    # prefer deep errors, and among equals the ones about unknown keys or missing keys
    return (len(error.absolute_path), error.validator in ("additionalProperties", "required"))


def _deepest(error: ValidationError) -> ValidationError:
    # a oneOf/anyOf failure hides the real problem in its context; pick the deepest one
    while error.context:
        candidates = [e for e in error.context if e.validator not in ("type", "const")] \
            or list(error.context)
        deeper = max(candidates, key=lambda e: len(e.absolute_path))
        if len(deeper.absolute_path) <= len(error.absolute_path) and \
                error.validator in ("oneOf", "anyOf"):
            break
        error = deeper
    return error


def _describe(error: ValidationError, path: tuple[Any, ...]) -> tuple[str, str | None,
                                                                        tuple[Any, ...]]:
    where = render_path(path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in schema.get("properties", {})]
        key = extra[0] if extra else "?"
        return (f"unknown key '{key}' in {where}",
                f"{did_you_mean(key, allowed, capital=True)}Allowed keys: {', '.join(allowed)}",
                (*path, key))
    if validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        key = missing[0] if missing else "?"
        return f"missing key '{key}' in {where}", _expected_of(schema, key), path
    if validator == "enum":
        options = ", ".join(map(str, error.validator_value))
        return (f"{where} is {error.instance!r}, which is not allowed",
                f"Use one of: {options}", path)
    if validator == "const":
        return (f"{where} must be {error.validator_value!r}, not {error.instance!r}", None, path)
    if validator == "type":
        want = error.validator_value
        want = " or ".join(want) if isinstance(want, list) else want
        hint = schema.get("description")
        return (f"{where} must be {_article(want)}, not {_kind(error.instance)}",
                f"Expected: {hint}" if hint else None, path)
    if validator == "pattern":
        return (f"{where} is {error.instance!r}, which does not match {error.validator_value}",
                schema.get("description"), path)
    if validator in ("oneOf", "anyOf"):
        hint = schema.get("description")
        return (f"{where} has the wrong shape ({_kind(error.instance)})",
                f"Expected {hint}" if hint else None, path)
    return f"{where}: {error.message}", schema.get("description"), path


def _expected_of(schema: dict[str, Any], key: str) -> str | None:
    prop = schema.get("properties", {}).get(key, {})
    description = prop.get("description") if isinstance(prop, dict) else None
    return f"Add '{key}': {description}" if description else f"Add '{key}'"


def _article(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty (null)"
    return type(value).__name__
