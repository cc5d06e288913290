"""Working sets, Gap Safe screening and Anderson extrapolation.

Working sets (celer: Massias, Gramfort & Salmon, ICML 2018; skglm: Bertrand et al., NeurIPS
2022): rank features by how close their dual constraint is to being active, solve on the best
few, grow the set until the full problem's duality gap certifies the solution. Gap Safe
screening (Ndiaye et al., JMLR 2017, eq. 11; scikit-learn's rule): drop features that the
current gap proves to be zero at the optimum. Anderson extrapolation of CD iterates
(Bertrand & Massias, AISTATS 2021): every few epochs, try the affine combination of the last
iterates that best cancels their differences; keep it only if it lowers the objective.
"""

import numpy as np
from numba import njit

from . import JIT_OPTIONS
from .penalty import Penalty, entering_correlation, excess

_SATURATED = 0.6  # see working_set_growth
FIRST_SET_SHARE = 1 / 8  # see violated_first_set
_GROWTH_SHARE = 20
# k-th smallest score by a bounded heap while k <= p / _HEAP_SHARE, else by quickselect: on
# 100000 scores, k = 100: 0.09 ms against 1.1 ms for np.partition (a round of a sparse fit
# costs ~5 ms); the heap loses from k ~ p / 20 (k = 6000: 2.0 against 1.3 ms). Quickselect is
# written out because np.partition adds ~3.7 s to the first compilation.
_HEAP_SHARE = 64


@njit(**JIT_OPTIONS)
def inverse_norms(norms2, penalty):
    """``1 / sqrt(norms2 + l2_j)``, the per-feature factor of the constraint distance in
    :func:`screen_and_score`, computed once per fit (0 for constant columns, which never
    enter)."""
    out = np.zeros(norms2.shape[0], dtype=np.float64)  # float64 even for float32 data
    for j in range(norms2.shape[0]):
        if norms2[j] > 0.0:
            out[j] = 1.0 / np.sqrt(norms2[j] + penalty.l2_reg * penalty.factor[j])
    return out


@njit(**JIT_OPTIONS)
def screen_and_score(w, grad, inv_norms, penalty, dual_norm, gap, screening, active, scores):
    """What a working-set round needs from the full gradient, in one pass over the features.

    For each active feature at zero, its constraint distance ``(f_j - |x_j^T theta|) /
    ||x_j||``: how far it is from entering (``f_j`` its penalty factor). ``theta`` is the
    dual point ``r / dual_scale`` (``dual_scale = max(l1_reg, dual norm)``), so ``x_j^T theta
    = grad_j / dual_scale``; only the sides its bounds let it move to count (with a lower
    bound of 0, only positive correlations: :func:`.penalty.entering_correlation`). If
    ``screening``, Gap Safe screening drops the feature when the distance exceeds the safe
    radius ``sqrt(2 gap) / l1_reg`` (Ndiaye et al., JMLR 2017, eq. 11; only features at zero
    are dropped). ``scores`` receives the distances, ``-inf`` for the support and
    ``inf`` for inactive features (see :func:`working_set_from_scores`); unpenalised features
    count as support (they belong to every working set). (For a feature at zero ``grad_j -
    l2_j w_j = grad_j``: the ridge term only enters through the norm ``||x_j||^2 + l2_j``.)
    Requires ``l1_reg > 0``. Returns ``(n_active, support_size)``.
    """
    l1_reg = penalty.l1_reg
    bounded = penalty.bounded
    radius = np.sqrt(2.0 * max(gap, 0.0)) / l1_reg if screening else np.inf
    dual_scale = max(l1_reg, dual_norm)
    n_active = 0
    support = 0
    for j in range(w.shape[0]):
        if not active[j] or inv_norms[j] == 0.0:
            active[j] = False
            scores[j] = np.inf
            continue
        if w[j] != 0.0 or penalty.factor[j] == 0.0:
            scores[j] = -np.inf
            support += 1
            n_active += 1
            continue
        corr = (entering_correlation(penalty, j, grad[j]) if bounded else abs(grad[j])) \
            / dual_scale
        distance = (penalty.factor[j] - corr) * inv_norms[j]
        if distance > radius or distance == np.inf:  # (inf: bounds fix it at zero)
            active[j] = False
            scores[j] = np.inf
        else:
            scores[j] = distance
            n_active += 1
    return n_active, support


