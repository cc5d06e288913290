"""Cox partial-likelihood kernel: the value, gradient and Hessian diagonal in one pass.

The risk sets are those of :class:`fastl1._cox_data.RiskSets` (samples sorted by stratum and
time, tie groups, one event term per event of a group): the NumPy version of the same sums
takes about twenty array operations (cumulative sums, ``bincount``, gathers and scatters) of
a few microseconds each, which is most of a Newton step's time on a few hundred samples.
Here every sum is one loop over the sorted samples or the groups.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from . import JIT_OPTIONS

# The risk sets' arrays (see fastl1._cox_data.RiskSets): ``order`` (int64), ``group``
# (int64, sorted positions' tie group), ``group_start`` and ``group_end`` (int64, one past
# the last position of the group's stratum), ``event`` (bool), ``weight`` (sorted weights),
# ``term_start`` (int64, G + 1: group k's event terms are term_start[k]:term_start[k + 1]),
# ``term_fraction`` and ``term_weight`` (Efron's r / m_k and c_k per term).
CoxSets = namedtuple("CoxSets", ["order", "group", "group_start", "group_end", "event",
                                 "weight", "term_start", "term_fraction", "term_weight"])


@njit(**JIT_OPTIONS)
def _risk_sums(sets, risk, at_risk, events):
    """Each group's risk sum (its stratum's samples from the group on) and its events' own
    risk, summed from the stratum's end backwards (no differences of cumulative sums)."""
    G = sets.group_start.shape[0]
    n = risk.shape[0]
    total = 0.0
    for k in range(G - 1, -1, -1):
        if k == G - 1 or sets.group_end[k] != sets.group_end[k + 1]:
            total = 0.0  # the last group of its stratum
        end = sets.group_start[k + 1] if k + 1 < G else n
        own = 0.0
        for q in range(sets.group_start[k], end):
            total += risk[q]
            if sets.event[q]:
                own += risk[q]
        at_risk[k] = total
        events[k] = own


@njit(**JIT_OPTIONS)
def cox_evaluate(sets, eta, gradient, curvature):
    """``F(eta)`` (module docstring of :mod:`fastl1._cox_data`); with ``gradient`` and
    ``curvature`` of length n, also ``dF/deta`` and the Hessian's diagonal (clipped at 0),
    in the samples' own order. ``eta`` is shifted by its maximum (F does not change)."""
    n = eta.shape[0]
    G = sets.group_start.shape[0]
    top = -np.inf
    for i in range(n):
        top = max(top, eta[i])
    risk = np.empty(n)
    linear = 0.0
    for q in range(n):
        shifted = eta[sets.order[q]] - top
        risk[q] = sets.weight[q] * np.exp(shifted)
        if sets.event[q]:
            linear += sets.weight[q] * shifted
    at_risk = np.empty(G)
    events = np.empty(G)
    _risk_sums(sets, risk, at_risk, events)
    tiny = np.finfo(np.float64).tiny
    derivatives = gradient.shape[0] == n
    # per group: sums over its terms of c/a, c (1 - f)/a, c/a^2, c (1 - f)^2/a^2
    sums = np.zeros((G, 4)) if derivatives else np.zeros((0, 4))
    value = -linear
    for k in range(G):
        for t in range(sets.term_start[k], sets.term_start[k + 1]):
            c, f = sets.term_weight[t], sets.term_fraction[t]
            a = max(at_risk[k] - f * events[k], tiny)
            value += c * np.log(a)
            if derivatives:
                sums[k, 0] += c / a
                sums[k, 1] += c * (1.0 - f) / a
                sums[k, 2] += c / (a * a)
                sums[k, 3] += c * (1.0 - f) * (1.0 - f) / (a * a)
    if not derivatives:
        return value
    first = second = 0.0
    for k in range(G):
        if k == 0 or sets.group_end[k] != sets.group_end[k - 1]:
            first = second = 0.0  # the first group of its stratum
        first += sums[k, 0]
        second += sums[k, 2]
        end = sets.group_start[k + 1] if k + 1 < G else n
        for q in range(sets.group_start[k], end):
            r = risk[q]
            a1, a2 = first, second
            if sets.event[q]:  # its own group with Efron's (1 - r/m_k) factors
                a1 += sums[k, 1] - sums[k, 0]
                a2 += sums[k, 3] - sums[k, 2]
            i = sets.order[q]
            gradient[i] = r * a1 - (sets.weight[q] if sets.event[q] else 0.0)
            curvature[i] = max(r * a1 - r * r * a2, 0.0)
    return value
