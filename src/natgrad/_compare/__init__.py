"""`natgrad.compare`: every optimizer on ill-conditioned distribution fits (``natgrad compare``).

`runner` fits the problems and measures the claims, `results` holds the problems and the
records, `plotting` draws them (matplotlib, imported only when plotting). The package is
private because its public name, ``natgrad.compare``, is the function `compare` itself.
"""

from natgrad._compare.results import (
    DEFAULT_PROBLEMS,
    Comparison,
    Problem,
    Run,
    existing_outputs,
    output_files,
)
from natgrad._compare.runner import GRIDS, compare

__all__ = [
    "DEFAULT_PROBLEMS",
    "GRIDS",
    "Comparison",
    "Problem",
    "Run",
    "compare",
    "existing_outputs",
    "output_files",
]
