"""L1 and elastic-net penalty helpers for use outside of fastl1's estimators.

These functions are plain NumPy and are meant for users of other frameworks,
for example to add an L1 penalty to a neural network's loss (computed from its
list of weight arrays) or to apply a proximal step after a gradient step.

Functions that take ``weights`` accept either a single array-like or a list
(or tuple) of array-likes, such as the per-layer weight arrays of a network;
the penalty is then the sum over all of them. Only one level of nesting is
supported: each element of the list must itself convert to a numeric array.

Non-finite weights are not rejected: NaN and infinite entries propagate
naturally through the arithmetic (a penalty becomes ``nan`` or ``inf``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "elastic_net_penalty",
    "l1_penalty",
    "l1_subgradient",
    "prox_elastic_net",
    "soft_threshold",
]

#: An array-like, or a list/tuple of array-likes (e.g. the weights of a network).
WeightsLike: TypeAlias = "ArrayLike | list[ArrayLike] | tuple[ArrayLike, ...]"

# dtype kinds accepted as real numbers: bool, signed int, unsigned int, float.
_REAL_KINDS = "biuf"


def _as_float_array(x: object, name: str) -> NDArray[np.floating]:
    """Convert ``x`` to a floating-point array without copying float input.

    Floating dtypes are kept as they are (float32 stays float32); bool and
    integer input is promoted to float64. Anything that is not real-valued
    numeric data raises ``TypeError``.
    """
    if isinstance(x, str | bytes):
        raise TypeError(f"{name} must be numeric, got a {type(x).__name__}: {x!r}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{name} could not be converted to a numeric array (got {type(x).__name__}): {exc}"
        ) from exc
    if arr.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{name} must contain real numbers, got an array of dtype {arr.dtype} "
            f"(from {type(x).__name__})"
        )
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    return arr


def _is_weight_list(weights: object) -> bool:
    """Whether ``weights`` is a list/tuple of arrays rather than a single array."""
    return isinstance(weights, list | tuple)


def _iter_weights(weights: object, name: str = "weights") -> Iterator[NDArray[np.floating]]:
    """Yield ``weights`` as float arrays: once for an array, per element for a list."""
    if _is_weight_list(weights):
        for i, w in enumerate(weights):  # type: ignore[arg-type]
            yield _as_float_array(w, f"{name}[{i}]")
    else:
        yield _as_float_array(weights, name)


def _check_scalar(value: object, name: str, *, low: float = 0.0, high: float = np.inf) -> float:
    """Validate a finite real scalar in ``[low, high]`` and return it as a float."""
    arr = np.asarray(value) if not isinstance(value, str | bytes) else None
    if arr is None or arr.ndim != 0 or arr.dtype.kind not in _REAL_KINDS:
        raise TypeError(f"{name} must be a real scalar, got {type(value).__name__}: {value!r}")
    val = float(arr)
    if not (np.isfinite(val) and low <= val <= high):
        if np.isfinite(high):
            bounds = f"in [{low:g}, {high:g}]"
        else:
            bounds = f">= {low:g}"
        raise ValueError(f"{name} must be a finite number {bounds}, got {val!r}")
    return val


def _unwrap_0d(arr: NDArray[np.floating]) -> NDArray[np.floating] | np.floating:
    """Return a NumPy scalar for 0-d results, the array otherwise."""
    arr = np.asarray(arr)
    return arr[()] if arr.ndim == 0 else arr


def _soft_threshold_array(x: object, threshold: object) -> NDArray[np.floating]:
    """Array-valued soft-thresholding with validation (always returns an ndarray)."""
    x_arr = _as_float_array(x, "x")
    if isinstance(threshold, str | bytes):
        raise TypeError(f"threshold must be numeric, got a {type(threshold).__name__}")
    t = np.asarray(threshold)
    if t.dtype.kind not in _REAL_KINDS:
        raise TypeError(f"threshold must contain real numbers, got an array of dtype {t.dtype}")
    if np.any(np.isnan(t)):
        raise ValueError("threshold must not be NaN")
    if np.any(t < 0):
        raise ValueError(f"threshold must be non-negative, got minimum {np.min(t)!r}")
    try:
        shape = np.broadcast_shapes(t.shape, x_arr.shape)
    except ValueError:
        shape = None
    if shape != x_arr.shape:
        raise ValueError(
            f"threshold with shape {t.shape} is not broadcastable to x with shape {x_arr.shape}"
        )
    # Compute in x's dtype so that float32 input stays float32.
    t = t.astype(x_arr.dtype, copy=False)
    # x - clip(x, -t, t) equals sign(x) * max(|x| - t, 0) (both round x -/+ t the same
    # way), but gives +0.0 rather than -0.0 for thresholded negative entries.
    out = np.asarray(np.subtract(x_arr, np.clip(x_arr, -t, t), dtype=x_arr.dtype))
    return out


def soft_threshold(x: ArrayLike, threshold: ArrayLike) -> NDArray[np.floating] | np.floating:
    """Soft-thresholding, the proximal operator of the L1 norm, elementwise.

    Computes ``sign(x) * max(|x| - threshold, 0)``, which is the minimiser over
    ``z`` of ``0.5 * (z - x)**2 + threshold * |z|`` for every entry.

    Parameters
    ----------
    x : array_like
        Real input of any shape, or a scalar. Floating dtypes are preserved
        (float32 stays float32); bool and integer input is promoted to float64.
        A (nested) list is converted to one array, as in :func:`numpy.asarray`.
        The input is never modified.
    threshold : float or array_like
        Non-negative threshold, a scalar or an array broadcastable to the shape
        of ``x`` (e.g. one threshold per column). It is cast to the dtype of
        ``x``. ``inf`` is allowed and sets every finite entry to zero.

    Returns
    -------
    ndarray or numpy scalar
        A new array with the shape and floating dtype of ``x``; a NumPy
        scalar if ``x`` is a scalar (or a 0-d array). NaN entries of ``x``
        stay NaN.

    Raises
    ------
    TypeError
        If ``x`` or ``threshold`` is not real numeric data (e.g. strings).
    ValueError
        If ``threshold`` is negative or NaN anywhere, or does not broadcast
        to the shape of ``x``.

    See Also
    --------
    prox_elastic_net : Proximal operator of the elastic-net penalty.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1.penalty import soft_threshold
    >>> soft_threshold(np.array([-3.0, -0.5, 0.0, 0.5, 2.0]), 1.0).tolist()
    [-2.0, 0.0, 0.0, 0.0, 1.0]
    >>> float(soft_threshold(-2.5, 1.0))
    -1.5

    The threshold can vary per entry, and float32 input stays float32:

    >>> x = np.array([[1.0, 1.0], [-4.0, 4.0]], dtype=np.float32)
    >>> z = soft_threshold(x, np.array([0.5, 2.0]))
    >>> z.tolist(), z.dtype
    ([[0.5, 0.0], [-3.5, 2.0]], dtype('float32'))
    """
    return _unwrap_0d(_soft_threshold_array(x, threshold))


def l1_penalty(weights: WeightsLike, alpha: float = 1.0) -> float:
    """L1 penalty ``alpha * sum(|w|)`` of an array or a list of arrays.

    Parameters
    ----------
    weights : array_like or list of array_like
        The weights; for a list or tuple (e.g. per-layer weight arrays of a
        network) the absolute values of all arrays are summed.
    alpha : float, default=1.0
        Non-negative, finite regularisation strength.

    Returns
    -------
    float
        The penalty, accumulated in (at least) float64 precision. It is
        ``nan`` if any weight is NaN and ``inf`` if any weight is infinite
        (and ``alpha > 0``). An empty list gives ``0.0``.

    Raises
    ------
    TypeError
        If the weights are not real numeric data or ``alpha`` is not a scalar.
    ValueError
        If ``alpha`` is negative or not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1.penalty import l1_penalty
    >>> l1_penalty(np.array([1.0, -2.0, 0.5]))
    3.5
    >>> layers = [np.array([[1.0, -1.0], [0.0, 2.0]]), np.array([-0.5])]
    >>> l1_penalty(layers, alpha=0.1)
    0.45
    """
    alpha = _check_scalar(alpha, "alpha")
    total = 0.0
    for w in _iter_weights(weights):
        acc = np.result_type(w.dtype, np.float64)
        total += float(np.sum(np.abs(w), dtype=acc))
    return alpha * total


def l1_subgradient(
    w: WeightsLike,
) -> NDArray[np.floating] | np.floating | list[NDArray[np.floating]]:
    """Minimum-norm subgradient of ``||w||_1``, i.e. ``sign(w)`` with 0 at 0.

    The subdifferential of ``|w_i|`` is ``{sign(w_i)}`` for ``w_i != 0`` and
    ``[-1, 1]`` at zero; its minimum-norm element is ``0`` there.

    Parameters
    ----------
    w : array_like or list of array_like
        Weights, a single array or a list/tuple of arrays.

    Returns
    -------
    ndarray, numpy scalar, or list of ndarray
        For an array, a new array of the same shape and floating dtype
        (bool/integer input gives float64); a NumPy scalar for a scalar
        input. For a list or tuple, a list with one such array per element.
        NaN entries give NaN.

    Raises
    ------
    TypeError
        If the weights are not real numeric data.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1.penalty import l1_subgradient
    >>> l1_subgradient(np.array([-2.0, 0.0, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    >>> [g.tolist() for g in l1_subgradient([np.array([0.5]), np.array([[0.0, -1.0]])])]
    [[1.0], [[0.0, -1.0]]]
    """
    grads = []
    for arr in _iter_weights(w, "w"):
        g = np.sign(arr, out=np.empty_like(arr))
        g[g == 0] = 0.0  # normalise a possible -0.0 to +0.0
        grads.append(g)
    if _is_weight_list(w):
        return grads
    return _unwrap_0d(grads[0])


def elastic_net_penalty(weights: WeightsLike, alpha: float = 1.0, l1_ratio: float = 0.5) -> float:
    """Elastic-net penalty in scikit-learn's parametrisation.

    Computes ``alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||_2^2)``,
    the penalty of :class:`sklearn.linear_model.ElasticNet`, over an array or
    over all arrays of a list.

    Parameters
    ----------
    weights : array_like or list of array_like
        The weights; for a list or tuple the norms are taken over all arrays.
    alpha : float, default=1.0
        Non-negative, finite regularisation strength.
    l1_ratio : float, default=0.5
        Mixing parameter in ``[0, 1]``: 1 is the pure L1 penalty
        (:func:`l1_penalty`), 0 is the pure (halved) squared L2 penalty.

    Returns
    -------
    float
        The penalty, accumulated in (at least) float64 precision; ``nan`` or
        ``inf`` for non-finite weights. A term whose coefficient is zero is
        left out, so ``l1_ratio=1`` gives exactly :func:`l1_penalty`.

    Raises
    ------
    TypeError
        If the weights are not real numeric data, or ``alpha`` or
        ``l1_ratio`` is not a scalar.
    ValueError
        If ``alpha`` is negative or not finite, or ``l1_ratio`` is outside
        ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1.penalty import elastic_net_penalty
    >>> w = np.array([3.0, -4.0])
    >>> elastic_net_penalty(w, alpha=1.0, l1_ratio=0.5)  # 0.5 * 7 + 0.25 * 25
    9.75
    >>> elastic_net_penalty([w, np.array([1.0])], alpha=2.0, l1_ratio=1.0)
    16.0
    >>> elastic_net_penalty(w, alpha=1.0, l1_ratio=0.0)
    12.5
    """
    alpha = _check_scalar(alpha, "alpha")
    l1_ratio = _check_scalar(l1_ratio, "l1_ratio", high=1.0)
    l1 = 0.0
    l2_sq = 0.0
    for w in _iter_weights(weights):
        w = w.astype(np.result_type(w.dtype, np.float64), copy=False)
        if l1_ratio > 0.0:
            l1 += float(np.sum(np.abs(w)))
        if l1_ratio < 1.0:
            l2_sq += float(np.sum(np.square(w)))
    penalty = 0.0
    if l1_ratio > 0.0:
        penalty += l1_ratio * l1
    if l1_ratio < 1.0:
        penalty += 0.5 * (1.0 - l1_ratio) * l2_sq
    return alpha * penalty


def prox_elastic_net(
    x: ArrayLike, alpha: float, l1_ratio: float = 1.0, step: float = 1.0
) -> NDArray[np.floating] | np.floating:
    """Proximal operator of ``step * elastic_net_penalty``, elementwise.

    Returns ``soft_threshold(x, step * alpha * l1_ratio) / (1 + step * alpha *
    (1 - l1_ratio))``, the minimiser over ``z`` of ``0.5 * ||z - x||^2 + step *
    elastic_net_penalty(z, alpha, l1_ratio)``. Typical use is a proximal
    gradient step: ``w = prox_elastic_net(w - step * grad, alpha, l1_ratio, step)``.

    Parameters
    ----------
    x : array_like
        Real input of any shape, or a scalar (see :func:`soft_threshold` for
        dtype handling). The input is never modified.
    alpha : float
        Non-negative, finite regularisation strength.
    l1_ratio : float, default=1.0
        Mixing parameter in ``[0, 1]``; the default 1 gives the L1 prox
        (soft-thresholding at ``step * alpha``).
    step : float, default=1.0
        Non-negative, finite step size.

    Returns
    -------
    ndarray or numpy scalar
        A new array with the shape and floating dtype of ``x``; a NumPy
        scalar if ``x`` is a scalar.

    Raises
    ------
    TypeError
        If ``x`` is not real numeric data or a parameter is not a scalar.
    ValueError
        If ``alpha`` or ``step`` is negative or not finite, or ``l1_ratio``
        is outside ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1.penalty import prox_elastic_net
    >>> x = np.array([-3.0, 0.5, 2.0])
    >>> prox_elastic_net(x, alpha=1.0).tolist()  # plain soft-thresholding
    [-2.0, 0.0, 1.0]
    >>> prox_elastic_net(x, alpha=1.0, l1_ratio=0.5, step=2.0).tolist()
    [-1.0, 0.0, 0.5]
    """
    alpha = _check_scalar(alpha, "alpha")
    l1_ratio = _check_scalar(l1_ratio, "l1_ratio", high=1.0)
    step = _check_scalar(step, "step")
    z = _soft_threshold_array(x, step * alpha * l1_ratio)
    denom = 1.0 + step * alpha * (1.0 - l1_ratio)
    if denom != 1.0:
        z = np.divide(z, denom, dtype=z.dtype)
    return _unwrap_0d(z)
