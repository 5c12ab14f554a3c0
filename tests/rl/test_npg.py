"""NPG end to end on tiny budgets: trust region, reproducibility, files, errors."""

from __future__ import annotations

import copy
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
gym = pytest.importorskip("gymnasium")

from torch import nn  # noqa: E402

from natgrad.io import ModelFileError  # noqa: E402
from natgrad.rl import NPG, load  # noqa: E402

SMALL = {"n_steps": 64, "vf_epochs": 2, "policy": (8,), "value_function": (8,)}


def _policy_kl(model, old_policy, obs):
    """Mean KL(π_old ‖ π_new) over ``obs``, computed here from the two networks."""
    x = torch.as_tensor(obs, dtype=torch.float32)
    with torch.no_grad():
        return float(model.likelihood_.kl(old_policy(x), model.policy_(x)).mean())


@pytest.mark.parametrize(
    ("env_id", "max_kl"), [("CartPole-v1", 0.01), ("CartPole-v1", 0.002), ("Pendulum-v1", 0.01)]
)
def test_every_accepted_update_keeps_the_realised_kl_within_max_kl(env_id, max_kl):
    model = NPG(env_id, max_kl=max_kl, seed=0, **SMALL)
    model._setup()
    previous = [copy.deepcopy(model.policy_)]
    realised: list[tuple[float, bool]] = []

    def check(m, stats):
        kl = _policy_kl(m, previous[0], m._last_rollout.obs)
        realised.append((kl, stats["accepted"]))
        previous[0] = copy.deepcopy(m.policy_)

    model.learn(6 * 64, check, progress_bar=False)
    assert len(realised) == 6
    assert sum(acc for _, acc in realised) >= 4  # the trust region does not block learning
    for kl, accepted in realised:
        if accepted:
            assert 0 < kl <= max_kl * (1 + 1e-4)  # float32 recomputation
        else:
            assert kl == 0.0  # parameters restored


