"""The GLM families' shortcut for the duality gap agrees with the definition."""

import pytest
import torch

from core.sparse_layers.glm.families import get_family


@pytest.mark.parametrize("family, k", [("multinomial", 4), ("binomial", 1)])
def test_scaled_conjugate_matches_the_conjugate(family, k):
    fam = get_family(family)
    gen = torch.Generator().manual_seed(0)
    Z = 3 * torch.randn(50, k, generator=gen)
    labels = torch.randint(0, max(k, 2), (50,), generator=gen)
    Y = fam.targets(labels, k)
    R = fam.residual(Z, Y)
    along = fam.scaled_conjugate(R, Y)
    for s in (0.0, 0.13, 0.5, 0.999, 1.0):
        direct = fam.conjugate(s * R, Y).double().item()
        assert along(s) == pytest.approx(direct, rel=1e-6, abs=1e-9)
