"""The ``Examples`` sections of the docstrings run and print what they show (doctest).

Every module of the package is searched, so a moved or new module is covered without a
list to keep. Modules that need an optional dependency that is not installed are skipped
by name, with the reason.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

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
def test_docstring_example(test: doctest.DocTest) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    test.globs = {"np": np, **test.globs}
    result = runner.run(test, out=lambda text: None)
    if result.failed:
        report: list[str] = []
        runner = doctest.DocTestRunner(optionflags=FLAGS)
        runner.run(test, out=report.append)
        pytest.fail("".join(report), pytrace=False)
