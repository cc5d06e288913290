"""Harrell's concordance index and Breslow's baseline hazard, with step functions for the
predicted survival and cumulative hazard (scikit-survival's conventions); the Kaplan-Meier
estimator and the log-rank test of survival curves."""

from __future__ import annotations

import dataclasses

import numpy as np

from ._cox_data import RiskSets

__all__ = ["KaplanMeier", "StepFunction", "breslow_baseline", "concordance_index",
           "kaplan_meier", "logrank_test"]


class StepFunction:
    """A right-continuous step function ``f(z) = a * y_i + b`` for ``x_i <= z < x_{i+1}``.

    The interface of scikit-survival's ``sksurv.functions.StepFunction`` (``x``, ``y``,
    ``a``, ``b``, ``domain`` and calling on a float or an array), with one difference: before
    the first time ``x[0]`` the value is ``a * initial + b`` (no event has happened yet:
    cumulative hazard 0, survival 1), where scikit-survival takes ``y[0]``.

    Parameters
    ----------
    x : ndarray of shape (n_points,)
        Increasing times (the distinct times of the training samples).
    y : ndarray of shape (n_points,)
        The function's value from each time on.
    a, b : float, default=1.0, 0.0
        Scale and offset of ``y``.
    initial : float, default=0.0
        The value before ``x[0]``.
    """

    def __init__(self, x, y, *, a=1.0, b=0.0, initial=0.0):
        self.x = x
        self.y = y
        self.a = a
        self.b = b
        self.initial = initial

    @property
    def domain(self) -> tuple[float, float]:
        """``(0, x[-1])``: the times the function may be evaluated at."""
        return 0.0, float(self.x[-1])

    def __call__(self, z):
        """Evaluate at ``z`` (a float or an array of times within :attr:`domain`)."""
        z = np.atleast_1d(np.asarray(z, dtype=np.float64))
        if not np.all(np.isfinite(z)):
            raise ValueError("Times must be finite.")
        if z.min(initial=0.0) < 0.0 or z.max(initial=0.0) > self.domain[1]:
            raise ValueError(f"Times must be within [0, {self.domain[1]:g}].")
        index = np.searchsorted(self.x, z, side="right") - 1
        values = np.where(index >= 0, self.y[np.maximum(index, 0)], self.initial)
        values = self.a * values + self.b
        return values[0] if values.shape[0] == 1 else values

    def __repr__(self) -> str:
        return f"StepFunction(x={self.x!r}, y={self.y!r}, a={self.a!r}, b={self.b!r})"


def breslow_baseline(time, event, weights, strata, eta) -> list[tuple[np.ndarray, np.ndarray]]:
    """Breslow's cumulative baseline hazard of each stratum: ``(times, H_0)`` at the
    stratum's distinct times, ``H_0(t) = sum_{t_k <= t} D_k / sum_{j at risk at t_k} s_j
    exp(eta_j)`` (Breslow 1972; weighted as R's ``survival::survfit.coxph``)."""
    sets = RiskSets.build(time, event, weights, strata, "breslow")
    risk = sets.weight * np.exp(eta[sets.order])
    at_risk, _ = sets.risk_sums(risk)
    deaths = np.bincount(sets.group[sets.event], weights=sets.weight[sets.event],
                         minlength=sets.n_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        increments = np.where(deaths > 0, deaths / at_risk, 0.0)
    hazard = sets.within_stratum_cumsum(increments)
    group_time = time[sets.order][sets.group_start]
    stratum = np.zeros(time.shape[0], dtype=np.int64) if strata is None else strata
    group_stratum = stratum[sets.order][sets.group_start]
    return [(group_time[group_stratum == k], hazard[group_stratum == k])
            for k in range(int(stratum.max()) + 1)]


class _Counts:
    """A Fenwick tree of how many inserted values lie below a threshold (values ranked among
    ``values``)."""

    def __init__(self, values: np.ndarray):
        self.values = np.unique(values)
        self.tree = np.zeros(self.values.shape[0] + 1, dtype=np.int64)
        self.total = 0

    def insert(self, value: float) -> None:
        i = int(np.searchsorted(self.values, value)) + 1
        self.total += 1
        while i < self.tree.shape[0]:
            self.tree[i] += 1
            i += i & -i

    def below(self, threshold: float, inclusive: bool) -> int:
        """How many inserted values are ``< threshold`` (``<=`` with ``inclusive``)."""
        i = int(np.searchsorted(self.values, threshold, side="right" if inclusive else "left"))
        count = 0
        while i > 0:
            count += int(self.tree[i])
            i -= i & -i
        return count


def concordance_index(event, time, estimate, tied_tol: float = 1e-8) -> float:
    """Harrell's concordance index, as scikit-survival's ``concordance_index_censored``.

    A pair is comparable when the shorter time is an event (an event and a sample censored at
    the same time are comparable; two events at one time are not); it is concordant when the
    event has the higher estimate, and counts one half when the estimates differ by at most
    ``tied_tol``. O(n log n): the samples are visited by decreasing time with a Fenwick tree
    of the estimates seen so far.
    """
    order = np.argsort(-time, kind="stable")
    counts = _Counts(estimate)
    numerator = 0.0
    denominator = 0
    start = 0
    while start < order.shape[0]:
        stop = start
        while stop < order.shape[0] and time[order[stop]] == time[order[start]]:
            stop += 1
        tied = order[start:stop]
        for j in tied[~event[tied]]:  # censored at this time: comparable with its events
            counts.insert(estimate[j])
        for i in tied[event[tied]]:
            low = counts.below(estimate[i] - tied_tol, inclusive=False)
            ties = counts.below(estimate[i] + tied_tol, inclusive=True) - low
            numerator += low + 0.5 * ties
            denominator += counts.total
        for i in tied[event[tied]]:
            counts.insert(estimate[i])
        start = stop
    if denominator == 0:
        raise ValueError("No comparable pairs (no event is followed by a longer time): the "
                         "concordance index is undefined.")
    return float(numerator / denominator)


@dataclasses.dataclass
class KaplanMeier:
    """The Kaplan-Meier estimate at every distinct time of a sample (see :func:`kaplan_meier`).

    Attributes
    ----------
    time : ndarray of shape (n_times,)
        The distinct times, increasing.
    survival : ndarray of shape (n_times,)
        ``S(t)`` from each time on (right-continuous: the events at ``t`` included).
    at_risk : ndarray of shape (n_times,)
        Samples with a time ``>= t`` (the risk set just before ``t``).
    events, censored : ndarray of shape (n_times,)
        Events and censored samples at ``t``.
    """

    time: np.ndarray
    survival: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray

    def median(self) -> float:
        """The median survival time: the first time with ``S(t) <= 0.5`` (NaN if the curve
        stays above one half)."""
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.time[below[0]]) if below.size else float("nan")


