"""Exact per-parameter SHAP values of the native vector-leaf ensemble (path-dependent TreeSHAP).

For one tree f and a row x, the value of a coalition S of features is the path-dependent
conditional expectation

    v(S) = E[f(x) | x_S]:  at a split on a feature in S follow x; at a split on any other
    feature average both children, weighted by their share ``cover[child] / cover[node]`` of
    the node's training rows,

and the SHAP value of feature i is its Shapley value in that game,
``phi_i = sum_{S ⊆ F∖{i}} |S|! (d - |S| - 1)! / d! (v(S ∪ {i}) - v(S))``. Algorithm 2 of
Lundberg, Erion and Lee (2018, "Consistent individualized feature attribution for tree
ensembles") computes all d values in one walk over the tree, in O(leaves · depth²) per row,
by carrying along each root-to-leaf path the weights of the coalition sizes ("extend" a
feature onto the path, "unwind" it off again).

Vector leaves: the path weights do not depend on the leaf value, so one walk gives the
attributions of all p components (``phi_i[k]`` from ``value[leaf, k]``). SHAP values are
linear in the model, so the ensemble's are the sum over trees of ``scale_t · phi_t``, and
``sum_i phi_i(x) + base == theta(x)`` exactly, with ``base = theta0 + sum_t scale_t E_t``
and ``E_t = v_t(∅)`` the cover-weighted mean leaf value of tree t.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from natgrad._typing import Array

# numba's cache is keyed on this file's source only: after editing `goes_left` in
# _predictor.py, touch this file (or delete __pycache__/*.nbi), or `_tree_shap` keeps the old
# routing rule.
from .predictor import Ensemble
from .routing import goes_left

__all__ = ["ShapValues", "ensemble_shap", "shap_values"]


@dataclass(frozen=True, eq=False)
class ShapValues:
    """Per-parameter SHAP values of a natural-gradient boosting model.

    ``values.sum(axis=1) + base_values`` equals the raw parameters θ(x) that the model
    predicts for each row (``predict_dist(X).params``), to rounding.

    Attributes
    ----------
    values : ndarray of shape (n_samples, n_features, n_params)
        ``values[i, j, k]``: the contribution of feature j to parameter k of row i.
    base_values : ndarray of shape (n_params,)
        The expected parameters: the initial fit θ⁽⁰⁾ plus every tree's cover-weighted mean
        leaf value times its scale (the same for every row).
    data : ndarray of shape (n_samples, n_features)
        The explained rows (as float64; NaN marks a missing value).
    feature_names : list of str
        ``feature_names_in_`` of the estimator, else ``x0, x1, ...``.
    param_names : tuple of str
        The family's parameter names, e.g. ``("loc", "log_scale")`` for the normal family.
    display_data : ndarray of shape (n_samples, n_features), object, or None
        The rows as the user wrote them: categorical features as their category names
        (None where missing or unseen); None when the model has no categorical feature.

    Examples
    --------
    >>> import numpy as np
    >>> from natgrad import NGBoostRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = X[:, 0] + rng.normal(scale=np.exp(0.5 * X[:, 1]))
    >>> model = NGBoostRegressor(n_estimators=40, learning_rate=0.1, random_state=0).fit(X, y)
    >>> sv = model.shap_values(X[:5])
    >>> sv.values.shape                             # (rows, features, parameters)
    (5, 3, 2)
    >>> sv.param_names
    ('loc', 'log_scale')
    >>> theta = model.predict_dist(X[:5]).params
    >>> bool(np.allclose(sv.values.sum(axis=1) + sv.base_values, theta))
    True
    """

    values: NDArray[np.float64]
    base_values: NDArray[np.float64]
    data: NDArray[np.float64]
    feature_names: list[str]
    param_names: tuple[str, ...]
    display_data: NDArray[np.object_] | None = None

    def param_index(self, param: int | str) -> int:
        """Column of ``values`` of a parameter given by name or index."""
        p = len(self.param_names)
        if isinstance(param, str):
            if param in self.param_names:
                return self.param_names.index(param)
        elif isinstance(param, int | np.integer) and -p <= param < p:
            return int(param) % p
        if isinstance(param, str) and f"log_{param}" in self.param_names:
            raise ValueError(
                f"The 'param' argument of ShapValues must be one of {list(self.param_names)}. "
                f"Got {param!r}, which is exp('log_{param}'): SHAP values add up only in the "
                f"model's own coordinates, so explain 'log_{param}' instead; exp of a feature's "
                f"value there is the factor by which that feature multiplies the {param}."
            )
        raise ValueError(
            f"The 'param' argument of ShapValues must be one of {list(self.param_names)} or "
            f"an int in the range [{-p}, {p}). Got {param!r} instead."
        )

    def to_explanation(self, param: int | str) -> Any:
        """A ``shap.Explanation`` of one parameter, for the ``shap`` package's plots.

        Parameters
        ----------
        param : str or int
            A name of ``param_names`` (e.g. ``"log_scale"``) or its index.

        Returns
        -------
        shap.Explanation
            Values of shape (n_samples, n_features), base values of shape (n_samples,).
        """
        k = self.param_index(param)
        try:
            import shap
        except ImportError as exc:  # an optional dependency, only for plotting
            raise ImportError(
                "ShapValues.to_explanation needs the 'shap' package (pip install shap)."
            ) from exc
        n = self.values.shape[0]
        return shap.Explanation(
            self.values[:, :, k],
            base_values=np.full(n, self.base_values[k]),
            data=self.data,
            display_data=self.display_data,
            feature_names=list(self.feature_names),
            output_names=self.param_names[k],
        )


# ------------------------------------------------------------------------ path operations
# A path holds, per position e, the feature ``pf[e]`` of a split on it (position 0: no
# feature), the share ``pz[e]`` of the training rows that follow it when the feature is
# unknown, ``po[e]`` = 1 if x itself follows it (else 0), and ``pw[e]``: the weight of the
# coalitions of exactly e of the path's features (the Shapley factors accumulated so far).


# The helpers index the level's row themselves: passing row views (pf[k]) into them costs
# reference counting on every call, which dominated deep trees.


@njit(nogil=True, inline="always")
def _extend(pf, pz, po, pw, k, length, feature, zero, one):
    """Append a feature to the path of level ``k`` (``length`` elements); update weights."""
    pf[k, length] = feature
    pz[k, length] = zero
    po[k, length] = one
    pw[k, length] = 1.0 if length == 0 else 0.0
    inv = 1.0 / (length + 1)
    for e in range(length - 1, -1, -1):
        pw[k, e + 1] += one * pw[k, e] * (e + 1) * inv
        pw[k, e] = zero * pw[k, e] * (length - e) * inv


@njit(nogil=True, inline="always")
def _unwind(pf, pz, po, pw, k, length, e):
    """Remove position ``e`` from the path of level ``k`` (the inverse of extend)."""
    last = length - 1
    one, zero = po[k, e], pz[k, e]
    carry = pw[k, last]
    for j in range(last - 1, -1, -1):
        if one != 0.0:
            old = pw[k, j]
            pw[k, j] = carry * length / ((j + 1) * one)
            carry = old - pw[k, j] * zero * (last - j) / length
        else:
            pw[k, j] = pw[k, j] * length / (zero * (last - j))
    for j in range(e, last):
        pf[k, j] = pf[k, j + 1]
        pz[k, j] = pz[k, j + 1]
        po[k, j] = po[k, j + 1]


@njit(nogil=True, inline="always")
def _unwound_sum(pz, po, pw, k, length, e, up, down, zero_up):
    """Sum of the weights the path of level ``k`` would have without position ``e``.

    ``up[j] = length / (j + 1)``, ``down[j] = (length - 1 - j) / length`` and
    ``zero_up[j] = length / (length - 1 - j)`` are precomputed per leaf: the loop is then
    free of divisions. ``po`` is 0 or 1 (x follows the split or not), so it divides nothing.
    """
    last = length - 1
    zero = pz[k, e]
    total = 0.0
    if po[k, e] != 0.0:
        carry = pw[k, last]
        for j in range(last - 1, -1, -1):
            w = carry * up[j]
            total += w
            carry = pw[k, j] - w * zero * down[j]
        return total
    for j in range(last - 1, -1, -1):
        total += pw[k, j] * zero_up[j]
    return total / zero


@njit(cache=True, nogil=True, parallel=True)
def _tree_shap(X, nodes, left, right, value, cover, offsets, scales, first, last, depth, out):
    """Add ``sum_{first <= t < last} scales[t] phi_t(x_i)`` to ``out`` (n, d, p)."""
    n = X.shape[0]
    p = value.shape[1]
    feature = nodes.feature
    # Positions of a path: the empty start, one per distinct feature, one being extended.
    width = min(depth, X.shape[1]) + 2
    levels = depth + 1  # one saved path per node depth (a child extends its parent's)
    for i in prange(n):
        pf = np.empty((levels, width), dtype=np.int64)
        pz = np.empty((levels, width))
        po = np.empty((levels, width))
        pw = np.empty((levels, width))
        plen = np.zeros(levels, dtype=np.int64)
        up, down, zero_up = np.empty(width), np.empty(width), np.empty(width)
        # Depth-first stack: node, its depth, and the (feature, zero, one) it extends with.
        s_node = np.empty(2 * levels + 2, dtype=np.int64)
        s_level = np.empty(2 * levels + 2, dtype=np.int64)
        s_feat = np.empty(2 * levels + 2, dtype=np.int64)
        s_zero = np.empty(2 * levels + 2)
        s_one = np.empty(2 * levels + 2)
        for t in range(first, last):
            scale = scales[t]
            top = 0
            s_node[0], s_level[0], s_feat[0], s_zero[0], s_one[0] = offsets[t], 0, -1, 1.0, 1.0
            while top >= 0:
                j, k = s_node[top], s_level[top]
                f_in, z_in, o_in = s_feat[top], s_zero[top], s_one[top]
                top -= 1
                # The parent's path (level k - 1) is intact: every node popped since it was
                # pushed lies deeper, and writes level k or below.
                length = 0
                if k > 0:
                    length = plen[k - 1]
                    for e in range(length):
                        pf[k, e] = pf[k - 1, e]
                        pz[k, e] = pz[k - 1, e]
                        po[k, e] = po[k - 1, e]
                        pw[k, e] = pw[k - 1, e]
                _extend(pf, pz, po, pw, k, length, f_in, z_in, o_in)
                length += 1
                if left[j] == -1:
                    for e in range(length - 1):
                        up[e] = length / (e + 1)
                        down[e] = (length - 1 - e) / length
                        zero_up[e] = length / (length - 1 - e)
                    for e in range(1, length):
                        w = _unwound_sum(pz, po, pw, k, length, e, up, down, zero_up)
                        c = w * (po[k, e] - pz[k, e]) * scale
                        f = pf[k, e]
                        for q in range(p):
                            out[i, f, q] += c * value[j, q]
                    continue
                f = feature[j]
                if goes_left(X, i, j, nodes):
                    hot, cold = left[j], right[j]
                else:
                    hot, cold = right[j], left[j]
                # A feature met again on the path: its earlier split is undone and its shares
                # carry over (the coalition either knows the feature or does not).
                z0, o0 = 1.0, 1.0
                for e in range(1, length):
                    if pf[k, e] == f:
                        z0, o0 = pz[k, e], po[k, e]
                        _unwind(pf, pz, po, pw, k, length, e)
                        length -= 1
                        break
                plen[k] = length
                top += 1
                s_node[top], s_level[top], s_feat[top] = cold, k + 1, f
                s_zero[top], s_one[top] = z0 * cover[cold] / cover[j], 0.0
                top += 1
                s_node[top], s_level[top], s_feat[top] = hot, k + 1, f
                s_zero[top], s_one[top] = z0 * cover[hot] / cover[j], o0


@njit(cache=True, nogil=True)
def _depths_and_means(left, right, value, cover, offsets, scales, first, last):
    """Largest node depth of trees ``first .. last - 1`` and ``sum_t scales[t] E_t`` (p,)."""
    p = value.shape[1]
    base = np.zeros(p)
    max_depth = 0
    for t in range(first, last):
        lo, hi = offsets[t], offsets[t + 1]
        depth = np.zeros(hi - lo, dtype=np.int64)
        for j in range(lo, hi):  # children come after their parent
            if left[j] != -1:
                depth[left[j] - lo] = depth[j - lo] + 1
                depth[right[j] - lo] = depth[j - lo] + 1
                max_depth = max(max_depth, depth[j - lo] + 1)
        # v(∅) bottom-up, with the same child shares as the walk (local accuracy is exact).
        mean = np.empty((hi - lo, p))
        for j in range(hi - 1, lo - 1, -1):
            if left[j] == -1:
                mean[j - lo] = value[j]
            else:
                a, b = left[j], right[j]
                mean[j - lo] = (cover[a] * mean[a - lo] + cover[b] * mean[b - lo]) / cover[j]
        base += scales[t] * mean[0]
    return max_depth, base


def ensemble_shap(
    ens: Ensemble, X: NDArray[np.float64], n_trees: int | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """TreeSHAP values of the first ``n_trees`` trees of ``ens``.

    Parameters
    ----------
    ens : Ensemble
        With node covers (`Ensemble.cover` not None).
    X : ndarray of shape (n_samples, n_features), float64
        Real features; NaN follows each split's ``missing_go_left``.
    n_trees : int or None, default=None
        Number of leading trees; None uses all.

    Returns
    -------
    values : ndarray of shape (n_samples, n_features, p)
        ``values.sum(axis=1) + mean == ens.predict_raw(X, n_trees)``.
    mean : ndarray of shape (p,)
        ``sum_t scales[t] E_t``, the trees' part of the base value.
    """
    first, last = ens._tree_range(n_trees, 0, "shap")
    Xc, _, _, n = ens._inputs(X, None, "shap")
    out = np.zeros((n, ens.n_features, ens.n_params))
    if last == first:
        return out, np.zeros(ens.n_params)
    cover = ens.cover
    if cover is None:
        raise ValueError(
            "SHAP values need the trees' node covers (training rows per node), which this "
            "model does not have: it was saved by an older natgrad version. Refit it with "
            "this version to explain it."
        )
    b = ens._buf
    args = (b["left"], b["right"], b["value"], b["cover"], ens._offsets, ens._scales)
    depth, mean = _depths_and_means(*args, first, last)
    _tree_shap(Xc, ens.nodes(), *args, first, last, depth, out)
    return out, mean


def shap_values(estimator: Any, X: Array, n_stages: int) -> ShapValues:
    """`ShapValues` of a fitted natgrad boosting estimator on validated rows ``X``.

    Parameters
    ----------
    estimator : NGBoostRegressor, NGBoostClassifier or NGBoostSurvival
        Fitted, with the native tree learner.
    X : ndarray of shape (n_samples, n_features), float64
        Validated by the estimator (feature count and names checked).
    n_stages : int
        Number of leading stages to explain.
    """
    ens = estimator._model_.ensemble
    values, mean = ensemble_shap(ens, X, n_stages)
    names = getattr(estimator, "feature_names_in_", None)
    features = [f"x{j}" for j in range(X.shape[1])] if names is None else [str(s) for s in names]
    data = np.asarray(X, dtype=np.float64)
    return ShapValues(
        values=values,
        base_values=np.asarray(estimator.init_params_, dtype=np.float64)[0] + mean,
        data=data,
        feature_names=features,
        param_names=tuple(estimator._template_.param_names),
        display_data=_display_data(data, getattr(estimator, "categories_", None)),
    )


def _display_data(data: Array, categories: list[Any] | None) -> NDArray[np.object_] | None:
    """``data`` with each categorical column's indices replaced by its category values."""
    if categories is None:
        return None
    out = data.astype(object)
    for j, cats in enumerate(categories):
        if cats is None:
            continue
        codes = data[:, j]
        known = np.isfinite(codes)
        column = np.full(codes.shape, None, dtype=object)
        column[known] = np.asarray(cats, dtype=object)[codes[known].astype(np.intp)]
        out[:, j] = column
    return out
