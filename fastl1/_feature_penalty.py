"""Per-feature penalty factors and coefficient bounds (glmnet's ``penalty.factor``,
``lower.limits`` and ``upper.limits``).

Every model's penalty is ``alpha * sum_j factor_j * (l1_ratio |w_j| + (1 - l1_ratio) / 2
w_j^2)`` subject to ``lower_j <= w_j <= upper_j``. The factors are used as given; glmnet
rescales them to sum to the number of features, which :func:`glmnet_factors` reproduces.
A factor of 0 leaves a feature unpenalised (fitted like the intercept, e.g. age or sex beside
genes). Bounds must hold zero (``lower_j <= 0 <= upper_j``, as in glmnet), so the all-zero
model is feasible and ``alpha_max`` keeps its meaning: the smallest alpha whose solution has
every penalised coefficient at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels.penalty import Penalty


@dataclass(frozen=True)
class FeaturePenalty:
    """Validated per-feature penalty factors and bounds (float64 arrays of length p).

    Attributes
    ----------
    factor : ndarray of shape (n_features,)
        Non-negative multipliers of each feature's penalty.
    lower, upper : ndarray of shape (n_features,)
        Bounds on each coefficient, ``lower <= 0 <= upper`` (``-inf`` and ``inf`` for none).
    """

    factor: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def default(cls, n_features: int, positive: bool = False) -> FeaturePenalty:
        """Every factor 1, no bounds (lower bound 0 with ``positive``)."""
        lower = np.zeros(n_features) if positive else np.full(n_features, -np.inf)
        return cls(np.ones(n_features), lower, np.full(n_features, np.inf))

    @property
    def unpenalised(self) -> np.ndarray:
        """Indices of the features with factor 0."""
        return np.flatnonzero(self.factor == 0.0)

    @property
    def is_plain(self) -> bool:
        """Whether every factor is 1 and no coefficient is bounded."""
        return bool(np.all(self.factor == 1.0) and np.all(self.lower == -np.inf)
                    and np.all(self.upper == np.inf))

    def entering_sides(self) -> tuple[np.ndarray, np.ndarray]:
        """Masks of the features that can leave zero upwards and downwards."""
        return self.upper > 0.0, self.lower < 0.0

    def take(self, columns: np.ndarray) -> FeaturePenalty:
        """The factors and bounds of ``columns`` only."""
        return FeaturePenalty(self.factor[columns], self.lower[columns], self.upper[columns])

    def in_dtype(self, dtype) -> FeaturePenalty:
        """The bounds rounded inwards to ``dtype``'s numbers (float32 coefficients then sit
        exactly on their bounds, never past them)."""
        dtype = np.dtype(dtype)
        if dtype == np.float64:
            return self
        zero = dtype.type(0)
        lower = self.lower.astype(dtype)
        upper = self.upper.astype(dtype)
        lower = np.where(lower < self.lower, np.nextafter(lower, zero), lower)
        upper = np.where(upper > self.upper, np.nextafter(upper, zero), upper)
        return FeaturePenalty(self.factor, lower.astype(np.float64),
                              upper.astype(np.float64))

    def kernel(self, l1_reg: float, l2_reg: float) -> Penalty:
        """The penalty as the kernels take it, with the regularisation strengths."""
        bounded = bool(np.isfinite(self.lower).any() or np.isfinite(self.upper).any())
        return Penalty(float(l1_reg), float(l2_reg), self.factor, self.lower, self.upper,
                       bounded)


def _as_feature_vector(value, name: str, n_features: int) -> np.ndarray:
    """A scalar or a length-``n_features`` array as a float64 vector, finite or infinite,
    never NaN."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a number or an array of numbers; got "
                        f"{type(value).__name__}") from exc
    if array.ndim == 0:
        array = np.full(n_features, float(array))
    elif array.ndim != 1 or array.shape[0] != n_features:
        raise ValueError(f"{name} must be a scalar or have shape ({n_features},) (one entry "
                         f"per feature); got shape {array.shape}")
    else:
        array = array.copy()  # never keep a view of the user's array
    if np.isnan(array).any():
        raise ValueError(f"{name} contains NaN at feature(s) "
                         f"{np.flatnonzero(np.isnan(array))[:5].tolist()}")
    return array


def check_feature_penalty(penalty_factor, lower_bounds, upper_bounds, n_features: int, *,
                          positive: bool = False, l1_ratio: float = 1.0,
                          ) -> FeaturePenalty:
    """Validate an estimator's ``penalty_factor``, ``lower_bounds``, ``upper_bounds`` and
    ``positive`` for a design with ``n_features`` columns.

    Raises ValueError for negative, NaN or infinite factors, a wrong length, a lower bound
    above zero or an upper bound below it, every factor zero with an L1 penalty, and
    ``positive=True`` beside explicit lower bounds.
    """
    if penalty_factor is None:
        factor = np.ones(n_features)
    else:
        factor = _as_feature_vector(penalty_factor, "penalty_factor", n_features)
        if not np.isfinite(factor).all():
            raise ValueError("penalty_factor must be finite (use 0 for an unpenalised "
                             "feature and a bound to fix one)")
        if (factor < 0.0).any():
            raise ValueError("penalty_factor must be non-negative; negative at feature(s) "
                             f"{np.flatnonzero(factor < 0.0)[:5].tolist()}")
        if n_features > 0 and not factor.any() and l1_ratio > 0.0:
            raise ValueError("penalty_factor is zero for every feature: nothing is "
                             "penalised, so alpha has no effect (fit LinearRegression or an "
                             "unpenalised model instead)")
    if positive and lower_bounds is not None:
        raise ValueError("positive=True means lower_bounds=0: pass one of them, not both")
    lower = (np.zeros(n_features) if positive else np.full(n_features, -np.inf)) \
        if lower_bounds is None else _as_feature_vector(lower_bounds, "lower_bounds",
                                                        n_features)
    upper = np.full(n_features, np.inf) if upper_bounds is None else \
        _as_feature_vector(upper_bounds, "upper_bounds", n_features)
    if (lower > 0.0).any():
        raise ValueError("lower_bounds must be <= 0 (zero is always a feasible coefficient, "
                         "as in glmnet); above zero at feature(s) "
                         f"{np.flatnonzero(lower > 0.0)[:5].tolist()}")
    if (upper < 0.0).any():
        raise ValueError("upper_bounds must be >= 0 (zero is always a feasible coefficient, "
                         "as in glmnet); below zero at feature(s) "
                         f"{np.flatnonzero(upper < 0.0)[:5].tolist()}")
    return FeaturePenalty(factor, lower, upper)


def glmnet_factors(penalty_factor) -> np.ndarray:
    """glmnet's rescaling of penalty factors: ``factor * p / sum(factor)``.

    glmnet (``penalty.factor``) rescales the factors to sum to the number of features ``p``
    (with ``alpha`` then meaning the same on every problem); fastl1 uses them as given. Pass
    ``glmnet_factors(f)`` to reproduce a glmnet fit made with ``penalty.factor = f``.

    Parameters
    ----------
    penalty_factor : array-like of shape (n_features,)
        Non-negative factors, not all zero.

    Returns
    -------
    ndarray of shape (n_features,)
        The rescaled factors.
    """
    factor = np.asarray(penalty_factor, dtype=np.float64)
    total = factor.sum()
    if factor.ndim != 1 or not np.isfinite(total) or total <= 0.0 or (factor < 0.0).any():
        raise ValueError("penalty_factor must be a 1-D array of non-negative, finite "
                         "numbers, not all zero")
    return factor * (factor.shape[0] / total)
