"""Mapping specs: load, check and compile them; pick the variant that fits an input.

A :class:`Mapping` is what every source is, built-in or yours: load one from a YAML or JSON
file, a dict, or YAML text with :func:`load_mapping`; :func:`check_mapping` does the same and
returns the problems instead of raising. See ``docs/mapping-language.md``.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odse.engine.compile_ctx import Ctx, Param
from odse.errors import InputError, MappingError, ParameterError
from odse.mapping import generic
from odse.mapping.schema_check import check_schema
from odse.mapping.source_text import SpecText, parse_text, read_spec
from odse.suggest import did_you_mean

if TYPE_CHECKING:
    from odse.engine.variant import Variant
    from odse.readers.inputs import InputData

BUILTIN_PARAMS = {
    "asset_id": Param("asset_id", "string", None, description="identifier of the asset"),
    "timezone": Param("timezone", "string", None,
                      description="zone of naive input times (IANA name or +HH:MM)"),
}
_VARIANT_KEYS = ("name", "description", "format", "csv", "json", "detect", "timezone",
                 "interval", "order", "fields", "unpivot", "examples")


class Mapping:
    """A compiled mapping spec: its name, parameters and input variants."""

    def __init__(self, spec: SpecText) -> None:
        # the engine loads with the first compiled spec: reading and checking spec files
        # (pipelines, the registry) stays free of pyarrow
        from odse.engine.variant import Variant

        check_schema(spec)
        data: dict[str, Any] = spec.data
        self.text = spec
        self.data = data
        self.file = spec.file
        self.name: str = data["name"]
        self.aliases: list[str] = list(data.get("aliases") or [])
        self.title: str = data.get("title", self.name)
        self.description: str = data.get("description", "")
        self.params: dict[str, Param] = dict(BUILTIN_PARAMS)
        for pname, p in (data.get("params") or {}).items():
            self.params[pname] = Param(pname, p.get("type", "string"), p.get("default"),
                                       p.get("minimum"), p.get("description", ""))
        ctx = Ctx(spec, (), self.params)
        if "variants" in data:
            specs = [(v, ctx.at("variants", i)) for i, v in enumerate(data["variants"])]
        else:
            inline = {k: v for k, v in data.items() if k in _VARIANT_KEYS and k != "examples"}
            specs = [(inline, ctx)]
        self.variants = [Variant(v, c, self.params, i) for i, (v, c) in enumerate(specs)]
        names = [v.name for v in self.variants]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ctx.error(f"two variants are named '{duplicate}'", "Give each a unique name",
                            "variants")
        self.examples = list(data.get("examples") or [])

    def __repr__(self) -> str:
        return f"<Mapping {self.name!r}: {', '.join(v.name for v in self.variants)}>"

    # ------------------------------------------------------------------ parameters

    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        """Check the caller's parameters and fill in declared defaults."""
        out: dict[str, Any] = {}
        for name, value in given.items():
            if name not in self.params:
                known = sorted(self.params)
                raise ParameterError(
                    f"source '{self.name}' has no parameter '{name}'", code="UNKNOWN_PARAMETER",
                    source=self.name,
                    hint=f"{did_you_mean(name, known, capital=True)}Known parameters: "
                         f"{', '.join(known)}")
            if value is not None:
                out[name] = _coerce(self.params[name], value, self.name)
        for name, param in self.params.items():
            if name not in out and param.default is not None:
                out[name] = param.default
        zone = out.get("timezone")
        if zone is not None:
            from odse.engine.timestamps import check_zone
            message = check_zone(str(zone))
            if message:
                raise ParameterError(message, code="BAD_TIMEZONE", source=self.name)
        return out

    # ------------------------------------------------------------------ variants

    def select(self, data: InputData) -> tuple[Variant, Any]:
        """Return the first variant that fits ``data`` (and a parsed document, for JSON)."""
        from odse.engine.variant import describe_missing
        from odse.readers import json_input
        from odse.readers.inputs import sniff_format

        fmt = sniff_format(data.head())
        tried: list[str] = []
        root = None
        for variant in self.variants:
            if variant.format != fmt:
                tried.append(f"{variant.name} reads {variant.format.upper()}")
                continue
            if fmt == "csv":
                layout = variant.csv_layout(data)
                missing = variant.missing(set(layout.names))
                if not missing:
                    return variant, None
                tried.append(f"{variant.name} needs columns {describe_missing(missing)}")
                continue
            if fmt == "json":
                if root is None:
                    root = json_input.read_document(data)
                probe = root
            else:
                probe = next(json_input.iter_lines(data), None)
                if probe is None:
                    raise InputError("the JSON Lines input is empty", code="INPUT_EMPTY",
                                     file=data.name)
            try:
                frame = variant.json_frame(probe, {})
                missing = variant.missing(frame)
            except InputError as exc:
                tried.append(f"{variant.name}: {exc.message}")
                continue
            if frame.n and not missing:
                return variant, root
            why = (f"needs {describe_missing(missing)}" if missing
                   else f"found no records at {'/'.join(lv.path for lv in variant.levels)}")
            tried.append(f"{variant.name} {why}")
        raise InputError(
            f"the input does not look like any shape source '{self.name}' knows "
            f"(it reads as {fmt.upper()})", code="INPUT_SHAPE_UNKNOWN", file=data.name,
            source=self.name,
            hint="Checked: " + "; ".join(tried) + ". Check the source name, or write a "
                 "mapping for this shape (docs/mapping-language.md)")

    def info(self) -> dict[str, Any]:
        """Describe the source: names, parameters, variants (for listings and --help)."""
        return {
            "name": self.name, "aliases": self.aliases, "title": self.title,
            "description": self.description, "file": self.file,
            "params": {n: {"type": p.type, "default": p.default, "description": p.description}
                       for n, p in self.params.items()},
            "variants": [{"name": v.name, "format": v.format, "description": v.description}
                         for v in self.variants],
        }


