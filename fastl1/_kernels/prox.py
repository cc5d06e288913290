"""Proximal operators used by the coordinate updates."""

from numba import njit

from . import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def soft_threshold(x, threshold):
    """Scalar soft-thresholding ``sign(x) * max(|x| - threshold, 0)``."""
    if x > threshold:
        return x - threshold
    if x < -threshold:
        return x + threshold
    return 0.0


@njit(**JIT_OPTIONS)
def enet_coordinate_update(w_j, grad_j, norm2_j, l1_reg, l2_reg, positive):
    """Exact minimiser of the elastic-net objective along coordinate ``j``.

    ``grad_j`` is ``x_j^T r`` for the current residual ``r`` (negative gradient of the
    datafit), ``norm2_j = ||x_j||^2``; the objective is ``1/2 ||r||^2 + l1_reg |w_j| +
    l2_reg / 2 w_j^2`` (Friedman, Hastie & Tibshirani 2010, eq. 5).
    """
    z = grad_j + w_j * norm2_j
    if positive and z < 0.0:
        return 0.0
    return soft_threshold(z, l1_reg) / (norm2_j + l2_reg)
