"""asv benchmarks of single Lasso / ElasticNet fits on the ``fastl1 bench`` problems.

Run in the current environment: ``cd asv_benchmarks && asv run --python=same --quick``.
Problems come from :mod:`fastl1.benchmark` at a reduced scale, so a run stays short; the
warm-up fit in ``setup`` keeps JIT compilation out of the timings.
"""

import numpy as np

from fastl1 import ElasticNet, Lasso
from fastl1.benchmark import make_model, make_problem


class SingleFit:
    """Steady-state time of one fit to tol 1e-8, dense / CSC / CSR."""

    params = (["wide-dense-a10", "wide-dense-a100", "tall-dense-a100", "sparse-csc-a20",
               "sparse-csr-a20"], [0.25])
    param_names = ["problem", "scale"]
    timeout = 300

    def setup(self, name, scale):
        self.problem = make_problem(name, scale=scale)
        self.fit()  # compile (or load from the Numba cache) outside the timing

    def fit(self):
        model = make_model(Lasso, ElasticNet, self.problem, tol=1e-8, max_iter=100_000)
        return model.fit(self.problem.X, self.problem.y)

    def time_fit(self, name, scale):
        self.fit()

    def track_epochs(self, name, scale):
        return int(np.sum(self.fit().n_iter_))

    def peakmem_fit(self, name, scale):
        self.fit()
