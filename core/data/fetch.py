"""Find a raw data file in the data home, or download and verify it.

Every loader names its files as :class:`RemoteFile` objects: the path inside the
data home, the canonical URL, and the checksums it accepts. A file that is
already in the data home is used as it is (its structure is checked when it is
parsed). A missing file is downloaded to a temporary name, verified, and only
then moved into place, so an interrupted download leaves nothing behind.

A file whose loader pins digests is verified against them. Few are a
publisher's: the CIFAR-10 page publishes the MD5 of its python archive; the
MNIST IDX MD5s are those torchvision records (LeCun's page publishes none);
20 Newsgroups accepts the digest scikit-learn records beside ours. The other
pinned digests (Adult, SST-2, MR's combined file, the Davidson tweets, the
PhysioNet outcome tables, the MNIST and CIFAR-10 mirror files) were recorded by
this project from its own copies. A file with no pinned digest (the PhysioNet
archives, MR's archive, user data) is verified against the one recorded the
first time it was downloaded (``checksums.json`` in the data home). An
unreadable ``checksums.json`` is never overwritten: the download is kept
unverified and unrecorded, with a warning naming the file.

A download has two limits: each socket operation (connecting, one read) waits
at most 60 s, and the whole download at most ``deadline`` seconds (the
``deadline`` keyword of :func:`ensure`, else ``SPARSELENS_DOWNLOAD_DEADLINE``,
else one hour), so a server that trickles bytes cannot hold a load forever.

``SPARSELENS_MIRROR_URL`` replaces every canonical URL by
``<mirror>/<path in data home>``: an institutional mirror, or a local test server.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from core.atomic import atomic_path
from core.errors import DataCorruptError, DataUnavailableError
from core.paths import DATA_ENV, writable_dir

MIRROR_ENV = "SPARSELENS_MIRROR_URL"
CHECKSUM_FILE = "checksums.json"
DEADLINE_ENV = "SPARSELENS_DOWNLOAD_DEADLINE"
#: Seconds a whole download may take unless ``DEADLINE_ENV`` says otherwise.
DEFAULT_DEADLINE = 3600.0
#: Seconds one socket operation (connect, one read) may wait.
SOCKET_TIMEOUT = 60.0
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One raw file a loader needs.

    Parameters
    ----------
    path : str
        Path inside the data home, e.g. ``"adult/adult.data"``.
    url : str
        Canonical download address.
    sha256 : tuple of str
        Accepted SHA-256 digests (a publisher's or recorded by this project);
        empty, with ``md5`` empty, means "trust on first download".
    md5 : tuple of str
        Accepted MD5 digests, for files whose known digests are MD5s.
    """

    path: str
    url: str
    sha256: tuple[str, ...] = field(default=())
    md5: tuple[str, ...] = field(default=())

    def source_url(self) -> str:
        mirror = os.environ.get(MIRROR_ENV)
        return f"{mirror.rstrip('/')}/{self.path}" if mirror else self.url


def find(file: RemoteFile, home: Path) -> Path | None:
    """The file's location in the data home, or None when it is not there."""
    path = home / file.path
    return path if path.is_file() else None


def ensure(
    file: RemoteFile,
    home: Path,
    *,
    download: bool = True,
    deadline: float | None = None,
) -> Path:
    """Return the local path of ``file``, downloading it when it is missing.

    Parameters
    ----------
    file : RemoteFile
    home : path
        The data home.
    download : bool
        Download the file when it is missing.
    deadline : float, optional
        Seconds the whole download may take; default ``SPARSELENS_DOWNLOAD_DEADLINE``
        or :data:`DEFAULT_DEADLINE`.

    Raises
    ------
    DataUnavailableError
        The file is missing and downloading is off, failed or ran past the
        deadline; the message names the file, its source and how to provide it.
    DataHomeError
        The data home cannot be written to.
    ValueError
        ``deadline`` or ``SPARSELENS_DOWNLOAD_DEADLINE`` is not a positive number.
    """
    found = find(file, home)
    if found is not None:
        return found
    target = home / file.path
    if not download:
        raise DataUnavailableError(_missing_message(file, target, "downloading is off"))
    seconds = _deadline(deadline)
    writable_dir(target.parent, "data home", DATA_ENV)
    url = file.source_url()
    try:
        with atomic_path(target) as tmp:
            _download(url, tmp, label=file.path, deadline=seconds)
            _verify(file, tmp, home)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataUnavailableError(
            _missing_message(file, target, f"downloading {url} failed: {reason}")
        ) from exc
    return target


def _missing_message(file: RemoteFile, target: Path, why: str) -> str:
    return (
        f"Missing data file {target} ({why}). Download {file.url} and place it at "
        f"that path, or set {DATA_ENV} to a folder that has {file.path}."
    )


def _deadline(seconds: float | None) -> float:
    """``seconds``, else the environment's deadline, else the default; checked."""
    where = "deadline"
    if seconds is None:
        where = DEADLINE_ENV
        seconds = os.environ.get(DEADLINE_ENV) or DEFAULT_DEADLINE
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ValueError(
            f"{where} must be a positive number of seconds, got {seconds!r}."
        )
    return value


def _download(url: str, dest: Path, *, label: str, deadline: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "sparselens"})
    end = time.monotonic() + deadline
    with (
        urllib.request.urlopen(
            request, timeout=min(SOCKET_TIMEOUT, deadline)
        ) as response,
        open(dest, "wb") as out,
    ):
        total = response.headers.get("Content-Length")
        expected = int(total) if total and total.isdigit() else None
        received = 0
        with tqdm(
            total=expected, unit="B", unit_scale=True, desc=label, leave=False
        ) as bar:
            # read1 returns what one socket read brings, so the deadline is
            # checked even while a server trickles bytes.
            while chunk := response.read1(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
                if time.monotonic() > end:
                    raise TimeoutError(
                        f"the download took longer than {deadline:g} s ({received} "
                        f"bytes received; set {DEADLINE_ENV} to allow more)"
                    )
    if expected is not None and received != expected:
        raise OSError(f"connection closed after {received} of {expected} bytes")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(file: RemoteFile, path: Path, home: Path) -> None:
    sha = file_digest(path, "sha256")
    if file.sha256 or file.md5:
        ok = sha in file.sha256 or (file.md5 and file_digest(path, "md5") in file.md5)
        if not ok:
            raise DataCorruptError(
                f"Downloaded {file.path} from {file.source_url()} has SHA-256 {sha}, "
                "which is not a checksum accepted for it; it was discarded. "
                "Retry, or place a verified copy in the data home."
            )
        return
    recorded = _recorded_checksums(home)
    if recorded is None:
        warnings.warn(
            f"{home / CHECKSUM_FILE} cannot be read, so {file.path} (SHA-256 {sha}) "
            "is neither checked against an earlier download nor recorded; the file "
            "is kept as it is. Repair or delete it to record checksums again.",
            stacklevel=3,
        )
        return
    if file.path in recorded and recorded[file.path] != sha:
        raise DataCorruptError(
            f"Downloaded {file.path} has SHA-256 {sha}, but {recorded[file.path]} was "
            f"recorded the first time it was downloaded (in {home / CHECKSUM_FILE}); "
            "it was discarded."
        )
    recorded[file.path] = sha
    with atomic_path(home / CHECKSUM_FILE) as tmp:
        tmp.write_text(json.dumps(recorded, indent=1, sort_keys=True))


def _recorded_checksums(home: Path) -> dict[str, str] | None:
    """The recorded SHA-256 per file; None when the record exists but cannot be
    read as an object of strings (it must then not be overwritten)."""
    path = home / CHECKSUM_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return None
    return data
