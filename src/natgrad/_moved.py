"""Module paths of natgrad before its restructure, for the pickles that name them.

A pickle names each object's class by module and name. Before the restructure the
estimators lived in ``natgrad.boosting._estimator``, their models, bin mappers and
ensembles in other flat ``boosting`` modules and two scoring rules at the package root;
pickles (and joblib files) written then name those modules. `install` adds an import finder
that serves each old module name as a read-only alias of the module that holds its classes
now, so such pickles load into the current classes. Nothing in natgrad imports these names;
natgrad's own model files (``.ngm``, `natgrad.io`) never name modules.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

__all__ = ["MOVED", "install"]

#: Old module → the module that holds its picklable classes now.
MOVED = {
    "natgrad.boosting._estimator": "natgrad.boosting._regressor",
    "natgrad.boosting._models": "natgrad.boosting._training.learners",
    "natgrad.boosting._binning": "natgrad.boosting._hist.binning",
    "natgrad.boosting._predictor": "natgrad.boosting._hist.predictor",
    "natgrad.boosting._grower": "natgrad.boosting._hist.common",
    "natgrad.boosting._shap": "natgrad.boosting._hist.shap",
    "natgrad._crps": "natgrad.scores._crps",
    "natgrad._censored": "natgrad.scores._censored",
}


class _AliasLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module object

    def exec_module(self, module: ModuleType) -> None:
        target = MOVED[module.__name__]

        def __getattr__(name: str) -> Any:  # PEP 562: names resolve in the new module
            return getattr(importlib.import_module(target), name)

        module.__dict__["__getattr__"] = __getattr__
        module.__doc__ = f"Old name of {target} (natgrad._moved), for old pickles."


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _LOADER, origin=MOVED[fullname])


_LOADER = _AliasLoader()
_FINDER = _AliasFinder()


def install() -> None:
    """Serve the old module names (idempotent); `natgrad`'s import calls it."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.append(_FINDER)
