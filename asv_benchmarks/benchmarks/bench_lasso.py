"""Single Lasso / ElasticNet fits on the ``fastl1 bench`` fit problems.

Problems come from :mod:`fastl1.bench` at a reduced scale, so a run stays short; the
warm-up fit in ``setup`` keeps JIT compilation out of the timings. Each fit runs to the
benchmark protocol's accuracy (duality gap ``<= 1e-8 ||y||^2 / n``).
"""

import numpy as np

from fastl1 import ElasticNet, Lasso
from fastl1.bench import make_model

from ._common import MAX_ITER, TOL, problem, scales

FIT_PROBLEMS = ["wide-dense-a10", "wide-dense-a100", "enet-wide-a10", "leukemia-a10",
                "leukemia-a100", "tall-dense-a100", "sparse-csc-a20", "sparse-csr-a20",
                "sparse-csc-a100", "sparse-csr-a100"]


class SingleFit:
    """Steady-state time of one fit to tol 1e-8, dense / CSC / CSR, and its epoch count."""

    params = (FIT_PROBLEMS, scales(0.25))
    param_names = ["problem", "scale"]
    timeout = 300

    def setup(self, name, scale):
        self.problem = problem(name, scale)
        self.fit()  # compile (or load from the Numba cache) outside the timing

    def fit(self):
        model = make_model(Lasso, ElasticNet, self.problem, tol=TOL, max_iter=MAX_ITER)
        return model.fit(self.problem.X, self.problem.y)

    def time_fit(self, name, scale):
        self.fit()

    def track_epochs(self, name, scale):
        """CD epochs to convergence (working-set epochs count one each)."""
        return int(np.sum(self.fit().n_iter_))

    track_epochs.unit = "epochs"

    def peakmem_fit(self, name, scale):
        self.fit()
