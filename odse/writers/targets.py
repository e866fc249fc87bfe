"""Where output goes: local paths, filesystem URIs, open files; and writing one file atomically.

A target is a local path (``str`` or ``os.PathLike``), a URI that ``pyarrow.fs`` understands
(``file:///...``, ``s3://bucket/key``, ``gs://...``, ``hdfs://...``) or, with ``filesystem=``, a
path inside that ``pyarrow.fs.FileSystem``. Single files are written beside the target under a
hidden temporary name and renamed over it at the end, so a reader sees the old file or the new
one, never half of one. A temporary left by a killed write is removed by the next write of the
same file (local: when its process is gone; remote: when it is a day old).
"""

from __future__ import annotations

import io
import os
import posixpath
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from odse.errors import OdseError, OutputError
from odse.filesystems import from_uri, is_uri

OBJECT_STORES = frozenset({"s3", "gcs", "abfs"})
STALE_REMOTE_SECONDS = 24 * 3600
TEMP_MARK = ".odse-"


@dataclass(frozen=True)
class Location:
    """A resolved output location: a filesystem and a path inside it."""

    fs: pafs.FileSystem
    path: str
    shown: str

    @property
    def local(self) -> bool:
        """True when the path is on this machine's filesystem."""
        return isinstance(self.fs, pafs.LocalFileSystem)

    @property
    def object_store(self) -> bool:
        """True for stores where a written object appears whole and renames are copies."""
        return self.fs.type_name in OBJECT_STORES

    def join(self, *parts: str) -> str:
        """Return a path below this location."""
        parts = tuple(part for part in parts if part)
        if self.local:
            return os.path.join(self.path, *parts)
        return posixpath.join(self.path, *parts)


def resolve(target: Any, filesystem: pafs.FileSystem | None = None) -> Location:
    """Resolve a path, URI or (path, filesystem) pair to a :class:`Location`.

    target: a local path, ``os.PathLike`` or URI such as ``file:///data/x`` or ``s3://b/k``.
    filesystem: a ``pyarrow.fs.FileSystem`` in which ``target`` is a path.
    """
    if filesystem is not None:
        if not isinstance(filesystem, pafs.FileSystem):
            raise OutputError(
                f"filesystem must be a pyarrow.fs.FileSystem; got {type(filesystem).__name__}",
                code="BAD_TARGET", hint="Pass e.g. pyarrow.fs.S3FileSystem(...) or leave it out",
            )
        path = os.fspath(target)
        if isinstance(filesystem, pafs.LocalFileSystem):
            path = os.path.abspath(path)
        return Location(filesystem, path, os.fspath(target))
    try:
        text = os.fspath(target)
    except TypeError:
        raise OutputError(
            f"output path must be a path or URI; got {type(target).__name__}",
            code="BAD_TARGET", hint="Pass a str or pathlib.Path, or an s3:// (or file://) URI",
        ) from None
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text:
        raise OutputError("output path is empty", code="BAD_TARGET",
                          hint="Pass the file or folder to write")
    if is_uri(text):
        try:
            fs, path = from_uri(text)
        except ValueError as exc:
            raise OutputError(
                f"cannot open output URI '{text}': {exc}", code="BAD_TARGET", file=text,
                hint="Use a local path or a URI that pyarrow.fs understands "
                     "(file://, s3://, gs://, abfs://, hdfs://); see docs/output.md",
            ) from None
        if isinstance(fs, pafs.LocalFileSystem):
            path = os.path.abspath(path)
        return Location(fs, path, text)
    return Location(pafs.LocalFileSystem(), os.path.abspath(text), text)


def is_file_object(target: Any) -> bool:
    """True when ``target`` is an open, writable file object rather than a path."""
    return hasattr(target, "write") and not isinstance(target, (str, bytes, os.PathLike))


def io_error(action: str, shown: str, exc: BaseException) -> OutputError:
    """Wrap an operating-system error in an :class:`OutputError` that says what to check."""
    reason = getattr(exc, "strerror", None) or str(exc)
    return OutputError(
        f"cannot {action}: {reason}", file=shown,
        hint="Check that the folder exists or can be created, is writable, and has free space",
    )


