"""Decide, for every file found, whether this run ingests it and why.

A file is ingested when the lake's ingest log has no entry for it (``new``), or its content
hash, its mapping's hash or its settings (parameters, context, validation) differ from the
last committed entry (``changed``, ``mapping changed``, ``settings changed``). Otherwise it
is skipped as ``unchanged``. Files discovery could not place (no site, no source) are
skipped with that reason.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odse.errors import OdseError, PipelineError
from odse.pipeline.discovery import Found, discover, open_bytes
from odse.pipeline.ingest_log import read_log
from odse.pipeline.spec import PipelineSpec, Reader

HASH_BLOCK = 1 << 20


@dataclass
class Task:
    """One file to ingest, with everything a worker needs (plain data: it is pickled)."""

    uri: str
    rel: str
    size: int
    sha256: str
    asset_id: str | None
    source: str | None
    mapping: Any
    mapping_name: str
    mapping_sha256: str
    params: dict[str, Any]
    timezone: str | None
    enrich: dict[str, Any]
    level: str
    invalid: str
    validate_options: dict[str, Any]
    lineage: bool
    settings_sha256: str
    reason: str
    run_id: str = ""


@dataclass
class PlannedFile:
    """A file found and what this run does with it."""

    uri: str
    rel: str
    size: int
    asset_id: str | None
    action: str
    """``ingest`` or ``skip``."""
    reason: str
    task: Task | None = None
    previous: dict[str, Any] | None = None


@dataclass
class Plan:
    """Every file found, in order, with its action."""

    files: list[PlannedFile] = field(default_factory=list)

    @property
    def tasks(self) -> list[Task]:
        """The files to ingest."""
        return [f.task for f in self.files if f.task is not None]

    @property
    def skipped(self) -> list[PlannedFile]:
        """The files not ingested, with their reasons."""
        return [f for f in self.files if f.action == "skip"]


def file_sha256(uri: str) -> str:
    """The SHA-256 of a file's content."""
    digest = hashlib.sha256()
    if "://" in uri:
        digest.update(open_bytes(uri))
        return digest.hexdigest()
    with open(uri, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


class _Mappings:
    """Resolve each reader once: the compiled mapping's name and a hash of its text."""

    def __init__(self, spec: PipelineSpec) -> None:
        self.spec = spec
        self.cache: dict[str, tuple[str, str]] = {}

    def identify(self, reader: Reader) -> tuple[str, str]:
        key = _canonical([reader.source, reader.mapping, reader.params])
        if key not in self.cache:
            self.cache[key] = self._identify(reader)
        return self.cache[key]

    def _identify(self, reader: Reader) -> tuple[str, str]:
        from odse.api import resolve

        try:
            mapping = resolve(reader.source, reader.mapping)
            mapping.resolve_params(dict(reader.params))
        except OdseError as exc:
            key_path = tuple(part for part in reader.key_path.replace("[", ".").replace(
                "]", "").split(".") if part)
            path = tuple(int(p) if p.isdigit() else p for p in key_path)
            raise self.spec.error(f"{reader.key_path}: {exc.message}", path, exc.hint,
                                  code=exc.code) from None
        if mapping.file:
            text = Path(mapping.file).read_bytes()
        else:
            text = _canonical(mapping.data).encode()
        return mapping.name, hashlib.sha256(text).hexdigest()


def plan(spec: PipelineSpec, found: list[Found] | None = None) -> Plan:
    """Find the files and decide what to do with each (reads files to hash them)."""
    mappings = _Mappings(spec)
    # every source the spec names is checked, whether or not a file needs it tonight
    for reader in [*(s.reader for s in spec.sites.values()), *(r.reader for r in spec.rules)]:
        if reader is not None:
            mappings.identify(reader)
    if found is None:
        found = discover(spec)
    latest = read_log(spec.output.path).latest()
    out = Plan()
    for item in found:
        if item.skip is not None or item.reader is None:
            out.files.append(PlannedFile(item.uri, item.rel, item.size, item.asset_id, "skip",
                                         item.skip or "no source"))
            continue
        task = _task(spec, item, mappings)
        previous = latest.get(item.uri)
        reason = _reason(task, previous)
        if reason is None:
            out.files.append(PlannedFile(item.uri, item.rel, item.size, item.asset_id, "skip",
                                         f"unchanged since run {previous['run_id']}",
                                         previous=previous))
            continue
        task.reason = reason
        out.files.append(PlannedFile(item.uri, item.rel, item.size, item.asset_id, "ingest",
                                     reason, task, previous))
    return out


def _reason(task: Task, previous: dict[str, Any] | None) -> str | None:
    if previous is None:
        return "new"
    if previous.get("sha256") != task.sha256:
        return "content changed"
    if previous.get("mapping_sha256") != task.mapping_sha256:
        return f"mapping {task.mapping_name} changed"
    if previous.get("settings_sha256") != task.settings_sha256:
        return "settings changed"
    return None


def _task(spec: PipelineSpec, item: Found, mappings: _Mappings) -> Task:
    reader = item.reader
    if reader is None:  # pragma: no cover - filtered by the caller
        raise PipelineError("no reader")
    name, mapping_hash = mappings.identify(reader)
    site = item.site
    params = {**spec.params, **reader.params}
    timezone = reader.timezone or spec.timezone
    enrich = {**spec.enrich, **(site.enrich if site else {})}
    validation = spec.validation
    options: dict[str, Any] = {}
    capacity = (site.capacity_kw if site else None) or validation.capacity_kw
    if capacity is not None:
        options["capacity_kw"] = capacity
    if site and site.latitude is not None:
        options["latitude"] = site.latitude
    if site and site.longitude is not None:
        options["longitude"] = site.longitude
    if validation.profile:
        options["profile"] = validation.profile
    settings = _canonical({"asset_id": item.asset_id, "params": params, "timezone": timezone,
                           "enrich": enrich, "level": validation.level,
                           "invalid": validation.invalid, "options": options,
                           "lineage": spec.output.lineage})
    return Task(uri=item.uri, rel=item.rel, size=item.size, sha256=file_sha256(item.uri),
                asset_id=item.asset_id, source=reader.source, mapping=reader.mapping,
                mapping_name=name, mapping_sha256=mapping_hash, params=params,
                timezone=timezone, enrich=enrich, level=validation.level,
                invalid=validation.invalid, validate_options=options,
                lineage=spec.output.lineage,
                settings_sha256=hashlib.sha256(settings.encode()).hexdigest(), reason="")
