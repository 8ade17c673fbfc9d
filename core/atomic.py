"""Atomic file and folder writes: a crash leaves either the old state or the new.

The temporary file or folder of a write sits beside its target, named
``.<target>.<random>.part``, so that the final ``rename`` stays on one file
system. It is created with the permissions the umask allows, like any other
file: ``tempfile.mkstemp``/``mkdtemp`` would make it private (0600/0700), a
protection meant for a shared ``/tmp`` that here would only carry over to the
finished file and hide a shared store from the accounts the umask lets read it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

#: The suffix of an unfinished write; owners of a folder sweep leftovers by it.
PART_SUFFIX = ".part"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem supports it
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _create_beside(target: Path, make: Callable[[Path], None]) -> Path:
    """A new ``.<target>.<random>.part`` beside ``target``, made by ``make``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{PART_SUFFIX}")
        try:
            make(tmp)
        except FileExistsError:  # 2**32 names: only another writer's, try again
            continue
        return tmp


def _new_file(path: Path) -> None:
    # 0o666 & ~umask, as open() would; O_EXCL never reuses another writer's file.
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place on success.

    The temporary file is removed when the block raises (or is interrupted), so
    ``target`` never exists half-written. An existing ``target`` is replaced.
    """
    tmp_path = _create_beside(target, _new_file)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; rename it into place on success.

    ``target`` must not exist yet. On failure the temporary folder is deleted.

    Raises
    ------
    FileExistsError
        ``target`` appeared while the block ran (another writer finished
        first); its contents are left as that writer made them.
    """
    tmp = _create_beside(target, os.mkdir)  # 0o777 & ~umask
    try:
        yield tmp
        for child in tmp.iterdir():
            if child.is_dir():  # written by a nested atomic_dir, already synced
                continue
            with open(child, "rb") as fh:
                os.fsync(fh.fileno())
        # rename() would silently replace an empty folder, and fails with
        # ENOTEMPTY (or EEXIST) on a full one: both mean someone else got there.
        if target.exists():
            raise FileExistsError(errno.EEXIST, "already exists", str(target))
        try:
            os.rename(tmp, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise FileExistsError(
                    errno.EEXIST, "already exists", str(target)
                ) from exc
            raise
        _fsync_dir(target.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def sweep_leftovers(folder: Path, suffixes: tuple[str, ...], max_age: float) -> None:
    """Remove the hidden folders a crash left in ``folder``.

    Only hidden folders (``.<name>…``) ending in one of ``suffixes`` and older
    than ``max_age`` seconds go, so a write still running is never swept. The
    age is read from the later of the modification and change times, which a
    rename updates: a folder renamed a moment ago (for deletion, say) keeps its
    old modification time. Symbolic links are never followed.
    """
    try:
        entries = list(folder.glob(".*"))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not entry.name.endswith(suffixes):
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        is_dir = entry.is_dir() and not entry.is_symlink()
        if is_dir and now - max(info.st_mtime, info.st_ctime) > max_age:
            shutil.rmtree(entry, ignore_errors=True)
