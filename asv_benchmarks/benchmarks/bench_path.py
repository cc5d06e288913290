"""Regularisation paths on the ``fastl1 bench`` path problems: 100 alphas from alpha_max down
to 1e-3 alpha_max, warm-started; no intercept and each alpha to tol 1e-8 (``Path``), or
glmnet's setting with an intercept at fastl1's default tolerance and at 1e-8 (``GlmPath``)."""

import numpy as np

from fastl1 import enet_path, lasso_path
from fastl1.bench import make_path
from fastl1.bench.peers import GLMPATH_SOLVERS

from ._common import MAX_ITER, TOL, problem, scales

PATH_PROBLEMS = ["path-wide-dense", "path-sparse-csc", "path-sparse-csr"]


class Path:
    """Time of a whole path and the epochs it takes (summed over the alphas)."""

    params = [PATH_PROBLEMS, scales(0.25)]
    param_names = ["problem", "scale"]
    timeout = 600

    def setup(self, name, scale):
        self.problem = problem(name, scale)
        self.path()  # compile outside the timing

    def path(self):
        return make_path(lasso_path, enet_path, self.problem, tol=TOL, max_iter=MAX_ITER,
                         return_n_iter=True)

    def time_path(self, name, scale):
        self.path()

    def track_epochs(self, name, scale):
        return int(np.sum(self.path()[3]))

    track_epochs.unit = "epochs"

    def peakmem_path(self, name, scale):
        self.path()


# the glmpath problems that need no data folder (the real ones are in ``fastl1 bench``)
GLMPATH_PROBLEMS = ["glmpath-synthetic-lasso", "glmpath-synthetic-logistic"]


class GlmPath:
    """fastl1's whole path in glmnet's setting (intercept, no standardisation) on the
    synthetic 500 x 20000 design, lasso and L1 logistic, at its default tolerance and at
    ``TOL`` (the ``fastl1 bench`` adapter, so both measure what the comparison measures)."""

    params = [GLMPATH_PROBLEMS, ["default", "tight"], scales(0.25)]
    param_names = ["problem", "accuracy", "scale"]
    timeout = 600

    def setup(self, name, accuracy, scale):
        self.problem = problem(name, scale)
        self.tol = None if accuracy == "default" else TOL
        self.path()  # compile outside the timing

    def path(self):
        return GLMPATH_SOLVERS["fastl1"].fit(self.problem, self.tol)

    def time_path(self, name, accuracy, scale):
        self.path()
