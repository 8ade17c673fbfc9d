"""Downloading, verification and the data-home failure modes."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from pathlib import Path

import pytest

from core.data import availability, load_dataset
from core.data.fetch import (
    CHECKSUM_FILE,
    DEADLINE_ENV,
    MIRROR_ENV,
    RemoteFile,
    ensure,
)
from core.errors import (
    DataCorruptError,
    DataHomeError,
    DataUnavailableError,
    UnknownNameError,
)

SST_DEV = "sst2/stsa.binary.dev"
SST_DEV_SHA = "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1"


class _Server:
    """A loopback HTTP server over a folder, counting requests."""

    def __init__(self, folder: Path, truncate: bool = False, trickle: float = 0):
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(folder), **kwargs)

            def do_GET(self):
                outer.requests.append(self.path)
                if trickle:
                    return self._trickle()
                if not truncate:
                    return super().do_GET()
                body = (folder / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])  # then hang up

            def _trickle(self):
                """One byte every ``trickle`` seconds: each read is quick, the
                whole file takes far longer than any test."""
                self.send_response(200)
                self.send_header("Content-Length", "100000")
                self.end_headers()
                try:
                    for _ in range(100000):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(trickle)
                except OSError:  # the client gave up
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror(shared_data, monkeypatch):
    server = _Server(shared_data)
    monkeypatch.setenv(MIRROR_ENV, server.url)
    yield server
    server.close()


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.name != CHECKSUM_FILE]


def test_download_verifies_checksum_and_is_not_repeated(mirror, shared_data, tmp_path):
    file = RemoteFile(SST_DEV, "https://example.invalid/dev", sha256=(SST_DEV_SHA,))
    path = ensure(file, tmp_path)
    assert path.read_bytes() == (shared_data / SST_DEV).read_bytes()
    ensure(file, tmp_path)
    assert mirror.requests == [f"/{SST_DEV}"]


def test_checksum_mismatch_discards_the_download(mirror, tmp_path):
    file = RemoteFile(SST_DEV, "https://example.invalid/dev", sha256=("0" * 64,))
    with pytest.raises(DataCorruptError, match="not a checksum accepted for it"):
        ensure(file, tmp_path)
    assert _leftovers(tmp_path) == []


def test_first_download_records_checksum_and_later_ones_are_checked(
    mirror, shared_data, tmp_path
):
    file = RemoteFile(SST_DEV, "https://example.invalid/dev")
    ensure(file, tmp_path)
    recorded = json.loads((tmp_path / CHECKSUM_FILE).read_text())
    assert recorded[SST_DEV] == SST_DEV_SHA
    (tmp_path / SST_DEV).unlink()
    recorded[SST_DEV] = hashlib.sha256(b"something else").hexdigest()
    (tmp_path / CHECKSUM_FILE).write_text(json.dumps(recorded))
    with pytest.raises(DataCorruptError, match="recorded the first time"):
        ensure(file, tmp_path)
    assert _leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(shared_data, monkeypatch, tmp_path):
    server = _Server(shared_data, truncate=True)
    monkeypatch.setenv(MIRROR_ENV, server.url)
    try:
        file = RemoteFile(SST_DEV, "https://example.invalid/dev", sha256=(SST_DEV_SHA,))
        with pytest.raises(DataUnavailableError, match=SST_DEV):
            ensure(file, tmp_path)
    finally:
        server.close()
    assert _leftovers(tmp_path) == []


def test_unreachable_source_names_the_file_and_how_to_provide_it(monkeypatch, tmp_path):
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:9")  # discard port: refused
    file = RemoteFile(SST_DEV, "https://example.invalid/dev")
    with pytest.raises(DataUnavailableError) as err:
        ensure(file, tmp_path)
    message = str(err.value)
    assert SST_DEV in message and "SPARSELENS_DATA" in message and "place it" in message
    assert _leftovers(tmp_path) == []


def test_download_off_is_a_clear_error(tmp_path):
    file = RemoteFile(SST_DEV, "https://example.invalid/dev")
    with pytest.raises(DataUnavailableError, match="downloading is off"):
        ensure(file, tmp_path, download=False)


def test_unwritable_data_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    file = RemoteFile(SST_DEV, "https://example.invalid/dev")
    with pytest.raises(DataHomeError, match="not writable"):
        ensure(file, blocker / "home")


@pytest.mark.parametrize("name", ["sst2", "adult", "mnist"])
def test_dataset_loads_through_the_download_path(name, mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path / "cache"))
    home = tmp_path / "home"
    assert not availability(name, home).available
    if name == "mnist":
        # The canonical files (full MNIST) are not on the mirror: the error says so.
        with pytest.raises(DataUnavailableError, match="train-images-idx3-ubyte"):
            load_dataset(name, home)
        return
    ds = load_dataset(name, home)
    assert len(ds.train) > 0 and availability(name, home).available


def test_unknown_dataset_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean synthetic"):
        load_dataset("synthetc")


def test_unknown_option_is_rejected():
    with pytest.raises(ValueError, match="has no option"):
        load_dataset("synthetic", colour="blue")


def test_entries_of_older_loader_code_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    stale = tmp_path / "synthetic" / "000000000000-0000000000000000"
    stale.mkdir(parents=True)
    load_dataset("synthetic", n_per_region=20)
    load_dataset("synthetic", n_per_region=30)
    entries = list((tmp_path / "synthetic").iterdir())
    assert len(entries) == 2 and stale not in entries


def test_unwritable_cache_only_warns(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SPARSELENS_CACHE", str(blocker / "cache"))
    with pytest.warns(UserWarning, match="parsed on every load"):
        ds = load_dataset("synthetic", n_per_region=20)
    assert len(ds.test) > 0


@pytest.mark.parametrize(
    "record", [b"\xff\xfe not JSON", b"", b"[1, 2]", b'{"sst2/x": 5}']
)
def test_unreadable_checksum_record_is_kept_and_not_overwritten(
    mirror, shared_data, tmp_path, record
):
    (tmp_path / CHECKSUM_FILE).write_bytes(record)
    file = RemoteFile(SST_DEV, "https://example.invalid/dev")
    with pytest.warns(UserWarning, match=str(tmp_path / CHECKSUM_FILE)):
        path = ensure(file, tmp_path)
    assert path.read_bytes() == (shared_data / SST_DEV).read_bytes()
    assert (tmp_path / CHECKSUM_FILE).read_bytes() == record


@pytest.mark.parametrize("how", ["keyword", "environment"])
def test_a_trickling_download_stops_at_the_deadline(
    shared_data, monkeypatch, tmp_path, how
):
    server = _Server(shared_data, trickle=0.02)
    monkeypatch.setenv(MIRROR_ENV, server.url)
    file = RemoteFile(SST_DEV, "https://example.invalid/dev", sha256=(SST_DEV_SHA,))
    kwargs = {"deadline": 0.5} if how == "keyword" else {}
    if how == "environment":
        monkeypatch.setenv(DEADLINE_ENV, "0.5")
    start = time.monotonic()
    try:
        with pytest.raises(DataUnavailableError, match=r"longer than 0\.5 s"):
            ensure(file, tmp_path, **kwargs)
    finally:
        server.close()
    # The server would need 2000 s; the per-read timeout (60 s) never fires.
    assert time.monotonic() - start < 10
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("value", ["soon", "0", "-1", "inf"])
def test_a_bad_deadline_is_a_clear_error(monkeypatch, tmp_path, value):
    monkeypatch.setenv(DEADLINE_ENV, value)
    file = RemoteFile(SST_DEV, "https://example.invalid/dev")
    with pytest.raises(ValueError, match=f"{DEADLINE_ENV} must be a positive number"):
        ensure(file, tmp_path)
