"""Regularisation paths on the ``fastl1 bench`` path problems: 100 alphas from alpha_max down
to 1e-3 alpha_max, warm-started, no intercept, each alpha to tol 1e-8."""

import numpy as np

from fastl1 import enet_path, lasso_path
from fastl1.bench import make_path

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
