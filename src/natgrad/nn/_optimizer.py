"""`NaturalGradient`: a PyTorch optimizer that steps along −(F + λI)⁻¹∇L."""

from __future__ import annotations

import logging
import math
from typing import Any, NamedTuple

import torch
from torch import Tensor, nn

from natgrad._validation import describe
from natgrad.nn._cg import conjugate_gradient
from natgrad.nn._fisher import Fisher, model_jvp
from natgrad.nn._kfac import KFAC
from natgrad.nn._likelihoods import Likelihood, get_likelihood
from natgrad.nn._params import as_input_tuple, flatten, trainable_parameters, unflatten

__all__ = ["NaturalGradient"]

logger = logging.getLogger(__name__)

_CURVATURES = ("cg", "kfac", "diagonal", "dense")
_FISHER_KINDS = ("exact", "mc", "empirical")
# Levenberg–Marquardt: shrink λ when the quadratic model predicts the loss well (ρ > 3/4),
# grow it when it does not (ρ < 1/4); Martens (2010) uses the same thresholds.
_RHO_GOOD, _RHO_BAD = 0.75, 0.25
_DAMPING_DOWN, _DAMPING_UP = 2.0 / 3.0, 1.5
_MIN_DAMPING, _MAX_DAMPING = 1e-8, 1e8


def _check_float(
    value: Any, name: str, low: float, high: float, *, closed_low: bool = False
) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and (value >= low if closed_low else value > low)
        and value < high
    )
    if not ok:
        bracket = "[" if closed_low else "("
        raise ValueError(
            f"The {name!r} parameter of NaturalGradient must be a float in the range "
            f"{bracket}{low}, {high}). Got {describe(value)} instead."
        )
    return float(value)


def _check_int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(
            f"The {name!r} parameter of NaturalGradient must be an int in the range "
            f"[{low}, inf). Got {describe(value)} instead."
        )
    return value


def _check_choice(value: Any, name: str, choices: tuple[str, ...], or_none: bool = False) -> None:
    if value not in choices:
        raise ValueError(
            f"The {name!r} parameter of NaturalGradient must be one of "
            f"{', '.join(repr(c) for c in choices)}{' or None' if or_none else ''}. Got "
            f"{describe(value)} instead."
        )


def _generator(random_state: int | torch.Generator | None, device: torch.device) -> torch.Generator:
    """``random_state`` as a generator on ``device`` (None: seeded from torch's global one)."""
    if isinstance(random_state, torch.Generator):
        return random_state
    if random_state is None:
        seed = int(torch.randint(0, 2**62, ()))
    else:
        seed = _check_int(random_state, "random_state", 0)
    return torch.Generator(device=device).manual_seed(seed)


class _Proposal(NamedTuple):
    """A step before it is tried: s = α d (+ μ s_prev), scaled into the KL budget."""

    step: Tensor  # s, flat, shape (n_params,)
    alpha: float  # α before any scaling
    q_ss: float  # (1/n) Σᵢ (Jᵢs)ᵀ F_out,ᵢ (Jᵢs): twice the predicted KL
    g_s: float  # gᵀs
    budget: float | None  # m·max_kl, or None


class _Trial(NamedTuple):
    """The step as applied: its factor (1/2 per backtrack) and what it measured."""

    shrink: float
    backtracks: int
    new_loss: float
    kl: float
    ok_finite: bool
    ok_kl: bool
    finite_step: bool


