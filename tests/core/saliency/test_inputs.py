"""The input handling every explanation method shares."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.saliency.inputs import check_input_batch, noisy_copies, resolve_target
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)).double()


def test_a_checked_batch_is_detached_and_bad_batches_say_why():
    x = torch.ones(2, 3, requires_grad=True)
    out = check_input_batch(x)
    assert not out.requires_grad and torch.equal(out, x.detach())
    with pytest.raises(TypeError, match="must be a torch.Tensor, got list"):
        check_input_batch([[1.0, 2.0]])
    with pytest.raises(ValueError, match="batch dimension"):
        check_input_batch(torch.ones(3))
    with pytest.raises(TypeError, match="floating point"):
        check_input_batch(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_input_batch(torch.tensor([[1.0, float("nan")]]))


def test_the_target_defaults_to_the_prediction_and_is_checked():
    net = tiny_net()
    x = torch.randn(
        3, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(resolve_target(net, x, None), net(x).argmax(1))
    assert resolve_target(net, x, 2).tolist() == [2, 2, 2]
    assert resolve_target(net, x, torch.tensor([0, 1, 3])).tolist() == [0, 1, 3]
    with pytest.raises(ValueError, match=r"target must be in \[0, 4\)"):
        resolve_target(net, x, 4)
    with pytest.raises(ValueError, match="one class or 3 classes; got 2"):
        resolve_target(net, x, [0, 1])


def test_noisy_copies_are_the_clean_input_without_noise_and_seeded_with_it():
    x = torch.arange(6.0).reshape(2, 1, 3)
    assert torch.equal(noisy_copies(x, 5, 0.0, None), x.reshape(2, 1, 3))
    a = noisy_copies(x, 4, 0.5, torch.Generator().manual_seed(0))
    b = noisy_copies(x, 4, 0.5, torch.Generator().manual_seed(0))
    assert a.shape == (2, 4, 3) and torch.equal(a, b)
    assert not torch.equal(a[:, 0], a[:, 1])
