"""What validation returns: findings, one record's result, a batch's result and its summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class ValidationError:
    """One finding about one record: an error or, in ``warnings``, a warning.

    Parameters:
        path: JSONPath of the field the finding is about (``$.kWh``), or ``$`` for the record.
        message: What is wrong and, where it helps, what to do.
        code: Stable code (``OUT_OF_BOUNDS``, ...); see ``odse.validation.codes``.
        value: The offending value where there is one (not part of equality or repr).
    """

    path: str
    message: str
    code: str
    value: Any = field(default=None, repr=False, compare=False)

    @property
    def field(self) -> str | None:
        """Return the field name the path points at, or None for the record itself."""
        return self.path[2:] if self.path.startswith("$.") else None

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as plain data: path, code and message."""
        return {"path": self.path, "code": self.code, "message": self.message}


@dataclass(slots=True)
class ValidationResult:
    """The verdict on one record.

    Parameters:
        is_valid: True when ``errors`` is empty; warnings never make a record invalid.
        errors: Errors, in the order the checks run.
        warnings: Semantic warnings.
        level: The level that was asked for: ``schema`` or ``semantic``.
    """

    is_valid: bool
    errors: list[ValidationError] = field(default_factory=list)
    warnings: list[ValidationError] = field(default_factory=list)
    level: str = "schema"


@dataclass(slots=True)
class BatchValidationResult:
    """The verdict on many records.

    Parameters:
        total: Number of records checked.
        valid: Records without errors (warnings allowed).
        invalid: Records with at least one error; ``valid + invalid == total``.
        errors: ``(index, ValidationError)`` pairs, by record index (0-based, input order): a
            sequence that renders its messages when first read (``len()``, ``counts()`` and
            ``head(n)`` render none or few) and compares equal to the list of the pairs.
        summary: ``"V/T valid (level)"`` plus counts of errors and warnings by code.
        warnings: ``(index, ValidationError)`` pairs for semantic warnings, kept apart (the
            same kind of sequence as ``errors``).
        level: The level that was asked for.
        valid_mask: Arrow boolean array, True where the record is valid; filter an Arrow
            table with ``table.filter(result.valid_mask)``.
    """

    total: int
    valid: int
    invalid: int
    errors: Sequence[tuple[int, ValidationError]]
    summary: str
    warnings: Sequence[tuple[int, ValidationError]] = field(default_factory=list)
    level: str = "schema"
    valid_mask: Any = field(default=None, repr=False, compare=False)

    @property
    def invalid_indices(self) -> list[int]:
        """Return the indices of the invalid records, ascending."""
        return sorted({index for index, _ in self.errors})


def summarize(valid: int, total: int, level: str, errors: Iterable[ValidationError],
              warnings: Iterable[ValidationError]) -> str:
    """Render ``"V/T valid (level)"`` followed by counts by code when there are any.

    Example: ``"262/264 valid (semantic), 2 errors: 2x OUT_OF_BOUNDS; 5 warnings:
    5x EXCEEDS_PHYSICAL_MAXIMUM"``. Codes are listed alphabetically.
    """
    text = f"{valid}/{total} valid ({level})"
    error_counts = Counter(e.code for e in errors)
    warning_counts = Counter(w.code for w in warnings)
    if error_counts:
        text += ", " + _counts(error_counts, "error")
    if warning_counts:
        text += "; " + _counts(warning_counts, "warning")
    return text


def summary_of_counts(valid: int, total: int, level: str, errors: dict[str, int],
                      warnings: dict[str, int]) -> str:
    """Render the summary line from counts by code (as :func:`summarize` does from findings)."""
    text = f"{valid}/{total} valid ({level})"
    error_counts = Counter({k: v for k, v in errors.items() if v})
    warning_counts = Counter({k: v for k, v in warnings.items() if v})
    if error_counts:
        text += ", " + _counts(error_counts, "error")
    if warning_counts:
        text += "; " + _counts(warning_counts, "warning")
    return text


def _counts(counts: Counter[str], noun: str) -> str:
    n = sum(counts.values())
    by_code = ", ".join(f"{counts[code]}x {code}" for code in sorted(counts))
    return f"{n} {noun}{'' if n == 1 else 's'}: {by_code}"
