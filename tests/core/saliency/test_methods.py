"""The explainer protocol, the registry's schemas, Captum wrappers, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import Saliency
from torch import nn

from core.errors import UnknownNameError
from core.saliency import METHODS, explain, get_method, method_names
from core.saliency.captum_methods import patch_mask
from core.saliency.evaluation import area_under, curves, ordering, visual_normalise
from core.saliency.protocol import Param
from core.training.models import build_model
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = {
    "SmoothGrad": {"n_samples": 3},
    "Integrated Gradients": {"n_steps": 8},
    "LIME": {"n_samples": 30, "patch": 4},
    "KernelSHAP": {"n_samples": 30, "patch": 4},
    "SmoothCAFO": {"n_samples": 2},
    "SmoothCASO": {"n_samples": 2},
    "RC-RDE": {"k": 8, "n_iter": 3, "n_noise": 2},
    "MR-RDE": {"n_rates": 2, "n_iter": 3, "n_noise": 2},
    "Ord-RDE": {"max_rates": 4, "n_iter": 3, "n_noise": 2},
}


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    return build_model("cnn_digits").eval()


@pytest.fixture(scope="module")
def x():
    return torch.rand(2, 64, generator=torch.Generator().manual_seed(0))


def test_the_registry_holds_every_required_method():
    required = {
        "Saliency",
        "SmoothGrad",
        "Integrated Gradients",
        "Input×Gradient",
        "Guided Backprop",
        "DeepLift",
        "LIME",
        "KernelSHAP",
        "CAFO",
        "CASO",
        "SmoothCAFO",
        "SmoothCASO",
        "RC-RDE",
        "MR-RDE",
        "Ord-RDE",
    }
    assert required <= set(method_names())
    for m in METHODS.values():
        for p in m.params:  # every default satisfies its own schema
            assert p.validate(p.default) == p.default


def test_explainers_live_with_their_methods_in_registration_order():
    home = {
        "gradient": "core.saliency.captum_methods",
        "perturbation": "core.saliency.captum_methods",
        "sparse": "core.saliency.caso",
        "rate-distortion": "core.saliency.rde",
    }
    for m in METHODS.values():
        assert m.cls.__module__ == home[m.family], m.name
    assert method_names()[8:] == [
        "CAFO",
        "CASO",
        "SmoothCAFO",
        "SmoothCASO",
        "RC-RDE",
        "MR-RDE",
        "Ord-RDE",
    ]
    assert get_method("Ord-RDE").defaults()["n_iter"] == 100
    assert get_method("RC-RDE").defaults()["n_iter"] == 300


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_returns_attributions_shaped_like_its_inputs(name, cnn, x):
    out = explain(name, cnn, x, **FAST.get(name, {}))
    assert out.shape == x.shape and torch.isfinite(out).all()
    assert cnn.training is False and not x.requires_grad


# What each method must satisfy, run through the registry (so the wiring to
# Captum — baselines, targets, parameters — is what is tested).

#: The linear model's weights: |w|₁ < 0.5 keeps its probability in (0, 1).
W = torch.tensor([0.08, -0.06, 0.04, -0.02, 0.01, 0.05, -0.07, 0.03])


class LinearProbability(nn.Module):
    """Two classes whose softmax probabilities are linear in ``x``:
    p₀ = 0.5 + w·x and p₁ = 1 − p₀ (logits log p₀, log p₁).

    LIME and KernelSHAP explain the softmax probability, so on this model they
    explain a linear function, whose Shapley values are known exactly.
    """

    def forward(self, x):
        p = 0.5 + x @ W
        return torch.log(torch.stack([p, 1 - p], dim=1))


def _mlp(activation: type[nn.Module], seed: int = 0) -> nn.Module:
    """8 inputs, two hidden layers of 16, 3 classes; biases make f(0) ≠ 0.

    The weights are three times PyTorch's initial ones so that the activations
    bend between 0 and x: the differences checked below are of order one.
    """
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(8, 16),
        activation(),
        nn.Linear(16, 16),
        activation(),
        nn.Linear(16, 3),
    ).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return model


@pytest.fixture
def x8():
    return torch.rand(4, 8, generator=torch.Generator().manual_seed(1))


def _logit_gap(model, x, target):
    """f_t(x) − f_t(0): what a complete attribution from the zero baseline sums to."""
    with torch.no_grad():
        return (model(x) - model(torch.zeros_like(x)))[torch.arange(len(x)), target]


def test_integrated_gradients_are_complete(x8):
    model, target = _mlp(nn.Tanh), torch.tensor([0, 1, 2, 0])
    gap = _logit_gap(model, x8, target)
    assert gap.abs().min() > 0.1  # a sum that could be wrong
    fine = explain("Integrated Gradients", model, x8, target, n_steps=64)
    torch.testing.assert_close(fine.sum(1), gap, atol=1e-5, rtol=0)
    # The step count reaches Captum: two steps are visibly off.
    coarse = explain("Integrated Gradients", model, x8, target, n_steps=2)
    assert (coarse.sum(1) - gap).abs().max() > 0.01


def test_deeplift_is_complete_on_a_relu_network(x8):
    model, target = _mlp(nn.ReLU), torch.tensor([2, 1, 0, 2])
    gap = _logit_gap(model, x8, target)
    assert gap.abs().min() > 0.1
    out = explain("DeepLift", model, x8, target)
    torch.testing.assert_close(out.sum(1), gap, atol=1e-5, rtol=0)
    # Not merely the gradient times the input, which is not complete here.
    ixg = explain("Input×Gradient", model, x8, target)
    assert (ixg.sum(1) - gap).abs().max() > 0.1


def test_smoothgrad_tends_to_saliency_as_the_noise_vanishes(x8):
    model = _mlp(nn.Tanh)
    saliency = explain("Saliency", model, x8)
    errors = [
        (explain("SmoothGrad", model, x8, noise=s, n_samples=20) - saliency).abs().max()
        for s in (0.3, 0.03, 0.003, 1e-5)
    ]
    assert errors[0] > errors[1] > errors[2] > errors[3]
    assert errors[3] < 1e-4 * saliency.abs().max()


@pytest.mark.parametrize("target", [0, 1])
def test_kernel_shap_gives_a_linear_models_exact_shapley_values(x8, target):
    model = LinearProbability()
    out = explain("KernelSHAP", model, x8, target, n_samples=200)
    # Efficiency: the values sum to f(x) − f(baseline) (the baseline is 0) ...
    with torch.no_grad():
        p, p0 = model(x8).exp()[:, target], model(torch.zeros_like(x8)).exp()[0, target]
    torch.testing.assert_close(out.sum(1), p - p0, atol=1e-5, rtol=0)
    # ... and for a linear model each one is w_i (x_i − baseline_i).
    sign = 1 if target == 0 else -1
    torch.testing.assert_close(out, sign * W * x8, atol=1e-5, rtol=0)


def test_lime_recovers_a_linear_models_weights():
    # Every feature at 1, so each feature's effect is its weight; class 1's
    # probability falls where class 0's rises.
    x = torch.ones(1, 8)
    out = explain("LIME", LinearProbability(), x, 1, n_samples=300, alpha=1e-6)[0]
    assert torch.equal(out.sign(), -W.sign())
    assert torch.equal(out.argsort(), (-W).argsort())
    torch.testing.assert_close(out, -W, atol=2e-3, rtol=0)


def test_guided_backprop_passes_only_positive_gradients_through_relus(x8):
    # Captum's Guided Backprop: the gradient, with each ReLU's backward output
    # clamped at zero, i.e. Wᵀ(1[h > 0] · max(v_t, 0)) for one hidden layer.
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2)).eval()
    with torch.no_grad():
        model[2].weight[0] = model[2].weight[0].abs()  # class 0: all positive
        v1 = model[2].weight[1]
        assert (v1 > 0).any() and (v1 < 0).any()
        active = (model[0](x8) > 0).float()
    guided = explain("Guided Backprop", model, x8, torch.tensor([0, 0, 1, 1]))
    saliency = explain("Saliency", model, x8, torch.tensor([0, 0, 1, 1]))
    # Every backward ReLU sees a positive gradient for class 0: the plain gradient.
    torch.testing.assert_close(guided[:2], saliency[:2])
    expected = (active[2:] * v1.clamp(min=0)) @ model[0].weight.detach()
    torch.testing.assert_close(guided[2:], expected)
    assert not torch.allclose(guided[2:], saliency[2:])


def test_saliency_is_captums_and_the_target_is_the_predicted_class(cnn, x):
    ours = explain("Saliency", cnn, x)
    pred = cnn(x).argmax(1)
    ref = Saliency(cnn).attribute(x.clone().requires_grad_(), target=pred, abs=False)
    torch.testing.assert_close(ours, ref)
    other = explain("Saliency", cnn, x, target=(int(pred[0]) + 1) % 10)
    assert not torch.allclose(other[0], ours[0])


def test_parameters_are_checked_against_the_schema(cnn, x):
    with pytest.raises(ValueError, match="SmoothGrad has no parameter n_step"):
        explain("SmoothGrad", cnn, x, n_step=3)
    with pytest.raises(ValueError, match=r"n_steps must be in \[2, 1000\]"):
        explain("Integrated Gradients", cnn, x, n_steps=1)
    with pytest.raises(ValueError, match="hessian must be one of"):
        explain("CASO", cnn, x, hessian="exact")
    with pytest.raises(UnknownNameError, match="Did you mean CASO"):
        get_method("CAS0")
    with pytest.raises(ValueError, match="must be an integer"):
        Param("n", "n", "int", 1).validate(1.5)


def test_patch_mask_groups_pixels(cnn):
    mask = patch_mask(cnn, 64, 4)
    assert mask.shape == (1, 64) and mask.unique().numel() == 4
    assert mask[0, 0] == mask[0, 3] and mask[0, 0] != mask[0, 4]


def test_visual_normalisation_caps_and_scales():
    a = np.linspace(-1, 1, 2 * 3 * 4 * 3).reshape(2, 36)
    out = visual_normalise(a, (3, 4, 3), percentile=90)
    assert out.shape == (2, 3, 4) and out.min() >= 0 and out.max() == 1
    summed = np.abs(a[0]).reshape(3, 4, 3).sum(-1)
    cap = np.percentile(summed, 90)
    np.testing.assert_allclose(out[0], np.minimum(summed / cap, 1))
    assert (visual_normalise(np.zeros((1, 5))) == 0).all()


def test_curves_start_and_end_where_they_must(cnn, x):
    maps = {"Saliency": explain("Saliency", cnn, x), "random": torch.randn_like(x)}
    df = curves(cnn, x, maps, n_steps=8, n_noise=4)
    assert set(df["curve"]) == {"deletion", "insertion", "rate-distortion"}
    with torch.no_grad():
        probs = torch.softmax(cnn(x), 1).max(1).values
        base = torch.softmax(cnn(torch.zeros(1, 64)), 1)[0, cnn(x).argmax(1)]
    for i in range(2):
        d = df[(df.example == i) & (df.method == "Saliency")].set_index(
            ["curve", "fraction"]
        )
        assert d.loc[("deletion", 0.0), "value"] == pytest.approx(
            float(probs[i]), rel=1e-5
        )
        assert d.loc[("insertion", 1.0), "value"] == pytest.approx(
            float(probs[i]), rel=1e-5
        )
        assert d.loc[("deletion", 1.0), "value"] == pytest.approx(
            float(base[i]), rel=1e-5
        )
        assert d.loc[("rate-distortion", 1.0), "value"] == pytest.approx(0.0, abs=1e-10)
    table = area_under(df)
    assert list(table["method"]) == ["Saliency", "random"]
    assert (table["n_examples"] == 2).all()
    assert table[["deletion", "insertion", "rate-distortion"]].ge(0).all().all()


def test_ordering_sorts_by_absolute_value():
    a = torch.tensor([[0.1, -3.0, 2.0, 0.0]])
    assert ordering(a).tolist() == [[1, 2, 0, 3]]


def test_ordering_breaks_ties_at_random_not_by_index():
    a = torch.zeros(1, 200)
    a[0, 150] = 5.0
    order = ordering(a, seed=3)[0]
    assert order[0] == 150 and sorted(order.tolist()) == list(range(200))
    assert order[1:].tolist() != sorted(order[1:].tolist())
    torch.testing.assert_close(order, ordering(a, seed=3)[0])
