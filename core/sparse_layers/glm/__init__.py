"""Elastic-net GLMs on (deep) features: paths, solvers, sparse decision layers."""

from core.sparse_layers.glm.families import FAMILIES, get_family
from core.sparse_layers.glm.path import SOLVERS, elastic_net_path, lambda_max
from core.sparse_layers.glm.result import ElasticNetPath

__all__ = [
    "FAMILIES",
    "SOLVERS",
    "ElasticNetPath",
    "elastic_net_path",
    "get_family",
    "lambda_max",
]
