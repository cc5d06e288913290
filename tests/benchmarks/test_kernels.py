"""pytest-benchmark micro-benchmarks of the hot Numba kernels.

Not part of the default test run (marker ``benchmark``); run them with::

    python -m pytest tests/benchmarks -m benchmark --benchmark-only

Each kernel is called once before timing, so JIT compilation (or loading it from the cache)
stays out of the measurement. See docs/benchmarking.md.
"""

import numpy as np
import pytest
from numba import njit

from fastl1._kernels.cd import design_epoch
from fastl1._kernels.design import (
    bounded_gradient,
    column_sq_norms,
    gradient,
    gradient_parallel,
)
from fastl1._kernels.penalty import coordinate_update, plain_penalty
from fastl1._kernels.prox import soft_threshold

pytestmark = pytest.mark.benchmark


def _timed(benchmark, fn, *args):
    fn(*args)  # compile / load outside the timing
    return benchmark(fn, *args)


def _epoch(s, features):
    design_epoch(*s.design, s.sw, s.sw_sum, s.x_mean, s.norms2, s.w, s.r, s.r_sum,
                 plain_penalty(s.l1_reg, 0.0, s.p), features, False)


@pytest.mark.benchmark(group="design_epoch")
def test_design_epoch(benchmark, inputs):
    _timed(benchmark, _epoch, inputs, inputs.features)


@pytest.mark.benchmark(group="design_epoch")
def test_design_epoch_float32(benchmark, inputs32):
    _timed(benchmark, _epoch, inputs32, inputs32.features)


@pytest.mark.benchmark(group="design_epoch")
def test_design_epoch_working_set(benchmark, inputs):
    """An epoch over the support plus the 100 features most correlated with the residual."""
    s = inputs
    gradient(*s.design, s.sw, s.x_mean, s.r, s.r_sum, s.features, s.grad)
    score = np.abs(s.grad)
    score[s.w != 0] = np.inf
    ws = np.sort(np.argsort(-score)[:100 + np.count_nonzero(s.w)]).astype(np.int64)
    _timed(benchmark, _epoch, s, ws)


@pytest.mark.benchmark(group="gradient")
@pytest.mark.parametrize("threads", ["serial", "parallel"])
def test_gradient(benchmark, inputs, threads):
    s = inputs
    kernel = gradient_parallel if threads == "parallel" else gradient
    _timed(benchmark, kernel, *s.design, s.sw, s.x_mean, s.r, s.r_sum, s.features, s.grad)


NO_FRESH = np.zeros(0, dtype=bool)


@pytest.mark.benchmark(group="bounded_gradient")
@pytest.mark.parametrize("regime", ["full", "bounded"])
def test_bounded_gradient(benchmark, inputs, regime):
    """``full``: no reference, every correlation computed (the start of a path).
    ``bounded``: a reference at a nearby residual (the next alpha of a path), so only the
    support and the features whose bound reaches the threshold are computed."""
    s = inputs
    grad_ref = np.zeros(s.p, dtype=s.w.dtype)
    r_ref = np.zeros(s.n, dtype=s.w.dtype)
    norms = np.sqrt(s.norms2)
    args = (*s.design, s.sw, s.x_mean)
    tail = (0.0, s.w, norms, plain_penalty(s.l1_reg, 0.0, s.p), grad_ref, r_ref)
    # Build the reference at r, then move the residual slightly.
    bounded_gradient(*args, s.r, s.r_sum, *tail, False, s.grad, NO_FRESH, False)
    noise = np.random.default_rng(1).standard_normal(s.n)
    r = (s.r + 1e-3 * np.linalg.norm(s.r) / np.sqrt(s.n) * noise).astype(s.w.dtype)
    has_ref = regime == "bounded"
    if has_ref:
        _, computed = bounded_gradient(*args, r, float(r.sum()), *tail, True, s.grad, NO_FRESH,
                                       False)
        assert computed < s.p // 4, "the perturbation must leave most features bounded"
    _timed(benchmark, bounded_gradient, *args, r, float(r.sum()), *tail, has_ref, s.grad,
           NO_FRESH, False)


@pytest.mark.benchmark(group="column_sq_norms")
def test_column_sq_norms(benchmark, inputs):
    s = inputs
    out = np.empty(s.p, dtype=s.w.dtype)
    _timed(benchmark, column_sq_norms, *s.design, s.sw, s.sw_sum, s.x_mean, out)


@njit(cache=False)
def _soft_threshold_all(x, threshold, out):
    for i in range(x.shape[0]):
        out[i] = soft_threshold(x[i], threshold)


@njit(cache=False)
def _coordinate_update_all(w, grad, norms2, penalty, out):
    for i in range(w.shape[0]):
        out[i] = coordinate_update(penalty, i, w[i], grad[i], norms2[i])


PROX_SIZE = 100_000


@pytest.mark.benchmark(group="prox")
def test_soft_threshold(benchmark):
    """``PROX_SIZE`` scalar soft-thresholdings in a compiled loop (the inlined cost)."""
    x = np.random.default_rng(0).standard_normal(PROX_SIZE)
    out = np.empty_like(x)
    _timed(benchmark, _soft_threshold_all, x, 0.5, out)
    np.testing.assert_allclose(out, np.sign(x) * np.maximum(np.abs(x) - 0.5, 0))


@pytest.mark.benchmark(group="prox")
def test_enet_coordinate_update(benchmark):
    rng = np.random.default_rng(0)
    w, grad = rng.standard_normal(PROX_SIZE), rng.standard_normal(PROX_SIZE)
    norms2 = rng.uniform(0.5, 2.0, PROX_SIZE)
    out = np.empty_like(w)
    _timed(benchmark, _coordinate_update_all, w, grad, norms2,
           plain_penalty(0.3, 0.1, PROX_SIZE), out)
    z = grad + w * norms2
    expected = np.sign(z) * np.maximum(np.abs(z) - 0.3, 0) / (norms2 + 0.1)
    np.testing.assert_allclose(out, expected)
