"""The benchmarks' baselines do what they say: lime asked for every feature at
once gives the weights of one call per feature and of ours; glm_saga's
minibatches are those a shuffling DataLoader yields, and its epochs are
counted."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import torch

from benchmarks.enet_imagenet import imagenet_like
from benchmarks.enet_path import (
    GLM_SAGA_LAMBDA_MAX_PASSES,
    ShuffledBatches,
    print_rows,
)
from benchmarks.glm_products import kernel_rows
from benchmarks.word_clouds import (
    check_same_weights,
    lime_all_features,
    lime_one_feature,
)
from core.sparse_layers.debugging.lime_clouds import LimeSettings, explain_sentences

TEXTS = ["the good film, a great plot.", "Dull plot; bad film and the bad end"]


@pytest.fixture
def encoder():
    """tanh of a bag of word vectors: 3 features, not linear in the words."""
    rng = np.random.default_rng(3)
    words = ["good", "bad", "film", "great", "plot", "the", "dull", "end"]
    vectors = {w: rng.standard_normal(3) for w in words}

    def encode(texts):
        out = np.zeros((len(texts), 3))
        for i, t in enumerate(texts):
            for w in re.findall(r"\w+", t.lower()):
                out[i] += vectors.get(w, 0.0)
        return np.tanh(out)

    return encode


def test_lime_all_features_is_one_call_per_feature_and_ours(encoder):
    settings = LimeSettings(n_samples=150, seed=2)
    ours = explain_sentences(TEXTS, encoder, settings)
    lime_all = [lime_all_features(t, encoder, settings, 3) for t in TEXTS]
    per_feature = {
        (i, j): lime_one_feature(t, encoder, settings, j)
        for i, t in enumerate(TEXTS)
        for j in range(3)
    }
    for (i, j), w in per_feature.items():
        np.testing.assert_array_equal(w[lime_all[i].index], lime_all[i][j])
    for i in range(len(TEXTS)):
        mine = ours.sentence(i)
        assert sorted(mine.index) == sorted(lime_all[i].index)
        np.testing.assert_allclose(mine, lime_all[i].loc[mine.index], atol=1e-6)
    assert check_same_weights(ours, lime_all, per_feature) < 1e-5


def test_check_same_weights_refuses_other_weights(encoder):
    settings = LimeSettings(n_samples=150, seed=2)
    ours = explain_sentences(TEXTS, encoder, settings)
    lime_all = [lime_all_features(t, encoder, settings, 3) for t in TEXTS]
    per_feature = {(0, 1): lime_one_feature(TEXTS[0], encoder, settings, 1)}
    other = explain_sentences(TEXTS, encoder, LimeSettings(n_samples=150, seed=3))
    with pytest.raises(RuntimeError, match="ours differs from lime"):
        check_same_weights(other, lime_all, per_feature)
    per_feature[0, 1] = per_feature[0, 1] * 1.001
    with pytest.raises(RuntimeError, match="lime's two calls differ"):
        check_same_weights(ours, lime_all, per_feature)


def test_shuffled_batches_are_a_fresh_permutation_in_slices_each_pass():
    X = torch.arange(1300.0).reshape(650, 2)
    y = torch.arange(650) % 3
    loader = ShuffledBatches(X, y, batch_size=256)
    orders = []
    for _ in range(2):
        batches = list(loader)
        assert [len(b[0]) for b in batches] == [256, 256, 138] and len(loader) == 3
        idx = torch.cat([b[2] for b in batches])
        assert sorted(idx.tolist()) == list(range(650))
        for Xb, yb, ib in batches:
            assert torch.equal(Xb, X[ib]) and torch.equal(yb, y[ib])
        orders.append(idx)
    assert not torch.equal(*orders) and loader.passes == 2


@pytest.mark.filterwarnings("ignore:Implicit dimension choice:UserWarning")
def test_glm_saga_epochs_are_its_passes_less_lambda_max_and_scoring():
    from glm_saga.elasticnet import glm_saga

    rng = np.random.default_rng(0)
    X = torch.as_tensor(rng.standard_normal((300, 4)), dtype=torch.float32)
    y = (X[:, 0] > 0).long()
    linear = torch.nn.Linear(4, 2)
    epochs = []

    class Counted(ShuffledBatches):
        def __iter__(self):
            # A pass is an epoch when train_saga is the one looping.
            epochs.append(sys._getframe(1).f_code.co_name == "train_saga")
            return super().__iter__()

    loader = Counted(X, y, batch_size=64)
    out = glm_saga(
        linear,
        loader,
        0.1,
        50,
        0.99,
        k=3,
        epsilon=0.1,
        do_zero=False,
        n_ex=300,
        n_classes=2,
        verbose=None,
    )
    n_lambdas = len(out["path"])
    assert sum(epochs) >= n_lambdas
    assert loader.passes - GLM_SAGA_LAMBDA_MAX_PASSES - n_lambdas == sum(epochs)


def _row(seconds, objectives, last=2):
    return dict(
        seconds=seconds,
        epochs=10,
        lambdas=len(objectives),
        obj=dict(enumerate(objectives)),
        nnz=3,
        acc=0.5,
        note="",
        last=last,
        mine=1.0,
        span="",
    )


def test_time_to_target_takes_each_solvers_fastest_setting_within_it(capsys):
    best = [1.0, 1.0, 1.0]
    rows = {
        "sparselens 0.0001": _row(2.0, [1.0, 1.0, 1.001]),  # misses 1e-4
        "sparselens 1e-05": _row(4.0, [1.0, 1.0, 1.00005]),
        "sparselens 1e-06": _row(6.0, best),
        "FISTA-60 1e-05": _row(9.0, [1.0, 1.00002, 1.0]),
        "FISTA-60 1e-06": _row(20.0, best),
        "glmnet 1e-07": _row(1.0, [1.0, 1.01, 1.0]),
    }
    print_rows(rows, None, 1e-4)
    out = capsys.readouterr().out
    assert "sparselens: 4.0 s (sparselens 1e-05)" in out
    assert "FISTA-60: 9.0 s (FISTA-60 1e-05), 2.2× SparseLens's" in out
    assert "glmnet: no setting run reached it" in out


def test_imagenet_like_draws_the_shapes_asked_for():
    X, y, Xte, yte = imagenet_like(3000, 40, 7, 500)
    assert X.shape == (3000, 40) and Xte.shape == (500, 40)
    assert X.dtype == np.float32 and (X >= 0).all()
    assert set(np.unique(y)) <= set(range(7)) and len(np.unique(y)) == 7


def test_product_benchmark_times_every_kernel_and_sees_bfloat16_rounding():
    rows = {name: (ms, err) for name, ms, err in kernel_rows(300, 64, 3, repeats=1)}
    assert len(rows) == 6 and all(ms > 0 for ms, _ in rows.values())
    float32 = [err for name, (_, err) in rows.items() if "bfloat16" not in name]
    assert all(err <= 1e-5 for err in float32[1:])  # the first is the sum
    # bfloat16 keeps 8 bits: its error is that of its rounding, far above.
    assert rows["X @ B.T + b in bfloat16"][1] > 1e-4