def _coerce(param: Param, value: Any, source: str) -> Any:
    try:
        if param.type == "number":
            result: Any = float(value)
        elif param.type == "integer":
            result = int(value) if not isinstance(value, float) or value.is_integer() else None
            if result is None:
                raise ValueError
        elif param.type == "boolean":
            if isinstance(value, str):
                result = value.strip().lower() in ("1", "true", "yes", "on")
            else:
                result = bool(value)
        else:
            result = str(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"parameter '{param.name}' must be {param.type}, got {value!r}",
            code="BAD_PARAMETER", source=source) from None
    if param.minimum is not None and isinstance(result, (int, float)) and result < param.minimum:
        raise ParameterError(f"parameter '{param.name}' must be at least {param.minimum}, "
                             f"got {value!r}", code="BAD_PARAMETER", source=source)
    return result


def load_mapping(source: Any, *, name: str | None = None) -> Mapping:
    """Load and compile a mapping spec.

    Args:
        source: a path to a ``.yaml``/``.yml``/``.json`` file, a dict (a full spec or the
            short generic column map), YAML text, or a :class:`Mapping` (returned as is).
        name: source name to give a short column map (default ``csv``).

    Raises:
        MappingError: the spec is malformed; the error names file, line and key path.
    """
    if isinstance(source, Mapping):
        return source
    if isinstance(source, MappingABC):
        data = dict(source)
        text = SpecText(data=data)
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                      and source.strip().endswith((".yaml", ".yml", ".json"))):
        text = read_spec(source)
    elif isinstance(source, str):
        text = parse_text(source)
    else:
        raise MappingError(f"cannot read a mapping from {type(source).__name__}",
                           hint="Pass a file path, a dict, or YAML text")
    if generic.is_short_form(text.data):
        text = SpecText(data=generic.expand(text.data, name=name or "csv", file=text.file),
                        file=text.file)
    return Mapping(text)


def check_mapping(source: Any) -> list[MappingError]:
    """Return the problems of a mapping spec (an empty list when it is valid)."""
    try:
        load_mapping(source)
    except MappingError as exc:
        return [exc]
    return []


__all__ = ["Mapping", "check_mapping", "load_mapping"]
