"""Routing: which child a row takes at a split node, the one rule every walk shares.

Growth (the row partition and the rows of a pruned subtree), prediction, leaf indices and
TreeSHAP all decide left/right through `goes_left_binned` (binned rows) or `goes_left_raw`
(real values), so that a model routes a row the same way in training and at prediction.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "goes_left",
    "goes_left_binned",
    "goes_left_raw",
    "leaf_of_binned_row",
    "leaf_of_raw_row",
]


@njit(nogil=True, inline="always")
def goes_left_binned(b, node, nodes):
    """Whether bin ``b`` goes left at ``node`` of ``nodes`` (`NodeArrays`): the shared
    decision of every binned walk.

    A categorical node (``cat_index[node] >= 0``) reads bit ``b`` of its bitset
    ``cat_bits[cat_index[node]]`` (the missing-value bin has its own bit); a numeric node
    sends the missing-value bin by ``missing_go_left`` and any other bin by its threshold.
    """
    ci = nodes.cat_index[node]
    if ci >= 0:
        return ((nodes.cat_bits[ci, b >> 5] >> (b & 31)) & 1) == 1
    if b == nodes.missing_bin:
        return nodes.missing_go_left[node]
    return b <= nodes.bin_threshold[node]


@njit(nogil=True, inline="always")
def goes_left_raw(x, node, nodes):
    """Whether the real value ``x`` goes left at ``node`` (no fastmath: NaN must test true).

    At a categorical node ``x`` is the fit-time category index (`natgrad.boosting._hist.
    categorical`); NaN, and anything that is not the index of a bin, follows
    ``missing_go_left``, as unseen categories do.
    """
    if np.isnan(x):
        return nodes.missing_go_left[node]
    ci = nodes.cat_index[node]
    if ci >= 0:
        if not (x >= 0.0 and x < 256.0 and x == np.floor(x)):
            return nodes.missing_go_left[node]
        b = np.int64(x)
        return ((nodes.cat_bits[ci, b >> 5] >> (b & 31)) & 1) == 1
    return x <= nodes.threshold[node]


@njit(nogil=True, inline="always")
def goes_left(X, i, node, nodes):
    """Whether row ``i`` of the real features ``X`` goes left at ``node`` of ``nodes``
    (`Ensemble.nodes`): `goes_left_raw`'s rule, shared by prediction and explanations."""
    return goes_left_raw(X[i, nodes.feature[node]], node, nodes)


@njit(nogil=True)
def leaf_of_binned_row(binned, i, node, nodes):
    """Node reached by row ``i`` of ``binned`` from ``node`` (binned thresholds)."""
    left, right = nodes.left, nodes.right
    while left[node] != -1:
        b = binned[i, nodes.feature[node]]
        node = left[node] if goes_left_binned(b, node, nodes) else right[node]
    return node


@njit(nogil=True)
def leaf_of_raw_row(X, i, node, nodes):
    """Node reached by row ``i`` of the real features ``X`` from ``node``."""
    # No fastmath here: the NaN test routes missing values.
    left, right = nodes.left, nodes.right
    while left[node] != -1:
        x = X[i, nodes.feature[node]]
        node = left[node] if goes_left_raw(x, node, nodes) else right[node]
    return node
