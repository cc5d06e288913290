"""Kaplan-Meier estimator and log-rank test (fastl1._cox_metrics), against closed forms
and, where installed, scikit-survival."""

import numpy as np
import pytest

from fastl1._cox_metrics import kaplan_meier, logrank_test


def test_kaplan_meier_by_hand():
    # times 1, 2 (censored), 2, 3, 5 (censored): S = 4/5 after 1, * (1 - 1/4) after 2, * 1/2
    km = kaplan_meier([2, 1, 3, 2, 5], [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(km.time, [1, 2, 3, 5])
    np.testing.assert_allclose(km.survival, [0.8, 0.6, 0.3, 0.3])
    np.testing.assert_array_equal(km.at_risk, [5, 4, 2, 1])
    np.testing.assert_array_equal(km.events, [1, 1, 1, 0])
    np.testing.assert_array_equal(km.censored, [0, 1, 0, 1])
    assert km.median() == 3.0
    assert np.isnan(kaplan_meier([1.0, 2.0], [0, 0]).median())


def test_logrank_two_groups_by_hand():
    # one event per time, groups alternate: O - E and V from the 2x2 tables
    time = np.array([1.0, 2.0, 3.0, 4.0])
    event = np.ones(4, dtype=bool)
    group = np.array([0, 1, 0, 1])
    statistic, p_value, dof = logrank_test(time, event, group)
    o_minus_e = (1 - 2 / 4) + (0 - 1 / 3) + (1 - 1 / 2) + 0.0
    variance = (2 * 2) / 16 + (1 * 2) / 9 + (1 * 1) / 4
    assert dof == 1
    assert statistic == pytest.approx(o_minus_e ** 2 / variance, rel=1e-12)
    assert 0 < p_value < 1


def test_input_is_checked():
    with pytest.raises(ValueError, match="0/1"):
        kaplan_meier([1.0, 2.0], [0, 2])
    with pytest.raises(ValueError, match="NaN"):
        kaplan_meier([1.0, np.nan], [1, 1])
    with pytest.raises(ValueError, match="two groups"):
        logrank_test([1.0, 2.0], [1, 1], [0, 0])
    with pytest.raises(ValueError, match="group labels"):
        logrank_test([1.0, 2.0], [1, 1], [0, 1, 1])


def test_against_scikit_survival():
    sksurv = pytest.importorskip("sksurv")
    from sksurv.compare import compare_survival
    from sksurv.nonparametric import kaplan_meier_estimator

    rng = np.random.default_rng(0)
    time = np.round(rng.exponential(1.0, 150), 1)  # ties
    event = rng.random(150) < 0.7
    groups = rng.integers(0, 3, 150)
    km = kaplan_meier(time, event)
    times, survival = kaplan_meier_estimator(event, time)
    np.testing.assert_allclose(km.time, times)
    np.testing.assert_allclose(km.survival, survival, rtol=1e-12)
    y = sksurv.util.Surv.from_arrays(event, time)
    for labels in (groups, groups % 2):
        statistic, p_value, _ = logrank_test(time, event, labels)
        reference = compare_survival(y, labels)
        assert statistic == pytest.approx(reference[0], rel=1e-10)
        assert p_value == pytest.approx(reference[1], rel=1e-8)
