"""Penalties, proximal steps, D_eff and the trainer of the Neural LASSO comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.data import load_dataset
from core.training.gradients import input_gradients, score_gradient
from core.training.metrics import d_eff, surviving_features
from core.training.models import build_model
from core.training.penalties import (
    PENALTIES,
    GroupLasso,
    InputGradientL1,
    L1Weights,
    make_penalty,
    strength_label,
)
from core.training.store import list_models
from core.training.train import (
    TrainConfig,
    TrainingDivergedError,
    model_inputs,
    step_sizes,
    train,
    validation_objective,
)


def _tiny_net(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(
        "mlp", n_features=4, n_classes=3, hidden=[6, 5], dropout=0.0
    ).double()


def _finite_difference(
    fn, params: list[torch.Tensor], eps: float = 1e-6
) -> list[torch.Tensor]:
    """Central differences; ``fn`` may itself differentiate (the gradient penalty)."""
    grads = []
    for p in params:
        flat = p.data.view(-1)  # edit the parameter in place, outside autograd
        g = torch.zeros_like(flat)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + eps
            up = fn()
            flat[i] = old - eps
            down = fn()
            flat[i] = old
            g[i] = (up - down) / (2 * eps)
        grads.append(g.view_as(p))
    return grads


@pytest.mark.parametrize("penalty", [InputGradientL1(0.3), L1Weights(0.05)])
def test_penalty_gradients_match_finite_differences(penalty):
    model = _tiny_net()
    x = torch.randn(
        5, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    x.requires_grad_(True)
    if isinstance(penalty, InputGradientL1):
        penalty.lambda_ = 0.3  # calibration is tested on its own

    def value() -> torch.Tensor:
        return penalty.term(model, x, model(x))

    params = list(model.parameters())
    analytic = torch.autograd.grad(value(), params, materialize_grads=True)
    numeric = _finite_difference(lambda: value().item(), params)
    for a, n in zip(analytic, numeric, strict=True):
        torch.testing.assert_close(a, n, rtol=1e-5, atol=1e-7)


def test_score_gradient_is_the_per_example_gradient_of_summed_log_probabilities():
    model = _tiny_net()
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    batch = score_gradient(model(x), x, create_graph=False)
    for i in range(3):
        xi = x[i : i + 1].detach().requires_grad_(True)
        (gi,) = torch.autograd.grad(torch.log_softmax(model(xi), 1).sum(), xi)
        torch.testing.assert_close(batch[i], gi[0])


def test_calibration_sets_the_initial_ratio():
    model = _tiny_net().float()
    x = torch.randn(32, 4, requires_grad=True)
    y = torch.randint(0, 3, (32,))
    ce = torch.nn.functional.cross_entropy(model(x), y)
    penalty = InputGradientL1(0.25)
    penalty.calibrate(model, x, ce.detach())
    term = penalty.term(model, x, model(x))
    assert term.item() == pytest.approx(0.25 * ce.item(), rel=1e-5)


def test_d_eff_on_hand_made_gradients():
    g = np.array([[1.0, -0.1, 0.05], [0.0, 0.0, 0.0], [2.0, -2.0, 2.0]])
    assert d_eff(g) == pytest.approx((2 + 0 + 3) / 3)
    with pytest.raises(ValueError, match="2-d"):
        d_eff(np.zeros(3))


@pytest.fixture(scope="module")
def cancer():
    return load_dataset("breast_cancer")


def test_same_seed_same_metrics_other_seed_other_metrics(cancer):
    cfg = TrainConfig(epochs=3, seed=7)
    a = train(cancer, "mlp", [make_penalty("grad_l1", 0.1)], cfg)
    b = train(cancer, "mlp", [make_penalty("grad_l1", 0.1)], cfg)
    c = train(
        cancer, "mlp", [make_penalty("grad_l1", 0.1)], TrainConfig(epochs=3, seed=8)
    )
    assert a.test_metrics == b.test_metrics
    assert a.test_metrics != c.test_metrics


@pytest.mark.parametrize(
    ("name", "strength"),
    [("none", 0), ("l1_weights", 1e-4), ("grad_l1", 0.1), ("group_l1", 0.08)],
)
def test_short_training_run_per_penalty(cancer, name, strength):
    seen = []
    penalty = make_penalty(name, strength, groups=cancer.feature_groups)
    result = train(
        cancer,
        "mlp",
        [penalty],
        TrainConfig(epochs=10, patience=None),
        progress=lambda e, n, rec: seen.append((e, n)),
    )
    assert seen == [(e, 10) for e in range(1, 11)]
    m = result.test_metrics
    assert (
        0.5 < m["auc"] <= 1
        and m["theta_l1"] > 0
        and 1 <= m["d_eff"] <= cancer.n_features
    )
    assert not result.model.training
    if name == "group_l1":
        # The features recorded as surviving are those of the groups whose
        # first-layer block is not zero, computed here from the groups' norms.
        W = result.model[0].weight.detach()
        norms = {
            g: W[:, list(cols)].norm().item()
            for g, cols in cancer.feature_groups.items()
        }
        group_of = {j: g for g, cols in cancer.feature_groups.items() for j in cols}
        expected = [
            f for j, f in enumerate(cancer.feature_names) if norms[group_of[j]] > 0
        ]
        assert result.extras["surviving_features"] == expected
        assert 0 < sum(v == 0 for v in norms.values()) < len(norms), norms
        for cols in cancer.feature_groups.values():  # whole groups live or die
            assert len({bool((W[:, j] != 0).any()) for j in cols}) == 1


def test_surviving_features_are_the_nonzero_first_layer_columns():
    model = build_model("mlp", n_features=4, n_classes=2, hidden=(3,), dropout=0.0)
    with torch.no_grad():
        model[0].weight[:, 1] = 0.0
        model[0].weight[:, 3] = 0.0
        model[0].weight[2, 3] = 1e-30  # one tiny weight keeps a feature alive
        model[2].weight[:, 0] = 0.0  # later layers do not count
    assert surviving_features(model, ["a", "b", "c", "d"]) == ["a", "c", "d"]
    with pytest.raises(ValueError, match="4 inputs but 3 names"):
        surviving_features(model, ["a", "b", "c"])


def test_surviving_features_fall_as_group_strength_grows(cancer):
    counts = []
    for strength in (0.0, 0.05, 0.08):
        result = train(
            cancer,
            "mlp",
            [GroupLasso(strength)],  # one group per feature
            TrainConfig(epochs=10, patience=None),
        )
        counts.append(len(surviving_features(result.model, cancer.feature_names)))
    assert counts[0] == cancer.n_features
    assert counts[0] > counts[1] > counts[2]


def test_a_diverging_run_raises_and_stores_nothing(cancer):
    with pytest.raises(TrainingDivergedError, match="nothing was stored"):
        train(cancer, "mlp", [make_penalty("grad_l1", 1e40)], TrainConfig(epochs=2))
    assert list_models() == []


def test_group_lasso_needs_a_first_linear_layer():
    digits = load_dataset("digits")
    with pytest.raises(ValueError, match="group LASSO needs linear or mlp"):
        train(digits, "cnn_digits", [GroupLasso(1.0)], TrainConfig(epochs=1))


def test_text_sets_without_features_are_explained():
    with pytest.raises(ValueError, match="sentence encoder"):
        model_inputs(load_dataset("sst2").train)


def test_cnn_input_gradients_line_up_with_pixel_features():
    digits = load_dataset("digits")
    result = train(
        digits, "cnn_digits", [make_penalty("grad_l1", 0.1)], TrainConfig(epochs=1)
    )
    grads = input_gradients(result.model, digits.test.X[:10])
    assert grads.shape == (10, 64) and np.isfinite(grads).all()
    assert not math.isnan(result.test_metrics["auc"])


def test_unknown_penalty_and_bad_strength():
    with pytest.raises(KeyError, match="Unknown penalty"):
        make_penalty("l2")
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        make_penalty("l1_weights", -1)


def test_step_sizes_follow_the_optimizer():
    model = _tiny_net().float()
    x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    assert step_sizes(sgd)(model[0].weight) == 0.1
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    assert step_sizes(adam)(model[0].weight) == 1e-3  # before any step
    torch.nn.functional.cross_entropy(model(x), y).backward()
    adam.step()
    step = step_sizes(adam)(model[0].weight)
    # After one step v̂ = g², so Adam's step size is lr / (|g| + ε).
    expected = 1e-3 / (model[0].weight.grad.abs() + 1e-8)
    torch.testing.assert_close(step, expected)


def test_validation_objective_is_cross_entropy_plus_penalties():
    model = _tiny_net().float()
    X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    y = np.arange(20) % 3
    penalty = GroupLasso(0.5)
    with torch.no_grad():
        ce = torch.nn.functional.cross_entropy(
            model(torch.as_tensor(X)), torch.as_tensor(y)
        )
    W = model[0].weight.detach()
    expected = ce.item() + 0.5 * torch.linalg.vector_norm(W, dim=0).sum().item()
    assert validation_objective(model, X, y, [penalty]) == pytest.approx(
        expected, rel=1e-5
    )


@pytest.mark.parametrize(
    ("name", "strength", "label"),
    [
        ("none", 0.0, "none"),
        ("l1_weights", 0.003, "l1_weights λ_θ=0.003"),
        ("grad_l1", 0.1, "grad_l1 r=0.1"),
        ("group_l1", 0.03, "group_l1 λ=0.03"),
        ("from_the_future", 2.0, "from_the_future strength=2"),
    ],
)
def test_strength_label_names_what_the_strength_is(name, strength, label):
    assert strength_label(name, strength) == label


def test_every_penalty_says_what_its_strength_means():
    for name, penalty in PENALTIES.items():
        assert penalty.strength_meaning, name
        assert bool(penalty.strength_symbol) == (name != "none"), name
