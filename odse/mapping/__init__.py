"""Mapping specs: load, check and compile them; pick the variant that fits an input.

A :class:`Mapping` is what every source is, built-in or yours: load one from a YAML or JSON
file, a dict, or YAML text with :func:`load_mapping`; :func:`check_mapping` does the same and
returns the problems instead of raising. See ``odse docs mapping-language``.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import OrderedDict
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
    import pyarrow as pa

    from odse.engine.variant import Variant
    from odse.readers import filetype
    from odse.readers.inputs import InputData

BUILTIN_PARAMS = {
    "asset_id": Param("asset_id", "string", None, description="identifier of the asset"),
    "timezone": Param("timezone", "string", None,
                      description="zone of naive input times (IANA name or +HH:MM)"),
}
_VARIANT_KEYS = ("name", "description", "format", "csv", "json", "workbook", "detect",
                 "timezone", "interval", "order", "where", "pivot", "fields", "unpivot", "examples")
_FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "jsonl": "JSON Lines",
                 "workbook": "workbooks (.xlsx, .xls, .ods)"}


class Mapping:
    """A compiled mapping spec: its name, parameters and input variants."""

    def __init__(self, spec: SpecText) -> None:
        # the engine loads with the first compiled spec: reading and checking spec files
        # (pipelines, the registry) stays free of pyarrow
        from odse.engine.variant import Variant

        if not spec.trusted:
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
        specs = []
        if "format" in data:
            # a top-level shape is the first variant; 1.1 lets variants: add more shapes
            inline = {k: v for k, v in data.items() if k in _VARIANT_KEYS and k != "examples"}
            specs.append((inline, ctx))
        specs += [(v, ctx.at("variants", i)) for i, v in enumerate(data.get("variants") or [])]
        self.variants = [Variant(v, c, self.params, i) for i, (v, c) in enumerate(specs)]
        names = [v.name for v in self.variants]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ctx.error(f"two variants are named '{duplicate}'", "Give each a unique name",
                            "variants")
        self.examples = list(data.get("examples") or [])
        self._sha256: str | None = None

    @property
    def sha256(self) -> str:
        """SHA-256 of the spec's data as canonical JSON (comments and layout do not count)."""
        if self._sha256 is None:
            import hashlib
            import json

            text = json.dumps(self.data, sort_keys=True, separators=(",", ":"), default=str)
            self._sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return self._sha256

    @property
    def record_schema(self) -> pa.Schema:
        """The schema of the records of any variant: the union of the variants' fields, the
        leading record fields first, then the others in the order the spec gives them."""
        import pyarrow as pa

        from odse.arrow_input import order_columns, union_fields

        fields = union_fields(variant.schema for variant in self.variants)
        return pa.schema([fields[name].with_nullable(True) for name in order_columns(fields)])

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
        asset = out.get("asset_id")
        if asset is not None and (not str(asset).strip()
                                  or str(asset) == "__HIVE_DEFAULT_PARTITION__"):
            raise ParameterError(
                f"asset_id {asset!r} cannot name an asset: a lake would read it back as "
                "no asset_id (the __HIVE_DEFAULT_PARTITION__ folder)", code="BAD_ASSET_ID",
                source=self.name, hint="Give the asset's identifier, or leave asset_id out")
        zone = out.get("timezone")
        if zone is not None:
            from odse.engine.timestamps import check_zone
            message = check_zone(str(zone))
            if message:
                raise ParameterError(message, code="BAD_TIMEZONE", source=self.name)
        return out

    # ------------------------------------------------------------------ variants

    def reads(self) -> str:
        """The input formats this source reads, for messages (``CSV and JSON``)."""
        formats = list(dict.fromkeys(_FORMAT_NAMES[v.format] for v in self.variants))
        return " and ".join([", ".join(formats[:-1]), formats[-1]] if len(formats) > 1
                            else formats)

    def select(self, data: InputData) -> tuple[Variant, Any]:
        """Return the first variant that fits ``data`` (and a parsed document, for JSON, or
        the sheet read, for a workbook)."""
        from odse.engine.variant import describe_missing
        from odse.readers import filetype, json_input
        from odse.readers.inputs import sniff_format

        kind = filetype.identify(data)
        if kind.is_workbook:
            return self._select_workbook(data, kind)
        if kind.family != filetype.TEXT:
            raise InputError(
                f"{data.name} is {kind.label}; source '{self.name}' reads {self.reads()}",
                code="INPUT_WRONG_TYPE", file=data.name, source=self.name,
                hint=filetype.what_to_do(kind))
        head = data.head()
        refuse_unreadable(head, data.name)
        fmt = sniff_format(head)
        tried: list[str] = []
        root = None
        for variant in self.variants:
            if variant.format != fmt:
                tried.append(f"{variant.name} reads {_FORMAT_NAMES[variant.format]}")
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
                 "mapping for this shape (odse docs mapping-language)")

    def _select_workbook(self, data: InputData, kind: filetype.Kind) -> tuple[Variant, Any]:
        """Return the first workbook variant whose sheet holds its columns, and the sheet."""
        from odse.engine.variant import describe_missing
        from odse.readers import workbook_input

        candidates = [v for v in self.variants if v.format == "workbook"]
        if not candidates:
            raise InputError(
                f"{data.name} is {kind.label}; source '{self.name}' reads {self.reads()} "
                "and has no spreadsheet shape", code="INPUT_WRONG_TYPE", file=data.name,
                source=self.name,
                hint="Export the data from the portal as CSV, or give the source a variant "
                     "with format: workbook (docs/mapping-language.md, Workbooks)")
        reader = workbook_input.open_workbook(data)
        tried: list[str] = []
        for variant in candidates:
            try:
                sheet = workbook_input.read_sheet(data, variant.workbook, variant.detect_groups,
                                                  reader)
            except InputError as exc:
                if len(candidates) == 1:
                    raise InputError(f"source '{self.name}' ({variant.name}): {exc.message}",
                                     code=exc.code, file=data.name, source=self.name,
                                     hint=exc.hint) from None
                tried.append(f"{variant.name}: {exc.message}")
                continue
            missing = variant.missing(set(sheet.names))
            if not missing:
                return variant, sheet
            tried.append(f"{variant.name} needs columns {describe_missing(missing)} in sheet "
                         f"'{sheet.name}'")
        raise InputError(
            f"the workbook does not look like any shape source '{self.name}' knows",
            code="INPUT_SHAPE_UNKNOWN", file=data.name, source=self.name,
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


def refuse_unreadable(head: bytes, name: str) -> None:
    """Raise a clear InputError for an input that is no text odse reads: empty, UTF-16,
    binary, or a JSON document that is a single value."""
    if not head.strip():
        raise InputError(f"{name} is empty", code="INPUT_EMPTY", file=name,
                         hint="Check that the export finished and the right file was given")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
            b"\x00" in head[:4096] and head[:4096].count(b"\x00") * 4 >= len(head[:4096])):
        raise InputError(f"{name} is UTF-16 text", code="INPUT_UTF16", file=name,
                         hint="Save it as UTF-8 (or set csv.encoding: utf-16 in the mapping)")
    if b"\x00" in head[:4096]:
        raise InputError(f"{name} looks like a binary file, not text (it holds NUL bytes)",
                         code="INPUT_BINARY", file=name,
                         hint="odse reads CSV, JSON and JSON Lines exports (gzip too)")
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first in (b'"', b"-", b"t", b"f", b"n") or first.isdigit():
        import json

        try:
            value = json.loads(head)
        except (ValueError, UnicodeDecodeError):
            return
        raise InputError(f"{name} holds a single JSON {type(value).__name__}, not records",
                         code="INPUT_NOT_JSON", file=name,
                         hint="Records come from a JSON object or array, JSON Lines or CSV")


