"""Cox regression: optimality by KKT conditions computed from a plain NumPy partial likelihood
(Breslow and Efron, weights, strata) on dense, CSC and CSR designs; unpenalised fits against
a NumPy Newton solve; paths, cross-validation, concordance, Breslow's baseline hazard, input
checks; scikit-survival and R (glmnet, survival) in peers-marked tests."""

import shutil
import subprocess
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from fastl1 import CoxRegression, CoxRegressionCV, cox_path

from .conftest import as_format


def _survival(n=120, p=30, seed=0, ties=False, density=0.6):
    """Weibull event times with exponential censoring (about 30 % censored); ``ties`` rounds
    the times to quarters."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[rng.random((n, p)) > density] = 0.0
    support = [j for j in (0, 3, 5) if j < p]
    beta = np.zeros(p)
    beta[support] = [0.9, -0.7, 0.5][:len(support)]
    eta = X @ beta
    event_time = rng.weibull(1.5, n) * np.exp(-eta / 1.5)
    censor_time = rng.exponential(2.5, n)
    time = np.minimum(event_time, censor_time)
    if ties:
        time = np.ceil(time * 4) / 4
    return X, time, event_time <= censor_time


def _y(time, event):
    return np.column_stack([time, event])


def reference_partial_likelihood(X, time, event, weights, strata, ties, w):
    """``-log PL`` (weights as given), its gradient and Hessian in ``w``, by explicit risk
    sets: for each stratum and event time, ``c sum_r log(sum_j b_jr)`` with
    ``b_jr = s_j exp(eta_j) (1[j at risk] - f_r 1[j an event])``."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    strata = np.zeros(n) if strata is None else strata
    eta = X @ w
    value, grad, hess = 0.0, np.zeros(p), np.zeros((p, p))
    for stratum in np.unique(strata):
        here = strata == stratum
        dead = here & event & (weights > 0)
        for t in np.unique(time[dead]):
            deaths = dead & (time == t)
            at_risk = here & (time >= t)
            m = int(deaths.sum())
            c = weights[deaths].mean()
            value -= weights[deaths] @ eta[deaths]
            grad -= X[deaths].T @ weights[deaths]
            for r in range(m):
                fraction = r / m if ties == "efron" else 0.0
                b = weights * np.exp(eta) * (at_risk - fraction * deaths)
                total = b.sum()
                mean = X.T @ b / total
                value += c * np.log(total)
                grad += c * mean
                hess += c * ((X.T * b) @ X / total - np.outer(mean, mean))
    return value, grad, hess


def kkt_violation(X, time, event, model, alpha, l1_ratio=1.0, weights=None, strata=None,
                  factor=None, lower=None, upper=None):
    """Largest violation of the optimality conditions (proximal-gradient fixed point, as in
    tests/test_poisson.py), relative to the largest gradient entry of the null model."""
    n, p = X.shape
    s = np.ones(n) if weights is None else n * weights / weights.sum()
    factor = np.ones(p) if factor is None else factor
    lower = np.full(p, -np.inf) if lower is None else lower
    upper = np.full(p, np.inf) if upper is None else upper
    w = model.coef_.astype(np.float64)
    _, grad, _ = reference_partial_likelihood(X, time, event, s, strata, model.ties, w)
    grad = grad / n + alpha * (1 - l1_ratio) * factor * w
    _, null, _ = reference_partial_likelihood(X, time, event, s, strata, model.ties,
                                              np.zeros(p))
    scale = np.abs(null).max() / n
    step = 1e-6 / scale
    z = w - step * grad
    moved = np.clip(np.sign(z) * np.maximum(np.abs(z) - step * alpha * l1_ratio * factor, 0),
                    lower, upper)
    return float(np.abs(w - moved).max() / step / scale)


def newton_solve(X, time, event, weights, strata, ties):
    """The unpenalised Cox fit by damped Newton steps on the NumPy partial likelihood."""
    w = np.zeros(X.shape[1])
    for _ in range(100):
        value, grad, hess = reference_partial_likelihood(X, time, event, weights, strata, ties,
                                                         w)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while reference_partial_likelihood(X, time, event, weights, strata, ties,
                                           w - t * step)[0] > value + 1e-12 and t > 1e-8:
            t /= 2
        w = w - t * step
        if np.abs(grad).max() < 1e-12:
            break
    return w


