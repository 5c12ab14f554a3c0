"""Issue 14: the distribution objects' traps and numerics on extreme but valid data."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from natgrad.distributions import Categorical, Gamma, Normal, Poisson, StudentT


def test_sample_takes_an_int_seed_none_or_a_generator():
    dist = Normal(loc=[0.0, 10.0], scale=[1.0, 2.0])
    a = dist.sample(3, 7)
    b = dist.sample(3, np.random.default_rng(7))
    assert a.shape == (3, 2) and np.array_equal(a, b)
    assert dist.sample(3).shape == (3, 2)  # None: fresh entropy


def test_ppf_of_a_list_of_probabilities_gives_one_column_each():
    dist = Normal(loc=np.arange(5.0), scale=np.ones(5))
    q = [0.05, 0.5, 0.95]
    got = dist.ppf(q)
    assert got.shape == (5, 3)
    np.testing.assert_allclose(got, stats.norm.ppf(q)[None, :] + np.arange(5.0)[:, None])
    # One probability per row (shape (n,)) keeps scipy's broadcasting.
    np.testing.assert_allclose(dist.ppf(np.full(5, 0.5)), np.arange(5.0))
    # quantiles() gives (n, m) whatever m is, also m == n.
    assert Normal(loc=np.zeros(3), scale=1.0).quantiles(q).shape == (3, 3)
    with pytest.raises(ValueError, match="'q'.*1-d"):
        dist.quantiles([[0.1, 0.2]])


def test_median_and_pdf():
    dist = Gamma(shape=[2.0, 5.0], rate=[1.0, 0.5])
    np.testing.assert_allclose(dist.median(), stats.gamma(a=[2.0, 5.0], scale=[1.0, 2.0]).median())
    np.testing.assert_allclose(
        dist.pdf([1.0, 3.0]), stats.gamma(a=[2, 5], scale=[1, 2]).pdf([1, 3])
    )
    counts = Poisson(rate=[3.0])
    np.testing.assert_allclose(counts.pdf([2.0]), stats.poisson(3.0).pmf(2))
    with pytest.raises(NotImplementedError, match="not defined"):
        Categorical(probs=[[0.2, 0.8]]).median()


def test_student_t_learned_df_is_bounded():
    top = 1000.0  # the largest learned ν (DF_RANGE[1])
    # Normal-looking data: the marginal fit stops at the bound (it ran off to ~1e10).
    y = np.random.default_rng(0).normal(size=2000)
    assert np.exp(StudentT.fit_marginal(y)[0, 2]) <= top * (1 + 1e-9)
    # Beyond the bound θ is read as the bound; the loss is flat there.
    far = StudentT.from_params([[0.0, 0.0, 40.0]])
    assert far.df[0] == pytest.approx(top)
    assert far.grad(0.3)[0, 2] == 0.0 and far.fisher()[0, 2, 2] == 0.0
    assert np.all(np.isfinite(far.nll([0.3])))
    assert StudentT(0.0, 1.0, df=top).df[0] == pytest.approx(top)
    with pytest.raises(ValueError, match="'df'.*fixed_df"):
        StudentT(0.0, 1.0, df=1e6)
    from natgrad.distributions.student_t import DF_RANGE

    assert DF_RANGE[1] == top


def test_gamma_marginal_fit_over_twenty_orders_of_magnitude():
    # Finite, and the MLE (zero score).
    y = 10.0 ** np.random.default_rng(10).uniform(-10, 10, size=300)
    theta = Gamma.fit_marginal(y)
    assert np.all(np.isfinite(theta))
    np.testing.assert_allclose(Gamma.from_params(theta).grad(y).mean(axis=0), 0.0, atol=1e-8)


def test_normal_marginal_fit_beyond_1e154():
    # (y - mu)**2 would overflow.
    big = np.array([1e155, -2e155, 3e155, 5e154])
    theta = Normal.fit_marginal(big)
    log_sd = np.log(1e155) + np.log((big / 1e155).std())
    np.testing.assert_allclose(theta[0], [big.mean(), log_sd], rtol=1e-12)


@pytest.mark.parametrize(("value", "n"), [(0.5, 50), (0.3, 1000), (0.123456, 2)])
def test_beta_marginal_fit_on_a_constant_target(value, n):
    # A finite, very concentrated fit at the value (Fisher scoring once met a singular
    # matrix on these: "Singular matrix" from numpy.linalg).
    from natgrad.distributions import Beta

    theta = Beta.fit_marginal(np.full(n, value))
    assert np.all(np.isfinite(theta))
    assert Beta.from_params(theta).mean()[0] == pytest.approx(value)


def test_negative_binomial_quantiles_of_huge_counts_never_reach_scipy_search():
    from natgrad.distributions import NegativeBinomial

    # scipy's quantile search aborts the interpreter (exit 134) on the second row.
    dist = NegativeBinomial(mean=[5.0, 1e16, 2e17], size=[2.0, 1e9, 3.0])
    q = dist.ppf([0.05, 0.5, 0.95, 0.3])  # (3, 4)
    assert q.shape == (3, 4) and np.all(np.isfinite(q))
    assert np.all(np.diff(q[:, :3], axis=1) >= 0)
    np.testing.assert_array_equal(q[0], stats.nbinom(2.0, 2.0 / 7.0).ppf([0.05, 0.5, 0.95, 0.3]))
    sd = np.sqrt(dist.var()[1])
    assert abs(q[1, 1] - 1e16) < 0.01 * sd
    assert np.all(np.isfinite(dist.sample(3, 0)))


_HUGE_COUNTS = """
import numpy as np
from natgrad.distributions import NegativeBinomial
dist = NegativeBinomial(mean=[5.0, 1e16, 2e17], size=[2.0, 1e9, 3.0])
for p in (0.05, 0.5, 0.95):
    print(*dist.ppf(np.full(3, p)))
"""


def test_negative_binomial_quantiles_of_huge_counts_do_not_abort_the_interpreter():
    # One probability per row, as natgrad predict and natgrad fit's metrics ask for them;
    # scipy's search aborted the process on such rows (exit 134), hence a child process.
    done = subprocess.run(
        [sys.executable, "-c", _HUGE_COUNTS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    q = np.array([line.split() for line in done.stdout.splitlines()], dtype=float).T  # (3, 3)
    assert np.all(np.isfinite(q)) and np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_array_equal(q[0], stats.nbinom(2.0, 2.0 / 7.0).ppf([0.05, 0.5, 0.95]))