def _coerce(param: Param, value: Any, source: str) -> Any:
    try:
        if param.type == "number":
            result: Any = float(value)
            if math.isnan(result) or math.isinf(result):
                raise ParameterError(
                    f"parameter '{param.name}' must be a finite number, got {value!r}",
                    code="BAD_PARAMETER", source=source)
        elif param.type == "integer":
            if isinstance(value, str) and len(value.strip()) > 30:
                raise ValueError
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
    except ParameterError:
        raise
    except (TypeError, ValueError, OverflowError):
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
        key = _content_key(source, name)
        if key is None:
            return load_mapping(SpecText(data=dict(source)), name=name)
        with _COMPILED_LOCK:
            found = _COMPILED.get(key)
            if found is not None:
                _COMPILED.move_to_end(key)
                return found
        # a copy: the caller may change its dict later, in place
        compiled = load_mapping(SpecText(data=copy.deepcopy(dict(source))), name=name)
        with _COMPILED_LOCK:
            _COMPILED[key] = compiled
            while len(_COMPILED) > COMPILED_KEPT:
                _COMPILED.popitem(last=False)
        return compiled
    if isinstance(source, SpecText):
        text = source
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                      and source.strip().endswith((".yaml", ".yml", ".json"))):
        text = read_spec(source)
    elif isinstance(source, str):
        text = parse_text(source)
    else:
        raise MappingError(f"cannot read a mapping from {type(source).__name__}",
                           hint="Pass a file path, a dict, or YAML text")
    try:
        if generic.is_short_form(text.data):
            text = SpecText(data=generic.expand(text.data, name=name or "csv", file=text.file),
                            file=text.file)
        return Mapping(text)
    except RecursionError:
        # a dict that contains itself, or nesting past what the checks can walk
        from odse.mapping.source_text import too_deep
        raise too_deep(text.file) from None


