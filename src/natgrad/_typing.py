"""The array type of the whole package, defined once."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: A float64 array: parameters (n, p), gradients (n, p), Fisher blocks (n, p, p), targets.
Array = NDArray[np.float64]
