"""Atomic writes: permissions from the umask, a lost race is FileExistsError."""

from __future__ import annotations

import os
import stat

import pytest

from core.atomic import atomic_dir, atomic_path


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_and_folders_follow_the_umask(tmp_path, umask_022):
    # tempfile.mkstemp/mkdtemp would make them 0600/0700 whatever the umask.
    with atomic_path(tmp_path / "file.json") as tmp:
        tmp.write_text("{}")
    with atomic_dir(tmp_path / "folder") as tmp:
        (tmp / "a.txt").write_text("a")
    assert _mode(tmp_path / "file.json") == 0o644
    assert _mode(tmp_path / "folder") == 0o755
    assert _mode(tmp_path / "folder" / "a.txt") == 0o644


@pytest.mark.parametrize("other", ["empty", "full"])
def test_a_folder_that_appeared_meanwhile_is_never_replaced(tmp_path, other):
    target = tmp_path / "entry"
    with pytest.raises(FileExistsError), atomic_dir(target) as tmp:
        (tmp / "mine.txt").write_text("mine")
        target.mkdir()  # another writer finished first
        if other == "full":
            (target / "theirs.txt").write_text("theirs")
    assert [p.name for p in target.iterdir()] == (
        [] if other == "empty" else ["theirs.txt"]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]  # no .part left