@pytest.mark.parametrize("fmt", ["dense", "fortran", "csc", "csr"])
@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("case", ["plain", "weights", "strata"])
def test_lasso_fit_satisfies_the_optimality_conditions(fmt, ties, case):
    X, time, event = _survival(seed=1, ties=True)
    rng = np.random.default_rng(2)
    weights = rng.uniform(0.2, 2.0, time.shape[0]) if case == "weights" else None
    strata = rng.integers(0, 3, time.shape[0]) if case == "strata" else None
    model = CoxRegression(alpha=0.03, ties=ties, tol=1e-10)
    model.fit(as_format(X, fmt), _y(time, event), sample_weight=weights, groups=strata)
    assert 0 < np.count_nonzero(model.coef_) < X.shape[1]
    assert kkt_violation(X, time, event, model, 0.03, weights=weights, strata=strata) < 1e-7
    assert 0.0 <= model.dual_gap_ < 1e-9


def test_elastic_net_factors_and_bounds():
    X, time, event = _survival(seed=3)
    p = X.shape[1]
    factor = np.linspace(0.5, 2.0, p)
    factor[[0, 9]] = 0.0
    lower = np.full(p, -np.inf)
    upper = np.full(p, np.inf)
    upper[0] = 0.3  # binds: the unbounded coefficient is ~0.9
    lower[3] = 0.0  # binds: the coefficient is negative
    model = CoxRegression(alpha=0.03, l1_ratio=0.7, tol=1e-10, penalty_factor=factor,
                          lower_bounds=lower, upper_bounds=upper).fit(X, _y(time, event))
    assert model.coef_[0] == pytest.approx(0.3) and model.coef_[3] == 0.0
    assert model.coef_[9] != 0.0  # unpenalised
    assert kkt_violation(X, time, event, model, 0.03, 0.7, factor=factor, lower=lower,
                         upper=upper) < 1e-7


@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("case", ["plain", "weights", "strata"])
def test_unpenalised_fit_agrees_with_a_newton_solve(ties, case):
    X, time, event = _survival(n=150, p=5, seed=4, ties=True, density=1.0)
    rng = np.random.default_rng(5)
    weights = rng.uniform(0.2, 2.0, 150) if case == "weights" else np.ones(150)
    strata = rng.integers(0, 2, 150) if case == "strata" else None
    reference = newton_solve(X, time, event, 150 * weights / weights.sum(), strata, ties)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the fit reaches rounding
        free = CoxRegression(alpha=0.0, ties=ties, tol=1e-10).fit(
            X, _y(time, event), sample_weight=weights, groups=strata)
    np.testing.assert_allclose(free.coef_, reference, rtol=1e-6, atol=1e-7)
    # An unpenalised block beside a penalised feature held at zero by a large alpha.
    extra = np.column_stack([X, np.random.default_rng(6).standard_normal(150)])
    factor = np.array([0.0] * 5 + [1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        held = CoxRegression(alpha=10.0, ties=ties, tol=1e-10, penalty_factor=factor).fit(
            extra, _y(time, event), sample_weight=weights, groups=strata)
    assert held.coef_[5] == 0.0
    np.testing.assert_allclose(held.coef_[:5], reference, rtol=1e-6, atol=1e-7)


def test_ties_matter_only_with_ties():
    X, time, event = _survival(seed=7)
    plain = [CoxRegression(alpha=0.02, ties=t, tol=1e-10).fit(X, _y(time, event)).coef_
             for t in ("breslow", "efron")]
    np.testing.assert_allclose(plain[0], plain[1], atol=1e-12)
    X, time, event = _survival(seed=7, ties=True)
    tied = [CoxRegression(alpha=0.02, ties=t, tol=1e-10).fit(X, _y(time, event)).coef_
            for t in ("breslow", "efron")]
    assert np.abs(tied[0] - tied[1]).max() > 1e-3


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
def test_float32_input_stays_float32(fmt):
    X, time, event = _survival(seed=8)
    model = CoxRegression(alpha=0.03, tol=1e-6).fit(as_format(X, fmt, np.float32),
                                                    _y(time, event))
    assert model.coef_.dtype == np.float32
    reference = CoxRegression(alpha=0.03, tol=1e-10).fit(X, _y(time, event))
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-4)


def test_every_target_format_gives_the_same_fit():
    X, time, event = _survival(seed=9)
    structured = np.empty(time.shape[0], dtype=[("days", "f8"), ("dead", "?")])
    structured["days"], structured["dead"] = time, event  # event field second, any names
    sksurv_order = np.empty(time.shape[0], dtype=[("status", "?"), ("time", "f8")])
    sksurv_order["status"], sksurv_order["time"] = event, time
    targets = [_y(time, event), np.column_stack([time, event.astype(int)]).tolist(),
               structured, sksurv_order]
    coefs = [CoxRegression(alpha=0.03, tol=1e-10).fit(X, y).coef_ for y in targets]
    for coef in coefs[1:]:
        np.testing.assert_array_equal(coef, coefs[0])


def test_integer_weights_are_repetitions_with_breslow_ties():
    # (Efron's weighted ties use the tied events' mean weight, R's convention: repetitions
    # would add tied events instead)
    X, time, event = _survival(n=60, p=8, seed=10, ties=True)
    counts = np.random.default_rng(11).integers(0, 3, 60)
    rows = np.repeat(np.arange(60), counts)
    weighted = CoxRegression(alpha=0.02, tol=1e-10).fit(X, _y(time, event),
                                                        sample_weight=counts)
    repeated = CoxRegression(alpha=0.02, tol=1e-10).fit(X[rows], _y(time[rows], event[rows]))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)


