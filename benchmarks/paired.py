"""Split-by-split comparison of two accuracy result files (same protocol, same splits).

For every dataset both files hold, prints the mean test NLL of each side and the paired
difference (first minus second) with its standard error over the splits they share, and on
how many splits the first side is better. Paired differences remove most of the split-to-
split variance that the two means share.

Run: ``python -m benchmarks.paired benchmarks/results/accuracy_fisher.json fisher
benchmarks/results/reference_ngboost_all_splits.json ngboost-library``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def _nll_by_split(path: Path, rule: str) -> dict[str, dict[int, float]]:
    data = json.loads(path.read_text())[rule]
    return {name: {s["split"]: s["nll"] for s in res["splits"]} for name, res in data.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("first_rule")
    parser.add_argument("second", type=Path)
    parser.add_argument("second_rule")
    args = parser.parse_args(argv)

    a = _nll_by_split(args.first, args.first_rule)
    b = _nll_by_split(args.second, args.second_rule)
    for name in [n for n in a if n in b]:
        splits = sorted(set(a[name]) & set(b[name]))
        x = np.array([a[name][s] for s in splits])
        y = np.array([b[name][s] for s in splits])
        diff = x - y
        se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else float("nan")
        print(
            f"{name:28s} {args.first_rule} {x.mean():.3f}  {args.second_rule} {y.mean():.3f}  "
            f"difference {diff.mean():+.3f} ± {se:.3f} (se)  first better on "
            f"{int((diff < 0).sum())}/{diff.size} splits"
        )


if __name__ == "__main__":
    main()
