"""Issue 14: the license file, the public demo data loader, and docs that stand alone."""

from __future__ import annotations

import re
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


def test_docs_point_only_at_files_in_the_repository():
    # The data under ../shared/data/ is read by the tests and benchmarks (and can be moved
    # by NATGRAD_UCI_DIR); any other file outside the repository is not the user's to read.
    root = Path(__file__).resolve().parents[1]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    outside = [
        f"{page.relative_to(root)}: {ref}"
        for page in pages
        if "_build" not in page.parts
        for ref in re.findall(r"(?:\.\./shared/\S*|\bDESIGN\.md\b)", page.read_text())
        if not ref.startswith("../shared/data/")
    ]
    assert len(pages) > 5
    assert not outside, outside
