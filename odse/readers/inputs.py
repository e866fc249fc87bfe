"""What a caller hands to ``transform``: a path, raw text, bytes or a file object.

A ``str`` is a path unless it holds a line break or starts like JSON (``{`` or ``[``); a
path that does not exist is an error, never silently read as data. Gzip input (``.gz`` or
gzip magic bytes) is decompressed while reading.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.fs as pafs

from odse import limits
from odse.errors import InputError, InputNotFoundError
from odse.filesystems import from_uri, is_uri

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 1 << 16


@dataclass
class InputData:
    """One input, readable many times (to sniff its shape, then to stream it)."""

    name: str
    path: Path | None = None
    content: bytes | None = None
    gzip: bool = False
    spooled: bool = False           # a copy of a pipe in a temporary file
    sha256: str | None = None       # of the bytes as stored, when computed while copying
    limits: limits.Limits = field(default_factory=limits.current)
    """The limits in force when the input was opened (they go with it into a stream)."""
    depth_checked: bool = False
    """Set once its JSON nesting was measured (a document may be parsed twice)."""

    @classmethod
    def of(cls, data: Any) -> InputData:
        """Wrap a path (str or Path), raw text, bytes or a binary/text file object."""
        if isinstance(data, InputData):
            return data
        if isinstance(data, os.PathLike):
            return cls._from_path(Path(data))
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
            return cls("<bytes>", content=raw, gzip=raw[:2] == _GZIP_MAGIC,
                       sha256=hashlib.sha256(raw).hexdigest())
        if isinstance(data, str):
            stripped = data.lstrip("\ufeff \t\r\n")
            if "\n" in data or "\r" in data or stripped[:1] in ("{", "["):
                raw = data.encode("utf-8")
                return cls("<text>", content=raw, sha256=hashlib.sha256(raw).hexdigest())
            if not data.strip():
                raise InputError("the input is empty text", code="INPUT_EMPTY",
                                 hint="Pass a file path or the file's contents")
            if is_uri(data):
                return cls._from_uri(data)
            return cls._from_path(Path(data))
        if hasattr(data, "read"):
            name = getattr(data, "name", None)
            label = str(name) if isinstance(name, str) else "<stream>"
            if _is_pipe(data):
                # a pipe (stdin) is copied to a temporary file in chunks, so that it streams
                # in bounded memory like a file on disk
                return cls._spooled(data, label)
            raw = data.read()
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            return cls(label, content=raw, gzip=raw[:2] == _GZIP_MAGIC,
                       sha256=hashlib.sha256(raw).hexdigest())
        raise InputError(
            f"cannot read input of type {type(data).__name__}", code="INPUT_TYPE",
            hint="Pass a file path (str or pathlib.Path), the file's text, or bytes")

    @classmethod
    def _spooled(cls, stream: Any, label: str) -> InputData:
        spool = tempfile.NamedTemporaryFile(prefix="odse-", suffix=".input", delete=False)  # noqa: SIM115
        digest = hashlib.sha256()
        with spool:
            while True:
                chunk = stream.read(1 << 20)
                if not chunk:
                    break
                raw = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
                digest.update(raw)
                spool.write(raw)
        data = cls._from_path(Path(spool.name))
        data.name = label
        data.spooled = True
        data.sha256 = digest.hexdigest()
        weakref.finalize(data, _remove, spool.name)
        return data

    @classmethod
    def _from_uri(cls, uri: str) -> InputData:
        """A file in a filesystem named by URI (``s3://``, ``gs://``, ``abfs://``,
        ``file://``): copied to a local temporary file in chunks, then read like one."""
        try:
            fs, path = from_uri(uri)
            info = fs.get_file_info(path)
        except (ValueError, OSError) as exc:
            raise InputError(f"cannot open {uri}: {exc}", code="INPUT_URI", file=uri,
                             hint="Check the URI and the store's settings (for S3: "
                                  "AWS_PROFILE or AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL)"
                             ) from None
        if isinstance(fs, pafs.LocalFileSystem):
            data = cls._from_path(Path(path))
            data.name = uri
            return data
        if info.type == pafs.FileType.NotFound:
            raise InputNotFoundError(f"file not found: {uri}", file=uri,
                                     hint="Check the path and that the file was delivered")
        if info.type == pafs.FileType.Directory:
            raise InputError(f"{uri} is a directory, not a file", code="INPUT_IS_DIRECTORY",
                             file=uri, hint="Pass one file at a time")
        try:
            stream = fs.open_input_stream(path)
        except OSError as exc:
            raise InputError(f"cannot read {uri}: {exc}", file=uri) from None
        with stream:
            data = cls._spooled(stream, uri)
        return data

    @classmethod
    def _from_path(cls, path: Path) -> InputData:
        if not path.exists():
            raise InputNotFoundError(f"file not found: {path}", file=str(path),
                                     hint="Check the path and that the file was delivered")
        if path.is_dir():
            raise InputError(f"{path} is a directory, not a file", code="INPUT_IS_DIRECTORY",
                             file=str(path), hint="Pass one file at a time")
        with open(path, "rb") as fh:
            magic = fh.read(2)
        return cls(str(path), path=path, gzip=magic == _GZIP_MAGIC)

    def head(self, size: int = HEAD_BYTES) -> bytes:
        """Return the first ``size`` bytes (decompressed)."""
        if self.content is not None:
            raw = self.content
            if self.gzip:
                with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                    return fh.read(size)
            return raw[:size]
        assert self.path is not None
        try:
            opener = gzip.open if self.gzip else open
            with opener(self.path, "rb") as fh:
                return fh.read(size)
        except InputError:
            raise
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc}", file=str(self.path)) from None

    def read_all(self) -> bytes:
        """Return the whole input (decompressed)."""
        if self.content is not None and not self.gzip:
            return self.content
        assert self.path is not None or self.content is not None
        try:
            if self.gzip:
                with self.open_lines() as fh:
                    return fh.read()
            assert self.path is not None
            return self.path.read_bytes()
        except InputError:
            raise
        except OSError as exc:
            raise InputError(f"cannot read {self.path}: {exc}", file=str(self.path)) from None

    def open_at(self, offset: int) -> pa.NativeFile | IO[bytes]:
        """Return a binary stream positioned ``offset`` bytes into the (decompressed) input."""
        if self.content is not None and not self.gzip:
            stream = pa.BufferReader(self.content)
            stream.seek(offset)
            return stream
        if self.path is not None and not self.gzip:
            # A Python file object, not pa.OSFile: Arrow reads a random-access file ahead
            # without bound (the whole file), a plain stream one block at a time.
            fh = open(self.path, "rb")  # noqa: SIM115 - the caller closes the stream
            fh.seek(offset)
            return pa.PythonFile(fh, mode="r")
        source = pa.BufferReader(self.content) if self.content is not None \
            else pa.OSFile(str(self.path), "rb")
        stream = pa.PythonFile(GzipBound(pa.CompressedInputStream(source, "gzip"), self),
                               mode="r")
        remaining = offset
        while remaining:
            chunk = stream.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
        return stream

    def open_lines(self) -> IO[bytes]:
        """Return a Python binary file over the (decompressed) input, for reading by line."""
        if self.content is not None:
            raw: IO[bytes] = io.BytesIO(self.content)
            if not self.gzip:
                return raw
            return io.BufferedReader(GzipBound(gzip.GzipFile(fileobj=raw), self), 1 << 20)
        assert self.path is not None
        if not self.gzip:
            return open(self.path, "rb")
        return io.BufferedReader(GzipBound(gzip.open(self.path, "rb"), self), 1 << 20)

    def decompressed_limit(self) -> int:
        """Bytes a gzip input may expand to: the gzip_ratio limit times its size, or the
        gzip_floor limit when that is more."""
        return max(self.limits.gzip_floor, self.limits.gzip_ratio * (self.size or 0))

    def plain_size(self) -> int | None:
        """Size in bytes once decompressed: the size for plain input; for gzip the size its
        trailer records (modulo 2**32, so read as the smallest value not below the stored
        size; a file of several gzip members records its last member's only)."""
        size = self.size
        if not self.gzip or not size or size < 18:
            return size
        try:
            if self.content is not None:
                tail = self.content[-4:]
            else:
                assert self.path is not None
                with open(self.path, "rb") as fh:
                    fh.seek(-4, os.SEEK_END)
                    tail = fh.read(4)
        except OSError:
            return None
        plain = int.from_bytes(tail, "little")
        while plain < size:
            plain += 1 << 32
        return plain

    @property
    def size(self) -> int | None:
        """Size in bytes as stored (compressed size for gzip), when known."""
        if self.content is not None:
            return len(self.content)
        return self.path.stat().st_size if self.path else None


