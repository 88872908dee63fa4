"""kit: a Kaggle competition workflow, from download to a scored submission.

Importing kit is cheap: torch, pandas, scikit-learn and the kaggle client are imported
only by the commands that need them.
"""

__version__ = "0.1.0"


class KitError(Exception):
    """A problem the user can fix; the CLI prints it as one sentence and exits with 2."""