def test_path_starts_at_alpha_max_and_agrees_with_single_fits():
    X, time, event = _survival(seed=12)
    alphas, coefs, gaps = cox_path(X, _y(time, event), alphas=8, eps=1e-2, tol=1e-10)
    assert not coefs[:, 0].any() and coefs[:, 1].any()
    assert np.all(np.diff(alphas) < 0)
    single = CoxRegression(alpha=alphas[5], tol=1e-10).fit(X, _y(time, event))
    np.testing.assert_allclose(coefs[:, 5], single.coef_, atol=1e-7)
    assert np.all(gaps < 1e-9)
    factor = np.ones(X.shape[1])
    factor[2] = 0.0
    _, coefs, _ = cox_path(X, _y(time, event), alphas=3, eps=0.1, penalty_factor=factor,
                           tol=1e-8)
    # (zero to the tolerance: alpha_max is where the first penalised feature enters)
    assert np.flatnonzero(np.abs(coefs[:, 0]) > 1e-7).tolist() == [2]


def test_long_path_hands_each_fit_a_consistent_start():
    # Each point starts from the previous one's linear predictor and gradient: a predictor
    # that kept the Newton loop's intercept while the next fit starts at 0 made the constant
    # in it grow at every step, until rounding stalled the fits.
    X, time, event = _survival(seed=13)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, coefs, gaps = cox_path(X, _y(time, event), alphas=40, eps=1e-3, tol=1e-8,
                                       max_iter=20_000)
    single = CoxRegression(alpha=alphas[-1], tol=1e-10).fit(X, _y(time, event))
    np.testing.assert_allclose(coefs[:, -1], single.coef_, atol=1e-6)


def _reference_deviance(X, time, event, weights, w):
    """glmnet's partial-likelihood deviance ``2 (saturated - log PL)`` (Breslow)."""
    value = reference_partial_likelihood(X, time, event, weights, None, "breslow", w)[0]
    totals = np.array([weights[event & (time == t)].sum() for t in np.unique(time[event])])
    return 2.0 * (-np.sum(totals * np.log(totals)) + value)


def test_cross_validation_is_glmnets_grouped_deviance_and_reproducible():
    X, time, event = _survival(n=100, p=15, seed=13)
    y = _y(time, event)
    one = CoxRegressionCV(alphas=10, eps=0.05, cv=4, n_jobs=1, tol=1e-8).fit(X, y)
    two = CoxRegressionCV(alphas=10, eps=0.05, cv=4, n_jobs=2, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.deviance_path_, two.deviance_path_)
    assert one.deviance_path_.shape == (10, 4)
    assert one.alpha_1se_ >= one.alpha_min_ == one.alpha_
    assert 0 in np.flatnonzero(one.coef_)
    rule = CoxRegressionCV(alphas=10, eps=0.05, cv=4, alpha_rule="1se", tol=1e-8).fit(X, y)
    assert rule.alpha_ == one.alpha_1se_
    # Fold 0 by hand: deviance of all rows minus that of the training rows, per event.
    test = np.arange(25)
    train = np.arange(25, 100)
    _, coefs, _ = cox_path(X[train], y[train], alphas=one.alphas_, tol=1e-8)
    for k in (2, 7):
        expected = (_reference_deviance(X, time, event, np.ones(100), coefs[:, k])
                    - _reference_deviance(X[train], time[train], event[train], np.ones(75),
                                          coefs[:, k])) / event[test].sum()
        assert one.deviance_path_[k, 0] == pytest.approx(expected, rel=1e-6)


