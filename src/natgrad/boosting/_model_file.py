"""The estimators' side of the model file: their header entries and arrays, and back.

`natgrad.io` frames the bytes and picks the class; this module writes and checks what an
estimator stores (docs/model-format.md): its hyper-parameters as JSON, its family, counts,
losses and initial parameters, and the native learner's forest and bins, which the learner
contributes itself. The estimator classes add their own entries through two hooks,
``_file_entries`` (class labels, a censored scoring rule) and ``_restore_entries``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from natgrad import distributions
from natgrad.boosting._hist.constraints import monotonic_cst_to_json
from natgrad.boosting._training.learners import NativeModel
from natgrad.io.format import HeaderReader, python_value, write_model_file
from natgrad.scores import SCORES, Score, get_score

__all__ = ["FILE_CLASSES", "default_score", "restore_estimator", "write_estimator"]

#: The estimator classes a model file may hold (the classes define ``_file_task``).
FILE_CLASSES = ("NGBoostRegressor", "NGBoostClassifier", "NGBoostSurvival")
# The hyper-parameter naming the scoring rule: whichever of these the estimator has.
_SCORE_KEYS = ("scoring_rule", "score")


def write_estimator(est: Any, path: str | os.PathLike[str], metadata: dict | None) -> Path:
    """Write the fitted estimator ``est`` to ``path`` (atomically); returns the path."""
    entries, arrays = _contents(est)
    return write_model_file(path, entries, arrays, metadata)


def _contents(est: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    name = type(est).__name__
    if "_file_task" not in type(est).__dict__:
        # A subclass would load as its parent: only the classes themselves are written.
        raise TypeError(
            f"The 'model' argument of natgrad.io.save must be one of {', '.join(FILE_CLASSES)}. "
            f"Got {name} instead."
        )
    check_is_fitted(est, "init_params_")
    if not isinstance(est._model_, NativeModel):
        raise ValueError(
            "The 'model' argument of natgrad.io.save must use the native tree learner "
            "(base_learner=None): only native models have the safe file format. Got "
            f"base_learner={est.base_learner!r}; save it with pickle or joblib instead "
            "(they run code when loading, so load only files you trust)."
        )
    family = est._template_
    if distributions.get(family.name) is not type(family):
        raise ValueError(
            "The 'model' argument of natgrad.io.save must use a registered distribution "
            f"family ({', '.join(distributions.names())}). Got {type(family).__name__}."
        )
    params = est.get_params(deep=False)
    # The thread count is the reader's choice, not part of the model (files stay readable
    # by versions without n_jobs).
    params.pop("n_jobs", None)
    extra = est._file_entries(params)
    _params_to_json(est, params, family)
    names = getattr(est, "feature_names_in_", None)
    entries = {
        "estimator": name,
        "task": est._file_task,
        **extra,
        "params": params,
        "distribution": {"name": family.name, "config": family.config},
        "n_params": int(family.n_params),
        "n_features_in": int(est.n_features_in_),
        "feature_names_in": None if names is None else [str(s) for s in names],
        "n_estimators_": int(est.n_estimators_),
        "best_iteration_": int(est.best_iteration_),
        "categories": _encode_categories(getattr(est, "categories_", None)),
        "learner": est._model_.file_entry(),
    }
    arrays = {
        "init_params": est.init_params_,
        "train_loss": est.train_loss_,
        "validation_loss": est.validation_loss_,
        **est._model_.to_arrays(),
    }
    return entries, arrays


def _params_to_json(est: Any, params: dict[str, Any], family: Any) -> None:
    # Hyper-parameters as JSON values, in place: built-in scoring rules by name, no RNG
    # objects, monotone constraints resolved and categorical features as a plain list.
    for key in _SCORE_KEYS:
        score = params.get(key)
        if isinstance(score, Score):
            if SCORES.get(score.name) is not type(score):
                raise ValueError(
                    "The 'model' argument of natgrad.io.save must use a built-in scoring rule "
                    f"({', '.join(SCORES)}). Got {score!r}."
                )
            params[key] = score.name
    if not (params["random_state"] is None or isinstance(params["random_state"], int)):
        # A RandomState or Generator has no JSON form; the fitted model does not need it.
        params["random_state"] = None
    if params.get("monotonic_cst") is not None:
        # Arrays and integer feature keys have no faithful JSON form: saved resolved.
        params["monotonic_cst"] = monotonic_cst_to_json(
            params["monotonic_cst"],
            family.param_names,
            int(est.n_features_in_),
            getattr(est, "feature_names_in_", None),
            type(est).__name__,
        )
    if params.get("categorical_features") is not None and not isinstance(
        params["categorical_features"], str
    ):
        # A mask, indices or names, as plain JSON values.
        params["categorical_features"] = [
            python_value(v) for v in np.asarray(params["categorical_features"]).tolist()
        ]


def _encode_categories(categories: list[Any] | None) -> list[Any] | None:
    """``categories_`` as JSON: per feature null or the list of its category values."""
    if categories is None:
        return None
    out: list[Any] = []
    for f, cats in enumerate(categories):
        if cats is None:
            out.append(None)
            continue
        values = [python_value(v) for v in cats]
        for v in values:
            if not isinstance(v, str | int | float | bool) or (
                isinstance(v, float) and not np.isfinite(v)
            ):
                raise TypeError(
                    "The 'model' argument of natgrad.io.save must have categories that are "
                    "str, int, finite float or bool values; the model file stores no others. "
                    f"Got the category {v!r} of type {type(v).__name__} (feature {f}) instead; "
                    "convert the column's categories (e.g. to str) before fitting, or save with "
                    "pickle or joblib."
                )
        out.append(values)
    return out


# --------------------------------------------------------------------------------- loading
def restore_estimator(cls: Any, reader: HeaderReader) -> Any:
    """The fitted ``cls`` estimator a checked model file describes."""
    est = _estimator(cls, reader)
    family, config = _family(reader)
    name = cls.__name__
    if family.event_dim != 0 and not est._vector_targets:
        raise reader.fail(f"distribution {family.name!r} is not univariate ({name})")
    task = reader.header.get("task", "regression")
    if task != cls._file_task:
        raise reader.fail(f"task {task!r} does not match the estimator {name}")
    est._restore_entries(reader, family, config)
    p = reader.count("n_params", low=1)
    _check_family_size(reader, config, p)
    d = reader.count("n_features_in", low=1)
    t = reader.count("n_estimators_", low=1)
    best = reader.count("best_iteration_")
    if best > t:
        raise reader.fail(f"best_iteration_ {best} exceeds n_estimators_ {t}")
    model = _learner(reader, est, p)
    names = reader.header.get("feature_names_in")
    if names is not None and (
        not isinstance(names, list) or len(names) != d or not all(isinstance(s, str) for s in names)
    ):
        raise reader.fail(f"'feature_names_in' must be null or a list of {d} strings")
    if not isinstance(reader.header.get("metadata", {}), dict):
        raise reader.fail("'metadata' must be a JSON object")
    a = reader.arrays()
    for key, shape in (("init_params", (1, p)), ("train_loss", (t + 1,))):
        _expect(reader, a, key, shape)
    _expect(reader, a, "validation_loss", (t + 1,))
    categories = reader.header.get("categories")
    model.restore(a, d, t, categories, reader.fail)
    if not np.isfinite(a["init_params"]).all():
        raise reader.fail("the initial parameters must be finite")
    try:
        template = family.from_params(a["init_params"], **config)
    except (TypeError, ValueError) as exc:
        raise reader.fail(f"invalid distribution settings for {family.name!r}: {exc}") from None
    if template.n_params != p:
        raise reader.fail(f"{family.name!r} with {config} has {template.n_params} parameters")
    est._score_rule = est._restore_score(reader, family)
    est.init_params_ = a["init_params"]
    est._template_ = template
    est._model_ = model
    est.n_estimators_ = t
    est.best_iteration_ = best
    est.train_loss_ = a["train_loss"]
    est.validation_loss_ = a["validation_loss"]
    est.n_features_in_ = d
    est.categories_ = categories
    if names is not None:
        est.feature_names_in_ = np.asarray(names, dtype=object)
    return est


def _check_family_size(reader: HeaderReader, config: dict[str, Any], p: int) -> None:
    """The family's parameter count from its configuration, before building anything.

    A multivariate normal's ``dim`` sets k(k+3)/2 parameters and index tables of that size:
    a crafted ``dim`` must not allocate them. ``p`` is bounded by the file, which stores the
    p initial parameters.
    """
    if p * 8 > len(reader.body):
        raise reader.fail(f"it declares {p} parameters but stores fewer numbers")
    dim = config.get("dim")
    if dim is not None:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
            raise reader.fail(f"invalid multivariate dimension {dim!r}")
        if dim * (dim + 3) // 2 != p:
            raise reader.fail(f"dimension {dim} does not match {p} parameters")


def _expect(reader: HeaderReader, a: dict[str, np.ndarray], key: str, shape: tuple) -> None:
    if a[key].shape != shape:
        raise reader.fail(f"array {key!r} has shape {a[key].shape}; the header implies {shape}")


def _estimator(cls: Any, reader: HeaderReader) -> Any:
    params = dict(reader.get("params", dict))
    known = cls().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise reader.fail(f"unknown hyper-parameter(s) {unknown} for {cls.__name__}")
    cls._restore_params(params, reader)
    rules = [params[key] for key in _SCORE_KEYS if key in params]
    rules = [r for r in rules if not isinstance(r, Score)]
    if any(not isinstance(rule, str) or rule not in SCORES for rule in rules):
        raise reader.fail(f"unknown scoring rule {rules}; this natgrad knows {list(SCORES)}")
    if params.get("base_learner") is not None:
        raise reader.fail("only the native tree learner is supported")
    est = cls(**params)
    try:
        est._validate_params()
    except (TypeError, ValueError) as exc:
        raise reader.fail(f"invalid hyper-parameters: {exc}") from None
    return est


def _family(reader: HeaderReader) -> tuple[Any, dict[str, Any]]:
    spec = reader.get("distribution", dict)
    name = reader.get("name", str, spec)
    config = reader.get("config", dict, spec)
    if name not in distributions.names():
        raise reader.fail(f"unknown distribution family {name!r}")
    return distributions.get(name), config


def _learner(reader: HeaderReader, est: Any, p: int) -> NativeModel:
    learner = reader.get("learner", dict)
    if learner.get("kind") != "native":
        raise reader.fail(f"unknown learner kind {learner.get('kind')!r}")
    max_bins = reader.count("max_bins", learner, low=2)
    missing_bin = reader.count("missing_values_bin_idx", learner)
    if max_bins > 255 or missing_bin != max_bins or max_bins != est.max_bins:
        raise reader.fail("inconsistent binning settings")
    return NativeModel(
        p,
        max_bins=max_bins,
        max_depth=est.max_depth,
        max_leaves=est.max_leaves,
        min_samples_leaf=est.min_samples_leaf,
        l2_regularization=est.l2_regularization,
        random_state=0,
    )


def default_score(est: Any) -> Any:
    """The scoring rule a restored estimator's hyper-parameters name."""
    rule = next(getattr(est, key) for key in _SCORE_KEYS if hasattr(est, key))
    return get_score(rule)
