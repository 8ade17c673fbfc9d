"""``require``: a dataset missing from the data mirror skips a test on a
developer's machine and fails it in CI."""

from __future__ import annotations

import pytest

from core.data import availability
from core.paths import DATA_ENV
from tests.dashboard.apptest import require

FAIL, SKIP = pytest.fail.Exception, pytest.skip.Exception


def _outcome(name: str) -> tuple[type | None, str]:
    """What ``require(name)`` did: failed, skipped (caught here, so that a
    wrong outcome fails this test instead of skipping it) or returned."""
    try:
        require(name)
    except (FAIL, SKIP) as stopped:
        return type(stopped), str(stopped)
    return None, ""


@pytest.fixture
def empty_mirror(tmp_path, monkeypatch):
    """A data home without any file: sst2 is registered but not available."""
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert not availability("sst2").available
    return tmp_path


def _names_what_is_missing(message: str, home) -> None:
    assert "sst2" in message
    assert f"{DATA_ENV}={home}" in message
    # The files it looked for, in the folder it looked in.
    assert f"missing in {home}: sst2/" in message


def test_missing_dataset_fails_in_ci(empty_mirror, monkeypatch):
    monkeypatch.setenv("CI", "true")
    kind, message = _outcome("sst2")
    assert kind is FAIL
    _names_what_is_missing(message, empty_mirror)
    assert "CI=true" in message


def test_missing_dataset_skips_outside_ci(empty_mirror, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    kind, message = _outcome("sst2")
    assert kind is SKIP
    _names_what_is_missing(message, empty_mirror)


def test_available_dataset_passes_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert availability("synthetic").available
    assert _outcome("synthetic") == (None, "")


def test_unregistered_dataset_fails_anywhere(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    kind, message = _outcome("no_such_set")
    assert kind is FAIL
    assert "'no_such_set' is not registered" in message