def _brute_concordance(event, time, estimate, tol=1e-8):
    numerator = denominator = 0.0
    for i in np.flatnonzero(event):
        comparable = (time > time[i]) | ((time == time[i]) & ~event)
        difference = estimate[i] - estimate[comparable]
        numerator += np.sum(difference > tol) + 0.5 * np.sum(np.abs(difference) <= tol)
        denominator += comparable.sum()
    return numerator / denominator


def test_score_is_harrells_concordance_index():
    X, time, event = _survival(seed=14, ties=True)
    model = CoxRegression(alpha=0.03).fit(X, _y(time, event))
    estimate = model.predict(X)
    assert model.score(X, _y(time, event)) == pytest.approx(
        _brute_concordance(event, time, estimate), abs=1e-12)
    rounded = CoxRegression(alpha=0.03).fit(np.round(X), _y(time, event))  # tied scores
    assert rounded.score(np.round(X), _y(time, event)) == pytest.approx(
        _brute_concordance(event, time, rounded.predict(np.round(X))), abs=1e-12)
    with pytest.raises(ValueError, match="comparable"):
        model.score(X[:2], _y(np.array([1.0, 1.0]), np.array([True, True])))


def test_breslow_baseline_and_predicted_functions():
    X, time, event = _survival(n=50, p=6, seed=15, ties=True)
    weights = np.random.default_rng(16).uniform(0.5, 2.0, 50)
    model = CoxRegression(alpha=0.02).fit(X, _y(time, event), sample_weight=weights)
    s = 50 * weights / weights.sum()
    risk = s * np.exp(X @ model.coef_)
    times = np.unique(time)
    expected = np.cumsum([(s * event)[time == t].sum() / risk[time >= t].sum()
                          for t in times])
    hazard = model.predict_cumulative_hazard_function(X[:3], return_array=True)
    np.testing.assert_allclose(hazard, np.exp(X[:3] @ model.coef_)[:, None] * expected,
                               rtol=1e-10)
    survival = model.predict_survival_function(X[:3], return_array=True)
    np.testing.assert_allclose(survival, np.exp(-hazard), rtol=1e-12)
    function = model.predict_survival_function(X[:3])[1]
    np.testing.assert_allclose(function(times), survival[1], rtol=1e-12)
    assert function(0.0) == 1.0 or times[0] == 0.0
    assert function.x is not None and function.domain == (0.0, times[-1])
    with pytest.raises(ValueError, match="within"):
        function(times[-1] + 1.0)


def test_strata_have_their_own_baselines():
    X, time, event = _survival(n=80, p=6, seed=17)
    strata = np.where(np.arange(80) < 40, "a", "b")
    model = CoxRegression(alpha=0.02).fit(X, _y(time, event), groups=strata)
    assert len(model.cum_baseline_hazard_) == 2
    values = model.predict_cumulative_hazard_function(X[:2], groups=["a", "b"],
                                                      return_array=True)
    assert values.shape == (2, np.unique(time).shape[0])
    with pytest.raises(ValueError, match="strat"):
        model.predict_survival_function(X[:2])
    with pytest.raises(ValueError, match="stratum seen in fit"):
        model.predict_survival_function(X[:2], groups=["a", "c"])


def test_warm_start_and_convergence_warning():
    X, time, event = _survival(seed=18)
    with pytest.warns(ConvergenceWarning, match="KKT violation"):
        early = CoxRegression(alpha=0.01, tol=1e-12, max_iter=2).fit(X, _y(time, event))
    assert early.dual_gap_ > 1e-12
    model = CoxRegression(alpha=0.02, tol=1e-10, warm_start=True).fit(X, _y(time, event))
    cold = model.n_newton_
    model.fit(X, _y(time, event))
    assert model.n_newton_ < cold


