"""Elastic-net GLMs on (deep) features: paths, solvers, sparse decision layers."""

from core.glm.families import FAMILIES, get_family
from core.glm.path import SOLVERS, elastic_net_path, lambda_max
from core.glm.result import ElasticNetPath

__all__ = [
    "FAMILIES",
    "SOLVERS",
    "ElasticNetPath",
    "elastic_net_path",
    "get_family",
    "lambda_max",
]
