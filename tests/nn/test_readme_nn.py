"""The README's `natgrad.nn` training loop runs as written."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]


def test_readme_training_loop_runs(capsys):
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Neural networks: `natgrad.nn`") :]
    (code,) = re.findall(r"```python\n(.+?)\n```", section, flags=re.S)[:1]
    assert len(code.splitlines()) <= 10
    exec(compile(code, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    losses = [float(line.split()[1]) for line in lines]
    assert all(math.isfinite(loss) for loss in losses)