class NaturalGradient(torch.optim.Optimizer):
    """Natural-gradient descent for a model with a likelihood, with a KL trust region.

    Each `step` on a batch computes the loss L (mean negative log-likelihood), its
    gradient g and a direction Δ = −(C + λI)⁻¹ g from a curvature C of the Fisher
    F = (1/n) Σᵢ Jᵢᵀ F_out,ᵢ Jᵢ (see `Fisher`), then

    1. the step s = αΔ + μ s_prev (μ = ``momentum``). With ``lr=None`` the coefficient α
       minimises the damped quadratic model gᵀs + ½ sᵀ(F + λI)s along Δ, with F the exact
       Fisher (one forward-mode pass); otherwise α = ``lr``;
    2. the KL trust region, with the budget δ = m·``max_kl`` for rows of m independent
       output distributions (`Likelihood.n_variables`: 1 for categorical, one per pixel of
       a Bernoulli image): s is scaled so that the predicted mean KL ½ sᵀF s ≤ δ; the
       *realised* mean KL between the output distributions before and after the step on
       the batch is then measured, and the step halved (parameters restored each time) while
       it exceeds δ·(1 + kl_tolerance);
    3. the step is kept if the batch loss went down; otherwise (or if anything is
       non-finite) the parameters are restored and λ raised;
    4. Levenberg–Marquardt damping: ρ = (L_new − L)/(gᵀs + ½ sᵀF s); λ ← ⅔λ when ρ > ¾,
       λ ← 1.5λ when ρ < ¼ (``adaptive_damping``).

    With ``weight_decay`` = η > 0 the objective is L + ½η‖w‖² (a Gaussian prior of
    precision η on the weights, the MAP estimate): its gradient g + ηw and its curvature
    C + ηI (the prior's Fisher is ηI) replace g and C above, so η also acts as a floor
    under the damping that adaptive damping cannot lower. The acceptance test and ρ use
    the regularised objective; the trust region (a bound on how far the *outputs* move)
    is unchanged.

    Curvatures (``curvature``):

    * ``"cg"``: conjugate gradient on (F + λI)d = g with Fisher–vector products,
      warm-started from the previous solution, at most ``cg_max_iter`` products;
    * ``"kfac"``: Kronecker factors for `nn.Linear` and `nn.Conv2d` (moving averages,
      eigendecompositions every ``update_every`` steps, π-corrected damping); other
      parameters use the diagonal Fisher (with a one-time warning naming them);
    * ``"diagonal"``: the diagonal of the Fisher (moving average), the natural-gradient
      counterpart of Adam's second moments. With ``fisher="mc"`` (its default) it is the
      unbiased estimate (1/n)(Σᵢ εᵢ ∇nll(zᵢ, ŷᵢ))² from one backward pass per draw (ŷ drawn
      from the model, εᵢ random signs that cancel the cross terms between rows); with
      ``fisher="exact"`` the exact diagonal (one per-example pass per column of F_out's
      square root);
    * ``"dense"``: Cholesky of the full damped Fisher (up to ``max_dense_params``).

    Parameters
    ----------
    model : torch.nn.Module
        Maps a batch of inputs to outputs of shape (n, d) for ``likelihood``.
    likelihood : str or Likelihood
    lr : float or None, default=None
        None: step length from the quadratic model (recommended); a float fixes α.
    curvature : {"cg", "kfac", "diagonal", "dense"}, default="cg"
    damping : float, default=1e-3
        Initial Tikhonov damping λ > 0.
    adaptive_damping : bool, default=True
    max_kl : float or None, default=0.03
        KL budget per step and per output variable: the mean over the batch of
        KL(p_old ‖ p_new) may reach m·max_kl when a row holds m independent output
        distributions (`Likelihood.n_variables`). A row's KL is a sum over its variables,
        so a per-row budget would shrink the step as the output dimension grows; per
        variable, replicating the outputs leaves the step unchanged. None: no budget.
    momentum : float, default=0.0
        μ in [0, 1).
    weight_decay : float, default=0.0
        η ≥ 0: L2 penalty ½η‖w‖² on every trainable parameter, added to the loss, its
        gradient and its curvature (see above). Unlike Adam's weight decay, it is
        preconditioned with the data's Fisher.
    fisher : {"exact", "mc", "empirical"} or None, default=None
        Estimator of the curvature: None means "exact" for ``"cg"``/``"dense"`` and "mc"
        (targets drawn from the model) for ``"kfac"``/``"diagonal"``. The quadratic model
        and the trust region always use the exact Fisher.
    n_samples : int, default=1
        Targets drawn per example for ``fisher="mc"``.
    cg_max_iter : int, default=20
    cg_tol : float, default=1e-3
        Relative residual at which CG stops.
    ema_decay : float, default=0.95
        Moving-average decay of K-FAC factors and of the diagonal.
    update_every : int, default=10
        K-FAC eigendecompositions are refreshed every this many steps.
    kl_tolerance : float, default=0.25
    max_backtracks : int, default=8
    max_dense_params : int, default=5000
    random_state : int, torch.Generator or None, default=None
        Source of the targets drawn for ``fisher="mc"``; None seeds one from torch's
        global generator.

    Attributes
    ----------
    last_stats : dict
        Statistics of the last step: ``loss``, ``new_loss``, ``kl`` (realised mean KL
        per row), ``predicted_kl``, ``kl_budget`` (m·max_kl, or None), ``rho``,
        ``damping`` (λ used), ``next_damping``, ``alpha``, ``cg_iters``, ``cg_residuals``,
        ``step_norm``, ``backtracks``, ``status`` (``"accepted"``, ``"rejected"`` (loss
        went up), ``"non_finite"``, ``"kl_exceeded"``).

    Examples
    --------
    >>> import torch
    >>> from natgrad.nn import NaturalGradient
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    >>> opt = NaturalGradient(model, "categorical")
    >>> x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    >>> loss = opt.step(x, y)
    """

    def __init__(
        self,
        model: nn.Module,
        likelihood: str | Likelihood,
        *,
        lr: float | None = None,
        curvature: str = "cg",
        damping: float = 1e-3,
        adaptive_damping: bool = True,
        max_kl: float | None = 0.03,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        fisher: str | None = None,
        n_samples: int = 1,
        cg_max_iter: int = 20,
        cg_tol: float = 1e-3,
        ema_decay: float = 0.95,
        update_every: int = 10,
        kl_tolerance: float = 0.25,
        max_backtracks: int = 8,
        max_dense_params: int = 5000,
        random_state: int | torch.Generator | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(
                "The 'model' parameter of NaturalGradient must be a torch.nn.Module. "
                f"Got {type(model).__name__} instead."
            )
        self.model = model
        self.likelihood = get_likelihood(likelihood, "NaturalGradient")
        if lr is not None:
            _check_float(lr, "lr", 0.0, math.inf)
        _check_choice(curvature, "curvature", _CURVATURES)
        if fisher is not None:
            _check_choice(fisher, "fisher", _FISHER_KINDS, or_none=True)
        if max_kl is not None:
            _check_float(max_kl, "max_kl", 0.0, math.inf)
        if not isinstance(adaptive_damping, bool):
            raise TypeError(
                "The 'adaptive_damping' parameter of NaturalGradient must be a bool. "
                f"Got {describe(adaptive_damping)} instead."
            )
        self.curvature = curvature
        self.damping = _check_float(damping, "damping", 0.0, math.inf)
        self.adaptive_damping = adaptive_damping
        self.max_kl = max_kl
        self.momentum = _check_float(momentum, "momentum", 0.0, 1.0, closed_low=True)
        self.weight_decay = _check_float(
            weight_decay, "weight_decay", 0.0, math.inf, closed_low=True
        )
        self.fisher = fisher or ("exact" if curvature in ("cg", "dense") else "mc")
        self.n_samples = _check_int(n_samples, "n_samples", 1)
        self.cg_max_iter = _check_int(cg_max_iter, "cg_max_iter", 1)
        self.cg_tol = _check_float(cg_tol, "cg_tol", 0.0, 1.0)
        self.ema_decay = _check_float(ema_decay, "ema_decay", 0.0, 1.0, closed_low=True)
        self.update_every = _check_int(update_every, "update_every", 1)
        self.kl_tolerance = _check_float(
            kl_tolerance, "kl_tolerance", 0.0, math.inf, closed_low=True
        )
        self.max_backtracks = _check_int(max_backtracks, "max_backtracks", 0)
        self.max_dense_params = _check_int(max_dense_params, "max_dense_params", 1)
        self._params = trainable_parameters(model)
        if not self._params:
            raise ValueError(
                "The 'model' parameter of NaturalGradient must have trainable parameters "
                "(requires_grad=True). Got none."
            )
        n_params = sum(p.numel() for p in self._params.values())
        if curvature == "dense" and n_params > self.max_dense_params:
            raise ValueError(
                "curvature='dense' needs a model with at most max_dense_params="
                f"{self.max_dense_params} trainable parameters. Got {n_params}; use 'cg' or "
                "'kfac'."
            )
        first = next(iter(self._params.values()))
        self.generator = _generator(random_state, first.device)
        super().__init__(list(self._params.values()), {"lr": lr})
        # The diagonal from sampled targets uses the same machinery with no Kronecker
        # blocks: one backward pass per draw instead of one per example.
        self._kfac = None
        if curvature == "kfac" or (curvature == "diagonal" and self.fisher != "exact"):
            self._kfac = KFAC(model, self._params, blocks=curvature == "kfac")
        self._diag: Tensor | None = None
        self._prev_step: Tensor | None = None
        self._warm: Tensor | None = None
        self._steps = 0
        self.last_stats: dict[str, Any] = {}

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:  # type: ignore[override]
        """Everything a resumed run needs: damping, step count, momentum, curvature state."""
        kfac = None
        if self._kfac is not None:
            kfac = {
                "blocks": {b.name: b.state() for b in self._kfac},
                "diag": dict(self._kfac.diag),
            }
        return {
            "lr": self.param_groups[0]["lr"],
            "damping": self.damping,
            "steps": self._steps,
            "prev_step": self._prev_step,
            "warm": self._warm,
            "diag": self._diag,
            "kfac": kfac,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:  # type: ignore[override]
        """Restore a `state_dict` (of an optimizer built for the same model)."""
        self.param_groups[0]["lr"] = state_dict["lr"]
        self.damping = float(state_dict["damping"])
        self._steps = int(state_dict["steps"])
        self._prev_step = state_dict["prev_step"]
        self._warm = state_dict["warm"]
        self._diag = state_dict["diag"]
        self.generator.set_state(state_dict["generator"])
        if self._kfac is not None and state_dict["kfac"] is not None:
            blocks = state_dict["kfac"]["blocks"]
            for block in self._kfac:
                block.load(blocks[block.name])
            self._kfac.diag = dict(state_dict["kfac"]["diag"])

    # ------------------------------------------------------------------ the step
    def step(self, inputs: Any, targets: Any) -> Tensor:  # type: ignore[override]
        """One natural-gradient step on a batch; returns the loss before the step.

        Parameters
        ----------
        inputs : Tensor or tuple of Tensor
            The model's positional inputs, batch axis first (n examples).
        targets : Tensor
            Targets in the likelihood's layout (e.g. labels of shape (n,)).

        Returns
        -------
        Tensor
            The mean negative log-likelihood on the batch before the step (a scalar).
        """
        where = "NaturalGradient.step"
        x = as_input_tuple(inputs, where)
        plist = list(self._params.values())
        damping = self.damping
        # The L2 prior's curvature ηI adds to the damping in the solve and the quadratic model.
        wd = self.weight_decay
        total_damping = damping + wd

        outputs, y, loss, grad, direction, cg_info = self._direction(x, targets, total_damping)
        out0 = outputs.detach()
        prop = self._propose(x, out0, grad, direction, total_damping)

        # Apply, measure, backtrack.
        old = [p.detach().clone() for p in plist]
        trial = self._try(x, y, out0, old, prop)
        shrink = trial.shrink
        predicted = shrink * prop.g_s + 0.5 * shrink**2 * prop.q_ss
        loss_value = float(loss.detach())
        # Change of the objective L + ½η‖w‖²: the penalty's change η wᵀs + ½η‖s‖² is exact.
        change = trial.new_loss - loss_value
        if wd > 0 and trial.finite_step:
            applied = shrink * prop.step
            w_s = sum(
                float((p0 * d).sum()) for p0, d in zip(old, unflatten(applied, plist), strict=True)
            )
            s_s = float(applied @ applied)
            change += wd * w_s + 0.5 * wd * s_s
            predicted += 0.5 * wd * s_s
        rho = change / predicted if predicted < 0 else math.nan
        status = "accepted"
        if not (trial.ok_finite and trial.ok_kl):
            status = "non_finite" if not trial.ok_finite else "kl_exceeded"
        elif change > 0:
            status = "rejected"
        self._settle(status, rho, damping, old, shrink * prop.step)
        self._steps += 1
        self.last_stats = {
            "loss": loss_value,
            "new_loss": trial.new_loss if status == "accepted" else loss_value,
            "kl": trial.kl if status == "accepted" else 0.0,
            "predicted_kl": shrink**2 * (0.5 * prop.q_ss),
            "kl_budget": prop.budget,
            "rho": rho,
            "damping": damping,
            "next_damping": self.damping,
            "alpha": prop.alpha * shrink,
            "cg_iters": cg_info[0],
            "cg_residuals": cg_info[1],
            "step_norm": float(torch.linalg.vector_norm(shrink * prop.step))
            if status == "accepted"
            else 0.0,
            "backtracks": trial.backtracks,
            "status": status,
        }
        return loss.detach()

    def _propose(
        self,
        x: tuple[Tensor, ...],
        out0: Tensor,
        grad: Tensor,
        direction: Tensor,
        total_damping: float,
    ) -> _Proposal:
        """The step s = α d (+ μ s_prev) with α from the exact Fisher's quadratic model (or
        ``lr``), scaled into the KL budget.

        The quadratic model takes one forward-mode pass per direction:
        q(a, b) = (1/n) Σᵢ (Jᵢa)ᵀ F_out,ᵢ (Jᵢb).
        """
        lik = self.likelihood
        params = self._params
        plist = list(params.values())
        n = out0.shape[0]
        detached = {k: p.detach() for k, p in params.items()}
        j_dir = model_jvp(self.model, detached, x, unflatten(direction, plist))
        f_dir = lik._fisher_mv(out0, j_dir)
        q_dd = float((j_dir * f_dir).sum() / n)
        g_d = float(grad @ direction)
        prev = self._prev_step if self.momentum > 0 else None
        lr = self.param_groups[0]["lr"]
        num = g_d
        if prev is not None:
            j_prev = model_jvp(self.model, detached, x, unflatten(prev, plist))
            q_dp = float((j_prev * f_dir).sum() / n)
            num += self.momentum * (q_dp + total_damping * float(direction @ prev))
        if lr is None:
            den = q_dd + total_damping * float(direction @ direction)
            alpha = max(-num / den, 0.0) if den > 0 and math.isfinite(num / den) else 0.0
        else:
            alpha = float(lr)
        step = alpha * direction
        j_step = alpha * j_dir
        if prev is not None:
            step = step + self.momentum * prev
            j_step = j_step + self.momentum * j_prev
        q_ss = float((j_step * lik._fisher_mv(out0, j_step)).sum() / n)
        g_s = float(grad @ step)
        # The budget is per output variable: a row of m independent distributions (64 pixels
        # of an autoencoder) gets m·max_kl, so that the step does not shrink as m grows.
        budget = None
        if self.max_kl is not None:
            budget = self.max_kl * lik.n_variables(int(out0.shape[1]))
        if budget is not None and 0.5 * q_ss > budget:
            scale = math.sqrt(budget / (0.5 * q_ss))
            step, q_ss, g_s = step * scale, q_ss * scale**2, g_s * scale
        return _Proposal(step, alpha, q_ss, g_s, budget)

    def _try(
        self,
        x: tuple[Tensor, ...],
        y: Tensor,
        out0: Tensor,
        old: list[Tensor],
        prop: _Proposal,
    ) -> _Trial:
        """Apply the step from the parameters ``old``, halving it until the loss and the KL
        are finite and the KL is within the budget's tolerance (at most ``max_backtracks``
        times); the model's buffers are restored, the parameters left at the last trial."""
        lik = self.likelihood
        plist = list(self._params.values())
        step, budget = prop.step, prop.budget
        # Trial forward passes must not move running statistics (batch norm in training mode).
        buffers = [(b, b.clone()) for b in self.model.buffers()]
        shrink, backtracks = 1.0, 0
        new_loss = kl = math.nan
        finite_step = bool(torch.isfinite(step).all())
        while True:
            if finite_step:
                with torch.no_grad():
                    for p, p0, s in zip(plist, old, unflatten(shrink * step, plist), strict=True):
                        p.copy_(p0 + s)
                    new_out = self.model(*x)
                    new_loss = float(lik._nll(new_out, y).mean())
                    kl = float(lik._kl(out0, new_out).mean())
            ok_finite = finite_step and math.isfinite(new_loss) and math.isfinite(kl)
            ok_kl = budget is None or (ok_finite and kl <= budget * (1.0 + self.kl_tolerance))
            if (ok_finite and ok_kl) or backtracks >= self.max_backtracks or not finite_step:
                break
            shrink *= 0.5
            backtracks += 1
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        return _Trial(shrink, backtracks, new_loss, kl, ok_finite, ok_kl, finite_step)

    def _settle(
        self, status: str, rho: float, damping: float, old: list[Tensor], applied: Tensor
    ) -> None:
        """Keep the step (``applied``) or restore the parameters ``old``, and set the next
        damping: Levenberg–Marquardt's rule on ρ when the step is kept, raised when not."""
        if status != "accepted":
            with torch.no_grad():
                for p, p0 in zip(self._params.values(), old, strict=True):
                    p.copy_(p0)
            self._prev_step = None
            factor = _DAMPING_UP**2 if status == "non_finite" else _DAMPING_UP
            next_damping = damping * factor
            if status == "non_finite":
                logger.warning(
                    "NaturalGradient: non-finite step or loss; parameters restored, damping "
                    "raised to %.3g.",
                    next_damping,
                )
        else:
            self._prev_step = applied
            next_damping = damping
            if self.adaptive_damping and math.isfinite(rho):
                if rho > _RHO_GOOD:
                    next_damping = damping * _DAMPING_DOWN
                elif rho < _RHO_BAD:
                    next_damping = damping * _DAMPING_UP
        if self.adaptive_damping or status == "non_finite":
            self.damping = min(max(next_damping, _MIN_DAMPING), _MAX_DAMPING)

    # ------------------------------------------------------------------ directions
    def _direction(
        self, x: tuple[Tensor, ...], targets: Any, damping: float
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, tuple[int, list[float]]]:
        """Outputs, checked targets, loss, flat gradient g (of the objective, with the L2
        term), flat direction −(C + λI)⁻¹g (``damping`` λ includes the weight decay)."""
        where = "NaturalGradient.step"
        lik = self.likelihood
        plist = list(self._params.values())
        cg_info: tuple[int, list[float]] = (0, [])
        if self._kfac is not None:
            self._kfac.attach()
            self._kfac.capturing = True
            try:
                outputs = self.model(*x)
            finally:
                self._kfac.capturing = False
            outputs = lik.check_outputs(outputs, where)
            y = lik.check_targets(outputs, targets, where)
            loss = self._loss(outputs, y)
            grads = torch.autograd.grad(loss, plist, retain_graph=True)
            if self.weight_decay > 0:
                wd = self.weight_decay
                grads = tuple(g + wd * p.detach() for g, p in zip(grads, plist, strict=True))
            grad = flatten(grads)
            vectors = self._output_vectors(outputs.detach(), y)
            self._kfac.update(outputs, vectors, self._params, self.ema_decay, self.generator)
            if self._steps % self.update_every == 0:
                self._kfac.refresh()
            return outputs, y, loss, grad, -self._kfac_solve(list(grads), damping), cg_info
        op = Fisher(
            self.model,
            lik,
            x,
            kind=self.fisher,
            n_samples=self.n_samples,
            generator=self.generator,
        )
        if self.fisher == "empirical":
            op.targets = targets
        outputs = op.outputs
        y = lik.check_targets(outputs, targets, where)
        loss = self._loss(outputs, y)
        grad = flatten(op.vjp(lik._grad(outputs, y) / outputs.shape[0]))
        if self.weight_decay > 0:
            grad = grad + self.weight_decay * flatten([p.detach() for p in plist])
        if self.curvature == "dense":
            mat = op.dense()
            mat = mat + damping * torch.eye(mat.shape[0], dtype=mat.dtype, device=mat.device)
            chol, info = torch.linalg.cholesky_ex(mat)
            if int(info) == 0:
                solution = torch.cholesky_solve(grad[:, None], chol)[:, 0]
            else:
                solution = torch.linalg.lstsq(mat, grad[:, None]).solution[:, 0]
        elif self.curvature == "cg":
            solution, residuals = conjugate_gradient(
                lambda v: flatten(op._mv_list(unflatten(v, plist))),
                grad,
                damping=damping,
                x0=self._warm,
                max_iter=self.cg_max_iter,
                rtol=self.cg_tol,
            )
            self._warm = solution.detach()
            cg_info = (len(residuals) - 1, residuals)
        else:
            diag = op.diagonal()
            if self._diag is None:
                self._diag = diag
            else:
                self._diag = self.ema_decay * self._diag + (1 - self.ema_decay) * diag
            solution = grad / (self._diag + damping)
        return outputs, y, loss, grad, -solution, cg_info

    def _loss(self, outputs: Tensor, y: Tensor) -> Tensor:
        loss = self.likelihood._nll(outputs, y).mean()
        if not torch.isfinite(loss):
            raise ValueError(
                "The loss of NaturalGradient.step at the current parameters must be finite. "
                f"Got {float(loss)} instead (check the inputs for NaN/inf and the model for "
                "overflow)."
            )
        return loss

    def _output_vectors(self, outputs: Tensor, y: Tensor) -> list[Tensor]:
        """Output-space vectors u with Mᵢ = Σᵤ uᵢuᵢᵀ for K-FAC's statistics."""
        lik = self.likelihood
        if self.fisher == "exact":
            b = lik._fisher_sqrt(outputs)
            return [b[:, :, k] for k in range(b.shape[2])]
        if self.fisher == "empirical":
            return [lik._grad(outputs, y)]
        scale = 1.0 / math.sqrt(self.n_samples)
        return [
            scale * lik._grad(outputs, lik._sample(outputs, self.generator))
            for _ in range(self.n_samples)
        ]

    def _kfac_solve(self, grads: list[Tensor], damping: float) -> Tensor:
        kfac = self._kfac
        if kfac is None:
            raise RuntimeError("K-FAC state is missing.")
        by_name = dict(zip(self._params, grads, strict=True))
        index = {id(p): k for k, p in self._params.items()}
        out: dict[str, Tensor] = {}
        for block in kfac:
            names = [index[id(p)] for p in block.params]
            for k, v in zip(names, block.solve([by_name[k] for k in names], damping), strict=True):
                out[k] = v
        for k in kfac.fallback:
            out[k] = by_name[k] / (kfac.diag[k] + damping)
        return flatten([out[k] for k in self._params])
