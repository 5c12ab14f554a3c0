"""The ``Examples`` sections of the docstrings run and print what they show (doctest).

Every module of the package is searched, so a moved or new module is covered without a
list to keep. Modules that need an optional dependency that is not installed are skipped
by name, with the reason.

Every public name of the API reference (the autosummary entries of ``docs/api/index.rst``)
must have an ``Examples`` section with at least one ``>>>`` line, and every name a public
module exports (``__all__``) must be in that reference.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import natgrad

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names() -> list[str]:
    names = [natgrad.__name__]
    for info in pkgutil.walk_packages(natgrad.__path__, prefix="natgrad."):
        names.append(info.name)
    return sorted(names)


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for name in _module_names():
        try:
            module = importlib.import_module(name)
        except ImportError as exc:  # an optional dependency (torch, shap, ...) is absent
            if exc.name is not None and exc.name.split(".")[0] != "natgrad":
                continue
            raise
        for test in finder.find(module, name, globs={"np": np}):
            # finder.find also returns objects imported into the module from elsewhere
            # under the importing module's name: keep each docstring once, where defined.
            if test.examples and (test.filename or "").endswith(".py"):
                tests.append(test)
    unique = {(t.filename, t.lineno, t.name.rsplit(".", 1)[-1]): t for t in tests}
    return sorted(unique.values(), key=lambda t: t.name)


DOCTESTS = _doctests()


def test_docstrings_have_examples():
    # Guards the collection itself: an empty list would make the test below vacuous.
    assert len(DOCTESTS) >= 2


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_example(
    test: doctest.DocTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Examples that save files use tempfile: here their folders land under tmp_path.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    test.globs = {"np": np, **test.globs}
    result = runner.run(test, out=lambda text: None)
    if result.failed:
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        runner.run(test, out=report.append)
        pytest.fail("".join(report), pytrace=False)


# ---------------------------------------------------------------------- API reference
API_INDEX = Path(__file__).resolve().parents[1] / "docs" / "api" / "index.rst"

#: Public names of the API reference that need no Examples section, with the reason.
NO_EXAMPLES: dict[str, str] = {}

#: Modules whose ``__all__`` is the public API (each has a section in the reference).
PUBLIC_MODULES = (
    "natgrad",
    "natgrad.boosting",
    "natgrad.dask",
    "natgrad.fit",
    "natgrad.distributions",
    "natgrad.scores",
    "natgrad.optim",
    "natgrad.metrics",
    "natgrad.report",
    "natgrad.io",
    "natgrad.datasets",
    "natgrad.testing",
    "natgrad.nn",
    "natgrad.glm",
    "natgrad.rl",
    "natgrad.compat.ngboost",
)


def _api_names(text: str) -> list[str]:
    """Fully qualified names of the autosummary entries, under their ``currentmodule``."""
    names: list[str] = []
    module = "natgrad"
    in_autosummary = False
    for line in text.splitlines():
        match = re.match(r"\.\. currentmodule:: (\S+)", line)
        if match:
            module = match.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_autosummary = True
            continue
        if in_autosummary and line.startswith("   ") and line.strip():
            if not line.strip().startswith(":"):
                names.append(f"{module}.{line.strip()}")
        elif in_autosummary and line.strip():
            in_autosummary = False
    return names


API_TEXT = API_INDEX.read_text(encoding="utf-8")
API_NAMES = _api_names(API_TEXT)


def _resolve(name: str) -> Any:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError as exc:  # an optional dependency (torch, gymnasium) is absent
            if exc.name is not None and exc.name.split(".")[0] != "natgrad":
                pytest.skip(f"{name} needs {exc.name}, which is not installed")
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(name)


def _examples_section(obj: Any) -> str | None:
    doc = inspect.getdoc(obj) or ""
    match = re.search(r"^Examples\n-{8,}\n(.*?)(?=^\S[^\n]*\n-{3,}\n|\Z)", doc, re.M | re.S)
    return match.group(1) if match else None


def test_api_reference_is_parsed() -> None:
    # Guards the parser: a format change that hides the entries would make the tests vacuous.
    assert len(API_NAMES) >= 100
    assert "natgrad.NGBoostRegressor" in API_NAMES
    assert "natgrad.compat.ngboost.NGBRegressor" in API_NAMES


def _is_data(obj: Any) -> bool:
    """A module-level instance (a constant), whose docstring is its type's."""
    return not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj))


@pytest.mark.parametrize("name", API_NAMES)
def test_public_name_has_examples(name: str) -> None:
    obj = _resolve(name)
    section = _examples_section(obj)
    if name in NO_EXAMPLES:
        assert section is None, f"{name} has Examples now: remove it from NO_EXAMPLES"
        return
    assert section is not None and ">>>" in section, (
        f"The docstring of {name} has no Examples section with a doctest (>>> lines); add "
        "one (short, deterministic, fast), or list the name in NO_EXAMPLES with the reason."
    )
    short = name.rsplit(".", 1)[-1]
    if _is_data(obj):  # a constant: its type's Examples must show it
        assert re.search(rf"^\s*(>>>|\.\.\.) .*\b{short}\b", section, re.M), (
            f"{name} is a constant; the Examples of {type(obj).__name__} must use it"
        )


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_exported_names_are_in_the_api_reference(module: str) -> None:
    mod = _resolve(module)
    assert getattr(mod, "__all__", None), f"{module} declares no __all__"
    documented = {name.rsplit(".", 1)[-1] for name in API_NAMES if name.startswith(module + ".")}
    # a class or function re-exported here is documented where the reference lists it
    # (natgrad.fit.fit_distribution is natgrad.fit_distribution)
    entries = [obj for obj in map(_resolve, API_NAMES) if not _is_data(obj)]
    missing = [
        name
        for name in mod.__all__
        if name not in documented
        and not inspect.ismodule(getattr(mod, name))
        and not any(getattr(mod, name) is obj for obj in entries)
        # constants and aliases are named in the reference's prose, as ``NAME``
        and f"``{name}``" not in API_TEXT
    ]
    assert not missing, f"{module} exports {missing}, which docs/api/index.rst does not list"
