"""Compatibility layers that let code written for other libraries run on natgrad.

`natgrad.compat.ngboost` is a drop-in for NGBoost's public API (``NGBRegressor``,
``NGBClassifier``, ``NGBSurvival``, the distribution names and the scores): changing the
import line is enough to move NGBoost code onto natgrad's boosting engine.
"""