COMPILED_KEPT = 64
"""Mappings given as dicts whose compiled form is kept, by content (a loop over a fleet's
files passes the same dict to every call: compiling and checking it is most of a small
file's cost)."""
_COMPILED: OrderedDict[str, Mapping] = OrderedDict()
_COMPILED_LOCK = threading.Lock()


_PLAIN = (str, int, float, bool, type(None))


def _content_key(data: MappingABC[Any, Any], name: str | None) -> str | None:
    """The dict's content as text that tells apart everything compiling tells apart (key
    order, tuples from lists, 1 from 1.0 and True, "1" from 1), or None when it holds
    anything but plain data (dicts, lists, tuples, text, numbers, booleans, None)."""
    try:
        if not _plain(data, 0):
            return None
    except RecursionError:
        return None
    return repr((name, data))


def _plain(value: Any, depth: int) -> bool:
    if depth > 64:
        return False
    if isinstance(value, MappingABC):
        return type(value) is dict and all(
            isinstance(k, _PLAIN) and _plain(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value) in (list, tuple) and all(_plain(v, depth + 1) for v in value)
    return type(value) in _PLAIN


def short_form(source: Any) -> dict[str, Any] | None:
    """Return the short generic column map ``source`` holds (dict, file or text), else None."""
    if isinstance(source, Mapping):
        return None
    if isinstance(source, MappingABC):
        data: Any = dict(source)
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source
                                      and source.strip().endswith((".yaml", ".yml", ".json"))):
        data = read_spec(source).data
    elif isinstance(source, str):
        data = parse_text(source).data
    else:
        return None
    return dict(data) if generic.is_short_form(data) else None


def check_mapping(source: Any) -> list[MappingError]:
    """Return the problems of a mapping spec (an empty list when it is valid).

    Besides loading it, every expression is run over a small synthetic batch, so that a
    spec that would crash at run time is a problem here."""
    try:
        mapping = load_mapping(source)
    except MappingError as exc:
        return [exc]
    from odse.mapping.dry_run import dry_run
    return dry_run(mapping)


__all__ = ["Mapping", "check_mapping", "load_mapping"]