class StreamFilter(io.RawIOBase):
    """A raw binary stream that reads another one through ``read`` (which subclasses give);
    closing it closes the stream it reads."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self.stream.close()
        super().close()


class GzipBound(StreamFilter):
    """A decompressing stream that stops with a LimitError past the input's allowance, so
    that a small file that expands a thousandfold (a "gzip bomb") cannot fill memory or
    keep the machine busy."""

    def __init__(self, stream: Any, data: InputData) -> None:
        super().__init__(stream)
        self.data = data
        self.allowed = data.decompressed_limit()
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.allowed - self.done + 1
        chunk = self.stream.read(min(size, self.allowed - self.done + 1))
        self.done += len(chunk)
        if self.done > self.allowed:
            size_text = f"{self.data.size:,}" if self.data.size is not None else "?"
            with limits.override(**{k: getattr(self.data.limits, k)
                                    for k in ("gzip_ratio", "gzip_floor")}):
                raise limits.exceeded(
                    "gzip_ratio", f"{self.data.name} expands past {self.allowed:,} bytes from "
                    f"{size_text} compressed", file=self.data.name)
        return chunk


def release(reader: Any) -> None:
    """Stop an Arrow streaming reader now, not at interpreter exit: its read-ahead threads
    call back into Python (a PythonFile), which aborts the process once Python is gone."""
    if reader is not None:
        with contextlib.suppress(Exception):
            reader.close()


def _is_pipe(stream: Any) -> bool:
    try:
        return not stream.seekable() and stream.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def sniff_format(head: bytes) -> str:
    """Return ``json``, ``jsonl`` or ``csv`` from the first bytes of an input."""
    text = head[len(_BOM):] if head.startswith(_BOM) else head
    stripped = text.lstrip()
    if stripped[:1] == b"[":
        return "json"
    if stripped[:1] == b"{":
        lines = [ln for ln in stripped.splitlines() if ln.strip()]
        if len(lines) > 1 and lines[0].rstrip().endswith(b"}") and lines[1].lstrip()[:1] == b"{":
            return "jsonl"
        return "json"
    return "csv"
