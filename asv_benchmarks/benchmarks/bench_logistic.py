"""L1 logistic regression (``fastl1.LogisticRegression``, proximal Newton), no intercept.

Data: :func:`._common.logistic_problem` (dense 500 x 20000, or the sparse
``fastl1 bench`` design as CSC / CSR); ``C`` is twice the smallest value with a non-zero
solution (about ``C = 0.05`` on the dense problem). Skipped
(``NotImplementedError`` in ``setup``) when this version of fastl1 has no LogisticRegression.
"""

import numpy as np

from ._common import logistic_c, logistic_problem, require_logistic, scales

LOGISTIC_PROBLEMS = ["dense", "sparse-csc", "sparse-csr"]


class LogisticFit:
    params = [LOGISTIC_PROBLEMS, scales(0.25)]
    param_names = ["problem", "scale"]
    timeout = 600

    def setup(self, name, scale):
        self.cls = require_logistic()
        self.X, self.y = logistic_problem(name, scale)
        self.C = logistic_c(self.X, self.y, 2.0)
        self.fit()  # compile outside the timing

    def fit(self):
        model = self.cls(C=self.C, fit_intercept=False, tol=1e-6, max_iter=1000)
        return model.fit(self.X, self.y)

    def time_fit(self, name, scale):
        self.fit()

    def track_iterations(self, name, scale):
        """Outer (proximal Newton) iterations to convergence."""
        return int(np.sum(self.fit().n_iter_))

    track_iterations.unit = "iterations"

    def peakmem_fit(self, name, scale):
        self.fit()
