"""Sparse saliency: explanation methods behind one protocol.

>>> from core.explain import explain, method_names
>>> attributions = explain("CASO", model, x)  # doctest: +SKIP

Captum's standard methods are wrapped (:mod:`core.explain.captum_methods`);
CAFO/CASO (:mod:`core.explain.caso`) and the rate-distortion explanations
(:mod:`core.explain.rde`) implement the same protocol
(:mod:`core.explain.protocol`); :mod:`core.explain.registry` names them all.
"""

from core.explain import registry  # noqa: F401  (registers the methods)
from core.explain.caso import cafo, caso, select_lambda1
from core.explain.protocol import (
    METHODS,
    Explainer,
    Method,
    Param,
    explain,
    get_method,
    method_names,
)
from core.explain.rde import RDEResult, mr_rde, ord_rde, rc_rde

__all__ = [
    "METHODS",
    "Explainer",
    "Method",
    "Param",
    "RDEResult",
    "cafo",
    "caso",
    "explain",
    "get_method",
    "method_names",
    "mr_rde",
    "ord_rde",
    "rc_rde",
    "select_lambda1",
]
