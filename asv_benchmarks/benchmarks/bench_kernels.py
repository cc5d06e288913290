"""Kernel costs: one coordinate-descent epoch, one full gradient, a working-set round's
bookkeeping, and preparing a design.

The epoch runs :func:`fastl1._kernels.cd.design_epoch` at the Lasso solution of the problem
(so it does what the solver's last epochs do: a column dot per feature, residual updates on
the support), over every feature (``all``) or over a fixed working set (``working-set``: the
support and the features most correlated with the residual, ``max(100, 2 * |support|)`` in
all, as the working-set solver would pick). CSR input is timed as the solver sees it: after
its one-time conversion to CSC, whose cost :class:`Prepare` times.
"""

import numpy as np

from fastl1 import Lasso
from fastl1._kernels.cd import design_epoch
from fastl1._kernels.design import gradient, gradient_parallel
from fastl1._kernels.penalty import plain_penalty
from fastl1._kernels.working_set import inverse_norms, screen_and_score, working_set_from_scores
from fastl1._solver import make_problem

from ._common import problem, scales

KERNEL_PROBLEMS = ["wide-dense-a10", "sparse-csc-a20", "sparse-csr-a20"]
DTYPES = ["float64", "float32"]


class _KernelState:
    """A problem in kernel form with the residual at (an approximation of) the solution."""

    def build(self, name, dtype, scale):
        prob = problem(name, scale, dtype)
        # Solve in float64 (a float32 fit cannot certify tight gaps), then cast.
        ref = problem(name, scale)
        coef = Lasso(alpha=ref.alpha, fit_intercept=False, tol=1e-6,
                     max_iter=100_000).fit(ref.X, ref.y).coef_
        self.kp = make_problem(prob.X, None, False)
        kp = self.kp
        self.n, self.p = kp.n_samples, kp.n_features
        self.norms2 = kp.column_norms2()
        self.w = coef.astype(dtype)
        self.r = np.asarray(prob.y - kp.X @ self.w, dtype=dtype)
        self.r_sum = float(self.r.sum())
        self.l1_reg = ref.alpha * self.n
        self.grad = np.zeros(self.p, dtype=dtype)

    def working_set(self, size=None):
        self.gradient(np.arange(self.p))
        support = np.flatnonzero(self.w)
        size = size or max(100, 2 * support.shape[0])
        score = np.abs(self.grad)
        score[support] = np.inf
        return np.sort(np.argsort(-score, kind="stable")[:min(size, self.p)]).astype(np.int64)

    def gradient(self, features, parallel=False):
        kp = self.kp
        kernel = gradient_parallel if parallel else gradient
        kernel(*kp.design, kp.sample_weight, kp.x_mean, self.r, self.r_sum, features, self.grad)


class Epoch(_KernelState):
    """Time of one CD epoch with residual updates (dense / CSC / CSR as CSC, f32 / f64)."""

    params = [KERNEL_PROBLEMS, DTYPES, ["all", "working-set"], scales(1.0)]
    param_names = ["problem", "dtype", "features", "scale"]
    timeout = 300

    def setup(self, name, dtype, features, scale):
        self.build(name, dtype, scale)
        if features == "all":
            self.features = np.arange(self.p, dtype=np.int64)
        else:
            self.features = self.working_set()
        self.sw_sum = float(self.n)
        self.epoch()  # compile outside the timing

    def epoch(self):
        kp = self.kp
        _, _, self.r_sum = design_epoch(*kp.design, kp.sample_weight, self.sw_sum, kp.x_mean,
                                        self.norms2, self.w, self.r, self.r_sum,
                                        plain_penalty(self.l1_reg, 0.0, self.p), self.features,
                                        False)

    def time_epoch(self, name, dtype, features, scale):
        self.epoch()


class FullGradient(_KernelState):
    """Time of one full gradient ``X^T r`` (the start of every working-set round), on one
    thread and on Numba's threads."""

    params = [KERNEL_PROBLEMS, DTYPES, ["serial", "parallel"], scales(1.0)]
    param_names = ["problem", "dtype", "threads", "scale"]
    timeout = 300

    def setup(self, name, dtype, threads, scale):
        self.build(name, dtype, scale)
        self.features = np.arange(self.p, dtype=np.int64)
        self.parallel = threads == "parallel"
        self.gradient(self.features, self.parallel)

    def time_gradient(self, name, dtype, threads, scale):
        self.gradient(self.features, self.parallel)


class RoundBookkeeping(_KernelState):
    """Time of what a working-set round does over all features besides the gradient: Gap Safe
    screening, the working-set scores (one pass) and the choice of the set (threshold by a
    bounded heap, one more pass)."""

    params = [KERNEL_PROBLEMS, DTYPES, scales(1.0)]
    param_names = ["problem", "dtype", "scale"]
    timeout = 300

    def setup(self, name, dtype, scale):
        self.build(name, dtype, scale)
        self.gradient(np.arange(self.p, dtype=np.int64))
        self.penalty = plain_penalty(self.l1_reg, 0.0, self.p)
        self.inv_norms = inverse_norms(self.norms2, self.penalty)
        self.scores = np.empty(self.p)
        self.active = np.ones(self.p, dtype=bool)
        self.dual_norm = float(np.abs(self.grad).max())
        self.gap = 1e-6 * float(self.r @ self.r)  # a late round: screening drops most features
        self.size = max(100, 2 * int(np.count_nonzero(self.w)))
        self.round()

    def round(self):
        self.active[:] = True
        n_active, _ = screen_and_score(self.w, self.grad, self.inv_norms, self.penalty,
                                       self.dual_norm, self.gap, True, self.active,
                                       self.scores)
        return working_set_from_scores(self.scores, n_active, self.size)

    def time_round(self, name, dtype, scale):
        self.round()

class Prepare:
    """Time to bring X into kernel form: nothing for F-ordered dense and CSC, one CSC copy for
    CSR; plus the column means and norms every fit computes once (one pass over the
    non-zeros for sparse X)."""

    params = [KERNEL_PROBLEMS, DTYPES, scales(1.0)]
    param_names = ["problem", "dtype", "scale"]
    timeout = 300

    def setup(self, name, dtype, scale):
        self.X = problem(name, scale, dtype).X
        self.prepare()

    def prepare(self):
        make_problem(self.X, None, False).column_norms2()

    def time_prepare(self, name, dtype, scale):
        self.prepare()
