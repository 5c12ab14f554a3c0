"""Reinforcement learning by the natural policy gradient (needs ``natgrad[rl]``).

`NPG` trains a policy on a Gymnasium environment with natural-gradient steps inside a KL
trust region (TRPO's update): the Fisher is that of the policy's action distribution
(`natgrad.nn.Categorical` for discrete actions, `natgrad.nn.Normal` for continuous ones),
pulled back through the network by `natgrad.nn.Fisher`. `load` reads a saved model.
"""

from natgrad.rl._npg import NPG, load

__all__ = ["NPG", "load"]
