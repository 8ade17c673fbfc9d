"""Hostile files through the entry points the CLI and the pages use (issue 23).

    .venv/bin/python -m benchmarks.hostile_files [-v]

Imports (``add_table``, ``add_features``, ``add_texts``: bombs, truncated
files, wrong dtypes, object arrays, huge headers, bad UTF-8, hostile names,
10,000 columns, right-to-left overrides), model cards of wrong types
(``scan_models``) and damaged parsed-dataset cache entries (``load_dataset``:
zero-length, truncated, garbage). Prints, per kind, how many were tried, how
many were refused with a ``SparseLensError``/``ValueError`` message, how many
were accepted (the file is valid: e.g. HTML in a column name, shown escaped),
how many cache entries were rebuilt, and how many escaped as any other
exception (a traceback); ``-v`` prints each case and its message. Everything is written under a temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import traceback
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import SparseLensError

Case = tuple[str, str, Callable[[], object]]  # kind, label, the call


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def _npz(members: dict[str, bytes], compress: bool = True) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(f"{name}.npy", data)
    return buf.getvalue()


def _bomb(n_bytes: int) -> bytes:
    """An .npz whose X expands to ``n_bytes`` of zeros (a few hundred kB)."""
    buf = io.BytesIO()
    n = n_bytes // 8 // 100
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("X.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header((n, 100)))
            block = bytes(1 << 22)
            for _ in range(n * 800 // len(block)):
                fh.write(block)
        zf.writestr("y.npy", _npy(np.zeros(n, dtype=np.int64)))
    return buf.getvalue()


def _parquet_text_bomb(n_rows: int, n_bytes: int, dictionary: bool) -> bytes:
    """A Parquet table whose one text value of ``n_bytes`` fills ``n_rows`` rows.

    In a dictionary it is stored once (and the footer counts it once); in
    plain zstd pages it compresses to almost nothing. No Arrow schema is
    stored, so the column reads as text, as from any other writer.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    def rows(n: int) -> pa.Table:
        note = pa.DictionaryArray.from_arrays(
            pa.array(np.zeros(n, dtype=np.int32)), pa.array(["x" * n_bytes])
        )
        if not dictionary:
            note = note.cast(pa.string())
        return pa.table(
            {"a": np.arange(n, dtype=float), "note": note, "y": np.arange(n) % 2}
        )

    buf = io.BytesIO()
    # Plain pages are written a few rows at a time, so that building the
    # bomb never holds it expanded.
    step = n_rows if dictionary else 10
    first = rows(step)
    with pq.ParquetWriter(
        buf,
        first.schema,
        compression="zstd",
        use_dictionary=dictionary,
        store_schema=False,
    ) as writer:
        for _ in range(n_rows // step):
            writer.write_table(first)
    return buf.getvalue()


def _csv(columns: list[str], labels: list[str], n: int = 60) -> bytes:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n, len(columns))), columns=columns)
    frame["y"] = [labels[i % len(labels)] for i in range(n)]
    return frame.to_csv(index=False).encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


HOSTILE_TEXT = [
    "[click me](https:evil.example)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "http://evil.example",
]


