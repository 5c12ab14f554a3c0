"""The scoring rules known by name: one explicit table, built after every rule is defined.

Each rule's module only defines its class; this module imports them and lists them, so no
module registers itself as a side effect of being imported and the rule modules do not import
each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from natgrad.scores._base import LogScore, Score
from natgrad.scores._crps import CRPScore

#: The scoring rules by name, read-only (``"log"``, ``"crps"``). The censored log score is not
#: here: it takes survival targets, and `NGBoostSurvival` uses it whatever rule it is given.
SCORES: Mapping[str, type[Score]] = MappingProxyType(
    {LogScore.name: LogScore, CRPScore.name: CRPScore}
)


def get_score(score: str | Score) -> Score:
    """A scoring rule by name (``"log"`` or ``"crps"``), or an instance passed through.

    Parameters
    ----------
    score : str or Score
        A name in `SCORES`, or a `Score` instance (returned as it is).

    Returns
    -------
    Score

    Examples
    --------
    >>> from natgrad.scores import SCORES, get_score
    >>> sorted(SCORES)
    ['crps', 'log']
    >>> get_score("crps")
    CRPScore()
    """
    if isinstance(score, Score):
        return score
    if not isinstance(score, str) or score not in SCORES:
        raise ValueError(
            f"The 'score' argument must be one of {', '.join(repr(s) for s in SCORES)}. "
            f"Got {score!r} instead."
        )
    return SCORES[score]()