def _survival_arrays(time, event) -> tuple[np.ndarray, np.ndarray]:
    time = np.asarray(time, dtype=np.float64).ravel()
    event = np.asarray(event).ravel()
    if event.shape != time.shape:
        raise ValueError(f"{time.shape[0]} times but {event.shape[0]} event indicators.")
    if time.size == 0:
        raise ValueError("No samples.")
    if not np.all(np.isfinite(time)):
        raise ValueError("Survival times contain NaN or infinity.")
    if not np.all(np.isin(event, (0, 1))):
        raise ValueError("Event indicators must be 0/1 or False/True.")
    return time, event.astype(bool)


def kaplan_meier(time, event) -> KaplanMeier:
    """The Kaplan-Meier (product-limit) estimate of the survival function.

    ``S(t) = prod_{t_k <= t} (1 - d_k / n_k)`` over the distinct times ``t_k``, with ``d_k``
    events at ``t_k`` and ``n_k`` samples still at risk (time ``>= t_k``) (Kaplan & Meier,
    JASA 1958); a sample censored at an event time is at risk at it.

    Parameters
    ----------
    time : array-like of shape (n_samples,)
    event : array-like of shape (n_samples,)
        1/True for an event, 0/False for a censored time.

    Returns
    -------
    KaplanMeier
    """
    time, event = _survival_arrays(time, event)
    distinct, index = np.unique(time, return_inverse=True)
    events = np.bincount(index, weights=event, minlength=distinct.size)
    counts = np.bincount(index, minlength=distinct.size)
    at_risk = np.cumsum(counts[::-1])[::-1]  # samples with time >= t_k
    survival = np.cumprod(1.0 - events / at_risk)
    return KaplanMeier(distinct, survival, at_risk.astype(np.int64),
                       events.astype(np.int64), (counts - events).astype(np.int64))


def logrank_test(time, event, groups) -> tuple[float, float, int]:
    """The log-rank test that the groups share one survival function.

    At each distinct event time ``t_k`` with ``d_k`` events among ``n_k`` at risk, group
    ``g`` expects ``E_gk = d_k n_gk / n_k`` events, with the hypergeometric covariance
    ``V_ghk = d_k (n_k - d_k) / (n_k - 1) (n_gk / n_k) (delta_gh - n_hk / n_k)``; the
    statistic ``(O - E)^T V^- (O - E)`` over the first ``G - 1`` groups is chi-squared with
    ``G - 1`` degrees of freedom (Mantel 1966; Peto & Peto 1972).

    Parameters
    ----------
    time, event : array-like of shape (n_samples,)
    groups : array-like of shape (n_samples,)
        Group labels, at least two distinct.

    Returns
    -------
    statistic : float
    p_value : float
    dof : int
    """
    from scipy.stats import chi2

    time, event = _survival_arrays(time, event)
    labels, code = np.unique(np.asarray(groups).ravel(), return_inverse=True)
    if code.shape != time.shape:
        raise ValueError(f"{time.shape[0]} times but {code.shape[0]} group labels.")
    if labels.size < 2:
        raise ValueError("The log-rank test needs at least two groups.")
    distinct, index = np.unique(time, return_inverse=True)
    k, m = labels.size, distinct.size
    counts = np.zeros((m, k))
    deaths = np.zeros((m, k))
    np.add.at(counts, (index, code), 1.0)
    np.add.at(deaths, (index, code), event.astype(np.float64))
    at_risk = np.cumsum(counts[::-1], axis=0)[::-1]  # (m, k): in group g with time >= t
    n = at_risk.sum(axis=1)
    d = deaths.sum(axis=1)
    keep = d > 0
    at_risk, deaths, n, d = at_risk[keep], deaths[keep], n[keep], d[keep]
    share = at_risk / n[:, None]
    observed_minus_expected = (deaths - d[:, None] * share).sum(axis=0)
    spread = np.where(n > 1, d * (n - d) / np.maximum(n - 1, 1), 0.0)
    covariance = (np.diag((spread[:, None] * share).sum(axis=0))
                  - np.einsum("t,tg,th->gh", spread, share, share))
    diff = observed_minus_expected[:-1]
    statistic = float(diff @ np.linalg.pinv(covariance[:-1, :-1]) @ diff)
    return statistic, float(chi2.sf(statistic, k - 1)), k - 1