@njit(**JIT_OPTIONS)
def violations_inside(scores, in_ws):
    """Whether every feature whose dual constraint is violated or tight (``scores`` from
    :func:`screen_and_score` at most 0: ``|x_j^T theta| >= 1``; the support included) is in
    the last working set ``in_ws`` (a mask).

    Then the working set has found where the full problem's gap comes from: outside it the
    constraints hold strictly, so the dual scaling, hence the gap, is the working set's own,
    and a subproblem solved to ``tol`` is likely certified by the next full gradient. Such a
    round solves to ``tol`` at once instead of to a fraction of the gap (on 31 fits, dense and
    sparse: 4-14 rounds cut to 4-9, time -7.5 % in geometric mean, the 20000 x 100000 sparse
    fit at alpha_max/100 -16 %)."""
    for j in range(scores.shape[0]):
        if scores[j] <= 0.0 and not in_ws[j]:
            return False
    return True


@njit(**JIT_OPTIONS)
def gap_safe_screen(w, grad, norms2, penalty, gap, dual_norm, active):
    """Mark in ``active`` the features the gap proves inactive; return how many remain
    (:func:`screen_and_score` on its own). Requires ``l1_reg > 0``."""
    scores = np.empty(w.shape[0], dtype=np.float64)
    n_active, _ = screen_and_score(w, grad, inverse_norms(norms2, penalty), penalty,
                                   dual_norm, gap, True, active, scores)
    return n_active


@njit(**JIT_OPTIONS)
def working_set_growth(support, last_size, n_samples, n_features):
    """Size of the next working set: twice the support (celer, skglm), or four times when
    the last set filled up (``support >= 0.6 * last_size``: most of its features entered) and
    the support is small next to the features (``20 * support <= n_features``), but not past
    ``max(2 * support, n_samples)``. A large support then builds up in fewer rounds, each a
    full gradient. Two cases keep twice the support: wide dense data with supports near
    ``n_samples`` (epochs, not rounds, dominate), and supports that are a sizeable share of
    the features (tall data: a full gradient then costs little more than an epoch on the
    larger set, and the inner solves take about a third less time for the same epochs)."""
    if support >= _SATURATED * last_size and _GROWTH_SHARE * support <= n_features:
        return min(4 * support, max(2 * support, n_samples))
    return 2 * support


@njit(**JIT_OPTIONS)
def _quickselect(a, k):
    """Rearrange ``a`` in place so that ``a[k]`` is its ``(k + 1)``-th smallest value and
    return it (Hoare's selection with median-of-three pivots; runs of equal values split
    evenly, so many ties cost no more than distinct values)."""
    lo = 0
    hi = a.shape[0] - 1
    while hi > lo:
        mid = (lo + hi) // 2
        if a[mid] < a[lo]:
            a[lo], a[mid] = a[mid], a[lo]
        if a[hi] < a[lo]:
            a[lo], a[hi] = a[hi], a[lo]
        if a[hi] < a[mid]:
            a[mid], a[hi] = a[hi], a[mid]
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        # a[lo..j] <= pivot <= a[i..hi], and a[j + 1..i - 1] == pivot
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


@njit(**JIT_OPTIONS)
def kth_smallest(values, k):
    """The ``k``-th smallest of ``values`` (``1 <= k <= len(values)``), as
    ``np.partition(values, k - 1)[k - 1]``; ``values`` is not modified.

    For small ``k`` a max-heap of the ``k`` smallest seen so far: most values are rejected by
    one comparison with its root, so a pass costs about as much as reading the values. For
    larger ``k``, quickselect on a copy."""
    p = values.shape[0]
    if k * _HEAP_SHARE > p:
        return _quickselect(values.copy(), k - 1)
    heap = np.empty(k, dtype=values.dtype)
    for j in range(k):  # heapify the first k values (sift-up)
        child = j
        v = values[j]
        while child > 0:
            parent = (child - 1) // 2
            if heap[parent] >= v:
                break
            heap[child] = heap[parent]
            child = parent
        heap[child] = v
    for j in range(k, p):
        v = values[j]
        if v < heap[0]:  # replace the largest of the k smallest (sift-down)
            parent = 0
            while True:
                child = 2 * parent + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] > heap[child]:
                    child += 1
                if heap[child] <= v:
                    break
                heap[parent] = heap[child]
                parent = child
            heap[parent] = v
    return heap[0]


