"""Cross-validated logistic regression on Dask arrays chunked by rows: the folds, their
paths over the ``C`` grid and their test scores, all by passes over the row blocks.

:class:`fastl1.LogisticRegressionCV` on Dask inputs. The splitter runs once, on a worker,
on the labels alone (the rows' count and ``y``; X is never read by scikit-learn's
splitters): it gives every row a *membership* byte per fold (bit 1: a training row of the
fold, bit 2: a test row), kept on the cluster (persisted) as blocks with X's row chunks, so
any splitter works (KFold, StratifiedKFold, ShuffleSplit, an iterable of index arrays or
masks). A fold's path is the blockwise proximal Newton of :mod:`fastl1._dask_logistic`
over all rows, the rows outside the fold's training set given weight 0 in the blocks,
warm-started along the ``C`` grid as the in-memory path. Its test scores take one more pass:
each block scores its test rows under every ``C`` at once (the weighted count of correct
predictions for the default accuracy), or, for another ``scoring``, hands its test rows'
decision values (``n_test x n_cs x K`` numbers, no X) to one worker task that runs the
scorer on them through a stand-in model whose decision function is the identity. Only
arrays of the size of the coefficients (or one score per ``C``) come back to the client.

The fold paths (and the path on all rows, which gives the final model) run concurrently
from ``n_jobs`` client threads: each only sends passes to the cluster, which does the work.
"""

from __future__ import annotations

import operator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import check_cv

from ._dask_logistic import (
    _check_solver,
    _prepare,
    logistic_model,
    merge_tree,
    solve_penalised,
)
from ._dask_logistic_blocks import TEST, TRAIN, _design

__all__ = ["fit_logistic_cv"]


# ---------------------------------------------------------------------------------------
# On the workers


def _memberships(splitter, n_samples: int, y_blocks, split_params: dict) -> np.ndarray:
    """Each row's membership of each fold (``(n_samples, n_folds)`` bytes, bits ``TRAIN``
    and ``TEST``), from ``splitter`` run on the labels (with an X of no columns)."""
    from .cv import _fold_indices

    y = np.concatenate([np.asarray(block) for block in y_blocks])
    folds = []
    for k, (train, test) in enumerate(splitter.split(np.empty((n_samples, 0)), y,
                                                     **split_params)):
        folds.append((_fold_indices(train, n_samples, k, "training"),
                      _fold_indices(test, n_samples, k, "test")))
    membership = np.zeros((n_samples, len(folds)), dtype=np.uint8)
    for k, (train, test) in enumerate(folds):
        membership[train, k] |= TRAIN
        membership[test, k] |= TEST
    return membership


def _fold_summary(block, datafit):
    """Per fold: the training rows' count, weighted class totals (class weights included)
    and largest ``|x_ij|``; the test rows' count and weight."""
    x_block, y_block, w_block, _, folds = block
    codes, s = datafit.rows(y_block, w_block)
    codes = codes.astype(np.intp)
    folds = np.asarray(folds)
    n_classes = datafit.classes.shape[0]
    x = np.asarray(x_block)
    row_max = np.abs(x).max(axis=1) if x.size else np.zeros(x.shape[0])
    train, test = (folds & TRAIN) != 0, (folds & TEST) != 0
    totals = np.stack([np.bincount(codes[train[:, k]], weights=s[train[:, k]],
                                   minlength=n_classes) for k in range(folds.shape[1])])
    return {"train_count": train.sum(axis=0), "test_count": test.sum(axis=0),
            "totals": totals, "test_weight": (s[:, None] * test).sum(axis=0),
            "x_max": np.array([row_max[train[:, k]].max(initial=0.0)
                               for k in range(folds.shape[1])])}


def _merge_summaries(*parts):
    out = {key: sum(part[key] for part in parts) for key in parts[0] if key != "x_max"}
    out["x_max"] = np.max([part["x_max"] for part in parts], axis=0)
    return out


def _test_decisions(block, fold, coefs, intercepts):
    """The block's test rows of ``fold``: their decision values under each solution
    (``(rows, n_cs, K)``, as ``X W^T + b``), labels and sample weights (None: none)."""
    x_block, y_block, w_block, _, folds = block
    test = (np.asarray(folds)[:, fold] & TEST) != 0
    x = _design(x_block)[test]
    n_cs, K, p = coefs.shape
    decisions = (x @ coefs.reshape(n_cs * K, p).T).reshape(-1, n_cs, K) + intercepts
    weights = None if w_block is None else np.asarray(w_block, dtype=np.float64)[test]
    return decisions, np.asarray(y_block)[test], weights


def _accuracy_sums(block, fold, coefs, intercepts, classes):
    """The weighted count of the test rows' correct predictions under each solution, and
    their weight (:meth:`fastl1.LogisticRegression.predict`'s rule)."""
    decisions, y, weights = _test_decisions(block, fold, coefs, intercepts)
    if decisions.shape[2] == 1:
        predicted = classes[(decisions[:, :, 0] > 0).astype(np.intp)]
    else:
        predicted = classes[decisions.argmax(axis=2)]
    correct = predicted == y[:, None]
    if weights is None:
        return {"correct": correct.sum(axis=0).astype(np.float64),
                "weight": float(y.shape[0])}
    return {"correct": weights @ correct, "weight": float(weights.sum())}


