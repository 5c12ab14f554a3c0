"""The paths-over-contours figure of `natgrad compare`: no blank regions, exits marked."""

from __future__ import annotations

import numpy as np

from natgrad._compare.plotting import contour_levels, exit_point, grid_axis


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


def test_grid_axis_resolves_a_narrow_valley_at_the_optimum():
    # a Normal with σ = 0.01 at loc 50 in a view 60 wide: an even grid of 160 points
    # (spacing 0.38) would put no point inside the valley; this grid must sample it
    xs = grid_axis(-5.0, 55.0, 50.0)
    assert np.all(np.diff(xs) > 0) and xs[0] == -5.0 and xs[-1] == 55.0
    assert 50.0 in xs
    near = np.sort(np.abs(xs - 50.0))[1:4]  # the closest points besides the optimum
    assert np.all(near < 0.01)
    assert np.count_nonzero(np.abs(xs - 50.0) < 0.1) >= 10


def test_grid_axis_keeps_the_view_when_the_optimum_is_at_its_edge():
    xs = grid_axis(0.0, 1.0, 1.0)
    assert xs.min() == 0.0 and xs.max() == 1.0 and 1.0 in xs