def test_same_seed_same_returns_and_weights():
    runs = [NPG("CartPole-v1", seed=7, **SMALL).learn(384, progress_bar=False) for _ in range(2)]
    other = NPG("CartPole-v1", seed=8, **SMALL).learn(384, progress_bar=False)
    a, b = runs
    assert a.episode_returns_.size > 5
    np.testing.assert_array_equal(a.episode_returns_, b.episode_returns_)
    for pa, pb in zip(a.policy_.parameters(), b.policy_.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert [h["kl"] for h in a.history_] == [h["kl"] for h in b.history_]
    assert not np.array_equal(a.episodes_, other.episodes_)


def test_learn_continues_and_callback_can_stop():
    model = NPG("CartPole-v1", seed=1, **SMALL)
    model.learn(100)  # two updates of 64, with the progress bar
    assert model.num_timesteps_ == 128 and len(model.history_) == 2
    model.learn(64, lambda m, s: False, progress_bar=False)
    assert model.num_timesteps_ == 192 and len(model.history_) == 3
    assert model.history_[-1]["timesteps"] == 192


def test_cartpole_improves_on_a_short_budget():
    # The mean return of the first 10 episodes (random policy: about 20) against the last 10
    # after 3k steps; fixed seed, and the gap is many standard errors wide in practice.
    model = NPG("CartPole-v1", seed=0, n_steps=256).learn(3072, progress_bar=False)
    returns = model.episode_returns_
    assert returns[-10:].mean() > 2 * returns[:10].mean()


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_save_load_round_trip(tmp_path, env_id):
    model = NPG(env_id, seed=2, **SMALL).learn(128, progress_bar=False)
    path = model.save(tmp_path / "model.ngr")
    loaded = load(path)
    assert loaded.num_timesteps_ == model.num_timesteps_
    np.testing.assert_array_equal(loaded.episodes_, model.episodes_)
    for net in ("policy_", "value_function_"):
        sa, sb = getattr(model, net).state_dict(), getattr(loaded, net).state_dict()
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    obs = np.stack([model.env_.observation_space.sample() for _ in range(16)])
    np.testing.assert_array_equal(
        model.predict(obs, deterministic=True), loaded.predict(obs, deterministic=True)
    )
    assert loaded.max_kl == model.max_kl and loaded.n_steps == model.n_steps
    loaded.learn(64, progress_bar=False)  # continues training
    assert loaded.num_timesteps_ == model.num_timesteps_ + 64


def test_custom_module_is_stored_by_weights(tmp_path):
    net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    model = NPG("CartPole-v1", net, seed=0, n_steps=64, vf_epochs=1).learn(64, progress_bar=False)
    path = model.save(tmp_path / "custom.ngr")
    with pytest.raises(ValueError, match="'policy' parameter of natgrad.rl.load"):
        load(path)
    fresh = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    loaded = load(path, policy=fresh)
    assert loaded.policy_ is fresh
    assert torch.equal(fresh[0].weight, net[0].weight)
    with pytest.raises(ModelFileError, match="do not fit"):
        load(path, policy=nn.Sequential(nn.Linear(4, 2)))


def _saved(tmp_path):
    model = NPG("CartPole-v1", seed=3, **SMALL).learn(64, progress_bar=False)
    return model.save(tmp_path / "m.ngr")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda b: b[:-1], "sizes"),
        (lambda b: b + b"\0", "sizes"),
        (lambda b: b"\x00" + b[1:], "magic"),
        (lambda b: b[:8] + (9).to_bytes(4, "little") + b[12:], "version 9"),
        (lambda b: b[:200] + bytes([b[200] ^ 1]) + b[201:], "digest"),
        (lambda b: b[:-40] + bytes([b[-40] ^ 0x80]) + b[-39:], "digest"),
        (lambda b: b[:10], "too short"),
    ],
)
def test_corrupt_files_are_rejected(tmp_path, damage, message):
    path = _saved(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_a_resealed_but_inconsistent_file_is_rejected(tmp_path):
    # A file edited and given a valid digest still fails the structural checks.
    import hashlib
    import json

    from natgrad.rl._io import _PREAMBLE

    path = _saved(tmp_path)
    data = path.read_bytes()
    magic, version, reserved, h, d = _PREAMBLE.unpack_from(data)
    header = json.loads(data[32 : 32 + h])
    header["arrays"]["episodes"]["shape"] = [1, 1]
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    body = data[32 + h : 32 + h + d]
    new = _PREAMBLE.pack(magic, version, reserved, len(head), d) + head + body
    path.write_bytes(new + hashlib.sha256(new).digest())
    with pytest.raises(ModelFileError, match="episodes"):
        load(path)


class _MultiBinaryEnv(gym.Env):
    observation_space = gym.spaces.Box(-1.0, 1.0, (2,))
    action_space = gym.spaces.MultiBinary(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(2, dtype=np.float32), 0.0, True, False, {}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"env": 42}, TypeError, "'env' parameter of NPG must be a gymnasium.Env"),
        ({"env": "NoSuchEnv-v0"}, ValueError, "registered Gymnasium id"),
        ({"env": _MultiBinaryEnv()}, TypeError, "Discrete or gymnasium.spaces.Box action"),
        ({"max_kl": 0.0}, ValueError, r"'max_kl' parameter of NPG must be a float in the range"),
        ({"max_kl": -1}, ValueError, "Got -1 instead"),
        ({"max_kl": float("nan")}, ValueError, "'max_kl'"),
        ({"gamma": 1.5}, ValueError, r"'gamma' parameter of NPG .* \[0, 1\]"),
        ({"n_steps": 1}, ValueError, "'n_steps'"),
        ({"backtrack_ratio": 1.0}, ValueError, "'backtrack_ratio'"),
        ({"seed": -1}, ValueError, "'seed'"),
        ({"policy": "big"}, TypeError, "'policy' parameter of NPG"),
        ({"policy": nn.Linear(4, 3)}, ValueError, "2 columns"),
        ({"value_function": nn.Linear(4, 2)}, ValueError, "values of shape"),
    ],
)
def test_bad_input_gets_clear_errors(kwargs, error, message):
    args = {"env": "CartPole-v1", **kwargs}
    with pytest.raises(error, match=message):
        NPG(**args).learn(64, progress_bar=False)


def test_learn_and_predict_arguments_are_checked():
    model = NPG("CartPole-v1", seed=0)
    with pytest.raises(ValueError, match="call 'learn'"):
        model.predict(np.zeros(4))
    with pytest.raises(ValueError, match="'total_timesteps'"):
        model.learn(0)
    with pytest.raises(TypeError, match="'callback'"):
        model.learn(64, callback=3)
    model.learn(64, progress_bar=False)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        model.predict(np.zeros(3))


def test_predict_shapes_and_bounds():
    cart = NPG("CartPole-v1", seed=0, **SMALL).learn(64, progress_bar=False)
    one = cart.predict(np.zeros(4), deterministic=True)
    assert one.shape == () and one.dtype == np.int64
    assert cart.predict(np.zeros((5, 4))).shape == (5,)
    pend = NPG("Pendulum-v1", seed=0, **SMALL).learn(64, progress_bar=False)
    with torch.no_grad():
        pend.policy_.log_std.fill_(3.0)  # wide samples: clipping must hold them in [-2, 2]
    acts = pend.predict(np.ones((200, 3)))
    assert acts.shape == (200, 1) and acts.dtype == np.float32
    assert acts.min() >= -2.0 and acts.max() <= 2.0 and np.abs(acts).max() == 2.0


def test_learning_curve_png(tmp_path):
    pytest.importorskip("matplotlib")
    model = NPG("CartPole-v1", seed=0, **SMALL).learn(128, progress_bar=False)
    fig = model.plot_learning_curve(tmp_path / "curve.png")
    assert (tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes[0].lines) == 2


def test_import_natgrad_does_not_import_torch_or_gymnasium():
    code = "import sys, natgrad; print('torch' in sys.modules, 'gymnasium' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
