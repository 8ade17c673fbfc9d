"""Every explanation method by display name: the one place they are registered.

Each method's explainer class and parameter schema live with the method:
Captum's wrappers in :mod:`core.saliency.captum_methods`, CAFO/CASO in
:mod:`core.saliency.caso`, the rate-distortion explanations in
:mod:`core.saliency.rde`. The order here is the order the dashboard lists them.
"""

from __future__ import annotations

from core.saliency import captum_methods as cm
from core.saliency import caso, rde
from core.saliency.protocol import Method, register

for _m in (
    Method("Saliency", cm.SaliencyExplainer, reference="Simonyan et al. (2014)"),
    Method(
        "SmoothGrad",
        cm.SmoothGradExplainer,
        cm.SMOOTHGRAD_PARAMS,
        reference="Smilkov et al. (2017)",
    ),
    Method(
        "Integrated Gradients",
        cm.IntegratedGradientsExplainer,
        cm.INTEGRATED_GRADIENTS_PARAMS,
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
        cm.LIME_PARAMS,
        family="perturbation",
        reference="Ribeiro et al. (2016)",
    ),
    Method(
        "KernelSHAP",
        cm.KernelShapExplainer,
        cm.KERNEL_SHAP_PARAMS,
        family="perturbation",
        reference="Lundberg & Lee (2017)",
    ),
    Method(
        "CAFO",
        caso.CasoExplainer,
        caso.CASO_PARAMS,
        family="sparse",
        reference=caso.REFERENCE,
        fixed={"second_order": False},
    ),
    Method(
        "CASO",
        caso.CasoExplainer,
        caso.CASO_PARAMS,
        family="sparse",
        reference=caso.REFERENCE,
        fixed={"second_order": True},
    ),
    Method(
        "SmoothCAFO",
        caso.CasoExplainer,
        caso.SMOOTH_CASO_PARAMS,
        family="sparse",
        reference=caso.REFERENCE,
        fixed={"second_order": False},
    ),
    Method(
        "SmoothCASO",
        caso.CasoExplainer,
        caso.SMOOTH_CASO_PARAMS,
        family="sparse",
        reference=caso.REFERENCE,
        fixed={"second_order": True},
    ),
    Method(
        "RC-RDE",
        rde.RCRDEExplainer,
        rde.RC_RDE_PARAMS,
        family="rate-distortion",
        reference=rde.REFERENCE,
    ),
    Method(
        "MR-RDE",
        rde.MRRDEExplainer,
        rde.MR_RDE_PARAMS,
        family="rate-distortion",
        reference=rde.REFERENCE,
    ),
    Method(
        "Ord-RDE",
        rde.OrdRDEExplainer,
        rde.ORD_RDE_PARAMS,
        family="rate-distortion",
        reference=rde.REFERENCE,
    ),
):
    register(_m)
