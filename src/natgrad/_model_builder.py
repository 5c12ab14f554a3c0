"""Loading side of the model file format: validate a parsed file and rebuild the estimator.

`natgrad.io.load` frames and checksums the file; `_Builder` then checks the header's schema,
the allow-listed class and family names, every array's dtype and shape and the trees'
structure, and assembles the fitted estimator (docs/model-format.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from natgrad.io import (
    _ALIGN,
    _ARRAYS,
    _CATEGORICAL_ARRAYS,
    _ESTIMATORS,
    _LABEL_KINDS,
    _N_WORDS,
    _OPTIONAL_ARRAYS,
    _SCORE_KEYS,
    TASKS,
    ModelFileError,
    _estimator_class,
)


class _Builder:
    """Validates a parsed file and assembles the estimator; every failure names the file."""

    def __init__(self, path: Path, header: dict[str, Any], body: memoryview) -> None:
        self.path = path
        self.header = header
        self.body = body

    def fail(self, reason: str) -> ModelFileError:
        return ModelFileError(self.path, reason)

    def get(self, key: str, kind: type | tuple[type, ...], where: dict | None = None) -> Any:
        source = self.header if where is None else where
        if key not in source:
            raise self.fail(f"its header has no {key!r} entry")
        value = source[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.fail(f"the header entry {key!r} has the wrong type ({value!r})")
        return value

    def count(self, key: str, where: dict | None = None, low: int = 0) -> int:
        value = self.get(key, int, where)
        if value < low:
            raise self.fail(f"the header entry {key!r} must be at least {low}; it is {value}")
        return value

    # ------------------------------------------------------------------------- pieces
    def estimator(self) -> Any:
        name = self.get("estimator", str)
        if name not in _ESTIMATORS:
            raise self.fail(
                f"unknown estimator class {name!r}; this natgrad loads {', '.join(_ESTIMATORS)}"
            )
        cls = _estimator_class(name)
        params = dict(self.get("params", dict))
        known = cls().get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise self.fail(f"unknown hyper-parameter(s) {unknown} for {name}")
        from natgrad.scores import _SCORES, Score

        if name == "NGBoostSurvival" and isinstance(params.get("scoring_rule"), dict):
            params["scoring_rule"] = self.censored_score(params["scoring_rule"])
        rules = [params[key] for key in _SCORE_KEYS if key in params]
        if name == "NGBoostSurvival":
            rules = [r for r in rules if not isinstance(r, Score)]
        if any(not isinstance(rule, str) or rule not in _SCORES for rule in rules):
            raise self.fail(f"unknown scoring rule {rules}; this natgrad knows {list(_SCORES)}")
        if params.get("base_learner") is not None:
            raise self.fail("only the native tree learner is supported")
        est = cls(**params)
        try:
            est._validate_params()
        except (TypeError, ValueError) as exc:
            raise self.fail(f"invalid hyper-parameters: {exc}") from None
        return est

    def censored_score(self, spec: Any) -> Any:
        from natgrad.scores import CensoredLogScore

        if (
            not isinstance(spec, dict)
            or spec.get("name") != CensoredLogScore.name
            or not isinstance(spec.get("config"), dict)
            or set(spec["config"]) != {"metric"}
            or spec["config"]["metric"] not in ("censored", "fisher")
        ):
            raise self.fail(f"invalid censored scoring rule {spec!r}")
        return CensoredLogScore(metric=spec["config"]["metric"])

    def classes(self, est: Any, family: Any, config: dict[str, Any]) -> np.ndarray:
        spec = self.get("classes", dict)
        dtype, values = spec.get("dtype"), spec.get("values")
        if not isinstance(values, list) or len(values) < 2:
            raise self.fail("'classes' must hold a list of at least 2 labels")
        try:
            dt = np.dtype(object if dtype == "object" else dtype)
        except (TypeError, ValueError):
            raise self.fail(f"invalid class label dtype {dtype!r}") from None
        kinds = (str, int, float, bool)
        if dt.kind not in _LABEL_KINDS or not all(isinstance(v, kinds) for v in values):
            raise self.fail(f"class labels must be int, float, str or bool ({dtype!r})")
        try:
            classes = np.array(values, dtype=dt)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(f"class labels {values!r} do not fit dtype {dtype!r}") from None
        if dt.kind != "O" and classes.tolist() != values:
            raise self.fail(f"class labels {values!r} do not fit dtype {dtype!r}")
        try:
            ordered = bool(np.all(classes[:-1] < classes[1:]))
        except TypeError:
            ordered = False
        if not ordered:
            raise self.fail("class labels must be distinct and sorted")
        est.classes_ = classes
        expected, expected_config = est._family()
        if expected is not family or expected_config != config:
            raise self.fail(
                f"{len(values)} classes with distribution {est.distribution!r} do not match the "
                f"family {family.name!r} {config}"
            )
        return classes

    def family(self) -> tuple[Any, dict[str, Any]]:
        from natgrad import distributions

        spec = self.get("distribution", dict)
        name = self.get("name", str, spec)
        config = self.get("config", dict, spec)
        if name not in distributions.names():
            raise self.fail(f"unknown distribution family {name!r}")
        return distributions.get(name), config

    def arrays(self) -> dict[str, np.ndarray]:
        table = self.get("arrays", dict)
        missing = sorted(set(_ARRAYS) - _OPTIONAL_ARRAYS - set(table))
        extra = sorted(set(table) - set(_ARRAYS))
        if missing or extra:
            raise self.fail(f"wrong array list (missing {missing}, unexpected {extra})")
        out = {}
        spans = []
        for key, dtype in _ARRAYS.items():
            if key not in table:
                continue
            spec = table[key]
            if not isinstance(spec, dict) or spec.get("dtype") != dtype:
                raise self.fail(f"array {key!r} must have dtype {dtype}")
            shape = spec.get("shape")
            if not isinstance(shape, list) or not all(
                isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape
            ):
                raise self.fail(f"array {key!r} has an invalid shape {shape!r}")
            offset = self.count("offset", spec)
            nbytes = self.count("nbytes", spec)
            size = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if nbytes != size * np.dtype(dtype).itemsize or offset % _ALIGN:
                raise self.fail(f"array {key!r}: {nbytes} bytes do not fit shape {shape}")
            if offset + nbytes > len(self.body):
                raise self.fail(f"array {key!r} extends past the end of the data section")
            spans.append((offset, offset + nbytes, key))
            arr = np.frombuffer(self.body, dtype=dtype, count=size, offset=offset)
            # A native-endian, writable, aligned copy: the compiled kernels' own layout.
            out[key] = arr.astype(np.dtype(dtype).newbyteorder("="), copy=True).reshape(shape)
        spans.sort()
        for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise self.fail(f"arrays {a!r} and {b!r} overlap")
        return out

    def check_shapes(self, a: dict[str, np.ndarray], p: int, d: int, t: int) -> int:
        def expect(key: str, shape: tuple[int, ...]) -> None:
            if a[key].shape != shape:
                raise self.fail(
                    f"array {key!r} has shape {a[key].shape}; the header implies {shape}"
                )

        expect("init_params", (1, p))
        expect("train_loss", (t + 1,))
        expect("validation_loss", (t + 1,))
        expect("tree_offsets", (t + 1,))
        expect("scales", (t,))
        offsets = a["tree_offsets"]
        if offsets[0] != 0 or (np.diff(offsets) < 1).any():
            raise self.fail("tree offsets must start at 0 and increase (no empty tree)")
        n = int(offsets[-1])
        for key in ("feature", "threshold", "bin_threshold", "missing_go_left"):
            expect(f"node_{key}", (n,))
        for key in ("left", "right", "leaf_id"):
            expect(f"node_{key}", (n,))
        expect("node_value", (n, p))
        expect("node_gain", (n, p))
        if "node_cover" in a:
            expect("node_cover", (n,))
        expect("bin_counts", (d,))
        expect("bin_thresholds", (int(a["bin_counts"].sum()) - d,))
        present = [key in a for key in _CATEGORICAL_ARRAYS]
        if any(present) and not all(present):
            raise self.fail("arrays 'node_cat_index' and 'cat_bitsets' must come together")
        if not any(present):  # a file from before categorical splits: all numeric
            a["node_cat_index"] = np.full(n, -1, dtype=np.int32)
            a["cat_bitsets"] = np.zeros((0, _N_WORDS), dtype=np.uint32)
        expect("node_cat_index", (n,))
        expect("cat_bitsets", (a["cat_bitsets"].shape[0], _N_WORDS))
        return n

    def check_trees(self, a: dict[str, np.ndarray], d: int, max_bins: int) -> None:
        offsets = a["tree_offsets"]
        n = int(offsets[-1])
        node = np.arange(n)
        end = np.repeat(offsets[1:], np.diff(offsets))
        left, right = a["node_left"].astype(np.int64), a["node_right"].astype(np.int64)
        leaf = left == -1
        internal = ~leaf
        # Children inside their own tree and after their parent: prediction stays in bounds
        # and every root-to-leaf walk ends.
        ok_children = (left > node) & (left < end) & (right > node) & (right < end)
        if (leaf & (right != -1)).any() or (internal & ~ok_children).any():
            raise self.fail("its trees are malformed (a child index is out of place)")
        feature = a["node_feature"]
        if (internal & ((feature < 0) | (feature >= d))).any():
            raise self.fail(f"a split uses a feature outside [0, {d})")
        cat = a["node_cat_index"]
        if ((cat < -1) | (cat >= a["cat_bitsets"].shape[0])).any() or (leaf & (cat != -1)).any():
            raise self.fail("a categorical split's bitset index is out of range")
        # Categorical splits have no threshold (NaN); numeric ones must have one.
        if (internal & (cat < 0) & np.isnan(a["node_threshold"])).any():
            raise self.fail("a split has a NaN threshold")
        if (a["node_missing_go_left"] > 1).any():
            raise self.fail("array 'node_missing_go_left' holds values other than 0 and 1")
        if ((a["node_leaf_id"] >= 0) != leaf).any():
            raise self.fail("leaf numbers do not match the leaves")
        if not np.isfinite(a["node_value"][leaf]).all() or not np.isfinite(a["scales"]).all():
            raise self.fail("leaf values and tree scales must be finite")
        if not np.isfinite(a["init_params"]).all():
            raise self.fail("the initial parameters must be finite")
        # TreeSHAP divides by a parent's cover: positive and finite keeps it a number.
        if "node_cover" in a and not (np.isfinite(a["node_cover"]) & (a["node_cover"] > 0)).all():
            raise self.fail("node covers must be positive and finite")
        counts = a["bin_counts"]
        if (counts < 1).any() or (counts > max_bins).any():
            raise self.fail(f"bin counts must lie in [1, {max_bins}]")

    def categories(self, a: dict[str, np.ndarray], d: int, max_bins: int) -> list[Any] | None:
        """The header's ``categories`` (version 3), checked against the splits and bins."""
        cats = self.header.get("categories")
        is_cat_split = a["node_cat_index"] >= 0
        if cats is None:
            if is_cat_split.any():
                raise self.fail("it has categorical splits but no 'categories' entry")
            return None
        if not isinstance(cats, list) or len(cats) != d:
            raise self.fail(f"'categories' must be null or a list of {d} entries")
        kinds = (str, int, float, bool)
        for f, values in enumerate(cats):
            if values is None:
                continue
            if not isinstance(values, list) or not all(isinstance(v, kinds) for v in values):
                raise self.fail(f"the categories of feature {f} must be a list of values")
            if len(values) > max_bins or (values and a["bin_counts"][f] != len(values)):
                raise self.fail(f"feature {f} has {len(values)} categories but other bins")
        split_features = a["node_feature"][is_cat_split]
        if any(cats[f] is None for f in split_features.tolist()):
            raise self.fail("a categorical split uses a feature without categories")
        return cats

    # ------------------------------------------------------------------------- assembly
    def build(self) -> Any:
        from natgrad.boosting._binning import BinMapper
        from natgrad.boosting._models import NativeModel
        from natgrad.boosting._predictor import Ensemble
        from natgrad.scores import get_score

        est = self.estimator()
        family, config = self.family()
        name = type(est).__name__
        if family.event_dim != 0 and not est._vector_targets:
            raise self.fail(f"distribution {family.name!r} is not univariate ({name})")
        task = self.header.get("task", "regression")
        if task != TASKS[name]:
            raise self.fail(f"task {task!r} does not match the estimator {name}")
        if name == "NGBoostClassifier":
            self.classes(est, family, config)
        elif est.distribution != family.name:
            raise self.fail(
                f"the distribution parameter {est.distribution!r} differs from the family "
                f"{family.name!r}"
            )
        p = self.count("n_params", low=1)
        d = self.count("n_features_in", low=1)
        t = self.count("n_estimators_", low=1)
        best = self.count("best_iteration_")
        if best > t:
            raise self.fail(f"best_iteration_ {best} exceeds n_estimators_ {t}")
        learner = self.get("learner", dict)
        if learner.get("kind") != "native":
            raise self.fail(f"unknown learner kind {learner.get('kind')!r}")
        max_bins = self.count("max_bins", learner, low=2)
        missing_bin = self.count("missing_values_bin_idx", learner)
        if max_bins > 255 or missing_bin != max_bins or max_bins != est.max_bins:
            raise self.fail("inconsistent binning settings")
        names = self.header.get("feature_names_in")
        if names is not None and (
            not isinstance(names, list)
            or len(names) != d
            or not all(isinstance(s, str) for s in names)
        ):
            raise self.fail(f"'feature_names_in' must be null or a list of {d} strings")
        if not isinstance(self.header.get("metadata", {}), dict):
            raise self.fail("'metadata' must be a JSON object")
        a = self.arrays()
        self.check_shapes(a, p, d, t)
        self.check_trees(a, d, max_bins)
        categories = self.categories(a, d, max_bins)
        try:
            template = family.from_params(a["init_params"], **config)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"invalid distribution settings for {family.name!r}: {exc}") from None
        if template.n_params != p:
            raise self.fail(f"{family.name!r} with {config} has {template.n_params} parameters")

        mapper = BinMapper(max_bins=max_bins, random_state=0)
        edges = np.split(a["bin_thresholds"], np.cumsum(a["bin_counts"] - 1)[:-1])
        for f, thr in enumerate(edges):
            if np.isnan(thr).any() or (np.diff(thr) <= 0).any():
                raise self.fail(f"the bin edges of feature {f} are not increasing")
        mapper.bin_thresholds_ = [np.ascontiguousarray(e) for e in edges]
        mapper.n_bins_non_missing_ = a["bin_counts"].astype(np.int32)
        mapper.missing_values_bin_idx_ = missing_bin
        mapper.n_features_in_ = d
        mapper.is_categorical_ = np.array(
            [categories is not None and bool(categories[f]) for f in range(d)], dtype=bool
        )
        padded = np.full((d, 255), np.inf)
        for f, thr in enumerate(edges):
            padded[f, : thr.size] = thr
        mapper._padded_thresholds = padded

        ens = Ensemble(p, d, missing_values_bin_idx=missing_bin)
        ens._buf = {
            "feature": a["node_feature"],
            "threshold": a["node_threshold"],
            "bin_threshold": a["node_bin_threshold"],
            "missing_go_left": a["node_missing_go_left"].astype(np.bool_),
            "left": a["node_left"],
            "right": a["node_right"],
            "leaf_id": a["node_leaf_id"],
            "value": np.ascontiguousarray(a["node_value"]),
            "gain": np.ascontiguousarray(a["node_gain"]),
        }
        if "node_cover" in a:
            ens._buf["cover"] = a["node_cover"]
        ens._buf["cat_index"] = a["node_cat_index"]
        ens._cat_bits = np.ascontiguousarray(a["cat_bitsets"])
        ens._n_cat = int(a["cat_bitsets"].shape[0])
        ens._n_nodes = int(a["tree_offsets"][-1])
        ens.n_trees = t
        ens._offsets = a["tree_offsets"]
        ens._scales = a["scales"]

        model = NativeModel(
            p,
            max_bins=max_bins,
            max_depth=est.max_depth,
            max_leaves=est.max_leaves,
            min_samples_leaf=est.min_samples_leaf,
            l2_regularization=est.l2_regularization,
            random_state=0,
        )
        model.mapper = mapper
        model.ensemble = ens
        model.finish()

        if name == "NGBoostSurvival":
            score = self.censored_score(self.get("score", dict))
            if not score.supports(family):
                raise self.fail(f"the censored log score does not support {family.name!r}")
            est._score_rule = score
        else:
            rule = next(getattr(est, key) for key in _SCORE_KEYS if hasattr(est, key))
            est._score_rule = get_score(rule)
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
