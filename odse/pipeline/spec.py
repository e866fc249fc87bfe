"""The pipeline spec: load it, check it against ``schemas/pipeline-v1.json``, resolve its paths.

A spec is YAML (or JSON) read with the mapping loader, so a mistake is reported the same
way: file, line, key path, what was expected there and the nearest known key.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odse.errors import MappingError, PipelineError
from odse.mapping.schema_check import check_against
from odse.mapping.source_text import SpecText, parse_text, render_path

SCHEMA_FILE = "pipeline-v1.json"
CHECKED_DIR = "_odse/checked-specs"
"""Under a local lake root: one small file per pipeline spec that passed the schema check
and wrote to the lake, named by its check key (see :func:`check_key`)."""
SPEC_VERSION = 1
DEFAULT_PARTITIONS = ("asset_id", "year", "month", "day")
INVALID_POLICIES = ("keep", "drop", "quarantine")


@dataclass(frozen=True)
class Input:
    """One place to look for files."""

    path: str
    """A local folder, a local glob, or a URI prefix (``s3://bucket/prefix``)."""
    pattern: str | None = None
    recursive: bool = True
    key_path: str = ""


@dataclass(frozen=True)
class Reader:
    """How a file is read: a source name and/or a mapping, with parameters."""

    source: str | None = None
    mapping: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    key_path: str = ""


@dataclass(frozen=True)
class Site:
    """One row of the sites table."""

    asset_id: str
    reader: Reader | None
    enrich: dict[str, Any] = field(default_factory=dict)
    capacity_kw: float | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Rule:
    """A source chosen by a pattern on the file's path."""

    match: str
    reader: Reader


@dataclass(frozen=True)
class Validation:
    """What validation to run, and what to do with invalid records."""

    level: str = "schema"
    invalid: str = "keep"
    capacity_kw: float | None = None
    profile: str | None = None


@dataclass(frozen=True)
class Output:
    """The lake the records go to."""

    path: str
    partition_by: tuple[str, ...] = DEFAULT_PARTITIONS
    mode: str = "merge"
    lineage: bool = False
    rejects: str | None = None


@dataclass
class PipelineSpec:
    """A loaded and checked pipeline spec, paths resolved against the spec's folder."""

    inputs: list[Input]
    output: Output
    sites: dict[str, Site] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    enrich: dict[str, Any] = field(default_factory=dict)
    validation: Validation = field(default_factory=Validation)
    name: str = "pipeline"
    file: str | None = None
    text: SpecText | None = None
    check_key: str = ""
    """The digest :func:`check_key` gives the spec's content."""

    @property
    def checked_marker(self) -> dict[str, bytes]:
        """The side file that records, in a local lake, that this spec passed its check
        (committed with a run's data, so the next run of the same spec skips the check)."""
        if not self.check_key or "://" in self.output.path:
            return {}
        from odse import __version__

        return {_marker_name(self.check_key):
                json.dumps({"pipeline": str(self.name), "odse_version": __version__}).encode()}

    def error(self, message: str, key_path: tuple[Any, ...], hint: str | None = None,
              code: str = "PIPELINE_INVALID") -> PipelineError:
        """An error located at ``key_path`` in the spec file."""
        line = self.text.line_of(key_path) if self.text else None
        return PipelineError(message, code=code, file=self.file, line=line,
                             key_path=render_path(key_path), hint=hint)


def load_pipeline(source: Any, *, on_check: Callable[[], None] | None = None) -> PipelineSpec:
    """Load and check a pipeline spec: a path to a YAML/JSON file, YAML text, or a dict.

    on_check: called just before the spec's schema check, which runs only for a spec its
        lake has not seen pass (a first run, or an edited spec: most likely a run with
        many files to ingest); the runner starts its workers there.

    Raises:
        PipelineError: the spec is malformed (file, line and key path in the error).
    """
    if isinstance(source, PipelineSpec):
        return source
    base = Path.cwd()
    if isinstance(source, MappingABC):
        text = SpecText(data=dict(source))
    elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        path = Path(source)
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise PipelineError(f"pipeline file not found: {path}", code="PIPELINE_NOT_FOUND",
                                file=str(path), hint="Check the path") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PipelineError(f"cannot read pipeline file {path}: {exc}",
                                code="PIPELINE_UNREADABLE", file=str(path)) from None
        text = _parse(raw, str(path))
        base = path.resolve().parent
    elif isinstance(source, str):
        text = _parse(source, None)
    else:
        raise PipelineError(f"cannot read a pipeline from {type(source).__name__}",
                            hint="Pass a file path, a dict, or YAML text")
    return _build(text, base, on_check)


def _parse(raw: str, file: str | None) -> SpecText:
    try:
        return parse_text(raw, file=file)
    except MappingError as exc:
        # the loader speaks of "the mapping"; here it is a pipeline
        raise PipelineError(exc.message.replace("the mapping", "the pipeline"),
                            code=exc.code.replace("MAPPING", "PIPELINE"), hint=exc.hint,
                            **exc.facts) from None


def _build(text: SpecText, base: Path, on_check: Callable[[], None] | None = None
           ) -> PipelineSpec:
    data = text.data
    if not isinstance(data, dict):
        raise PipelineError("a pipeline spec must be a mapping of keys to values",
                            file=text.file, line=text.line_of(()),
                            hint="Start the file with 'odse_pipeline: 1'")
    version = data.get("odse_pipeline")
    if version is not None and version != SPEC_VERSION:
        raise PipelineError(f"unsupported pipeline spec version {version!r}",
                            code="PIPELINE_VERSION", file=text.file,
                            line=text.line_of(("odse_pipeline",)), key_path="odse_pipeline",
                            hint=f"This odse reads version {SPEC_VERSION}; write "
                                 "'odse_pipeline: 1'")
    def place(value: str) -> str:
        return value if "://" in value or os.path.isabs(value) else str(base / value)

    key = check_key(data)
    if not _checked_before(data, place, key):
        if on_check is not None:
            on_check()
        check_against(text, SCHEMA_FILE, PipelineError, "PIPELINE_INVALID")

    def mapping_of(value: Any) -> Any:
        return place(value) if isinstance(value, str) else value

    def reader(item: dict[str, Any], path: tuple[Any, ...]) -> Reader | None:
        if "source" not in item and "mapping" not in item:
            return None
        return Reader(item.get("source"), mapping_of(item.get("mapping")),
                      dict(item.get("params") or {}), item.get("timezone"), render_path(path))

    inputs = [Input(place(item["path"]), item.get("pattern"), item.get("recursive", True),
                    render_path(("inputs", i)))
              for i, item in enumerate(data["inputs"])]
    sites = {}
    for asset_id, item in (data.get("sites") or {}).items():
        sites[str(asset_id)] = Site(str(asset_id), reader(item, ("sites", asset_id)),
                                    dict(item.get("enrich") or {}), item.get("capacity_kw"),
                                    item.get("latitude"), item.get("longitude"))
    rules = []
    for i, item in enumerate(data.get("sources") or []):
        found = reader(item, ("sources", i))
        if found is None:
            raise PipelineError("a source rule names neither 'source' nor 'mapping'",
                                file=text.file, line=text.line_of(("sources", i)),
                                key_path=render_path(("sources", i)),
                                hint="Add source: <name> (odse sources lists them) or "
                                     "mapping: <file>")
        rules.append(Rule(item["match"], found))
    out = data["output"]
    validation = data.get("validation") or {}
    spec = PipelineSpec(
        inputs=inputs,
        output=Output(place(out["path"]), tuple(out.get("partition_by", DEFAULT_PARTITIONS)),
                      out.get("mode", "merge"), bool(out.get("lineage", False)),
                      place(out["rejects"]) if out.get("rejects") else None),
        sites=sites, rules=rules, params=dict(data.get("params") or {}),
        timezone=data.get("timezone"), enrich=dict(data.get("enrich") or {}),
        validation=Validation(validation.get("level", "schema"),
                              validation.get("invalid", "keep"),
                              validation.get("capacity_kw"), validation.get("profile")),
        name=data.get("name") or (Path(text.file).stem if text.file else "pipeline"),
        file=text.file, text=text, check_key=key)
    if spec.validation.invalid == "quarantine" and not spec.output.rejects:
        raise spec.error("invalid: quarantine needs a rejects table", ("validation", "invalid"),
                         "Add output.rejects: <folder> (the quarantined records go there), "
                         "or use invalid: drop")
    if spec.validation.invalid != "keep" and spec.validation.level == "none":
        raise spec.error(f"invalid: {spec.validation.invalid} needs validation",
                         ("validation", "invalid"), "Set validation.level to schema or semantic")
    for i, inp in enumerate(spec.inputs):
        if inp.pattern is not None:
            _check_pattern(spec, inp.pattern, ("inputs", i, "pattern"))
    return spec


def check_key(data: Any) -> str:
    """A digest of what the schema check of a spec depends on: the spec's content (not its
    comments or layout), the schema and this odse's version."""
    from odse import __version__
    from odse.resources import data_dir

    if not _plain(data):
        return ""  # a date, a number as a key, ...: left for the check to judge every time
    try:
        content = json.dumps([__version__, data], sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return ""
    digest = hashlib.sha256((data_dir("schemas") / SCHEMA_FILE).read_bytes())
    digest.update(content.encode())
    return digest.hexdigest()


def _plain(value: Any, depth: int = 0) -> bool:
    """True for JSON's own values only (text keys; no dates, paths or other objects), whose
    JSON text says exactly what they are."""
    if depth > 64:
        return False
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    return value is None or isinstance(value, (str, bool, int, float))


def _checked_before(data: dict[str, Any], place: Any, key: str) -> bool:
    """True when the spec's local lake records that a spec of this very content passed the
    check: a pipeline run from cron spends most of a run with nothing new on importing the
    JSON Schema library, and its answer cannot have changed."""
    output = data.get("output")
    root = output.get("path") if isinstance(output, dict) else None
    if not key or not isinstance(root, str) or not root or "://" in root:
        return False
    return os.path.isfile(os.path.join(place(root), *_marker_name(key).split("/")))


def _marker_name(key: str) -> str:
    """Where a spec's check marker sits, relative to the lake root."""
    return f"{CHECKED_DIR}/{key}.json"


def _check_pattern(spec: PipelineSpec, pattern: str, key_path: tuple[Any, ...]) -> None:
    from odse.pipeline.discovery import compile_pattern

    try:
        compile_pattern(pattern)
    except ValueError as exc:
        raise spec.error(f"bad path pattern {pattern!r}: {exc}", key_path,
                         "Write the path below the input with {name} placeholders, e.g. "
                         "'{asset_id}/{date}.csv'") from None
