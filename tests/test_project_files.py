"""Issue 14: the license file and the public demo data loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import natgrad


def test_datasets_load_concrete_as_sklearn_does():
    bunch = natgrad.datasets.load_concrete()
    assert bunch.data.shape == (1030, 8) and bunch.target.shape == (1030,)
    assert bunch.frame is None and bunch.target_names == ["strength"]
    X, y = natgrad.datasets.load_concrete(return_X_y=True, as_frame=True)
    assert list(X.columns) == bunch.feature_names and y.name == "strength"
    np.testing.assert_array_equal(X.to_numpy(), bunch.data)
    assert natgrad.datasets.concrete_path().is_file()


def test_license_file_matches_the_declared_license():
    root = Path(__file__).resolve().parents[1]
    text = (root / "LICENSE").read_text()
    assert "BSD 3-Clause" in text and "the natgrad authors" in text
    assert 'license = { text = "BSD-3-Clause" }' in (root / "pyproject.toml").read_text()
