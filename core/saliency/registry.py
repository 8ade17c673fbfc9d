"""Every explanation method by display name, with its parameter schema.

The Captum methods come from :mod:`core.saliency.captum_methods`; CAFO/CASO
(:mod:`core.saliency.caso`) and the rate-distortion methods
(:mod:`core.saliency.rde`) implement the same :class:`Explainer` protocol here.
"""

from __future__ import annotations

import numpy as np

from core.saliency import captum_methods as cm
from core.saliency.caso import MARGIN, N_ITER, SPARSITY, caso
from core.saliency.protocol import Explainer, Method, Param, register
from core.saliency.rde import default_rates, mr_rde, ord_rde, rc_rde

SEED = Param("seed", "Seed", "int", 0, low=0, help="Seeds the random draws.")


class CasoExplainer(Explainer):
    """CAFO / CASO and their smooth versions through :func:`caso`.

    ``lambda1`` and ``lambda2`` are used as given unless ``auto_lambda1`` /
    ``auto_lambda2`` choose them (sparsity-ratio rule; λ₂ = margin·L/2).
    """

    def _attribute(self, x, target):
        p = self.params
        return caso(
            self.model,
            x,
            target,
            lambda1="auto" if p["auto_lambda1"] else p["lambda1"],
            lambda2="auto" if p["auto_lambda2"] else p["lambda2"],
            second_order=p["second_order"],
            hessian=p.get("hessian", "closed_form"),
            n_iter=p["n_iter"],
            smooth=p.get("smooth", 0.0),
            n_samples=p.get("n_samples", 16),
            margin=p["margin"],
            sparsity=(p["sparsity_low"], p["sparsity_high"]),
            seed=p.get("seed", 0),
        )


class RCRDEExplainer(Explainer):
    """The RC-RDE mask at rate ``k``."""

    def _attribute(self, x, target):
        p = self.params
        return rc_rde(
            self.model,
            x,
            target,
            k=p["k"],
            n_iter=p["n_iter"],
            n_noise=p["n_noise"],
            score=p["score"],
            seed=p["seed"],
        ).mask


class MRRDEExplainer(Explainer):
    """MR-RDE relevance: RC-RDE masks averaged over ``n_rates`` rates d/16…"""

    def _attribute(self, x, target):
        p = self.params
        d = int(np.prod(x.shape[1:]))
        return mr_rde(
            self.model,
            x,
            target,
            rates=default_rates(d, p["n_rates"]),
            n_iter=p["n_iter"],
            n_noise=p["n_noise"],
            score=p["score"],
            seed=p["seed"],
        ).mask


class OrdRDEExplainer(Explainer):
    """Ord-RDE relevance, (d − position)/d from the Birkhoff solution."""

    def _attribute(self, x, target):
        p = self.params
        return ord_rde(
            self.model,
            x,
            target,
            n_iter=p["n_iter"],
            n_noise=p["n_noise"],
            score=p["score"],
            max_rates=p["max_rates"],
            seed=p["seed"],
        ).mask


SPARSE_REF = "Singla, Wallace, Feng & Feizi (2019), ICML"
RDE_REF = "Macdonald, Besançon & Pokutta (2022), ICML"

_LAMBDAS = (
    Param(
        "auto_lambda1",
        "Choose λ₁ by sparsity ratio",
        "bool",
        True,
        help="The paper's unsupervised rule: the best solution whose share of "
        "zero features lies in the target range.",
    ),
    Param("lambda1", "λ₁ (ℓ1)", "float", 1e-3, low=0.0, high=1e3, log=True),
    Param("sparsity_low", "Sparsity from", "float", SPARSITY[0], low=0.0, high=1.0),
    Param("sparsity_high", "Sparsity to", "float", SPARSITY[1], low=0.0, high=1.0),
    Param(
        "auto_lambda2",
        "λ₂ from the top eigenvalue",
        "bool",
        True,
        help="λ₂ = margin · L / 2 > L/2 makes CASO strongly concave.",
    ),
    Param("lambda2", "λ₂ (ℓ2)", "float", 20.0, low=1e-8, high=1e6, log=True),
    Param("margin", "λ₂ margin", "float", MARGIN, low=1.01, high=100.0),
    Param("n_iter", "FISTA iterations", "int", N_ITER, low=1, high=10_000),
)
_HESSIAN = Param(
    "hessian",
    "Hessian-vector products",
    "choice",
    "closed_form",
    choices=("closed_form", "autograd"),
    help="Closed form Jᵀ(diag(p) − ppᵀ)J for ReLU networks, or double backprop "
    "(any network). Also where the top eigenvalue for λ₂ comes from.",
)
_SMOOTH = (
    Param("smooth", "Noise σ", "float", 0.15, low=0.0, high=10.0),
    Param("n_samples", "Noisy copies", "int", 16, low=1, high=500),
    SEED,
)
_RDE = (
    Param("n_iter", "Frank–Wolfe iterations", "int", 300, low=1, high=100_000),
    Param("n_noise", "Noise samples per iteration", "int", 16, low=1, high=4096),
    Param(
        "score",
        "Score Φ",
        "choice",
        "probability",
        choices=("probability", "logit"),
    ),
    SEED,
)
_PERTURB = (
    Param("n_samples", "Perturbations", "int", 300, low=10, high=20_000),
    Param(
        "patch",
        "Patch size (pixels)",
        "int",
        2,
        low=1,
        high=16,
        help="Image models: features grouped into patch×patch squares.",
    ),
)

