"""`import natgrad` must not import torch; natgrad.nn loads it on first use."""

from __future__ import annotations

import subprocess
import sys


def test_import_natgrad_does_not_import_torch():
    code = (
        "import sys, natgrad, natgrad.optim, natgrad.distributions; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
