"""The MiniLM embedding cache and the word-cloud cache serve only what they
wrote: a damaged or edited file is a miss, rebuilt with one warning naming it."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.sparse_layers import deep_features
from core.sparse_layers.debugging import lime_clouds
from core.sparse_layers.debugging.lime_clouds import (
    CloudCorpus,
    LimeSettings,
    cached_corpora,
    corpus_clouds,
)
from tests.core.sparse_layers.test_debugging import bag_encoder

TEXTS = ["a good film", "an awful plot", "good acting"]


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


#: Each way a cache file can be damaged: original bytes → damaged bytes.
DAMAGE = {
    "zero-length": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "garbage": lambda data: bytes(range(256)) * 8,
}


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn(*args, **kwargs)


# ------------------------------------------------------------- MiniLM embeddings

EMBEDDING_DAMAGE = {
    **DAMAGE,
    "float64": lambda data: _npy(np.load(io.BytesIO(data)).astype(np.float64)),
    "wrong shape": lambda data: _npy(np.load(io.BytesIO(data))[:2]),
    "non-finite": lambda data: _npy(np.full((len(TEXTS), 384), np.nan, np.float32)),
    "archive": lambda data: _npz(emb=np.load(io.BytesIO(data))),
    "pickled objects": lambda data: _npy(np.array([None, 1]), allow_pickle=True),
}


@pytest.fixture
def embedding_cache(tmp_path, monkeypatch) -> tuple[Path, np.ndarray]:
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    fresh = deep_features.sentence_embeddings(TEXTS)
    (path,) = (tmp_path / "embeddings").iterdir()
    return path, fresh


@pytest.mark.parametrize("how", EMBEDDING_DAMAGE)
def test_damaged_embedding_cache_is_rebuilt(embedding_cache, how):
    path, fresh = embedding_cache
    path.write_bytes(EMBEDDING_DAMAGE[how](path.read_bytes()))
    with pytest.warns(UserWarning, match=str(path)):
        again = deep_features.sentence_embeddings(TEXTS)
    np.testing.assert_array_equal(again, fresh)
    # Rewritten: read back without encoding or warning.
    np.testing.assert_array_equal(_quiet(np.load, path), fresh)
    np.testing.assert_array_equal(
        _quiet(deep_features.sentence_embeddings, TEXTS), fresh
    )


def test_sound_embedding_cache_is_read_without_encoding(embedding_cache, monkeypatch):
    path, fresh = embedding_cache
    monkeypatch.setattr(deep_features, "encode_sentences", lambda *a, **k: 1 / 0)
    np.testing.assert_array_equal(
        _quiet(deep_features.sentence_embeddings, TEXTS), fresh
    )


# ------------------------------------------------------------------ word clouds

ENCODER = bag_encoder({"good": np.array([1.0, 0]), "awful": np.array([0, -1.0])})
SETTINGS = LimeSettings(n_samples=40)
CORPUS = {"dataset": "toy", "split": "val", "limit": None}


def _with_meta(data: bytes, edit) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["meta"]))
    arrays["meta"] = np.array(json.dumps(edit(meta)))
    return _npz(**arrays)


def _with_arrays(data: bytes, **replace: np.ndarray) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return _npz(**{**{k: z[k] for k in z.files}, **replace})


CLOUD_DAMAGE = {
    **DAMAGE,
    "settings a list": lambda d: _with_meta(d, lambda m: {**m, "settings": [1]}),
    "n_explained a string": lambda d: _with_meta(
        d, lambda m: {**m, "n_explained": "3"}
    ),
    "meta not JSON": lambda d: _with_arrays(d, meta=np.array("{")),
    "edited sentences": lambda d: _with_arrays(
        d, texts=np.array(["a bad film", "an awful plot", "good acting"])
    ),
    "weights of another shape": lambda d: _with_arrays(
        d, mean_weight=np.zeros((1, 5), np.float32)
    ),
    "no vocabulary": lambda d: _zip_without(d, "vocab.npy"),
    "single array": lambda d: _npy(np.zeros(3)),
}


def _zip_without(data: bytes, member: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
    return out.getvalue()


class _Counting:
    def __init__(self):
        self.calls = 0

    def __call__(self, texts):
        self.calls += 1
        return ENCODER(texts)


def _clouds(encoder=ENCODER) -> CloudCorpus:
    return corpus_clouds(TEXTS, encoder, "toy", SETTINGS, corpus=CORPUS)


def _same(a: CloudCorpus, b: CloudCorpus) -> None:
    assert (a.texts, a.settings, a.encoder_id, a.n_explained, a.complete_top) == (
        b.texts,
        b.settings,
        b.encoder_id,
        b.n_explained,
        b.complete_top,
    )
    for name in ("activations", "vocab", "occurrences", "mean_weight"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


@pytest.fixture
def cloud_cache(tmp_path, monkeypatch) -> tuple[Path, CloudCorpus]:
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    fresh = _clouds()
    (path,) = (tmp_path / "wordclouds").glob("*.npz")
    return path, fresh


@pytest.mark.parametrize("how", CLOUD_DAMAGE)
def test_damaged_cloud_cache_is_rebuilt(cloud_cache, how):
    path, fresh = cloud_cache
    path.write_bytes(CLOUD_DAMAGE[how](path.read_bytes()))
    encoder = _Counting()
    with pytest.warns(UserWarning, match=str(path)):
        again = _clouds(encoder)
    assert encoder.calls > 0
    _same(again, fresh)
    served = _Counting()
    _same(_quiet(_clouds, served), fresh)  # rewritten, read back as it is
    assert served.calls == 0


@pytest.mark.parametrize("how", ["zero-length", "edited sentences"])
def test_damaged_shipped_clouds_are_computed_and_cached_once(
    tmp_path, monkeypatch, how
):
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path))
    fresh = corpus_clouds(TEXTS, ENCODER, "toy", SETTINGS, cache=False)
    shipped = lime_clouds.ship_corpus(fresh, CORPUS)
    shipped.write_bytes(CLOUD_DAMAGE[how](shipped.read_bytes()))
    with pytest.warns(UserWarning, match=str(shipped)):
        again = _clouds(_Counting())
    _same(again, fresh)
    assert shipped.exists()  # the shipped folder is never written to by a read
    served = _Counting()
    _same(_quiet(_clouds, served), fresh)  # the cache's copy comes first now
    assert served.calls == 0


@pytest.mark.parametrize(
    "index",
    [
        b"",
        b"\xff\xfe not JSON",
        b"[1, 2]",
        json.dumps({"file": 3, "settings": {}, "sentences": 3}).encode(),
        json.dumps({"file": "x.npz", "settings": [500], "sentences": 3}).encode(),
        json.dumps({"file": "x.npz", "settings": {"n_samples": 0}}).encode(),
    ],
    ids=["empty", "garbage", "a list", "file a number", "settings a list", "bad"],
)
def test_damaged_cloud_index_is_skipped_with_a_warning(cloud_cache, index):
    path, fresh = cloud_cache
    meta = path.with_suffix(".json")
    meta.write_bytes(index)
    with pytest.warns(UserWarning, match=str(meta)):
        assert cached_corpora("toy") == []
    assert not meta.exists()  # removed: said once
    # The clouds themselves are still served, and serving them writes the
    # index again.
    _same(_quiet(_clouds), fresh)
    assert [e["file"] for e in _quiet(cached_corpora, "toy")] == [path.name]
