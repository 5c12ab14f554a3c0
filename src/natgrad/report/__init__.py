"""A visual report of a fitted natural-gradient boosting model: one self-contained HTML file.

`write_report` (regression), `write_classification_report` and `write_survival_report` write
the page; `summarize_data` describes the training data for it. Every figure is a ``<figure>``
element whose ``id`` is one of `FIGURE_IDS` (`CLASSIFICATION_FIGURE_IDS`,
`SURVIVAL_FIGURE_IDS`). matplotlib is imported only while a report is written.
"""

from natgrad.report._pages import (
    CLASSIFICATION_FIGURE_IDS,
    FIGURE_IDS,
    SURVIVAL_FIGURE_IDS,
    summarize_data,
    write_classification_report,
    write_report,
    write_survival_report,
)

__all__ = [
    "CLASSIFICATION_FIGURE_IDS",
    "FIGURE_IDS",
    "SURVIVAL_FIGURE_IDS",
    "summarize_data",
    "write_classification_report",
    "write_report",
    "write_survival_report",
]
