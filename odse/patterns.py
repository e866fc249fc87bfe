"""Regular expressions from specs and inputs, run by one engine: RE2, through pyarrow.compute.

RE2 matches in time linear in the text, so a pattern cannot be made to run for minutes by
the input it meets (Python's ``re`` backtracks: 13 s for a 27-character key against a
nested quantifier, doubling per character). RE2 has no lookaround and no backreferences;
a spec that uses them is refused when it is loaded, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

_UNSUPPORTED = (
    ("(?=", "lookahead (?=...)"), ("(?!", "negative lookahead (?!...)"),
    ("(?<=", "lookbehind (?<=...)"), ("(?<!", "negative lookbehind (?<!...)"),
)


def problem(pattern: object) -> str | None:
    """Return why RE2 cannot run ``pattern`` (None when it can)."""
    if not isinstance(pattern, str):
        return f"a regular expression must be text, got {type(pattern).__name__}"
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        detail = str(exc).replace("Invalid regular expression: ", "")
        for token, name in _UNSUPPORTED:
            if token in pattern:
                return f"{name} is not supported (patterns run on RE2, which matches in " \
                       "linear time and has no lookaround)"
        if "invalid escape sequence: \\" in detail and detail[-1:].isdigit():
            return "backreferences (\\1 ...) are not supported (patterns run on RE2, " \
                   "which matches in linear time)"
        return detail
    return None


def search(texts: Sequence[str], pattern: str) -> list[bool]:
    """Return, for each text, whether ``pattern`` matches somewhere in it (RE2)."""
    if not texts:
        return []
    found = pc.match_substring_regex(pa.array(list(texts), pa.string()), pattern)
    return [bool(v) for v in pc.fill_null(found, False).to_pylist()]
