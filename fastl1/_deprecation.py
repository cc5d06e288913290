"""Deprecated spellings that fastl1 still accepts, as scikit-learn 1.9 does."""

from __future__ import annotations

import numbers
import warnings


class FastL1DeprecationWarning(DeprecationWarning, FutureWarning):
    """An older scikit-learn spelling was used; it still works but will be removed.

    A :class:`DeprecationWarning` (what the issue tracker and linters look for) that is also a
    :class:`FutureWarning`, and shown by default (see ``fastl1/__init__.py``), because the
    people who need to see it are users of the API, not only its developers.
    """


def resolve_alphas(alphas, n_alphas, stacklevel: int = 3):
    """Return the alpha grid request: an int (grid size) or an array-like.

    scikit-learn 1.9 takes ``alphas`` as an int or an array; ``n_alphas`` and ``alphas=None``
    are the spellings of older releases, still accepted here with a warning.
    """
    if not (isinstance(n_alphas, str) and n_alphas == "deprecated"):
        warnings.warn(
            "'n_alphas' is deprecated (scikit-learn 1.9): pass the number of alphas as "
            f"'alphas={n_alphas!r}' instead.", FastL1DeprecationWarning, stacklevel=stacklevel)
        # An explicit array of alphas wins; otherwise the old spelling gives the grid size.
        if alphas is None or isinstance(alphas, (str, numbers.Integral)):
            alphas = n_alphas
    if alphas is None:
        warnings.warn(
            "'alphas=None' is deprecated (scikit-learn 1.9): pass 'alphas=100' (the grid "
            "size) instead.", FastL1DeprecationWarning, stacklevel=stacklevel)
        alphas = 100
    if isinstance(alphas, str) and alphas == "warn":
        alphas = 100
    if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
        if alphas < 1:
            raise ValueError(f"alphas as a grid size must be >= 1, got {alphas!r}.")
        return int(alphas)
    if isinstance(alphas, (str, bool)) or isinstance(alphas, numbers.Real):
        raise TypeError(
            f"alphas must be an int (grid size) or an array of alphas, got {alphas!r}.")
    return alphas