def _scorer_scores(parts, scorer, classes, takes_weights, fit_intercept):
    """``scorer`` of each solution on the test rows' decision values (``parts`` from
    :func:`_test_decisions`), through a stand-in model: a
    :class:`fastl1.LogisticRegression` with identity coefficients, whose decision function
    returns its input as it is (a product with the identity and a zero intercept is exact)."""
    import warnings

    from .logistic import LogisticRegression

    decisions = np.concatenate([part[0] for part in parts])
    y = np.concatenate([part[1] for part in parts])
    weights = None if parts[0][2] is None else np.concatenate([part[2] for part in parts])
    K = decisions.shape[2]
    model = LogisticRegression(fit_intercept=fit_intercept)
    model.classes_, model.n_features_in_ = classes, K
    model.coef_, model.intercept_ = np.eye(K), np.zeros(K)
    scores = np.empty(decisions.shape[1])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        for i in range(decisions.shape[1]):
            values = np.ascontiguousarray(decisions[:, i, :])
            if weights is not None and takes_weights:
                scores[i] = scorer(model, values, y, sample_weight=weights)
            else:
                scores[i] = scorer(model, values, y)
    return scores


# ---------------------------------------------------------------------------------------
# On the client


@dataclass
class _Folds:
    """The blocks with their fold membership, and each fold's summary."""

    blocks: list
    n_folds: int
    summary: dict