class _TextSink:
    """Adapt a text stream (``sys.stdout``, ``io.StringIO``) to the bytes writers produce."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: Any) -> None:
        self._stream.write(bytes(data).decode("utf-8"))


class _WholeWrites:
    """Write all of every block to a binary file object.

    A buffered stream may take only part of a large block (a pipe whose reader went away
    mid-write takes what fitted); writing the rest either finishes the block or raises.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        while len(view):
            written = self._stream.write(view)
            if written is None or written >= len(view):
                return
            view = view[written:]


@contextmanager
def open_sink(target: Any, filesystem: pafs.FileSystem | None = None,
              ) -> Iterator[tuple[Any, Location | None]]:
    """Open the destination of a single-file writer; yield (writable, location).

    A path or URI is written atomically (temporary file, then rename); an open file object
    is written directly and left open, and its location is None.
    """
    if is_file_object(target):
        if isinstance(target, io.TextIOBase):
            buffer = getattr(target, "buffer", None)
            yield (_WholeWrites(buffer) if buffer is not None else _TextSink(target)), None
            if buffer is not None:
                buffer.flush()
        else:
            yield _WholeWrites(target), None
        return
    location = resolve(target, filesystem)
    with atomic_file(location) as stream:
        yield stream, location


@contextmanager
def atomic_file(location: Location) -> Iterator[pa.NativeFile]:
    """Write one file by writing a hidden temporary beside it and renaming it over the target."""
    fs, path = location.fs, location.path
    parent, name = _split(location, path)
    try:
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.Directory:
            raise OutputError(
                "output path is a folder; this writer writes one file", file=location.shown,
                hint="Pass a file path such as out/records.jsonl",
            )
        if parent:
            fs.create_dir(parent, recursive=True)
        remove_stale_temps(location, parent, f".{name}{TEMP_MARK}")
        temp = _join(location, parent, f".{name}{temp_suffix()}")
        stream = fs.open_output_stream(temp)
    except OdseError:
        raise
    except OSError as exc:
        raise io_error("create the output file", location.shown, exc) from None
    try:
        yield stream
        stream.close()
        from odse.writers.commit import active_group

        group = active_group()
        if group is not None:
            group.stage(fs, temp, path, location.shown)   # renamed with the run's others
        else:
            fs.move(temp, path)
    except BaseException as exc:
        if not stream.closed:
            stream.close()
        _silent_delete(fs, temp)
        if isinstance(exc, OSError) and not isinstance(exc, OdseError):
            raise io_error("write the output file", location.shown, exc) from None
        raise


def temp_suffix(ext: str = ".tmp") -> str:
    """Return a unique temporary-name suffix that records the writing process."""
    return f"{TEMP_MARK}{os.getpid()}-{int(time.time())}-{secrets.token_hex(4)}{ext}"


def remove_stale_temps(location: Location, folder: str, prefix: str) -> None:
    """Delete temporaries named ``prefix...`` in ``folder`` that no live write owns."""
    fs = location.fs
    try:
        infos = fs.get_file_info(pafs.FileSelector(folder or "/", allow_not_found=True))
    except OSError:
        return
    for info in infos:
        name = info.base_name
        if name.startswith(prefix) and name.endswith(".tmp") and is_stale(location, info):
            _silent_delete(fs, info.path, directory=info.type == pafs.FileType.Directory)


def is_stale(location: Location, info: pafs.FileInfo) -> bool:
    """True when a temporary's writer is gone: its process has exited (local) or it is old."""
    if location.local and sys.platform != "win32":
        pid = _pid_of(info.base_name)
        return pid is not None and pid != os.getpid() and not _alive(pid)
    # (on Windows os.kill would terminate the process instead of probing it)
    mtime = info.mtime_ns
    return mtime is not None and time.time() - mtime / 1e9 > STALE_REMOTE_SECONDS


def _pid_of(name: str) -> int | None:
    try:
        return int(name.split(TEMP_MARK, 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - e.g. platforms without signal 0
        return True
    return True


def _split(location: Location, path: str) -> tuple[str, str]:
    if location.local:
        return os.path.split(path)
    return posixpath.split(path)


def _join(location: Location, folder: str, name: str) -> str:
    if location.local:
        return os.path.join(folder, name)
    return posixpath.join(folder, name) if folder else name


def _silent_delete(fs: pafs.FileSystem, path: str, directory: bool = False) -> None:
    try:
        if directory:
            fs.delete_dir(path)
        else:
            fs.delete_file(path)
    except OSError:
        pass
