"""Imports that fight back: files whose arrays would exhaust memory once read.

The size limit counts what a file expands to, so each of these is refused from
its headers, and the refusal itself takes almost no memory (tracemalloc sees
numpy's allocations).
"""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest

from core.data.user import add_features, add_texts, registered
from core.errors import InvalidDataError


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
