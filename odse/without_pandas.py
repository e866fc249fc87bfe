"""Tell pyarrow, in a process odse owns, that pandas is not installed.

pyarrow imports pandas (a quarter of a second) the first time it turns a Python list into
an array, only to ask whether the list is a pandas object. The command line's process never
hands pandas objects to Arrow, so it blocks the import while it runs, and so do the workers
of an ``odse run`` in a process started as the command line: their fork server imports
``odse.pipeline.pandas_blocked`` first. A library caller's process, and the workers of a
pipeline it runs (which run the caller's main module again and share the fork server with
the caller's own pools), are left alone.
"""

from __future__ import annotations

import sys
from typing import Any


class NoPandas:
    """An import finder that refuses ``pandas`` (a ``find_spec`` is all ``sys.meta_path``
    asks of a finder; ``importlib.abc`` is not imported for its base class: it costs the
    command line's start 15 ms)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("this odse process does without pandas", name=name)


def block() -> None:
    """Refuse ``import pandas`` from now on (unless pandas is loaded already), until
    :func:`allow`."""
    if "pandas" not in sys.modules:
        sys.meta_path.insert(0, NoPandas())


def allow() -> None:
    """Let this process import pandas again (when the command line returns; and for
    ``odse run --engine spark``: pyspark's Arrow functions need it on the driver)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, NoPandas)]


def blocked() -> bool:
    """True while this process refuses ``import pandas`` (:func:`block` is in force)."""
    return any(isinstance(finder, NoPandas) for finder in sys.meta_path)


def process_is_the_command_line() -> bool:
    """True when this process was started as odse's command line (the ``odse`` script or
    ``python -m odse``), so no code but odse's runs in it. ``odse.cli.main()`` called from a
    caller's own program (a notebook, a test) is not: its pools may serve the caller later."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None) == "odse.__main__":
        return True
    name = str(getattr(main, "__file__", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name in ("odse", "odse.exe", "odse-script.py")
