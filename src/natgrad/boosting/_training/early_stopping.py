"""Early stopping on a validation set: the best stage and when to stop."""

from __future__ import annotations

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Tracks the validation loss after each stage.

    A stage improves on the best loss when it lowers it by more than ``tol``; the fit stops
    after ``n_iter_no_change`` stages in a row without an improvement (never when it is
    None). ``best_stage`` is the number of stages of the best loss (0: the initial fit).

    Parameters
    ----------
    initial_loss : float
        The validation loss of θ⁽⁰⁾ (of the fitted model's first ``initial_stage`` stages
        when a fit continues one).
    n_iter_no_change : int or None
    tol : float
    initial_stage : int, default=0
        The number of stages ``initial_loss`` belongs to.
    """

    def __init__(
        self,
        initial_loss: float,
        n_iter_no_change: int | None,
        tol: float,
        initial_stage: int = 0,
    ) -> None:
        self.best_loss = initial_loss
        self.best_stage = initial_stage
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self._stale = 0

    def update(self, loss: float, n_stages: int) -> bool:
        """Record the loss after ``n_stages`` stages; True when the fit should stop."""
        if loss < self.best_loss - self.tol:
            self.best_loss, self.best_stage, self._stale = loss, n_stages, 0
        else:
            self._stale += 1
        return self.n_iter_no_change is not None and self._stale >= self.n_iter_no_change
