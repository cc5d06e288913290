"""fastl1: fast L1-regularised models with Numba coordinate descent.

A drop-in for scikit-learn's :class:`~sklearn.linear_model.Lasso` and
:class:`~sklearn.linear_model.ElasticNet` on dense, CSC and CSR data, plus penalty helpers for
other frameworks.
"""

from importlib.metadata import PackageNotFoundError, version

from .linear_model import ElasticNet, Lasso
from .penalty import (
    elastic_net_penalty,
    l1_penalty,
    l1_subgradient,
    prox_elastic_net,
    soft_threshold,
)

try:
    __version__ = version("fastl1")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "ElasticNet",
    "Lasso",
    "__version__",
    "elastic_net_penalty",
    "l1_penalty",
    "l1_subgradient",
    "prox_elastic_net",
    "soft_threshold",
]
