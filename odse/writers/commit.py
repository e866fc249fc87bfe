"""Atomic commit of a partition: the lake shows a partition's old rows or its new rows, never a mix.

Every new partition file is written completely somewhere readers do not look (the *staging*
folder), then moved into place with one rename:

* new partition folders: build them, with their files, in a staging tree that mirrors the
  lake, and rename the top-most new folder into the lake (one rename publishes a new asset,
  month or day, with all the partitions below it);
* append to an existing partition, or a first file in an existing empty folder: rename the
  staged file into the partition folder under a fresh name (``part-00000.parquet`` for a
  partition's first file, ``part-<write id>.parquet`` after);
* merge or overwrite of a partition holding one file: rename the staged file over that file
  (rename replaces its target atomically);
* merge or overwrite of a partition holding several files (after appends): build the new
  folder in staging and swap it with the partition folder in one system call
  (``renameat2(RENAME_EXCHANGE)`` on Linux, ``renamex_np(RENAME_SWAP)`` on macOS), then delete
  the old folder, now in staging.

Staging is a hidden folder beside the lake root (``.<root name>.odse-<write id>``), on the same
filesystem, so that nothing in-flight is ever inside the lake: DuckDB's ``**/*.parquet`` glob
and polars' folder scan read every file under the root, hidden or not. Where the folder
beside the root cannot be used (the root is a mount point, its parent is read-only, or the
lake is not on the local filesystem) staging is ``<root>/.odse-tmp-<write id>`` with
temporary names ending in ``.tmp``; a partition of several files is then replaced by renaming
the new file over the first old file and deleting the others, with a journal so that the
next write finishes the deletions if the process dies in between (the only case where a
crash can leave duplicate rows visible until the next write).

A killed write leaves its staging folder behind; the next write of the same lake removes it
(local lakes: under the lake lock, so it is certainly dead; other filesystems: when it is a
day old), finishing any journalled replacement first.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import errno
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pyarrow.fs as pafs

from odse.errors import OdseError, OutputError
from odse.writers.lake import Lake
from odse.writers.targets import STALE_REMOTE_SECONDS, io_error

FIRST_FILE = "part-00000.parquet"
STAGING_MARK = ".odse-"
INSIDE_PREFIX = ".odse-tmp-"

_HOOK: Callable[[str], None] | None = None
"""Private test hook: called with the name of each commit step (``"staged"``,
``"committed"``, ``"swapped"``, ``"replaced"``). Tests set it in a child process to kill the
process at an exact step and check that the lake still reads back whole."""


def _checkpoint(step: str) -> None:
    if _HOOK is not None:
        _HOOK(step)


def new_write_id() -> str:
    """Return a unique id for one write; ids sort by start time."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now))
    return f"{stamp}{int(now % 1 * 1e6):06d}-{secrets.token_hex(3)}"


@dataclass
class Change:
    """A partition's prepared new content, waiting to be committed."""

    rel: str
    staged: str
    name: str
    replace: list[str]
    branch: str | None = None
    """Set when the partition folder is new: the top-most folder of its path that the lake
    lacks. The staged file then already sits at its final place in the staging tree, and
    the whole branch is published by :meth:`Staging.commit_branch`."""


