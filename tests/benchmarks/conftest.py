"""Inputs of the kernel micro-benchmarks: small problems in kernel form, at the Lasso
solution (so epochs and gradients do what the solver's last rounds do)."""

from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp

# (n, p) and density of the designs: small enough that a round takes well under a
# millisecond, large enough that the kernel, not the call, is timed.
DENSE_SHAPE = (200, 2000)
SPARSE_SHAPE = (2000, 10_000)
SPARSE_DENSITY = 5e-3


@dataclass
class KernelInputs:
    design: tuple  # (X, data, indices, indptr) as the kernels take it
    sw: np.ndarray
    sw_sum: float
    x_mean: np.ndarray
    norms2: np.ndarray
    w: np.ndarray
    r: np.ndarray
    r_sum: float
    l1_reg: float
    features: np.ndarray
    grad: np.ndarray

    @property
    def n(self):
        return self.r.shape[0]

    @property
    def p(self):
        return self.w.shape[0]


def _data(kind, rng):
    if kind == "dense":
        X = np.asfortranarray(rng.standard_normal(DENSE_SHAPE))
    else:
        X = sp.csc_matrix(sp.random_array(SPARSE_SHAPE, density=SPARSE_DENSITY, format="csc",
                                          rng=rng, data_sampler=rng.standard_normal))
    coef = np.zeros(X.shape[1])
    coef[rng.choice(X.shape[1], 20, replace=False)] = rng.uniform(1, 2, 20)
    y = np.asarray(X @ coef) + 0.5 * rng.standard_normal(X.shape[0])
    return X, y


def build_inputs(kind, dtype=np.float64, seed=0):
    from fastl1 import Lasso
    from fastl1._solver import make_problem

    X, y = _data(kind, np.random.default_rng(seed))
    n = X.shape[0]
    alpha = float(np.abs(X.T @ y).max()) / n / 10
    coef = Lasso(alpha=alpha, fit_intercept=False, tol=1e-6).fit(X, y).coef_
    problem = make_problem(X.astype(dtype), None, False)
    w = coef.astype(dtype)
    r = np.asarray(y - problem.X @ w, dtype=dtype)
    return KernelInputs(problem.design, problem.sample_weight, float(n), problem.x_mean,
                        problem.column_norms2(), w, r, float(r.sum()), alpha * n,
                        np.arange(X.shape[1], dtype=np.int64),
                        np.zeros(X.shape[1], dtype=dtype))


@pytest.fixture(scope="module", params=["dense", "csc"])
def inputs(request):
    return build_inputs(request.param)


@pytest.fixture(scope="module", params=["dense-float32", "csc-float32"])
def inputs32(request):
    return build_inputs(request.param.split("-")[0], np.float32)