@pytest.mark.parametrize(("change", "message"), [
    ("negative", "must be >= 0"),
    ("nan", "NaN"),
    ("no events", "No events"),
    ("event 2", "0/1 or False/True"),
    ("one column", "shape"),
    ("short", "y has 39 samples"),
    ("three fields", "exactly two fields"),
    ("strings", "must be numbers"),
    ("groups", "inconsistent numbers of samples"),
    ("ties", "ties must be"),
])
def test_bad_input_is_refused(change, message):
    X, time, event = _survival(n=40, p=3, seed=19)
    y, kwargs, model = _y(time, event), {}, CoxRegression(alpha=0.1)
    if change == "negative":
        y[3, 0] = -1.0
    elif change == "nan":
        y[3, 0] = np.nan
    elif change == "no events":
        y[:, 1] = 0
    elif change == "event 2":
        y[3, 1] = 2
    elif change == "one column":
        y = time
    elif change == "short":
        y = y[1:]
    elif change == "three fields":
        y = np.zeros(40, dtype=[("a", "?"), ("b", "f8"), ("c", "f8")])
    elif change == "strings":
        y = np.column_stack([np.full(40, "x"), event])
    elif change == "groups":
        kwargs = {"groups": np.zeros(3)}
    else:
        model = CoxRegression(ties="exact")
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, **kwargs)


def test_folds_without_events_are_refused():
    X, time, event = _survival(n=40, p=3, seed=20)
    event[:10] = False
    with pytest.raises(ValueError, match="fold 0's test rows have no events"):
        CoxRegressionCV(alphas=3, cv=4).fit(X, _y(time, event))


def test_scikit_learn_api():
    for estimator in (CoxRegression(alpha=0.1, ties="efron"), CoxRegressionCV(alphas=5)):
        name = type(estimator).__name__
        check_parameters_default_constructible(name, estimator)
        check_no_attributes_set_in_init(name, estimator)
        check_get_params_invariance(name, estimator)
        check_set_params(name, estimator)
        copy = clone(estimator)
        assert copy.get_params() == estimator.get_params()
    X, time, event = _survival(n=40, p=3, seed=21)
    model = CoxRegression(alpha=0.05).fit(X, _y(time, event))
    assert model.n_features_in_ == 3
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])


# ----------------------------------------------------------------- peers (optional)


def _breast_cancer():
    datasets = pytest.importorskip("sksurv.datasets")
    pd = pytest.importorskip("pandas")
    X, y = datasets.load_breast_cancer()
    return pd.get_dummies(X, dtype=float).to_numpy(dtype=np.float64), y


@pytest.mark.peers
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_matches_scikit_survival_coxnet(l1_ratio):
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    from sksurv.metrics import concordance_index_censored

    X, y = _breast_cancer()
    alpha = 0.05
    # scikit-survival: alphas (one here) and l1_ratio as ours; normalize=False keeps X as
    # given (its default); its tol is on coefficient changes.
    theirs = CoxnetSurvivalAnalysis(alphas=[alpha], l1_ratio=l1_ratio, tol=1e-16,
                                    max_iter=10_000_000, fit_baseline_model=True).fit(X, y)
    ours = CoxRegression(alpha=alpha, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    coef = theirs.coef_[:, 0]
    assert np.abs(ours.coef_ - coef).max() <= 1e-6 * np.abs(coef).max()
    event, time = y["e.tdm"], y["t.tdm"]
    assert ours.score(X, y) == pytest.approx(
        concordance_index_censored(event, time, ours.predict(X))[0], abs=1e-12)
    np.testing.assert_allclose(
        ours.predict_survival_function(X[:5], return_array=True),
        theirs.predict_survival_function(X[:5], return_array=True), rtol=1e-5, atol=1e-7)


def _rscript(script, *packages):
    if shutil.which("Rscript") is None:
        pytest.skip("R is not installed")
    check = "; ".join(f"library({p})" for p in packages)
    if subprocess.run(["Rscript", "-e", check], capture_output=True).returncode:
        pytest.skip(f"R packages {packages} are not installed")
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True,
                         check=True)
    return np.array(out.stdout.split(), dtype=float)