class Staging:
    """The hidden folder where one write prepares files, and the moves that publish them."""

    def __init__(self, lake: Lake, write_id: str) -> None:
        self.lake = lake
        self.write_id = write_id
        self.fs = lake.fs
        self._count = 0
        self._markers: list[str] = []
        self.outside = False
        self.dir = ""
        if lake.local:
            self._make_local()
        else:
            self.dir = lake.path("", INSIDE_PREFIX + write_id)
            try:
                self.fs.create_dir(self.dir, recursive=True)
            except OSError as exc:
                raise io_error("create the staging folder", lake.location.shown, exc) from None

    def _make_local(self) -> None:
        root = self.lake.root
        parent, name = os.path.split(root)
        beside = os.path.join(parent, f".{name}{STAGING_MARK}{self.write_id}")
        try:
            os.mkdir(beside)
            if os.stat(beside).st_dev == os.stat(root).st_dev:
                self.dir, self.outside = beside, True
                return
            os.rmdir(beside)
        except OSError:
            pass
        self.dir = os.path.join(root, INSIDE_PREFIX + self.write_id)
        try:
            os.mkdir(self.dir)
        except OSError as exc:
            raise io_error("create the staging folder", self.lake.location.shown, exc) from None

    # paths ----------------------------------------------------------------------------------

    def new_path(self, kind: str = "f") -> str:
        """Return a fresh staging path for a file (named ``*.tmp``, which no reader reads)."""
        self._count += 1
        name = f".{kind}{self._count:06d}.tmp"
        if self.lake.local:
            return os.path.join(self.dir, name)
        return f"{self.dir}/{name}"

    def tree_path(self, rel: str, name: str = "") -> str:
        """Return the place of a partition folder (or file) in the staging tree.

        The tree mirrors the lake's layout; a branch of new partition folders is built here
        and published with one rename. Only for staging outside the root: files in the tree
        have their final names, which readers inside the lake would read.
        """
        if not self.outside:
            raise AssertionError("a staging tree needs staging outside the lake root")
        return os.path.join(self.dir, "tree", *[part for part in rel.split("/") if part], name)

    @property
    def filesystem(self) -> pafs.FileSystem | None:
        """The filesystem to pass to pyarrow for staging paths (None for local paths)."""
        return None if self.lake.local else self.fs

    # commit ---------------------------------------------------------------------------------

    def commit(self, change: Change) -> None:
        """Publish one partition's staged file atomically (see the module docstring)."""
        try:
            with lake_commit():
                self._commit(change)
        except OdseError:
            raise
        except OSError as exc:
            raise io_error(f"commit partition '{change.rel or '.'}'",
                           self.lake.location.shown, exc) from None
        self.lake.forget(change.rel)

    def _commit(self, change: Change) -> None:
        lake, fs = self.lake, self.fs
        folder = lake.path(change.rel)
        target = lake.path(change.rel, change.name)
        if len(change.replace) <= 1:
            if not change.replace and change.rel:
                _make_dirs(lake, folder)
            _move(lake, change.staged, target)
            _checkpoint("committed")
            return
        if self.outside and _can_swap() and lake.entries(change.rel) == set(change.replace):
            swap = os.path.join(self.dir, f"swap{self._count:06d}")
            self._count += 1
            os.mkdir(swap)
            moved = os.path.join(swap, change.name)
            os.rename(change.staged, moved)
            try:
                _swap(swap, folder)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED:
                    raise
                # this filesystem cannot swap folders: use the journalled path instead
                _disable_swap()
                change.staged = moved
            else:
                _checkpoint("swapped")
                shutil.rmtree(swap, ignore_errors=True)
                _checkpoint("committed")
                return
        # Journalled replacement: rename over the first file, then delete the rest. If the
        # process dies between the two, the next write finds the journal and the staged
        # file gone, and finishes the deletions.
        keep = change.replace[0]
        others = [lake.path(change.rel, name) for name in change.replace[1:]]
        journal = self.new_path("j")
        _write_json(lake, journal, {"staged": change.staged, "delete": others})
        _move(lake, change.staged, lake.path(change.rel, keep))
        _checkpoint("replaced")
        for path in others:
            with contextlib.suppress(FileNotFoundError):
                fs.delete_file(path)
        fs.delete_file(journal)
        change.name = keep
        _checkpoint("committed")

    def mark_upgrade(self) -> None:
        """Leave a marker that this write is bringing existing files up to the lake's
        columns; a write that finds it in a dead write's staging folder checks every file."""
        _write_json(self.lake, self.new_path("u"), {"upgrade": True})

    def clear_markers(self) -> None:
        """Remove the upgrade markers of dead writes once every file has been checked."""
        for path in self._markers:
            with contextlib.suppress(OSError):
                self.fs.delete_file(path)
        self._markers = []

    def commit_branch(self, branch: str) -> None:
        """Publish a branch of new partition folders with one rename of its top folder."""
        target = self.lake.path(branch)
        try:
            with lake_commit():
                os.rename(self.tree_path(branch), target)
        except OSError as exc:
            raise io_error(f"commit new folder '{branch}'", self.lake.location.shown,
                           exc) from None
        self.lake.forget(branch)
        _checkpoint("committed")

    # cleanup --------------------------------------------------------------------------------

    def close(self) -> None:
        """Remove this write's staging folder, unless a replacement is left half done.

        A journal still present means a commit failed between renaming a partition's new
        file into place and deleting the files it replaces; the next write finishes it.
        """
        try:
            pending = any(name.startswith(".j") for name in _names(self.lake, self.dir))
        except OSError:
            pending = False
        if not pending:
            _remove_tree(self.lake, self.dir)

    def recover(self) -> bool:
        """Finish or discard what killed writes left behind (call while holding the lock).

        Returns True when a write was interrupted while giving existing files new columns
        (its staging folder holds an upgrade marker): the lake's files may then differ.
        """
        interrupted = False
        for folder, stale in self._leftovers():
            try:
                names = sorted(_names(self.lake, folder))
                markers = [_join(self.lake, folder, name) for name in names
                           if name.startswith(".u")]
                interrupted = interrupted or bool(markers)
                if not stale:
                    # (remote lakes) kept a day; its markers are cleared once this write has
                    # checked every file (:meth:`clear_markers`)
                    self._markers += markers
                    continue
                for name in names:
                    if name.startswith(".j") and name.endswith(".tmp"):
                        _finish_journal(self.lake, _join(self.lake, folder, name))
                _remove_tree(self.lake, folder)
            except (OSError, ValueError):
                # another process may be cleaning up the same leftovers; the next write retries
                continue
        return interrupted

    def _leftovers(self) -> list[tuple[str, bool]]:
        """Return other writes' staging folders, each with whether it is certainly
        abandoned (local: yes, under the lock; elsewhere: when a day old)."""
        lake = self.lake
        found: list = []  # paths (local), else (path, abandoned) pairs
        if lake.local:
            parent, name = os.path.split(lake.root)
            prefix = f".{name}{STAGING_MARK}"
            with contextlib.suppress(OSError):
                found += [os.path.join(parent, entry) for entry in os.listdir(parent)
                          if entry.startswith(prefix)]
            with contextlib.suppress(OSError):
                found += [os.path.join(lake.root, entry) for entry in os.listdir(lake.root)
                          if entry.startswith(INSIDE_PREFIX)]
            return [(path, True) for path in found if path != self.dir]
        infos = lake.fs.get_file_info(pafs.FileSelector(lake.root, allow_not_found=True))
        for info in infos:
            if not info.base_name.startswith(INSIDE_PREFIX) or info.path == self.dir:
                continue
            # without a lock, only a day-old staging folder is certainly abandoned
            mtime = info.mtime_ns
            stale = mtime is not None and time.time() - mtime / 1e9 > STALE_REMOTE_SECONDS
            found.append((info.path, stale))
        return found


