"""Every public module of NGBoost 0.6 exists under the compat prefix with NGBoost's names, and
``evaluation`` computes what NGBoost's does (compared with NGBoost itself where installed)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from scipy import stats

from natgrad.compat.ngboost import evaluation as ev

#: NGBoost 0.6's public modules and the names code imports from each.
NGBOOST_MODULES: dict[str, list[str]] = {
    "": ["NGBClassifier", "NGBRegressor", "NGBSurvival", "NGBoost", "load_ngboost_model"],
    "api": ["NGBClassifier", "NGBRegressor", "NGBSurvival"],
    "ngboost": ["NGBoost"],
    "evaluation": [
        "calibration_regression", "calibration_time_to_event", "calculate_calib_error",
        "plot_pit_histogram", "plot_calibration_curve", "calculate_concordance_dead_only",
        "calculate_concordance_naive",
    ],
    "helpers": ["Y_from_censored"],
    "learners": ["default_tree_learner", "default_linear_learner"],
    "manifold": ["manifold"],
    "scores": ["Score", "LogScore", "CRPScore", "MLE", "CRPS"],
    "distns": ["Distn", "RegressionDistn", "ClassificationDistn", "Normal", "k_categorical"],
    "distns.beta": ["Beta"],
    "distns.beta_bernoulli": ["BetaBernoulli"],
    "distns.betabinomial": ["BetaBinomial", "BetaBinomialEstN"],
    "distns.categorical": ["Bernoulli", "k_categorical"],
    "distns.cauchy": ["Cauchy"],
    "distns.distn": ["Distn", "RegressionDistn", "ClassificationDistn"],
    "distns.exponential": ["Exponential"],
    "distns.gamma": ["Gamma"],
    "distns.halfnormal": ["HalfNormal"],
    "distns.laplace": ["Laplace"],
    "distns.logitnormal": ["LogitNormal"],
    "distns.lognormal": ["LogNormal"],
    "distns.multivariate_normal": ["MultivariateNormal"],
    "distns.normal": ["Normal", "NormalFixedMean", "NormalFixedVar"],
    "distns.poisson": ["Poisson"],
    "distns.t": ["T", "TFixedDf", "TFixedDfFixedVar"],
    "distns.weibull": ["Weibull"],
    "distns.utils": ["SurvivalDistnClass"],
    "distns.sympy_utils": ["make_sympy_log_score"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(NGBOOST_MODULES))
def test_every_ngboost_module_imports_under_the_prefix(module: str) -> None:
    name = "natgrad.compat.ngboost" + ("." + module if module else "")
    mod = importlib.import_module(name)
    for attr in NGBOOST_MODULES[module]:
        assert hasattr(mod, attr), f"{name} lacks {attr}"


def test_per_distribution_modules_hold_the_package_classes() -> None:
    from natgrad.compat.ngboost import distns
    from natgrad.compat.ngboost.distns import normal, t

    assert normal.Normal is distns.Normal and t.TFixedDf is distns.TFixedDf


def _forecast_and_targets(n: int = 3000) -> tuple[object, np.ndarray]:
    y = stats.norm.rvs(size=n, random_state=0)
    return stats.norm(loc=np.zeros(n)), y


def test_calibration_of_the_true_distribution_is_the_diagonal() -> None:
    forecast, y = _forecast_and_targets()
    p, observed, slope, intercept = ev.calibration_regression(forecast, y)
    # each observed fraction is a binomial proportion: 4 standard errors at the worst p
    assert np.all(np.abs(observed - p) <= 4 * np.sqrt(0.25 / y.size))
    assert slope == pytest.approx(1.0, abs=0.05) and intercept == pytest.approx(0.0, abs=0.03)


def test_calibration_sees_a_forecast_that_is_too_narrow() -> None:
    _, y = _forecast_and_targets()
    forecast = stats.norm(scale=np.full(y.size, 1 / 3))
    p, observed, slope, _ = ev.calibration_regression(forecast, y)
    # too narrow: the extreme quantiles leave ~15 % of the targets outside at either end
    assert observed[0] > 0.1 and observed[-1] < 0.9 and slope < 0.8


def test_time_to_event_calibration_is_the_diagonal_under_censoring() -> None:
    n = 4000
    t = stats.expon.rvs(size=n, random_state=0)
    c = stats.expon.rvs(scale=2.0, size=n, random_state=1)
    u, observed, slope, _ = ev.calibration_time_to_event(
        stats.expon(scale=np.ones(n)), np.minimum(t, c), (t <= c).astype(int)
    )
    assert u[0] == 0.0 and observed[0] == 0.0
    assert np.all(np.abs(observed - u) <= 0.05)
    assert slope == pytest.approx(1.0, abs=0.1)


def _naive_reference(p: np.ndarray, y: np.ndarray, e: np.ndarray) -> float:
    """The definition, pair by pair."""
    num, den = 0.0, 0
    for i in range(len(y)):
        for j in range(i + 1, len(y)):
            if (
                (e[i] and e[j])
                or (e[i] and not e[j] and y[i] < y[j])
                or (not e[i] and e[j] and y[i] > y[j])
            ):
                if (p[i] < p[j] and y[i] < y[j]) or (p[i] > p[j] and y[i] > y[j]):
                    num += 1.0
                elif p[i] == p[j]:
                    num += 0.5
                den += 1
    return num / den


def test_naive_concordance_follows_its_definition() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 15, size=120).astype(float)  # ties in times
    p = y + rng.integers(-3, 4, size=120)  # ties in predictions
    e = rng.integers(0, 2, size=120)
    assert ev.calculate_concordance_naive(p, y, e) == pytest.approx(_naive_reference(p, y, e))
    dead = e == 1
    assert ev.calculate_concordance_dead_only(p, y, e) == pytest.approx(
        _naive_reference(p[dead], y[dead], np.ones(dead.sum()))
    )


def test_plots_draw_on_the_current_axes() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    forecast, y = _forecast_and_targets(500)
    p, observed, _, _ = ev.calibration_regression(forecast, y)
    fig = plt.figure()
    ev.plot_pit_histogram(p, observed)
    assert len(fig.axes[0].patches) == len(p) - 1
    plt.close(fig)
    fig = plt.figure()
    ev.plot_calibration_curve(p, observed)
    assert "Slope" in fig.axes[0].get_legend().get_texts()[0].get_text()
    plt.close(fig)


def test_evaluation_matches_ngboosts_own() -> None:
    ngb_ev = pytest.importorskip("ngboost.evaluation")  # needs ngboost and lifelines
    forecast, y = _forecast_and_targets(800)
    for ours, theirs in zip(
        ev.calibration_regression(forecast, y),
        ngb_ev.calibration_regression(forecast, y),
        strict=True,
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    n = 600
    t = stats.weibull_min.rvs(1.5, size=n, random_state=4)
    c = stats.weibull_min.rvs(1.5, scale=1.5, size=n, random_state=5)
    tt, ee = np.minimum(t, c), (t <= c).astype(int)
    fc = stats.weibull_min(1.5, scale=np.full(n, 1.1))
    for ours, theirs in zip(
        ev.calibration_time_to_event(fc, tt, ee),
        ngb_ev.calibration_time_to_event(fc, tt, ee),
        strict=True,
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    p = np.round(tt * 3) + np.round(stats.norm.rvs(size=n, random_state=6))
    assert ev.calculate_concordance_naive(p, tt, ee) == pytest.approx(
        ngb_ev.calculate_concordance_naive(p, tt, ee)
    )
    assert ev.calculate_concordance_dead_only(p, tt, ee) == pytest.approx(
        ngb_ev.calculate_concordance_dead_only(p, tt, ee)
    )


def test_pred_param_is_the_distributions_parameters_rows_first() -> None:
    from natgrad.compat.ngboost import NGBClassifier, NGBRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X[:, 0] + rng.normal(size=200)
    reg = NGBRegressor(n_estimators=15, verbose=False, random_state=0).fit(X, y)
    params = reg.pred_param(X[:7])
    assert params.shape == (7, 2)
    np.testing.assert_array_equal(params, reg.pred_dist(X[:7])._params.T)
    np.testing.assert_array_equal(params[:, 0], reg.pred_dist(X[:7]).params["loc"])
    early = reg.pred_param(X[:7], max_iter=3)
    assert not np.array_equal(early, params)  # max_iter reaches the stages used
    clf = NGBClassifier(n_estimators=10, verbose=False, random_state=0).fit(X, y > 0)
    assert clf.pred_param(X[:4]).shape == (4, 1)
