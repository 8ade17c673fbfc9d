"""Sparse saliency: explanation methods behind one protocol.

>>> from core.saliency import explain, method_names
>>> attributions = explain("CASO", model, x)  # doctest: +SKIP

Captum's standard methods are wrapped (:mod:`core.saliency.captum_methods`);
CAFO/CASO (:mod:`core.saliency.caso`) and the rate-distortion explanations
(:mod:`core.saliency.rde`) implement the same protocol
(:mod:`core.saliency.protocol`), each module with its explainer classes and
parameter schemas; :mod:`core.saliency.registry` names them all. Input checks
and target resolution shared by every method are in :mod:`core.saliency.inputs`.
"""

from core.saliency import registry  # noqa: F401  (registers the methods)
from core.saliency.caso import cafo, caso, select_lambda1
from core.saliency.protocol import (
    METHODS,
    Explainer,
    Method,
    Param,
    explain,
    get_method,
    method_names,
)
from core.saliency.rde import RDEResult, mr_rde, ord_rde, rc_rde

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
