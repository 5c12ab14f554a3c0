"""Results files shared by the benchmarks: one summary line printed, the JSON file written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def report(line: str, out: Path, results: Any) -> None:
    """Print ``line`` (flushed, so that a long run shows its progress) and write ``results``
    to ``out`` as indented JSON, creating its folder."""
    print(line, flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