@njit(**JIT_OPTIONS)
def working_set_from_scores(scores, n_active, size):
    """The ``min(size, n_active)`` features of smallest score, in index order (ties at the
    threshold: the first ones in index order). ``scores`` as :func:`screen_and_score` fills
    them: ``-inf`` for the support, ``inf`` for inactive features."""
    p = scores.shape[0]
    size = min(size, n_active)
    if size == 0:
        return np.empty(0, dtype=np.int64)
    if size == n_active:  # every active feature: no threshold to find (late, screened rounds)
        ws = np.empty(size, dtype=np.int64)
        k = 0
        for j in range(p):
            if scores[j] != np.inf:
                ws[k] = j
                k += 1
        return ws
    threshold = kth_smallest(scores, size)
    below = 0
    for j in range(p):
        if scores[j] < threshold:
            below += 1
    ties = size - below  # features at the threshold to take, the first ones in index order
    ws = np.empty(size, dtype=np.int64)
    k = 0
    for j in range(p):  # one pass: the set comes out in index order
        if scores[j] < threshold or (scores[j] == threshold and ties > 0):
            if scores[j] == threshold:
                ties -= 1
            ws[k] = j
            k += 1
    return ws


@njit(inline="always", **JIT_OPTIONS)
def _violated(penalty, j, w_j, grad_j):
    return w_j == 0.0 and excess(penalty, j, grad_j) > 0.0


@njit(**JIT_OPTIONS)
def violated_first_set(w, grad, penalty, active, size):
    """The support (unpenalised features included) and every active feature at zero whose
    constraint is violated (``|grad_j| > l1_j`` on a side its bounds allow,
    :func:`.penalty.excess`), in index order, when
    the violated ones are at most ``FIRST_SET_SHARE`` of the features and the set would hold
    more than ``size``; else an empty array, and the caller ranks by the scores
    (:func:`working_set_from_scores`). glmnet's way: solve on every feature the KKT
    conditions call for, then check the rest. Needs no scores, hence no column norms.

    A solve's first working set is this one when it is larger than the first set by scores
    would be (``size``). The scores rank by the constraint's distance after the dual point
    is scaled into the feasible set, so at the start (``w`` = 0) that set mixes violated
    constraints with merely close ones, and each round finds more of the rest. Few violated
    constraints (sparse, nearly orthogonal columns) foretell a small solution among them:
    solved together in one round and certified by the next gradient, they save the several
    rounds that sets ranked by distance need (glmnet's strategy). Where many constraints are
    violated (from about 14 %, and wide or tall dense data, which violate 50-97 % of them
    at alpha_max/10 to /100) it does not pay, so the ranking stays there.

    Later rounds of a sparse fit take it too (``size`` 0): the support and whatever the last
    solve left violated, which costs less than ranked sets on sparse data. Dense fits keep
    ranking: with correlated columns, the constraints left out are violated at the next
    round. Measurements: docs/benchmarks.md.
    """
    p = w.shape[0]
    violated = 0
    support = 0
    for j in range(p):
        if active[j]:
            if w[j] != 0.0 or penalty.factor[j] == 0.0:
                support += 1
            elif _violated(penalty, j, w[j], grad[j]):
                violated += 1
    if violated > FIRST_SET_SHARE * p or support + violated <= size:
        return np.empty(0, dtype=np.int64)
    ws = np.empty(support + violated, dtype=np.int64)
    k = 0
    for j in range(p):
        if active[j] and (w[j] != 0.0 or penalty.factor[j] == 0.0
                          or _violated(penalty, j, w[j], grad[j])):
            ws[k] = j
            k += 1
    return ws[:k]


