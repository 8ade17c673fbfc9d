"""Imports that fight back: files whose arrays would exhaust memory once read.

The size limit counts what a file expands to, so each of these is refused from
its headers, and the refusal itself takes almost no memory (tracemalloc sees
numpy's allocations).
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data.user import add_features, add_texts, registered
from core.errors import InvalidDataError

_ROOT = Path(__file__).resolve().parents[3]


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def _refusal_peak(call) -> tuple[str, int]:
    """The message ``call()`` is refused with, and the peak bytes it allocated."""
    tracemalloc.start()
    try:
        with pytest.raises(InvalidDataError) as info:
            call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(info.value), peak


def test_a_tiny_npy_declaring_800_gb_is_refused_from_its_header():
    data = _npy_header((10_000_000, 10_000)) + b"\0" * 16  # 144 bytes
    message, peak = _refusal_peak(
        lambda: add_features(
            data, filename="huge.npy", name="huge", labels_source=b"0\n1\n"
        )
    )
    assert message.startswith("huge.npy: array 'X' declares shape (10000000, 10000)")
    assert "of float64, 800 GB once read, over the 200 MB limit" in message
    assert peak < 1e6, f"refusing took {peak:,} bytes"
    assert not registered()


def test_a_zip_bomb_npz_is_refused_by_its_uncompressed_size(monkeypatch):
    monkeypatch.setenv("SPARSELENS_MAX_UPLOAD_MB", "1")
    buf = io.BytesIO()
    np.savez_compressed(buf, X=np.zeros((2_000, 200)), y=np.arange(2_000) % 2)
    data = buf.getvalue()
    assert len(data) < 20_000  # 3.2 MB of zeros once read
    message, peak = _refusal_peak(
        lambda: add_features(data, filename="bomb.npz", name="bomb")
    )
    assert message.startswith("bomb.npz unpacks to 3.22 MB (")
    assert "compressed), over the 1 MB limit. Raise SPARSELENS_MAX_UPLOAD_MB" in message
    assert peak < 2e5, f"refusing took {peak:,} bytes"
    assert not registered()


def test_an_npz_member_whose_header_claims_more_than_it_holds_is_refused():
    # 100 MB declared (under the limit) in a member of 200 bytes: read as
    # declared, numpy would allocate 100 MB before finding the data short.
    member = _npy_header((12_500_000,)) + b"\0" * 72
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("X.npy", member)
    message, peak = _refusal_peak(
        lambda: add_features(buf.getvalue(), filename="short.npz", name="short")
    )
    assert message.startswith(
        "short.npz: array 'X' declares shape (12500000,) of float64 (100 MB) but "
        "the file holds 72 bytes of data; it is truncated"
    )
    assert peak < 1e6, f"refusing took {peak:,} bytes"


# Imports a table as the Add data page and `python -m core add-data` do, in a
# process of its own: its peak resident memory is then this import's alone
# (Arrow's allocations are invisible to tracemalloc).
_IMPORT_IN_A_PROCESS = """
import json, resource, sys
import pyarrow.compute, pyarrow.parquet
from core.data.user import add_table
from core.errors import InvalidDataError
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    add_table(data, filename="notes.parquet", name="notes", target="y")
    message = None
except InvalidDataError as exc:
    message = str(exc)
grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"message": message, "grew_kb": grew}))
"""


def test_a_parquet_text_repeated_in_every_row_is_refused_by_what_it_expands_to(
    tmp_path,
):
    # One 100 kB note, stored once in the column's dictionary and used by all
    # 2,000 rows: about 100 kB in the footer's sizes, 6 kB on disk, 200 MB of text
    # once each row holds its copy. No Arrow schema is stored, as from a
    # writer other than Arrow, so the column reads as plain text.
    rows = 2_000
    notes = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(rows, dtype=np.int32)), pa.array(["x" * 100_000])
    )
    table = pa.table({"a": np.arange(rows), "note": notes, "y": np.arange(rows) % 2})
    path = tmp_path / "notes.parquet"
    pq.write_table(table, path, compression="zstd", store_schema=False)
    assert path.stat().st_size < 10_000
    env = {**os.environ, "SPARSELENS_MAX_UPLOAD_MB": "5", "PYTHONPATH": str(_ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_IN_A_PROCESS, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=_ROOT,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["message"] == (
        "notes.parquet expands to 200.0 MB once read (column 'note' alone holds "
        "200.0 MB of text), over the 5 MB limit. Raise SPARSELENS_MAX_UPLOAD_MB, "
        "or keep the rows and columns you need."
    )
    # Read in full, the text alone is 200 MB; refusing it grows the process
    # by about 10 MB (Arrow's reader threads and their memory arenas).
    assert result["grew_kb"] < 50_000, f"refusing took {result['grew_kb']:,} kB"
    assert not registered()


def test_an_object_array_is_refused_from_its_header_unread():
    # The header alone says "objects"; the body is not even a pickle.
    data = _npy_header((3,), descr="|O") + b"not a pickle"
    with pytest.raises(InvalidDataError, match="holds Python objects .pickled."):
        add_features(data, filename="o.npy", name="o", labels_source=b"0\n1\n")


def test_a_npz_with_an_encrypted_member_says_it_cannot_be_read():
    buf = io.BytesIO()
    np.savez(buf, X=np.zeros((12, 2)), y=np.arange(12) % 2)
    data = bytearray(buf.getvalue())
    # Set the "encrypted" flag bit in every local and central directory header.
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(sig)
        while at >= 0:
            (flags,) = struct.unpack_from("<H", data, at + offset)
            struct.pack_into("<H", data, at + offset, flags | 1)
            at = data.find(sig, at + 4)
    with pytest.raises(InvalidDataError, match="e.npz is not a readable .npz file"):
        add_features(bytes(data), filename="e.npz", name="e")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            b'{"text": "a", "label": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "line 2: JSON that cannot be read as a table .maximum recursion depth",
        ),
        (
            b'{"text": "a", "label": 1' + b"0" * 5_000 + b"}",
            "line 2: JSON that cannot be read as a table .Exceeds the limit",
        ),
        (
            b'{"text": "\\ud800", "label": "x"}',
            "line 2, key 'text': a \\\\u escape of a lone UTF-16 surrogate",
        ),
    ],
)
def test_hostile_json_lines_are_refused_with_their_line(line, message):
    data = b'{"text": "fine", "label": "y"}\n' + line + b"\n"
    with pytest.raises(InvalidDataError, match=message):
        add_texts(data, filename="t.jsonl", name="t")
