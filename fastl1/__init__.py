"""fastl1: fast L1-regularised models with Numba coordinate descent.

scikit-learn drop-ins for Lasso, ElasticNet, their paths and cross-validation (LassoCV,
ElasticNetCV on threads), L1 logistic regression (LogisticRegression, LogisticRegressionCV,
l1_logistic_path), Poisson regression (PoissonRegression, PoissonRegressionCV, poisson_path),
Cox regression (CoxRegression, CoxRegressionCV, cox_path), stability selection, on dense, CSC
and CSR data; plus penalty helpers.
"""

import warnings as _warnings
from importlib.metadata import PackageNotFoundError, version

from ._deprecation import FastL1DeprecationWarning
from ._feature_penalty import glmnet_factors
from .cox import CoxRegression, CoxRegressionCV, cox_path
from .group import (
    GroupLasso,
    GroupLassoCV,
    GroupLogisticRegression,
    GroupLogisticRegressionCV,
    group_lasso_path,
    group_logistic_path,
    plot_group_path,
)
from .linear_model import ElasticNet, ElasticNetCV, Lasso, LassoCV
from .logistic import LogisticRegression
from .logistic_cv import LogisticRegressionCV, l1_logistic_path
from .multitask import (
    MultiTaskElasticNet,
    MultiTaskElasticNetCV,
    MultiTaskLasso,
    MultiTaskLassoCV,
)
from .path import enet_path, lasso_path
from .penalty import (
    elastic_net_penalty,
    l1_penalty,
    l1_subgradient,
    prox_elastic_net,
    soft_threshold,
)
from .poisson import PoissonRegression, PoissonRegressionCV, poisson_path
from .selection import StabilitySelection

try:
    __version__ = version("fastl1")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

# Old scikit-learn spellings warn visibly (DeprecationWarning is hidden outside __main__).
_warnings.filterwarnings("default", category=FastL1DeprecationWarning)

__all__ = [
    "CoxRegression",
    "CoxRegressionCV",
    "ElasticNet",
    "ElasticNetCV",
    "FastL1DeprecationWarning",
    "GroupLasso",
    "GroupLassoCV",
    "GroupLogisticRegression",
    "GroupLogisticRegressionCV",
    "Lasso",
    "LassoCV",
    "LogisticRegression",
    "LogisticRegressionCV",
    "MultiTaskElasticNet",
    "MultiTaskElasticNetCV",
    "MultiTaskLasso",
    "MultiTaskLassoCV",
    "PoissonRegression",
    "PoissonRegressionCV",
    "StabilitySelection",
    "__version__",
    "cox_path",
    "elastic_net_penalty",
    "enet_path",
    "glmnet_factors",
    "group_lasso_path",
    "group_logistic_path",
    "l1_logistic_path",
    "l1_penalty",
    "l1_subgradient",
    "lasso_path",
    "poisson_path",
    "plot_group_path",
    "prox_elastic_net",
    "soft_threshold",
]
