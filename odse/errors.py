"""Structured errors: a stable code and the facts first, the message rendered from them.

Every error odse raises for an expected failure is an :class:`OdseError`. It carries a
``code`` (stable, for programs), the facts that locate the problem (file, line, mapping key
path, row, column, value) and a ``hint`` that says what to do next. ``str(error)`` renders
all of that for a person; :meth:`OdseError.to_dict` serialises it for a report. Errors pickle,
because pipelines move them across worker processes.

The CLI maps each class to an exit code (``exit_code``): 1 data failed, 2 bad usage, unknown
source or bad mapping, 3 input/output failure.
"""

from __future__ import annotations

from typing import Any

_FACT_ORDER = ("file", "line", "key_path", "source", "variant", "row", "location", "column",
               "field", "value")


class OdseError(Exception):
    """Base class of every error odse raises on purpose."""

    code = "ODSE_ERROR"
    exit_code = 2

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None,
                 **facts: Any) -> None:
        self.message = message
        if code is not None:
            self.code = code
        self.hint = hint
        self.facts = {k: v for k, v in facts.items() if v is not None}
        super().__init__(message)

    def __getattr__(self, name: str) -> Any:
        # facts read as attributes (err.file, err.line, err.row ...); None when absent
        if name in _FACT_ORDER or name in ("expected",):
            return self.__dict__.get("facts", {}).get(name)
        raise AttributeError(name)

    def __str__(self) -> str:
        # facts the message already states are not repeated
        where = _render_where({k: v for k, v in self.facts.items()
                               if k in ("line", "row") or str(v) not in self.message})
        text = self.message
        if where:
            text = f"{text} ({where})"
        if self.hint:
            text = f"{text}. {self.hint}" if not text.endswith(".") else f"{text} {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Return the error as plain data: code, message, hint and facts."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        out.update(self.facts)
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.code, self.hint, self.facts))


def _rebuild(cls: type[OdseError], message: str, code: str, hint: str | None,
             facts: dict[str, Any]) -> OdseError:
    return cls(message, code=code, hint=hint, **facts)


def _render_where(facts: dict[str, Any]) -> str:
    parts = []
    for key in _FACT_ORDER:
        if key not in facts:
            continue
        value = facts[key]
        if key == "key_path":
            parts.append(f"at {value}")
        elif key == "value":
            shown = repr(value)
            parts.append(f"value {shown if len(shown) <= 60 else shown[:57] + '...'}")
        elif key == "location":
            parts.append(str(value))
        else:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts)


class MappingError(OdseError, ValueError):
    """A mapping spec is malformed: the file, line, key path and what was expected."""

    code = "MAPPING_INVALID"
    exit_code = 2


class UnknownSourceError(OdseError, ValueError):
    """No built-in or registered source has this name."""

    code = "UNKNOWN_SOURCE"
    exit_code = 2


class ParameterError(OdseError, ValueError):
    """A parameter passed to a transform is unknown or has a bad value."""

    code = "BAD_PARAMETER"
    exit_code = 2


class InputError(OdseError, OSError):
    """The input cannot be read, or matches none of the shapes the source knows."""

    code = "INPUT_ERROR"
    exit_code = 3


class InputNotFoundError(InputError, FileNotFoundError):
    """The input path does not exist."""

    code = "INPUT_NOT_FOUND"


class TransformError(OdseError, ValueError):
    """A row could not be transformed and the caller asked for ``errors="raise"``."""

    code = "ROW_REJECTED"
    exit_code = 1


class OutputError(OdseError, OSError):
    """Output could not be written."""

    code = "OUTPUT_ERROR"
    exit_code = 3


class MissingExtraError(OdseError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    code = "MISSING_EXTRA"
    exit_code = 2


def require(module: str, extra: str, feature: str) -> Any:
    """Import an optional dependency or raise a MissingExtraError naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs the optional package '{module}'",
            hint=f"Install it with: pip install 'odse[{extra}]'",
        ) from exc


class PipelineError(OdseError, ValueError):
    """A pipeline spec is malformed or names what does not exist: file, line and key path."""

    code = "PIPELINE_INVALID"
    exit_code = 2
