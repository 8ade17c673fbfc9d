"""The explainer protocol, the registry's schemas, Captum wrappers, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import Saliency

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
