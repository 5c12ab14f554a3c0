"""The paths-over-contours figure of `natgrad compare`: no blank regions, exits marked."""

from __future__ import annotations

import numpy as np

from natgrad._compare.plotting import contour_levels, exit_point


def test_exit_point_is_on_the_edge_where_the_path_leaves():
    path = np.array([[0.0, 0.0], [0.5, 0.5], [2.0, 0.5], [0.0, 0.0]])
    point = exit_point(path, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(point, [1.0, 0.5])


def test_exit_point_through_a_corner_direction_takes_the_first_edge():
    path = np.array([[0.0, 0.0], [4.0, 2.0]])
    point = exit_point(path, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    np.testing.assert_allclose(point, [1.0, 0.5])


def test_exit_point_is_none_for_a_path_inside_the_view():
    path = np.array([[0.0, 0.0], [0.9, -0.9]])
    assert exit_point(path, np.array([-1.0, -1.0]), np.array([1.0, 1.0])) is None


def test_contour_levels_cover_the_lowest_values_and_mark_infinite_losses_high():
    values = np.array([[-3.2, 0.5, 2.0], [4.1, np.nan, np.inf]])
    bounds, filled = contour_levels(values, n=8)
    assert bounds[0] <= -3.2 and len(bounds) == 9
    assert np.all(np.isfinite(filled))
    assert filled[1, 1] > bounds[-1] and filled[1, 2] > bounds[-1]
    np.testing.assert_array_equal(filled[0], values[0])


def test_contour_levels_span_at_most_ten_decades():
    values = np.array([-16.0, -2.0, 0.0, 3.0])
    bounds, _ = contour_levels(values)
    assert bounds[-1] - bounds[0] <= 10.0
    # the floor value lies below the scale: drawn in its darkest shade (extend="both")
    assert values.min() < bounds[0]
