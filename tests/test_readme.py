"""The README's two commands are what CI runs and what a new user runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(.+?)\n```", text, flags=re.S)[:2]


def test_readme_opens_with_setup_and_test_commands():
    main_job, tests = _commands()
    assert main_job.startswith("python3 -m venv .venv") and "natgrad fit" in main_job
    assert tests.startswith("python3 -m venv .venv") and "pytest" in tests
    for tool in ("ruff check", "ruff format --check", "mypy"):
        assert tool in tests


def test_ci_runs_the_readme_test_command():
    _, tests = _commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines()


def test_tests_run_in_an_empty_working_directory():
    # The README's first command leaves natgrad-out/ in the clone and the second runs the
    # tests there: no test may see (or write) the clone's working directory.
    cwd = Path.cwd().resolve()
    assert cwd != ROOT and ROOT not in cwd.parents
    assert list(cwd.iterdir()) == []