for _m in (
    Method("Saliency", cm.SaliencyExplainer, reference="Simonyan et al. (2014)"),
    Method(
        "SmoothGrad",
        cm.SmoothGradExplainer,
        (
            Param("noise", "Noise σ / range", "float", 0.15, low=0.0, high=1.0),
            Param("n_samples", "Noisy copies", "int", 25, low=1, high=500),
            SEED,
        ),
        reference="Smilkov et al. (2017)",
    ),
    Method(
        "Integrated Gradients",
        cm.IntegratedGradientsExplainer,
        (Param("n_steps", "Steps", "int", 50, low=2, high=1000),),
        reference="Sundararajan et al. (2017)",
    ),
    Method("Input×Gradient", cm.InputXGradientExplainer, reference="Shrikumar (2017)"),
    Method(
        "Guided Backprop",
        cm.GuidedBackpropExplainer,
        reference="Springenberg et al. (2015)",
    ),
    Method("DeepLift", cm.DeepLiftExplainer, reference="Shrikumar et al. (2017)"),
    Method(
        "LIME",
        cm.LimeExplainer,
        (
            *_PERTURB,
            Param("alpha", "Lasso α", "float", 0.01, low=1e-6, high=1.0, log=True),
            SEED,
        ),
        family="perturbation",
        reference="Ribeiro et al. (2016)",
    ),
    Method(
        "KernelSHAP",
        cm.KernelShapExplainer,
        (*_PERTURB, SEED),
        family="perturbation",
        reference="Lundberg & Lee (2017)",
    ),
    Method(
        "CAFO",
        CasoExplainer,
        (*_LAMBDAS, _HESSIAN),
        family="sparse",
        reference=SPARSE_REF,
        fixed={"second_order": False},
    ),
    Method(
        "CASO",
        CasoExplainer,
        (*_LAMBDAS, _HESSIAN),
        family="sparse",
        reference=SPARSE_REF,
        fixed={"second_order": True},
    ),
    Method(
        "SmoothCAFO",
        CasoExplainer,
        (*_LAMBDAS, _HESSIAN, *_SMOOTH),
        family="sparse",
        reference=SPARSE_REF,
        fixed={"second_order": False},
    ),
    Method(
        "SmoothCASO",
        CasoExplainer,
        (*_LAMBDAS, _HESSIAN, *_SMOOTH),
        family="sparse",
        reference=SPARSE_REF,
        fixed={"second_order": True},
    ),
    Method(
        "RC-RDE",
        RCRDEExplainer,
        (Param("k", "Rate k (features kept)", "int", 50, low=1), *_RDE),
        family="rate-distortion",
        reference=RDE_REF,
    ),
    Method(
        "MR-RDE",
        MRRDEExplainer,
        (Param("n_rates", "Rates d/16, 2d/16, …", "int", 8, low=1, high=16), *_RDE),
        family="rate-distortion",
        reference=RDE_REF,
    ),
    Method(
        "Ord-RDE",
        OrdRDEExplainer,
        (
            Param("max_rates", "Rates in the sum (at most)", "int", 32, low=1),
            *(
                Param(p.name, p.label, p.kind, 100, low=1, high=p.high)
                if p.name == "n_iter"
                else p
                for p in _RDE
            ),
        ),
        family="rate-distortion",
        reference=RDE_REF,
    ),
):
    register(_m)
