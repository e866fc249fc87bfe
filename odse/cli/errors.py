"""How the command line reports failures: ``Error:`` lines on stderr and the exit codes.

Exit codes (``odse docs cli``):

* 0 success;
* 1 data failed: records failed validation, a mapping's examples failed, or ``--strict`` met a
  rejected row;
* 2 bad usage, unknown source, bad parameter or bad mapping;
* 3 input or output failure (a missing or unreadable input, an output that cannot be written);
* 70 internal error (a bug in odse: ``EX_SOFTWARE`` of ``sysexits.h``);
* 130 interrupted (Ctrl-C); 141 stdout closed by the reader (``odse ... | head``), as a
  shell tool killed by SIGPIPE reports it.

An expected failure is an :class:`odse.errors.OdseError`: it is printed as one ``Error:``
message that says what to do, never as a traceback. Anything else is an internal error: its
traceback is printed only with ``odse --debug`` or ``ODSE_DEBUG=1``.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any, NoReturn

import click

from odse import __version__

OK = 0
DATA_FAILED = 1
USAGE = 2
IO_FAILURE = 3
INTERNAL = 70
INTERRUPTED = 130
BROKEN_PIPE = 141

DEBUG_ENV = "ODSE_DEBUG"
ISSUES_FALLBACK = "the odse issue tracker (pip show odse names the project's home)"

_FACT_ORDER = ("file", "line", "key_path", "source", "variant", "row", "location", "column",
               "field", "value")

# The engine's hints name Python arguments (mapping=..., source=...); on the command line the
# same advice names flags. Keyed by the error's code.
CLI_HINTS: dict[str, str] = {
    "MAPPING_REQUIRED": "Give the columns with --column-map timestamp=COLUMN,kWh=COLUMN, or a "
                        "mapping file with --mapping FILE",
    "NO_SOURCE": "Give --source NAME (list them with: odse sources), --mapping FILE or "
                 "--column-map timestamp=COLUMN,kWh=COLUMN",
    "MAPPING_TWICE": "Use --source NAME alone for a built-in source; use --mapping FILE or "
                     "--column-map alone (or with --source csv) for your own mapping",
}

# Codes whose class's exit code does not fit the command line's view of them.
CLI_EXIT_CODES: dict[str, int] = {
    "PARTITION_INVALID": USAGE,  # a --partition-by the records cannot provide
}


def debug_enabled(ctx: click.Context | None = None) -> bool:
    """Return True when tracebacks are wanted (``--debug`` or ``ODSE_DEBUG``)."""
    root = ctx.find_root() if ctx is not None else None
    if root is not None and isinstance(root.obj, dict) and root.obj.get("debug"):
        return True
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def render(exc: Any) -> str:
    """Render an :class:`~odse.errors.OdseError` for the command line (without ``Error:``).

    Like ``str(exc)``, but facts that the message already states are not repeated, and hints
    that name Python arguments are replaced by the command line's flags.
    """
    from odse.errors import TransformError

    message = str(exc.message).rstrip()
    hint = CLI_HINTS.get(getattr(exc, "code", ""), getattr(exc, "hint", None))
    if isinstance(exc, TransformError):  # only raised under --strict
        message = f"a row was rejected and --strict stops at the first: {message}"
        hint = ("Fix the input, or drop --strict to write the good rows and list the "
                "rejected ones with --rejects FILE")
    facts = dict(getattr(exc, "facts", {}) or {})
    prefix = ""
    if facts.get("file") is not None and facts.get("line") is not None:
        # compiler style, which editors and terminals turn into links: file:line: message
        prefix = f"{facts.pop('file')}:{facts.pop('line')}: "
    where = _where({k: v for k, v in facts.items()
                    if not (isinstance(v, str) and v and v in message)})
    text = f"{prefix}{message} ({where})" if where else f"{prefix}{message}"
    if hint:
        text = f"{text}{'' if text.endswith('.') else '.'} {hint}"
    return text


def _where(facts: dict[str, Any]) -> str:
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


def exit_code_of(exc: Any) -> int:
    """Return the exit code for an expected failure."""
    code = CLI_EXIT_CODES.get(getattr(exc, "code", ""))
    return code if code is not None else int(getattr(exc, "exit_code", USAGE))


def echo_error(text: str) -> None:
    """Print ``Error: text`` on stderr."""
    click.echo(f"Error: {text}", err=True)


def fail(text: str, code: int = USAGE) -> NoReturn:
    """Print ``Error: text`` on stderr and stop with ``code``."""
    echo_error(text)
    raise click.exceptions.Exit(code)


def internal_error(exc: BaseException, debug: bool) -> int:
    """Report an unexpected exception; return the exit code."""
    detail = str(exc).strip().splitlines()
    first = detail[0] if detail else ""
    echo_error(f"internal error: {type(exc).__name__}{': ' + first if first else ''}")
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    else:
        click.echo(f"This is a bug in odse {__version__}. Please report it at {issues_url()} "
                   "with the command you ran and its traceback: run it again as "
                   f"'odse --debug COMMAND ...' (or with {DEBUG_ENV}=1).", err=True)
    return INTERNAL


def issues_url() -> str:
    """Return the issue tracker's address from the installed package's metadata.

    One source of truth: ``[project.urls] Issues`` in pyproject.toml, as installed.
    """
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        urls = metadata("odse").get_all("Project-URL") or []
    except (ImportError, PackageNotFoundError):
        return ISSUES_FALLBACK
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("issues", "bug tracker", "tracker") and url.strip():
            return url.strip()
    return ISSUES_FALLBACK


def silence_stdout() -> None:
    """Point stdout at /dev/null after the reader closed the pipe, so exit flushes quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests): nothing to do
        pass
