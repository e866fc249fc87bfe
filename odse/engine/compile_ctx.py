"""What a compile function needs to know: where it is in the spec, and how to complain."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from odse.errors import MappingError

if TYPE_CHECKING:
    from odse.mapping.source_text import KeyPath, SpecText


@dataclass(frozen=True)
class Param:
    """A declared parameter of a source."""

    name: str
    type: str = "string"
    default: Any = None
    minimum: float | None = None
    description: str = ""


@dataclass(frozen=True)
class Ctx:
    """Compile context: the spec text (for lines), the key path, and the variant's setting."""

    spec: SpecText
    path: KeyPath = ()
    params: dict[str, Param] = field(default_factory=dict)
    format: str = "csv"
    decimal: str = "."
    thousands: str = ""

    def at(self, *keys: Any) -> Ctx:
        """Return the context one or more keys deeper."""
        return replace(self, path=(*self.path, *keys))

    def error(self, message: str, hint: str | None = None, *keys: Any) -> MappingError:
        """Return a MappingError located at this key path (or deeper by ``keys``)."""
        from odse.mapping.source_text import render_path  # odse.mapping imports the engine

        path = (*self.path, *keys)
        return MappingError(message, file=self.spec.file, line=self.spec.line_of(path),
                            key_path=render_path(path), hint=hint)


@dataclass
class RunState:
    """Per-run memory shared by compiled programs."""

    formats: dict[int, str] = field(default_factory=dict)   # format "auto", as decided
    clipped: dict[str, int] = field(default_factory=dict)   # values clip changed, by field
    assumed_zone: str | None = None     # naive times were read in this zone, none being given
