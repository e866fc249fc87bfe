"""The lake folder: what is in it, which layout it has, and one writer at a time.

A lake at rest holds only partition folders and ``.parquet`` data files: no metadata, lock or
marker files, because polars refuses a folder that mixes file types and DuckDB's
``**/*.parquet`` glob reads every Parquet file, hidden or not. The layout (partition keys)
and the schema of an existing lake (every file has the same columns) are therefore read from
the lake itself: from one file's footer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from odse.errors import OdseError, OutputError
from odse.writers.targets import Location, io_error

DATA_SUFFIX = ".parquet"

try:  # POSIX advisory locks; released by the kernel when the writing process dies
    import fcntl
except ImportError:  # pragma: no cover - Windows: one writer at a time is the caller's job
    fcntl = None  # type: ignore[assignment]


def visible(name: str) -> bool:
    """True for names readers look at: not starting with ``.`` or ``_``."""
    return not name.startswith((".", "_"))


class Lake:
    """A lake root on some filesystem, with cached listings for one write."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self.fs = location.fs
        self.local = location.local
        self.root = os.path.realpath(location.path) if self.local else location.path.rstrip("/")
        self._listings: dict[str, tuple[set[str], set[str]] | None] = {}

    # paths ----------------------------------------------------------------------------------

    def path(self, rel: str, name: str = "") -> str:
        """Return the filesystem path of a partition folder (or a file in it)."""
        parts = [part for part in (*rel.split("/"), name) if part]
        if self.local:
            return os.path.join(self.root, *parts)
        return "/".join([self.root, *parts])

    # creation and listing -------------------------------------------------------------------

    def prepare(self) -> None:
        """Create the root folder; fail clearly if the path is a file."""
        try:
            info = self.fs.get_file_info(self.root)
            if info.type == pafs.FileType.File:
                raise OutputError(
                    "output path is a file; to_parquet writes a folder of Parquet files",
                    file=self.location.shown,
                    hint="Pass a folder path such as lake/energy/",
                )
            if info.type == pafs.FileType.NotFound:
                self.fs.create_dir(self.root, recursive=True)
        except OdseError:
            raise
        except OSError as exc:
            raise io_error("create the lake folder", self.location.shown, exc) from None

    def listing(self, rel: str) -> tuple[set[str], set[str]] | None:
        """Return (visible folders, visible data files) in a partition folder; None if absent."""
        if rel in self._listings:
            return self._listings[rel]
        parent, _, name = rel.rpartition("/")
        if rel:
            above = self.listing(parent)
            if above is None or name not in above[0]:
                self._listings[rel] = None
                return None
        result = self._list(self.path(rel))
        self._listings[rel] = result
        return result

    def _list(self, path: str) -> tuple[set[str], set[str]] | None:
        folders: set[str] = set()
        files: set[str] = set()
        if self.local:
            try:
                with os.scandir(path) as entries:
                    for entry in entries:
                        if not visible(entry.name):
                            continue
                        if entry.is_dir():
                            folders.add(entry.name)
                        elif entry.name.endswith(DATA_SUFFIX):
                            files.add(entry.name)
            except (FileNotFoundError, NotADirectoryError):
                return None
            return folders, files
        infos = self.fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        if not infos and self.fs.get_file_info(path).type != pafs.FileType.Directory:
            return None
        for info in infos:
            if not visible(info.base_name):
                continue
            if info.type == pafs.FileType.Directory:
                folders.add(info.base_name)
            elif info.base_name.endswith(DATA_SUFFIX):
                files.add(info.base_name)
        return folders, files

    def data_files(self, rel: str) -> list[str]:
        """Return the names of the data files in a partition folder, sorted."""
        found = self.listing(rel)
        return sorted(found[1]) if found else []

    def walk(self) -> list[tuple[str, str]]:
        """Return (partition folder, file name) for every data file in the lake, sorted."""
        found = []
        stack = [""]
        while stack:
            rel = stack.pop()
            listed = self.listing(rel)
            if listed is None:
                continue
            folders, files = listed
            found += [(rel, name) for name in files]
            stack += [f"{rel}/{name}" if rel else name for name in folders if "=" in name]
        return sorted(found)

    def exists(self, rel: str) -> bool:
        """True when a file exists at ``rel`` below the root (hidden names included)."""
        return self.fs.get_file_info(self.path(rel)).type == pafs.FileType.File

    def entries(self, rel: str) -> set[str]:
        """Return every entry name in a folder, hidden ones included."""
        path = self.path(rel)
        if self.local:
            try:
                return set(os.listdir(path))
            except FileNotFoundError:
                return set()
        infos = self.fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        return {info.base_name for info in infos}

    def forget(self, rel: str) -> None:
        """Drop the cached listings of a changed partition folder and of the folders above it."""
        while True:
            self._listings.pop(rel, None)
            if not rel:
                return
            rel = rel.rpartition("/")[0]

    # layout ---------------------------------------------------------------------------------

    def layout(self) -> tuple[list[str] | None, str | None]:
        """Return (partition keys, one data file) of the data already in the lake.

        The keys are None when the lake holds no data yet. Only one branch of folders is
        walked (empty branches left by an interrupted write are skipped), so this is cheap
        however large the lake is.
        """
        found_keys: list[str] | None = None
        stack: list[tuple[str, list[str]]] = [("", [])]
        visited = 0
        while stack and visited < 1000:
            rel, keys = stack.pop()
            visited += 1
            listed = self.listing(rel)
            if listed is None:
                continue
            folders, files = listed
            if files:
                return keys, self.path(rel, min(files))
            partition_folders = sorted((name for name in folders if "=" in name), reverse=True)
            if not partition_folders:
                if keys and (found_keys is None or len(keys) > len(found_keys)):
                    found_keys = keys
                continue
            for name in partition_folders:
                stack.append((f"{rel}/{name}" if rel else name, [*keys, name.split("=", 1)[0]]))
        return found_keys, None

    # reading --------------------------------------------------------------------------------

    def read_schema(self, path: str) -> pa.Schema:
        """Return the Arrow schema stored in a data file's footer."""
        try:
            return pq.read_schema(path, filesystem=None if self.local else self.fs)
        except (OSError, pa.ArrowInvalid) as exc:
            raise OutputError(
                f"cannot read the existing lake file: {exc}", file=path,
                hint="Repair or remove the damaged file, or write to another path",
            ) from None

    def read_metadata(self, path: str) -> pq.FileMetaData:
        """Return a data file's footer (schema and row count)."""
        try:
            return pq.read_metadata(path, filesystem=None if self.local else self.fs)
        except (OSError, pa.ArrowInvalid) as exc:
            raise OutputError(
                f"cannot read the existing lake file: {exc}", file=path,
                hint="Repair or remove the damaged file, or write to another path",
            ) from None

    def read_table(self, path: str) -> pa.Table:
        """Read one data file."""
        try:
            # ParquetFile reads one file without pyarrow.dataset's discovery (4x faster); a
            # partition file is small and partitions are read in parallel already, so one
            # thread per file saves pyarrow's per-column task overhead
            parquet = pq.ParquetFile(path, filesystem=None if self.local else self.fs)
            return parquet.read(use_threads=False)
        except (OSError, pa.ArrowInvalid) as exc:
            raise OutputError(
                f"cannot read the existing lake file: {exc}", file=path,
                hint="Repair or remove the damaged file, or write to another path",
            ) from None

    # one writer at a time -------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[Any]:
        """Hold an exclusive lock on the lake for the duration of a write (local lakes)."""
        if not self.local or fcntl is None:
            yield None
            return
        handle = os.open(self.root, os.O_RDONLY)
        try:
            # Locking the root folder itself needs no lock file in the lake. Another odse
            # write waits here; a crashed one holds nothing (the kernel drops its lock).
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield handle
        finally:
            os.close(handle)