def import_cases() -> Iterator[Case]:
    from core.data.user import add_features, add_table, add_texts

    def table(data: bytes, filename: str, **kw):
        return lambda: add_table(
            data, name="t", target="y", filename=filename, replace=True, **kw
        )

    def features(data: bytes, filename: str = "f.npz"):
        return lambda: add_features(data, name="f", filename=filename, replace=True)

    good = _csv(["a", "b"], ["p", "q"])
    X, y = np.random.default_rng(0).normal(size=(60, 3)), np.arange(60) % 2
    good_npz = _npz({"X": _npy(X), "y": _npy(y)})
    for mb in (300, 1_000, 3_000):
        yield "bomb", f"npz expanding to {mb} MB", features(_bomb(mb << 20))
    for n_rows, dictionary in ((10_000, True), (300, False)):
        yield (
            "bomb",
            f"parquet of 1 MB of text in {n_rows:,} rows"
            f" ({'dictionary' if dictionary else 'plain zstd'} pages)",
            table(_parquet_text_bomb(n_rows, 1 << 20, dictionary), "bomb.parquet"),
        )
    for gb in (1, 800, 10**6):
        raw = _npy_header((gb * 10**8 // 8, 10)) + bytes(128)
        yield "huge header", f"npy declaring {gb} GB", features(raw, "x.npy")
    yield (
        "huge header",
        "npy header of 60 kB",
        features(b"\x93NUMPY\x01\x00\xff\xef" + b" " * 61_439 + b"\n", "x.npy"),
    )
    yield (
        "huge header",
        "CSV with a 5 MB header line",
        table(("a" * 5_000_000 + ",y\n1,p\n").encode(), "wide.csv"),
    )
    for frac in (0.1, 0.5, 0.9):
        cut = lambda b, f=frac: b[: int(len(b) * f)]  # noqa: E731
        yield "truncated", f"npz cut at {frac:.0%}", features(cut(good_npz))
        yield "truncated", f"npy cut at {frac:.0%}", features(cut(_npy(X)), "x.npy")
        yield "truncated", f"CSV cut at {frac:.0%}", table(cut(good), "cut.csv")
        yield (
            "truncated",
            f"parquet cut at {frac:.0%}",
            table(cut(_parquet(pd.read_csv(io.BytesIO(good)))), "cut.parquet"),
        )
    for dtype in ("<U8", "<c16", "<M8[s]", "|V8", "|S4"):
        arr = np.zeros((60, 3), dtype=dtype)
        yield (
            "wrong dtype",
            f"X of {dtype}",
            features(_npz({"X": _npy(arr), "y": _npy(y)})),
        )
    for payload in ([{"a": 1}] * 60, [None] * 60, [object()] * 60):
        arr = np.empty((60, 1), dtype=object)
        arr[:, 0] = payload
        yield (
            "object array",
            f"X of {type(payload[0]).__name__}",
            features(_npz({"X": _npy(arr), "y": _npy(y)})),
        )
    for garbage in (b"\xff\xfe\x00\xd8", b"\xc3\x28", b"\xed\xa0\x80"):
        raw = garbage + good + garbage
        yield "bad UTF-8", f"CSV with {garbage!r}", table(raw, "bad.csv")
        yield (
            "bad UTF-8",
            f"JSONL with {garbage!r}",
            lambda raw=raw: add_texts(
                b'{"text": "' + raw[:40] + b'", "label": "a"}\n' * 40,
                name="x",
                filename="bad.jsonl",
            ),
        )
    for text in HOSTILE_TEXT:
        yield "hostile name", f"file {text}", table(good, f"{text}.csv")
        yield (
            "hostile name",
            f"column {text}",
            table(_csv([text, "b"], ["p", "q"]), "c.csv"),
        )
        yield "hostile name", f"label {text}", table(_csv(["a"], [text, "q"]), "l.csv")
        yield (
            "hostile name",
            f"dataset name {text}",
            lambda t=text: add_table(good, name=t, target="y", filename="n.csv"),
        )
    for n in (10_000, 50_000):
        yield (
            "10,000 columns",
            f"{n} columns",
            table(_csv([f"c{j}" for j in range(n)], ["p", "q"], n=4), "wide.csv"),
        )
    for where in ("column", "label", "file"):
        rtl = "txt\u202eexe"
        data = _csv([rtl], ["p", "q"]) if where == "column" else good
        data = _csv(["a"], [rtl, "q"]) if where == "label" else data
        name = f"{rtl}.csv" if where == "file" else "r.csv"
        yield "RTL override", f"in a {where}", table(data, name)


_BAD_CARDS = {
    "format": "2",
    "created": 5,
    "strength": "high",
    "seed": 1.5,
    "metrics": {"auc": "0.9"},
    "arch_kwargs": [],
    "training": {"config": {"epochs": "ten"}},
    "sha256": "not-a-digest",
    "model_id": "<script>alert(1)</script>",
    "dataset": "a\nb",
}


def card_cases(store: Path) -> Iterator[Case]:
    """Each bad card in a folder of its own; the listing must skip and name it."""
    from core.training.store import scan_models

    base = {
        "model_id": "",
        "dataset": "d",
        "architecture": "mlp",
        "arch_kwargs": {"n_features": 2, "n_classes": 2},
        "sha256": "0" * 64,
    }

    def listed(folder: Path):
        def call():
            listing = scan_models()
            said = [m for m in listing.skipped if repr(folder.name) in m]
            if not said:
                raise RuntimeError(f"{folder.name} was not skipped with a message")
            raise ValueError(said[0])  # skipped with a message: a clean refusal

        return call

    for i, (field, value) in enumerate(_BAD_CARDS.items()):
        folder = store / f"bad-{i}-{field}"
        folder.mkdir(parents=True)
        card = {**base, "model_id": folder.name, field: value}
        (folder / "card.json").write_text(json.dumps(card))
        yield "card of wrong type", f"{field}={value!r}", listed(folder)
    for i, raw in enumerate([b"", b"[1]", b"{", b"\xff" * 10, b"[" * 100_000]):
        folder = store / f"[x](https:evil.example)-{i}"
        folder.mkdir()
        (folder / "card.json").write_bytes(raw)
        yield "card of wrong type", f"card {raw[:8]!r}", listed(folder)


def cache_cases(root: Path) -> Iterator[Case]:
    """Damaged parsed-dataset cache entries; each load must rebuild with a warning."""
    from core.data import cache, load_dataset

    options = {"n_per_region": 20}
    damage = {
        "zero-length": lambda b: b"",
        "truncated": lambda b: b[: len(b) // 2],
        "garbage": lambda b: bytes(range(256)) * 4,
        "wrongly typed": lambda b: json.dumps({"class_names": 5}).encode(),
    }
    for fname in (cache.ARRAYS, cache.META):
        for how, hurt in damage.items():

            def call(fname=fname, hurt=hurt):
                load_dataset("synthetic", **options)
                (folder,) = (root / "synthetic").iterdir()
                path = folder / fname
                path.write_bytes(hurt(path.read_bytes()))
                with warnings.catch_warnings(record=True) as said:
                    warnings.simplefilter("always")
                    load_dataset("synthetic", **options)
                if not any(str(folder) in str(w.message) for w in said):
                    raise RuntimeError(f"{path} was served without a warning")
                return "recovered"

            yield "damaged cache entry", f"{fname} {how}", call


def run(cases: Iterator[Case], verbose: bool) -> Counter:
    counts: Counter = Counter()
    for kind, label, call in cases:
        counts[kind, "tried"] += 1
        try:
            outcome = call()
        except (SparseLensError, ValueError, TypeError) as exc:
            counts[kind, "refused"] += 1
            if verbose:
                print(f"refused  {kind}: {label}: {str(exc)[:150]}")
        except Exception:  # noqa: BLE001 what this benchmark counts
            counts[kind, "traceback"] += 1
            print(f"TRACEBACK {kind}: {label}\n{traceback.format_exc()}")
        else:
            outcome = "recovered" if outcome == "recovered" else "accepted"
            counts[kind, outcome] += 1
            if verbose:
                print(f"{outcome:<8} {kind}: {label}")
    return counts


def main(verbose: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for var in ("SPARSELENS_USER_DATA", "SPARSELENS_MODELS", "SPARSELENS_CACHE"):
            os.environ[var] = str(root / var.lower())
        from core.training import store

        store.SHIPPED_DIR = root / "no-shipped"  # only the bad cards are listed
        counts = run(import_cases(), verbose)
        counts += run(card_cases(root / "sparselens_models"), verbose)
        counts += run(cache_cases(root / "sparselens_cache"), verbose)
    columns = ["tried", "refused", "accepted", "recovered", "traceback"]
    kinds = list(dict.fromkeys(k for k, _ in counts))
    print(f"{'kind':<20}" + "".join(f"{c:>11}" for c in columns))
    for kind in [*kinds, "total"]:
        row = [
            sum(v for (k, c), v in counts.items() if c == col and kind in (k, "total"))
            for col in columns
        ]
        print(f"{kind:<20}" + "".join(f"{n:>11}" for n in row))


if __name__ == "__main__":
    main(verbose="-v" in sys.argv[1:])