def _finish_journal(lake: Lake, journal: str) -> None:
    with lake.fs.open_input_stream(journal) as stream:
        plan = json.loads(stream.read().decode("utf-8"))
    staged_exists = lake.fs.get_file_info(plan["staged"]).type != pafs.FileType.NotFound
    if not staged_exists:
        # the new file is in place: finish deleting the files it replaced
        for path in plan["delete"]:
            with contextlib.suppress(FileNotFoundError):
                lake.fs.delete_file(path)
    lake.fs.delete_file(journal)


def _write_json(lake: Lake, path: str, data: dict[str, object]) -> None:
    with lake.fs.open_output_stream(path) as stream:
        stream.write(json.dumps(data).encode("utf-8"))


def _make_dirs(lake: Lake, folder: str) -> None:
    if lake.local:
        os.makedirs(folder, exist_ok=True)
    else:
        lake.fs.create_dir(folder, recursive=True)


def _move(lake: Lake, source: str, target: str) -> None:
    if lake.local:
        os.replace(source, target)
    else:
        lake.fs.move(source, target)


def _names(lake: Lake, folder: str) -> list[str]:
    if lake.local:
        return os.listdir(folder)
    return [info.base_name
            for info in lake.fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True))]


def _join(lake: Lake, folder: str, name: str) -> str:
    return os.path.join(folder, name) if lake.local else f"{folder}/{name}"


def _remove_tree(lake: Lake, folder: str) -> None:
    if not folder:
        return
    if lake.local:
        shutil.rmtree(folder, ignore_errors=True)
        return
    with contextlib.suppress(OSError):
        lake.fs.delete_dir(folder)


# atomic folder swap ---------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # Linux <linux/fs.h>
_RENAME_SWAP = 2  # macOS <stdio.h>
_swap_function: Callable[..., int] | bool | None = False
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EPERM,
                getattr(errno, "ENOTSUP", errno.EINVAL),
                getattr(errno, "EOPNOTSUPP", errno.EINVAL)}


def _libc_swap() -> Callable[..., int] | None:
    global _swap_function  # noqa: PLW0603 - resolved once per process
    if _swap_function is False:
        _swap_function = None
        if not sys.platform.startswith("linux") and sys.platform != "darwin":
            return None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
                function = libc.renameat2
                function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                     ctypes.c_char_p, ctypes.c_uint]
                _swap_function = lambda a, b: function(  # noqa: E731
                    _AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE)
            elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
                function = libc.renamex_np
                function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
                _swap_function = lambda a, b: function(a, b, _RENAME_SWAP)  # noqa: E731
        except OSError:  # pragma: no cover - no C library to load
            _swap_function = None
    return _swap_function  # type: ignore[return-value]


def _disable_swap() -> None:
    global _swap_function  # noqa: PLW0603 - remembered for the rest of the process
    _swap_function = None


def _can_swap() -> bool:
    return _libc_swap() is not None


def _swap(first: str, second: str) -> None:
    function = _libc_swap()
    if function is None:  # pragma: no cover - guarded by _can_swap
        raise OutputError("atomic folder swap is not available on this system")
    if function(os.fsencode(first), os.fsencode(second)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), second)


