"""Survival data for Cox regression: validation, risk sets, the partial likelihood.

The negative log partial likelihood of the linear predictor ``eta`` with sample weights ``s``,
events ``d`` and (optionally) strata, with ties by Breslow's or Efron's approximation, is

    F(eta) = - sum_i s_i d_i eta_i + sum_k c_k sum_{r=0}^{m_k - 1} log(S_k - (r / m_k) E_k)

over the tie groups ``k`` (samples of one stratum sharing an event time): ``m_k`` events of
total weight ``D_k = c_k m_k`` (``c_k`` their mean weight), the risk sum
``S_k = sum_{j in stratum, t_j >= t_k} s_j exp(eta_j)`` and the events' own sum ``E_k``. Efron
(1977) uses the fractions ``r / m_k``; Breslow (1974) sets them to 0, giving the single term
``D_k log S_k``. Weighted Efron follows R's ``survival::coxph`` (the tied events' mean weight).

Every risk sum comes from one sort of the samples by (stratum, time) and cumulative sums over
it, so a value, gradient or Hessian diagonal costs O(n) after the O(n log n) sort. The
gradient and the Hessian's diagonal with respect to ``eta`` are glmnet's coxnet ones (Simon,
Friedman, Hastie & Tibshirani, J. Stat. Softw. 39(5), 2011, sec. 2.1), extended to Efron's
terms: with ``b_jr = s_j exp(eta_j) (1 - f_r [j an event of k])``,

    dF/deta_j = - s_j d_j + sum_{k, r: j at risk} c_k b_jr / a_kr,
    d2F/deta_j^2 = sum_{k, r: j at risk} c_k (b_jr / a_kr - b_jr^2 / a_kr^2),

``a_kr = S_k - f_r E_k`` the term's denominator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_consistent_length

from ._irls import design_correlations, kkt_violation
from ._kernels.glm import CoxSets, cox_evaluate

__all__ = ["CoxDatafit", "RiskSets", "check_survival", "check_strata"]

_NO_OUTPUT = np.empty(0)  # cox_evaluate: the value only


def _field_roles(dtype: np.dtype) -> tuple[str, str]:
    """The (event, time) field names of a structured dtype: the boolean field is the event,
    as in scikit-survival; without one, the first field (scikit-survival's order)."""
    names = dtype.names
    if len(names) != 2:
        raise ValueError("A structured survival target needs exactly two fields (event, "
                         f"time); got {len(names)}: {names}.")
    booleans = [name for name in names if dtype[name].kind == "b"]
    event = booleans[0] if len(booleans) == 1 else names[0]
    return event, names[1] if event == names[0] else names[0]


def check_survival(y, n_samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(time, event)`` as float64 and bool arrays from scikit-survival's structured array
    (fields event and time, any names) or an ``(n, 2)`` array-like of columns time, event.

    Raises ValueError for a wrong shape, negative, NaN or infinite times and event values
    other than 0/1/True/False. (Whether any event occurs is checked with the weights.)
    """
    array = np.asarray(y)
    if array.dtype.names is not None:
        if array.ndim != 1:
            raise ValueError(f"A structured survival target must be 1-D, got shape "
                             f"{array.shape}.")
        event_name, time_name = _field_roles(array.dtype)
        time, event = array[time_name], array[event_name]
    else:
        if array.ndim != 2 or array.shape[1] != 2:
            raise ValueError("y must be scikit-survival's structured array (event, time) or "
                             f"an (n_samples, 2) array of columns time, event; got shape "
                             f"{array.shape}.")
        time, event = array[:, 0], array[:, 1]
    try:
        time = np.asarray(time, dtype=np.float64)
        event_values = np.asarray(event, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"Survival times and events must be numbers: {error}") from None
    if not np.all(np.isfinite(time)):
        raise ValueError("Survival times contain NaN or infinity.")
    if np.any(time < 0):
        raise ValueError(f"Survival times must be >= 0; got {int(np.sum(time < 0))} negative "
                         "value(s).")
    bad = ~np.isin(event_values, (0.0, 1.0))
    if np.any(bad):
        raise ValueError("Event indicators must be 0/1 or False/True; got "
                         f"{np.unique(np.asarray(event)[bad])[:5].tolist()}.")
    if n_samples is not None and time.shape[0] != n_samples:
        raise ValueError(f"y has {time.shape[0]} samples, X has {n_samples}.")
    return time, event_values == 1.0


def check_strata(groups, n_samples: int) -> np.ndarray | None:
    """Stratum codes ``0..k-1`` from any labels (None: one stratum)."""
    if groups is None:
        return None
    groups = np.asarray(groups)
    if groups.ndim != 1:
        raise ValueError(f"groups (strata) must be 1-D, got shape {groups.shape}.")
    check_consistent_length(groups, np.empty(n_samples))
    return np.unique(groups, return_inverse=True)[1].astype(np.int64)


@dataclass
class RiskSets:
    """The samples sorted by (stratum, time) and their tie groups, built once per data set.

    Attributes
    ----------
    order : ndarray
        Sample indices in sorted order.
    group : ndarray
        Each sorted position's tie group (stratum and time), ``0..G-1`` increasing.
    group_start, group_end : ndarray of shape (G,)
        First position of each group; one past the last position of its stratum.
    stratum_first_group : ndarray of shape (G,)
        The first group of each group's stratum.
    event : ndarray of bool
        Whether each sorted position is an event with positive weight.
    term_group, term_fraction : ndarray
        One entry per event term (group ``k``, ``r``): its group and Efron's ``r / m_k``
        (0 for Breslow).
    term_weight : ndarray
        ``c_k``, the mean weight of the group's events.
    weight : ndarray
        The sample weights in sorted order.
    """

    order: np.ndarray
    group: np.ndarray
    group_start: np.ndarray
    group_end: np.ndarray
    stratum_first_group: np.ndarray
    event: np.ndarray
    term_group: np.ndarray
    term_fraction: np.ndarray
    term_weight: np.ndarray
    weight: np.ndarray
    term_start: np.ndarray | None = None  # (G + 1,): group k's terms are [k]:[k + 1]

    @classmethod
    def build(cls, time, event, weights, strata=None, ties="breslow") -> RiskSets:
        n = time.shape[0]
        stratum = np.zeros(n, dtype=np.int64) if strata is None else strata
        order = np.lexsort((time, stratum))
        t, st = time[order], stratum[order]
        new_group = np.empty(n, dtype=bool)
        new_group[0] = True
        new_group[1:] = (t[1:] != t[:-1]) | (st[1:] != st[:-1])
        group = np.cumsum(new_group) - 1
        group_start = np.flatnonzero(new_group)
        new_stratum = np.empty(n, dtype=bool)
        new_stratum[0] = True
        new_stratum[1:] = st[1:] != st[:-1]
        stratum_index = np.cumsum(new_stratum) - 1
        stratum_end = np.append(np.flatnonzero(new_stratum)[1:], n)
        group_stratum = stratum_index[group_start]
        first_group_of_stratum = group[np.flatnonzero(new_stratum)]
        weight = weights[order]
        is_event = event[order] & (weight > 0)
        counts = np.bincount(group[is_event], minlength=group_start.shape[0])
        event_weight = np.bincount(group[is_event], weights=weight[is_event],
                                   minlength=group_start.shape[0])
        term_group = np.repeat(np.arange(group_start.shape[0]), counts)
        # r = 0..m_k-1 within each group: the position of the term minus its group's first
        rank = np.arange(term_group.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
        fraction = rank / np.repeat(np.maximum(counts, 1), counts) if ties == "efron" \
            else np.zeros(term_group.shape[0])
        return cls(order, group, group_start, stratum_end[group_stratum],
                   first_group_of_stratum[group_stratum], is_event, term_group,
                   fraction.astype(np.float64),
                   (event_weight / np.maximum(counts, 1))[term_group], weight,
                   np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))

    def kernel_arrays(self) -> CoxSets:
        """The arrays :func:`fastl1._kernels.glm.cox_evaluate` reads."""
        index = [np.ascontiguousarray(a, dtype=np.int64)
                 for a in (self.order, self.group, self.group_start, self.group_end)]
        return CoxSets(*index, np.ascontiguousarray(self.event, dtype=np.bool_),
                       np.ascontiguousarray(self.weight, dtype=np.float64),
                       self.term_start,
                       np.ascontiguousarray(self.term_fraction, dtype=np.float64),
                       np.ascontiguousarray(self.term_weight, dtype=np.float64))

    @property
    def n_groups(self) -> int:
        return self.group_start.shape[0]

    def risk_sums(self, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(S_k, E_k)`` for every group from the sorted ``s_j exp(eta_j)``."""
        tail = np.append(np.cumsum(risk[::-1])[::-1], 0.0)  # tail[q] = sum over q..n-1
        at_risk = tail[self.group_start] - tail[self.group_end]
        events = np.bincount(self.group[self.event], weights=risk[self.event],
                             minlength=self.n_groups)
        return at_risk, events

    def within_stratum_cumsum(self, per_group: np.ndarray) -> np.ndarray:
        """``sum_{k' <= k, same stratum} per_group[k']`` for every group ``k`` (rows of a
        2-D ``per_group``)."""
        total = np.cumsum(per_group, axis=0)
        zero = np.zeros((1,) + per_group.shape[1:])
        before = np.concatenate([zero, total])[self.stratum_first_group]
        return total - before

    def group_sums(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Each group's sum of the sorted rows of ``values`` where ``mask`` holds."""
        masked = np.where(mask.reshape((-1,) + (1,) * (values.ndim - 1)), values, 0.0)
        total = np.concatenate([np.zeros((1,) + values.shape[1:]),
                                np.cumsum(masked, axis=0)])
        ends = np.append(self.group_start[1:], values.shape[0])
        return total[ends] - total[self.group_start]

    def saturated_loglik(self) -> float:
        """The saturated model's log partial likelihood, ``-sum_k D_k log D_k`` (glmnet's
        ``coxnet.deviance``)."""
        totals = np.bincount(self.group[self.event], weights=self.weight[self.event],
                             minlength=self.n_groups)
        totals = totals[totals > 0]
        return float(-np.sum(totals * np.log(totals)))


class CoxDatafit:
    """The negative log partial likelihood ``F(eta)`` (module docstring) for
    :func:`._irls.prox_newton`, with the KKT violation as its certificate."""

    def __init__(self, risk_sets: RiskSets):
        self.sets = risk_sets
        self.kernel_sets = risk_sets.kernel_arrays()
        self.sorted_weight = risk_sets.weight
        # s_j d_j in the samples' own order (the linear term of F)
        self.event_weight = np.zeros(risk_sets.order.shape[0])
        self.event_weight[risk_sets.order] = np.where(risk_sets.event, risk_sets.weight, 0.0)

    def _terms(self, eta: np.ndarray):
        """Sorted ``s exp(eta - max)`` and every term's denominator (F is unchanged by a
        shift of eta: the terms' weights sum to the events' weight)."""
        sets = self.sets
        shifted = eta[sets.order] - np.max(eta)
        risk = self.sorted_weight * np.exp(shifted)
        at_risk, events = sets.risk_sums(risk)
        denominator = at_risk[sets.term_group] - sets.term_fraction * events[sets.term_group]
        return shifted, risk, np.maximum(denominator, np.finfo(np.float64).tiny)

    def value(self, eta: np.ndarray) -> float:
        return float(cox_evaluate(self.kernel_sets, np.ascontiguousarray(eta, np.float64),
                                  _NO_OUTPUT, _NO_OUTPUT))

    def values(self, eta: np.ndarray) -> np.ndarray:
        """``F`` of every column of ``eta`` (n, k)."""
        return np.array([self.value(eta[:, k]) for k in range(eta.shape[1])])

    def derivatives(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        gradient, curvature = np.empty(eta.shape[0]), np.empty(eta.shape[0])
        cox_evaluate(self.kernel_sets, np.ascontiguousarray(eta, np.float64), gradient,
                     curvature)
        return gradient, curvature

    def hessian_gram(self, eta: np.ndarray, B: np.ndarray) -> np.ndarray:
        """``B^T H B`` for the Hessian ``H`` of ``F`` with respect to ``eta`` and columns
        ``B`` (n, m): with ``b_jr`` and ``a_kr`` of the module docstring, ``H`` is
        ``diag(sum_{k, r: j at risk} c_k b_jr / a_kr) - sum_{k, r} c_k / a_kr^2 b_r b_r^T``,
        so ``B^T H B = B^T diag(.) B - Z^T diag(c / a^2) Z`` with ``Z``'s rows the risk-set
        sums ``sum_j b_jr B_j`` (cumulative sums in sorted order): two matrix products."""
        sets = self.sets
        _, risk, denominator = self._terms(eta)
        c, f = sets.term_weight, sets.term_fraction
        own = sets.event
        block = np.asarray(B, dtype=np.float64)[sets.order]
        weighted = risk[:, None] * block
        tail = np.concatenate([np.cumsum(weighted[::-1], axis=0)[::-1],
                               np.zeros((1, block.shape[1]))])
        at_risk = tail[sets.group_start] - tail[sets.group_end]
        events = sets.group_sums(weighted, own)
        Z = at_risk[sets.term_group] - f[:, None] * events[sets.term_group]
        first = sets.within_stratum_cumsum(np.bincount(
            sets.term_group, weights=c / denominator, minlength=sets.n_groups))[sets.group] \
            - np.where(own, np.bincount(sets.term_group, weights=f * c / denominator,
                                        minlength=sets.n_groups)[sets.group], 0.0)
        return (weighted * first[:, None]).T @ block \
            - (Z * (c / denominator ** 2)[:, None]).T @ Z

    def intercept_step(self, eta: np.ndarray) -> float:
        return 0.0  # F is invariant to a shift of eta: there is no intercept

    def certificate(self, X, coef, eta, penalty_value, strengths, penalty,
                    grad=None) -> float:
        if grad is None:
            grad = design_correlations(X, -self.derivatives(eta)[0])
        return kkt_violation(grad, coef, strengths, penalty, X.shape[0])

    def deviance(self, eta: np.ndarray) -> np.ndarray:
        """glmnet's partial-likelihood deviance ``2 (saturated loglik - loglik)`` of every
        column of ``eta``."""
        return 2.0 * (self.sets.saturated_loglik() + self.values(eta))
