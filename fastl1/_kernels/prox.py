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