def _folds(estimator, passes, labels, split_params) -> _Folds:
    """Run the splitter on a worker, persist the memberships by row blocks, sum each fold's
    counts, class totals and weights (one pass), and check them as the in-memory split."""
    import dask

    splitter = check_cv(estimator.cv, labels.classes, classifier=True)
    n = passes.n_samples
    membership = dask.delayed(_memberships, pure=True)(
        splitter, n, [block[1] for block in passes.blocks], split_params)
    bounds = np.concatenate([[0], np.cumsum(passes.row_chunks)])
    parts = [dask.delayed(operator.getitem, pure=True)(membership, slice(a, b))
             for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    parts = dask.persist(*parts)
    blocks = [(*block[:4], part) for block, part in zip(passes.blocks, parts, strict=True)]
    summary_task = dask.delayed(_fold_summary, pure=True)
    (summary,) = dask.compute(merge_tree([summary_task(block, passes.datafit)
                                          for block in blocks], _merge_summaries))
    k = summary["train_count"].shape[0]
    for fold in range(k):
        if summary["train_count"][fold] == 0 or summary["test_count"][fold] == 0:
            raise ValueError(f"Cross-validation fold {fold} has an empty training or test "
                             "set.")
        for weight, part in ((summary["totals"][fold].sum(), "training"),
                             (summary["test_weight"][fold], "test")):
            if not weight > 0:
                raise ValueError(f"Cross-validation fold {fold}'s {part} rows all have zero "
                                 "sample weight; use fewer zero weights or other folds.")
    return _Folds(blocks, k, summary)


def _path(passes, model, Cs, ratio, options):
    """Warm-started fits over ``Cs`` in the given order (:func:`fastl1.logistic_cv._fit_path`):
    coefs ``(n_cs, K, p)``, intercepts ``(n_cs, K)``, n_iter and the fits that did not
    converge."""
    fit_intercept, tol, max_iter = options
    K = model.intercept.shape[0]
    coefs = np.zeros((Cs.shape[0], K, passes.n_features))
    intercepts = np.zeros((Cs.shape[0], K))
    n_iter = np.zeros(Cs.shape[0], dtype=np.int32)
    coef = intercept = None
    failures = 0
    for i, C in enumerate(Cs):
        result = solve_penalised(passes, model, ratio / C, (1.0 - ratio) / C,
                                 fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                                 coef=coef, intercept=intercept, warn=False)
        coef, intercept = result.coef, result.intercept
        coefs[i], intercepts[i], n_iter[i] = coef, intercept, result.n_iter
        failures += not result.converged
    return coefs, intercepts, n_iter, failures


def _fold_scores(folds, fold, coefs, intercepts, classes, scoring, options):
    """The test rows' score of each solution of a fold's path (one pass)."""
    import dask

    from ._dask_logistic import _add
    from .logistic_cv import _fold_scorer, _scorer_takes_weights

    coefs = dask.delayed(coefs, pure=True, traverse=False)
    intercepts = dask.delayed(intercepts, pure=True, traverse=False)
    if scoring is None:
        task = dask.delayed(_accuracy_sums, pure=True)
        (sums,) = dask.compute(merge_tree([task(block, fold, coefs, intercepts, classes)
                                           for block in folds.blocks], _add))
        return sums["correct"] / sums["weight"]
    task = dask.delayed(_test_decisions, pure=True)
    parts = [task(block, fold, coefs, intercepts) for block in folds.blocks]
    scores = dask.delayed(_scorer_scores, pure=True)(
        parts, _fold_scorer(scoring, classes), classes, _scorer_takes_weights(scoring),
        options[0])
    return dask.compute(scores)[0]


def _fold_job(passes, folds, labels, fold, Cs, ratio, scoring, options):
    summary = folds.summary
    fold_passes = passes.for_fold(folds.blocks, fold, int(summary["train_count"][fold]),
                                  float(summary["totals"][fold].sum()))
    model = logistic_model(summary["totals"][fold], float(summary["x_max"][fold]))
    path = _path(fold_passes, model, Cs, ratio, options)
    return path, _fold_scores(folds, fold, path[0], path[1], labels.classes, scoring, options)


def _full_job(passes, labels, Cs, ratio, options):
    return _path(passes, logistic_model(labels.totals, labels.x_max), Cs, ratio, options)


def _threads(n_jobs, n_tasks: int) -> int:
    if n_jobs is None:
        return 1
    return n_tasks if int(n_jobs) < 0 else max(1, min(int(n_jobs), n_tasks))


def _refuse(estimator, solver) -> None:
    if any(getattr(estimator, name, None) is not None
           for name in ("penalty_factor", "lower_bounds", "upper_bounds")):
        raise ValueError("penalty_factor, lower_bounds and upper_bounds are not supported "
                         "with Dask arrays; compute X first.")
    _check_solver(solver, "LogisticRegressionCV")


def fit_logistic_cv(estimator, X, y, sample_weight, Cs, ratios, solver, split_params):
    """:meth:`fastl1.LogisticRegressionCV.fit` (its parameters checked, ``Cs`` and the
    l1_ratios resolved) on Dask inputs; the same attributes as the in-memory fit."""
    from ._dask import _n_features_in
    from .logistic_cv import _warn_failures

    _refuse(estimator, solver)
    passes, labels = _prepare(X, y, sample_weight, estimator.class_weight,
                              "LogisticRegressionCV")
    _n_features_in(estimator, X)
    folds = _folds(estimator, passes, labels, split_params)
    k = folds.n_folds
    options = (bool(estimator.fit_intercept), float(estimator.tol), int(estimator.max_iter))
    jobs = []
    for ratio in ratios:
        if estimator.refit:  # (refit=False averages the folds' models: no full path)
            jobs.append((_full_job, passes, labels, Cs, float(ratio), options))
        jobs.extend((_fold_job, passes, folds, labels, fold, Cs, float(ratio),
                     estimator.scoring, options) for fold in range(k))
    with ThreadPoolExecutor(_threads(estimator.n_jobs, len(jobs))) as pool:
        results = list(pool.map(lambda job: job[0](*job[1:]), jobs))
    per = k + bool(estimator.refit)
    full = [results[r * per] for r in range(ratios.size)] if estimator.refit else None
    fold_results = [[results[r * per + per - k + f] for f in range(k)]
                    for r in range(ratios.size)]
    failures = sum(path[3] for path in full or []) \
        + sum(result[0][3] for row in fold_results for result in row)
    _warn_failures(failures, (k + 1) * ratios.size * Cs.size, estimator.max_iter)
    _store(estimator, labels, Cs, ratios, full, fold_results)
    return estimator


def _store(estimator, labels, Cs, ratios, full, fold_results):
    """The in-memory fit's selection and attributes
    (:meth:`fastl1.LogisticRegressionCV.fit`)."""
    k = len(fold_results[0])
    r_range = range(ratios.size)
    scores = np.array([[fold_results[r][f][1] for r in r_range] for f in range(k)])
    fold_coefs = np.array([[fold_results[r][f][0][0] for r in r_range] for f in range(k)])
    fold_intercepts = np.array([[fold_results[r][f][0][1] for r in r_range]
                                for f in range(k)])
    n_iter = np.array([[fold_results[r][f][0][2] for r in r_range] for f in range(k)])
    mean = scores.mean(axis=0)  # (n_l1, n_cs)
    best_ratio, best_c = np.unravel_index(int(np.argmax(mean)), mean.shape)
    if estimator.refit:
        coef, intercept = full[best_ratio][0][best_c], full[best_ratio][1][best_c]
        C, l1_ratio = float(Cs[best_c]), float(ratios[best_ratio])
    else:  # scikit-learn: average the folds' models at each fold's best C
        best = [np.unravel_index(int(np.argmax(scores[f])), mean.shape) for f in range(k)]
        coef = np.mean([fold_coefs[f][b] for f, b in enumerate(best)], axis=0)
        intercept = np.mean([fold_intercepts[f][b] for f, b in enumerate(best)], axis=0)
        C = float(np.mean([Cs[b[1]] for b in best]))
        l1_ratio = float(np.mean([ratios[b[0]] for b in best]))
    dtype = labels.dtype
    estimator.classes_ = labels.classes
    estimator.coef_ = coef.astype(dtype)
    estimator.intercept_ = (intercept if estimator.fit_intercept
                            else np.zeros_like(intercept)).astype(dtype)
    estimator.Cs_ = Cs
    estimator.l1_ratios_ = ratios
    estimator._store_attributes(C, l1_ratio, scores, fold_coefs, fold_intercepts, n_iter)
