"""Parsing and validation of groups and group weights (fastl1._groups)."""

import numpy as np
import pytest

from fastl1 import GroupLasso
from fastl1._groups import check_group_weights, group_structure, parse_groups


def _as_lists(ptr, features):
    return [features[ptr[g]:ptr[g + 1]].tolist() for g in range(ptr.shape[0] - 1)]


@pytest.mark.parametrize("groups, expected", [
    (2, [[0, 1], [2, 3], [4, 5]]),
    ([3, 1, 2], [[0, 1, 2], [3], [4, 5]]),
    ([[0, 4], [1, 2, 3], [5]], [[0, 4], [1, 2, 3], [5]]),
    ([np.array([5, 0]), (1, 2), [3, 4]], [[5, 0], [1, 2], [3, 4]]),
    (["b", "a", "a", "c", "b", "c"], [[1, 2], [0, 4], [3, 5]]),
    (np.array([2, 2, 0, 1, 1, 0]), [[2, 5], [3, 4], [0, 1]]),
])
def test_group_forms(groups, expected):
    ptr, features = parse_groups(groups, 6)
    assert ptr.dtype == np.int64 and features.dtype == np.int64
    assert _as_lists(ptr, features) == expected


def test_default_weights_are_root_sizes():
    structure = group_structure([3, 1, 2], None, 6)
    np.testing.assert_allclose(structure.weight, np.sqrt([3, 1, 2]))
    np.testing.assert_allclose(check_group_weights(2.0, np.array([1, 2])), [2.0, 2.0])


@pytest.mark.parametrize("groups, message", [
    ([[0, 1], [1, 2, 3, 4, 5]], "overlap"),
    ([[0, 1], [2, 3]], "incomplete"),
    ([[0, 1, 2], [], [3, 4, 5]], "group 1 is empty"),
    ([3, 0, 3], "group 1 is empty"),
    ([3, 2], "sum to 5"),
    ([[0, 1, 2], [3, 4, 6]], "out of range"),
    ([[0, 1, 2], [3, 4, -1]], "out of range"),
    (4, "divisor"),
    ([], "empty"),
    (np.array([0.0, 1.0, np.nan, 1.0, 0.0, 0.0]), "NaN"),
])
def test_bad_groups(groups, message):
    with pytest.raises(ValueError, match=message):
        parse_groups(groups, 6)


def test_bad_group_types():
    with pytest.raises(TypeError, match="integer feature indices"):
        parse_groups([[0, 1.5], [2, 3, 4, 5]], 6)
    with pytest.raises(TypeError, match="groups must be"):
        parse_groups("abc", 6)


@pytest.mark.parametrize("weights, message", [
    ([1.0, -1.0], "non-negative"),
    ([1.0, 2.0, 3.0], "3 entries for 2 groups"),
    ([1.0, np.inf], "finite"),
    ([0.0, 0.0], "zero for every group"),
])
def test_bad_group_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        check_group_weights(weights, np.array([3, 3]))


def test_estimator_reports_bad_groups():
    X = np.random.default_rng(0).standard_normal((10, 6))
    y = X[:, 0]
    with pytest.raises(ValueError, match="overlap"):
        GroupLasso(groups=[[0, 1, 2], [2, 3, 4, 5]]).fit(X, y)
    with pytest.raises(ValueError, match="negative"):
        GroupLasso(groups=3, group_weights=[1.0, -2.0]).fit(X, y)
