"""Word clouds explained in sentence shards, one task each: the sums and
counts of the shards merge into the clouds of one unsharded run, on Ray as in
this process."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from core.executor import TasksFailedError, open_executor
from core.sparse_layers.debugging.lime_clouds import (
    CloudCorpus,
    LimeSettings,
    corpus_clouds,
    explain_sentences,
    sharded_sums,
)
from tests.core.local_ray import local_ray  # noqa: F401

WORDS = ["good", "bad", "film", "plot", "acting", "awful", "great", "dull", "cast"]
TEXTS = (
    tuple(
        " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 2 + i % 5))
        for i in range(39)
    )
    + ("",)  # a sentence without words
    + ("a sentence that crashes one encoder",)
)
SETTINGS = LimeSettings(n_samples=30, seed=1)
BLOCK, SHARD = 8, 16


def encode(texts) -> np.ndarray:
    """A toy encoder: six features, nonlinear in the words (a module-level
    function, so that it pickles for Ray's workers)."""
    out = np.zeros((len(texts), 6))
    for i, text in enumerate(texts):
        for word in text.split():
            h = zlib.crc32(word.encode())
            out[i, h % 6] += 1.0 + (h % 7) / 7
    return np.tanh(out - out.mean(axis=1, keepdims=True))


def encode_failing(texts) -> np.ndarray:
    if any("crashes" in t for t in texts):
        raise RuntimeError("encoder crashed")
    return encode(texts)


def _arrays(corpus: CloudCorpus) -> dict:
    return {
        "vocab": corpus.vocab,
        "occurrences": corpus.occurrences,
        "activations": corpus.activations,
        "mean_weight": corpus.mean_weight,
    }


@pytest.fixture(scope="module")
def unsharded() -> CloudCorpus:
    return explain_sentences(TEXTS, encode, SETTINGS, block=BLOCK).aggregate()


def _sharded(executor, progress=None) -> CloudCorpus:
    sums = sharded_sums(
        TEXTS,
        encode,
        SETTINGS,
        executor,
        shard_size=SHARD,
        block=BLOCK,
        progress=progress,
    )
    return sums.corpus(TEXTS, SETTINGS, "")


@pytest.mark.usefixtures("local_ray")
def test_shards_on_ray_merge_into_the_unsharded_clouds(unsharded):
    calls = []
    with open_executor() as ex:
        in_process = _sharded(ex, lambda done, total: calls.append((done, total)))
    with open_executor(ray=True) as ex:
        on_ray = _sharded(ex)
    # Shards merge in corpus order whatever order they finished in: the same
    # numbers whichever executor ran them.
    for name, array in _arrays(on_ray).items():
        np.testing.assert_array_equal(array, _arrays(in_process)[name], err_msg=name)
    assert calls == [(0, 41), (16, 41), (32, 41), (41, 41)]
    # Against one unsharded run: the same words, counts and activations; the
    # averages differ only by the order in which float64 sums were added.
    assert on_ray.n_explained == unsharded.n_explained == 40
    for name in ("vocab", "occurrences", "activations"):
        np.testing.assert_array_equal(
            _arrays(on_ray)[name], _arrays(unsharded)[name], err_msg=name
        )
    np.testing.assert_allclose(
        on_ray.mean_weight, unsharded.mean_weight, rtol=1e-6, atol=1e-9
    )
    # Averaging the shards' averages would weigh a word's occurrences wrongly.
    assert unsharded.occurrences.max() > 1


def test_sharded_clouds_are_cached_like_the_unsharded(tmp_path, monkeypatch):
    import core.sparse_layers.debugging.lime_clouds as lime_clouds

    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path)
    with open_executor() as ex:
        sharded = corpus_clouds(
            TEXTS, encode, "toy", SETTINGS, block=BLOCK, executor=ex, shard_size=SHARD
        )
    # The shards' sums are dropped once the corpus is saved.
    assert [p.name for p in (tmp_path / "wordclouds").iterdir() if p.is_dir()] == []
    again = corpus_clouds(TEXTS, lambda t: 1 / 0, "toy", SETTINGS)  # from the cache
    assert (again.texts, again.encoder_id, again.n_explained) == (TEXTS, "toy", 40)
    for name, array in _arrays(again).items():
        np.testing.assert_array_equal(array, _arrays(sharded)[name], err_msg=name)


def test_a_failing_shard_is_reported_and_the_others_finish():
    done = []
    with (
        open_executor(max_retries=1) as ex,
        pytest.raises(TasksFailedError) as info,
    ):
        sharded_sums(
            TEXTS,
            encode_failing,
            SETTINGS,
            ex,
            shard_size=SHARD,
            block=BLOCK,
            progress=lambda n, total: done.append(n),
        )
    [failure] = info.value.failures
    assert failure.key == "sentences 32-40"  # the last shard
    assert "RuntimeError: encoder crashed" in failure.error
    assert done == [0, 16, 32]  # the two other shards finished


@pytest.mark.parametrize("shard", [12, 4, 0])
def test_shards_are_whole_blocks(shard):
    with (
        open_executor() as ex,
        pytest.raises(ValueError, match=f"multiple of block \\(8\\), got {shard}"),
    ):
        sharded_sums(TEXTS, encode, SETTINGS, ex, shard_size=shard, block=BLOCK)


def test_an_interrupted_corpus_resumes_from_its_finished_shards(tmp_path):
    shards = tmp_path / "shards"
    with open_executor(max_retries=0) as ex, pytest.raises(TasksFailedError):
        sharded_sums(
            TEXTS,
            encode_failing,
            SETTINGS,
            ex,
            shard_size=SHARD,
            block=BLOCK,
            shard_dir=shards,
        )
    assert sorted(p.name for p in shards.iterdir()) == [
        "sentences-0-15-block8.npz",
        "sentences-16-31-block8.npz",
    ]
    (shards / "sentences-16-31-block8.npz").write_bytes(b"damaged")
    batches = []

    def recording(texts):
        batches.append(list(texts))
        return encode(texts)

    with open_executor() as ex:
        with pytest.warns(UserWarning, match="Ignoring a word-cloud shard"):
            resumed = sharded_sums(
                TEXTS,
                recording,
                SETTINGS,
                ex,
                shard_size=SHARD,
                block=BLOCK,
                shard_dir=shards,
            )
        fresh = _sharded(ex)
    # The first shard was read back; the damaged one and the failed one ran,
    # one encoder call per block of 8 sentences (each call starts with them).
    assert [b[0] for b in batches] == [TEXTS[16], TEXTS[24], TEXTS[32], TEXTS[40]]
    for name, array in _arrays(resumed.corpus(TEXTS, SETTINGS, "")).items():
        np.testing.assert_array_equal(array, _arrays(fresh)[name], err_msg=name)