# outputs of one run, committed together ----------------------------------------------------

_group: contextvars.ContextVar[OutputGroup | None] = contextvars.ContextVar(
    "odse_output_group", default=None)


@dataclass
class StagedFile:
    """A file written completely under a temporary name, waiting for its rename."""

    fs: pafs.FileSystem
    temp: str
    path: str
    shown: str


class OutputGroup:
    """The files of one run (records, rejects, a report ...): each is written to a temporary
    name, and all are renamed into place at the end, or none.

    Inside :func:`together`, every single-file writer (``atomic_file``) stages its file here
    instead of renaming it at once. Publishing renames each existing target aside first, so
    that when a rename fails the ones done are undone: a failed run leaves every output as
    it was. A lake commits its own files; a run that writes one stages its other files
    before the lake's commit (the CLI writes them when the records end), and the lake
    publishes them just before its first change (:func:`lake_commit`): if that change
    fails they are put back, once it is made they stay. So a run never leaves a changed
    lake beside the old rejects, nor new rejects beside a lake it did not change.
    """

    def __init__(self) -> None:
        self.staged: list[StagedFile] = []
        self.published: list[tuple[StagedFile, str | None]] = []
        self.kept = False

    def stage(self, fs: pafs.FileSystem, temp: str, path: str, shown: str) -> None:
        """Add a finished temporary file to be renamed to ``path`` at commit."""
        self.staged.append(StagedFile(fs, temp, path, shown))

    def publish(self) -> None:
        """Rename the staged files into place, keeping what they replace aside until
        :meth:`commit` (or :meth:`discard`, which puts it back unless :attr:`kept`)."""
        done: list[tuple[StagedFile, str | None]] = []
        shown = ""
        try:
            for item in self.staged:
                shown = item.shown
                aside = None
                if item.fs.get_file_info(item.path).type == pafs.FileType.File:
                    aside = f"{item.temp}.old"
                    _rename(item.fs, item.path, aside)
                done.append((item, aside))
                _rename(item.fs, item.temp, item.path)
        except OSError as exc:
            _put_back(done)
            self.discard()
            raise io_error(f"commit the outputs ({shown})" if shown else "commit the outputs",
                           shown, exc) from None
        self.published += done
        self.staged = []

    def commit(self) -> None:
        """Rename every staged file into place; on a failure put back what was there."""
        self.publish()
        self.kept = True
        self._forget_old()

    def discard(self) -> None:
        """Delete the staged files: nothing of this run is published. Files already
        published are put back as they were, unless :attr:`kept` (a lake changed)."""
        if self.kept:
            self._forget_old()
        else:
            _put_back(self.published)
            self.published = []
        for item in self.staged:
            with contextlib.suppress(OSError):
                _delete_any(item.fs, item.temp)
        self.staged = []

    def _forget_old(self) -> None:
        for item, aside in self.published:
            if aside is not None:
                with contextlib.suppress(OSError):
                    _delete_any(item.fs, aside)
        self.published = []


def _rename(fs: pafs.FileSystem, source: str, target: str) -> None:
    # one place for the renames of a run's files (tests inject failures here)
    fs.move(source, target)


def _put_back(done: list[tuple[StagedFile, str | None]]) -> None:
    for item, aside in reversed(done):
        with contextlib.suppress(OSError):
            if item.fs.get_file_info(item.temp).type == pafs.FileType.NotFound:
                item.fs.move(item.path, item.temp)
            if aside is not None:
                item.fs.move(aside, item.path)
        with contextlib.suppress(OSError):
            _delete_any(item.fs, item.temp)


def _delete_any(fs: pafs.FileSystem, path: str) -> None:
    if fs.get_file_info(path).type != pafs.FileType.NotFound:
        fs.delete_file(path)


def active_group() -> OutputGroup | None:
    """Return the output group of the current run, if one is open."""
    return _group.get()


@contextlib.contextmanager
def together() -> Iterator[OutputGroup]:
    """Commit the files written inside the block together when it ends without an error;
    discard them all when it raises."""
    group = OutputGroup()
    token = _group.set(group)
    try:
        yield group
    except BaseException:
        _group.reset(token)
        group.discard()
        raise
    _group.reset(token)
    group.commit()


@contextlib.contextmanager
def lake_commit() -> Iterator[None]:
    """Wrap each change a lake makes: before its first one, the run's other outputs (the
    rejects file) are published; if that change fails they are put back (the lake is as it
    was), once it is made they stay (the lake changed)."""
    group = _group.get()
    if group is None or group.kept:
        yield
        return
    group.publish()
    yield
    group.kept = True
