"""Shared test helpers: problem generators, the objective and a direct KKT check."""

import numpy as np
import pytest
import scipy.sparse as sp

SHARED_DATA = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data"


def make_regression(n=40, p=60, density=0.5, n_informative=5, mean=2.0, seed=0):
    """A small regression problem with non-zero column means and some exact zeros."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + mean
    X[rng.random((n, p)) > density] = 0.0
    coef = np.zeros(p)
    coef[rng.choice(p, n_informative, replace=False)] = rng.uniform(1, 3, n_informative)
    y = X @ coef + 0.5 * rng.standard_normal(n) + 1.0
    return X, y


def as_format(X, fmt, dtype=np.float64):
    """Dense C array, dense F array, CSC or CSR matrix of ``X`` in ``dtype``."""
    X = np.asarray(X, dtype=dtype)
    if fmt == "dense":
        return np.ascontiguousarray(X)
    if fmt == "fortran":
        return np.asfortranarray(X)
    return {"csc": sp.csc_matrix, "csr": sp.csr_matrix}[fmt](X)


def _as_reference(X, sample_weight, coef):
    """Dense float64 X, weights rescaled to sum to n, float64 coef, and n."""
    X = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    return X, sw * n / sw.sum(), np.asarray(coef, np.float64), n


def objective(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    """scikit-learn's elastic-net objective, weights rescaled to sum to n, in float64."""
    X, sw, coef, n = _as_reference(X, sample_weight, coef)
    r = y - X @ coef - intercept
    return (0.5 * np.sum(sw * r**2) / n + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


def kkt_violation(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None,
                  positive=False, fit_intercept=False):
    """Largest violation of the elastic-net optimality conditions (0 at the optimum).

    With ``g = X^T S r / n - alpha (1 - l1_ratio) w`` (S the normalised weights): for
    ``w_j != 0`` the condition is ``g_j = alpha l1_ratio sign(w_j)``, for ``w_j = 0`` it is
    ``|g_j| <= alpha l1_ratio`` (``g_j <= alpha l1_ratio`` with ``positive``). The intercept
    condition is ``sum(S r) = 0``.
    """
    X, sw, coef, n = _as_reference(X, sample_weight, coef)
    r = y - X @ coef - intercept
    g = X.T @ (sw * r) / n - alpha * (1 - l1_ratio) * coef
    lam = alpha * l1_ratio
    nz = coef != 0
    viol_nz = np.abs(g[nz] - lam * np.sign(coef[nz]))
    viol_z = np.maximum(g[~nz] - lam, 0) if positive else np.maximum(np.abs(g[~nz]) - lam, 0)
    viol_intercept = abs(np.sum(sw * r)) / n if fit_intercept else 0.0
    return max(viol_nz.max(initial=0.0), viol_z.max(initial=0.0), viol_intercept)


def on_each_thread_count(fit, counts=(1, 2)):
    """``[fit() for each number of Numba threads in counts]``, the setting restored after."""
    import numba

    before = numba.get_num_threads()
    results = []
    try:
        for threads in counts:
            numba.set_num_threads(threads)
            results.append(fit())
    finally:
        numba.set_num_threads(before)
    return results


def read_only_kernel_signatures():
    """The fastl1 kernels compiled for a read-only array argument, as ``module.name:
    signature`` strings: none should be (see ``fastl1._solver.kernel_array``)."""
    import importlib
    import pkgutil

    from numba import types
    from numba.core.registry import CPUDispatcher

    import fastl1._kernels

    found = []
    for module_info in pkgutil.iter_modules(fastl1._kernels.__path__):
        module = importlib.import_module(f"fastl1._kernels.{module_info.name}")
        for name, obj in vars(module).items():
            if not isinstance(obj, CPUDispatcher):
                continue
            for signature in obj.signatures:
                if any(isinstance(arg, types.Array) and not arg.mutable for arg in signature):
                    found.append(f"{module_info.name}.{name}: {signature}")
    return found


@pytest.fixture
def regression_data():
    return make_regression()


def duality_gap(X, y, coef, alpha, l1_ratio, sample_weight=None, fit_intercept=True,
                positive=False):
    """Duality gap of ``coef`` in the objective's scale, computed independently in numpy
    (dual point: the residual rescaled into the dual feasible set, as scikit-learn)."""
    X, sw, coef, n = _as_reference(X, sample_weight, coef)
    if fit_intercept:
        X = X - np.average(X, axis=0, weights=sw)
        y = y - np.average(y, weights=sw)
    l1, l2 = alpha * l1_ratio * n, alpha * (1 - l1_ratio) * n
    r = y - X @ coef
    corr = X.T @ (sw * r) - l2 * coef
    dual_norm = corr.max() if positive else np.abs(corr).max()
    scale = min(1.0, l1 / dual_norm) if dual_norm > 0 else 1.0
    quad = sw @ r**2 + l2 * coef @ coef
    primal = 0.5 * quad + l1 * np.abs(coef).sum()
    dual = -0.5 * scale**2 * quad + scale * (sw * r) @ y
    return (primal - dual) / n