# (glmnet.control's epsnr and mxitnr: the Newton loop of glmnet's stratified Cox fits)
_GLMNET_SCRIPT = """
suppressMessages(library(glmnet))
glmnet.control(epsnr = 1e-14, mxitnr = 1000)
d <- as.matrix(read.csv("{data}", header = FALSE))
y <- stratifySurv(survival::Surv(d[, 1], d[, 2]), d[, 4])
fit <- glmnet(d[, -(1:4)], y, family = "cox", weights = d[, 3], alpha = {l1_ratio},
              lambda = {alpha}, standardize = FALSE, thresh = 1e-14, maxit = 1e7)
cat(sprintf("%.17g", as.numeric(coef(fit))), sep = "\\n")
"""


@pytest.mark.peers
@pytest.mark.parametrize("strata", [False, True])
def test_matches_glmnet(tmp_path, strata):
    X, time, event = _survival(n=150, p=20, seed=22, ties=True)
    rng = np.random.default_rng(23)
    weights = rng.uniform(0.5, 2.0, 150)
    groups = rng.integers(0, 3, 150) if strata else np.zeros(150)
    np.savetxt(tmp_path / "data.csv", np.column_stack([time, event, weights, groups, X]),
               delimiter=",")
    glmnet = _rscript(_GLMNET_SCRIPT.format(data=tmp_path / "data.csv", alpha=0.03,
                                            l1_ratio=0.8), "glmnet")
    model = CoxRegression(alpha=0.03, l1_ratio=0.8, tol=1e-10).fit(
        X, _y(time, event), sample_weight=weights, groups=groups if strata else None)
    assert np.abs(model.coef_ - glmnet).max() <= 1e-6 * np.abs(glmnet).max()


_CV_GLMNET_SCRIPT = """
suppressMessages(library(glmnet))
glmnet.control(epsnr = 1e-14, mxitnr = 1000)
d <- as.matrix(read.csv("{data}", header = FALSE))
y <- cbind(time = d[, 1], status = d[, 2])
lambda <- scan("{alphas}", quiet = TRUE)
fit <- cv.glmnet(d[, -(1:3)], y, family = "cox", foldid = d[, 3], lambda = lambda,
                 standardize = FALSE, thresh = 1e-14, maxit = 1e7)
cat(sprintf("%.17g", c(fit$cvm, fit$cvsd)), sep = "\\n")
"""


@pytest.mark.peers
def test_cross_validation_matches_cv_glmnet(tmp_path):
    X, time, event = _survival(n=120, p=10, seed=24, ties=True)
    foldid = np.arange(120) % 4
    folds = [(np.flatnonzero(foldid != k), np.flatnonzero(foldid == k)) for k in range(4)]
    model = CoxRegressionCV(alphas=8, eps=0.05, cv=folds, tol=1e-9).fit(X, _y(time, event))
    np.savetxt(tmp_path / "data.csv", np.column_stack([time, event, foldid + 1, X]),
               delimiter=",")
    np.savetxt(tmp_path / "alphas.txt", model.alphas_)
    out = _rscript(_CV_GLMNET_SCRIPT.format(data=tmp_path / "data.csv",
                                            alphas=tmp_path / "alphas.txt"), "glmnet")
    np.testing.assert_allclose(model.deviance_mean_, out[:8], rtol=1e-6)
    np.testing.assert_allclose(model.deviance_std_error_, out[8:], rtol=1e-5)


_COXPH_SCRIPT = """
suppressMessages(library(survival))
d <- as.matrix(read.csv("{data}", header = FALSE))
fit <- coxph(Surv(d[, 1], d[, 2]) ~ d[, -(1:3)], weights = d[, 3], ties = "efron",
             control = coxph.control(eps = 1e-14, iter.max = 100))
cat(sprintf("%.17g", as.numeric(coef(fit))), sep = "\\n")
"""


@pytest.mark.peers
def test_efron_matches_r_coxph(tmp_path):
    X, time, event = _survival(n=150, p=5, seed=25, ties=True, density=1.0)
    weights = np.random.default_rng(26).uniform(0.5, 2.0, 150)
    np.savetxt(tmp_path / "data.csv", np.column_stack([time, event, weights, X]),
               delimiter=",")
    coxph = _rscript(_COXPH_SCRIPT.format(data=tmp_path / "data.csv"), "survival")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = CoxRegression(alpha=0.0, ties="efron", tol=1e-10).fit(
            X, _y(time, event), sample_weight=weights)
    np.testing.assert_allclose(model.coef_, coxph, rtol=1e-6)
