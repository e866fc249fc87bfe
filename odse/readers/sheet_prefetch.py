"""Start reading a workbook sheet before the engine has loaded, for the command line.

``odse transform -i book.xlsx -m spec.yaml`` spends a third of a second importing pyarrow and
the engine and compiling the spec before the sheet is read; fastexcel reads a sheet without
holding the GIL. When the spec is a workbook spec with a fixed header row and a sheet given
by name or position, :func:`start` reads that sheet in a thread meanwhile, and
:func:`workbook_input.read_sheet <odse.readers.workbook_input.read_sheet>` takes the result
when it asks for the same file, sheet and header row (anything else, and the sheet is read
as usual). Best effort: any doubt or failure here only means no head start.

Imports nothing heavy (this runs before pyarrow loads); the spec is read again, properly,
by the mapping loader.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
TYPED: dict[str, Any] = {"schema_sample_rows": None, "dtype_coercion": "strict"}
"""fastexcel's typed reading as the workbook reader asks for it (defined here so that this
module stays light): each column's type from all its cells, and a column of numbers and
booleans (or dates) an error, not booleans read as 1.0."""

_started: dict[tuple[str, str, int], tuple[threading.Thread, list[Any]]] = {}


def start(input_path: str, spec_path: str) -> None:
    """Read the sheet ``spec_path`` names in ``input_path`` in the background, if it can."""
    path = Path(input_path)
    try:
        if path.suffix.lower() not in SUFFIXES or not path.is_file():
            return
    except OSError:
        return
    try:
        import yaml

        spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8-sig")[:65536])
        settings: Any = spec["workbook"] if spec.get("format") == "workbook" else {}
        header = settings.get("header") or {}
        row, sheet = header.get("row"), settings.get("sheet", 0)
    except Exception:  # not a spec this shortcut understands
        return
    if not isinstance(row, int) or isinstance(row, bool) or row < 1 or \
            not isinstance(sheet, (str, int)) or isinstance(sheet, bool):
        return
    try:
        import fastexcel
    except ImportError:
        return  # the reader says which extra to install
    found: list[Any] = []

    def read() -> None:
        try:
            stamp = _stamp(path)
            reader = fastexcel.read_excel(str(path))
            names = list(reader.sheet_names)
            name = sheet if isinstance(sheet, str) else names[sheet]
            found.append((name, stamp, reader.load_sheet(name, header_row=row - 1, **TYPED)))
        except BaseException:  # also a Rust panic: the usual reading reports it
            pass

    thread = threading.Thread(target=read, name="odse-sheet-prefetch", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # no thread to be had: no head start
        return
    _started[(os.path.realpath(path), str(sheet), row)] = (thread, found)


def _stamp(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def take(path: Path | None, sheet: Any, name: str, header: int) -> Any:
    """Return the sheet read ahead for this file, sheet setting and header row (a fastexcel
    sheet), or None."""
    if path is None or not _started:
        return None
    entry = _started.pop((os.path.realpath(path), str(sheet), header), None)
    if entry is None:
        return None
    thread, found = entry
    thread.join()
    if not found or found[0][0] != name:
        return None
    _, stamp, sheet_read = found[0]
    try:
        if _stamp(Path(path)) != stamp:
            return None   # the file changed since: read it again
    except OSError:
        return None
    return sheet_read
