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

_started: dict[tuple[str, str, int], tuple[threading.Thread, list[Any]]] = {}


def start(input_path: str, spec_path: str) -> None:
    """Read the sheet ``spec_path`` names in ``input_path`` in the background, if it can."""
    path = Path(input_path)
    if path.suffix.lower() not in SUFFIXES or not path.is_file():
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
            reader = fastexcel.read_excel(str(path))
            names = list(reader.sheet_names)
            name = sheet if isinstance(sheet, str) else names[sheet]
            found.append((name, reader.load_sheet(name, header_row=row - 1)))
        except Exception:  # the usual reading reports the problem
            pass

    thread = threading.Thread(target=read, name="odse-sheet-prefetch", daemon=True)
    thread.start()
    _started[(os.path.realpath(path), str(sheet), row)] = (thread, found)


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
    return found[0][1]