@njit(**JIT_OPTIONS)
def select_working_set(w, grad, norms2, l1_reg, l2_reg, dual_norm, positive, active, size):
    """The ``size`` active features closest to entering (non-zeros first), in index order,
    for the plain penalty (factors 1, lower bound 0 with ``positive``); ``active`` is not
    changed."""
    p = w.shape[0]
    lower = np.zeros(p) if positive else np.full(p, -np.inf)
    penalty = Penalty(l1_reg, l2_reg, np.ones(p), lower, np.full(p, np.inf), positive)
    scores = np.empty(p, dtype=np.float64)
    n_active, _ = screen_and_score(w, grad, inverse_norms(norms2, penalty), penalty,
                                   dual_norm, 0.0, False, active.copy(), scores)
    return working_set_from_scores(scores, n_active, size)


@njit(**JIT_OPTIONS)
def solve_small(A, b):
    """``x`` with ``A x = b`` for a small square ``A``, by Gaussian elimination with partial
    pivoting (LAPACK's ``gesv``), or an empty array if a pivot is zero or not finite
    (singular ``A``). ``A`` and ``b`` are not modified."""
    n = b.shape[0]
    lu = A.copy()
    x = b.copy()
    for c in range(n):
        pivot = c
        for i in range(c + 1, n):
            if abs(lu[i, c]) > abs(lu[pivot, c]):
                pivot = i
        if not (abs(lu[pivot, c]) > 0.0 and np.isfinite(lu[pivot, c])):
            return np.empty(0, dtype=x.dtype)
        if pivot != c:
            for k in range(n):
                lu[c, k], lu[pivot, k] = lu[pivot, k], lu[c, k]
            x[c], x[pivot] = x[pivot], x[c]
        for i in range(c + 1, n):
            factor = lu[i, c] / lu[c, c]
            for k in range(c + 1, n):
                lu[i, k] -= factor * lu[c, k]
            x[i] -= factor * x[c]
    for c in range(n - 1, -1, -1):
        acc = x[c]
        for k in range(c + 1, n):
            acc -= lu[c, k] * x[k]
        x[c] = acc / lu[c, c]
    return x


@njit(**JIT_OPTIONS)
def anderson_weights(iterates):
    """Extrapolation weights ``c`` (summing to 1) for the rows ``1..K`` of ``iterates``.

    ``iterates`` holds ``K + 1`` consecutive iterates as rows; with ``U`` the ``K`` successive
    differences, ``c`` solves ``min ||U^T c||`` subject to ``sum(c) = 1``, i.e.
    ``c = (U U^T)^{-1} 1 / 1^T (U U^T)^{-1} 1``. Returns an empty array if the system is
    singular (the caller then skips extrapolation).
    """
    k = iterates.shape[0] - 1
    diffs = iterates[1:] - iterates[:-1]
    # (BLAS's product: its summation order is the one the extrapolations were tuned with, a
    # loop's changed the epochs of hard fits by up to a quarter; the K x K system, K ~ 5, by
    # solve_small: NumPy's solver costs ~2 s of a first compilation)
    gram = diffs @ diffs.T
    scale = 0.0
    for i in range(k):
        scale += gram[i, i]
    if not scale > 0.0:
        return np.empty(0, dtype=iterates.dtype)
    gram /= scale  # conditioning; the weights are scale-free
    z = solve_small(gram, np.ones(k, dtype=iterates.dtype))
    if z.shape[0] == 0:  # singular system: no extrapolation this time
        return z
    total = z.sum()
    if not np.isfinite(total) or total == 0.0:
        return np.empty(0, dtype=iterates.dtype)
    for a in range(k):
        z[a] /= total
    return z


@njit(**JIT_OPTIONS)
def nonzero_entries(w):
    """Indices and values of the non-zeros of ``w``: how a path stores each solution (NumPy's
    ``flatnonzero`` and a take: 60 us on 20000 coefficients here, this 19 us)."""
    support = np.flatnonzero(w)
    return support, w[support]
