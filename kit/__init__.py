"""kit: a Kaggle competition workflow, from download to a scored submission.

Importing kit is cheap: torch, pandas and the kaggle client are imported only by the commands that
need them. scikit-learn is not imported at all (its folds are made by kit.folds); the tests use it as an oracle.
"""

__version__ = "0.1.0"


class KitError(Exception):
    """A problem the user can fix. str() is the fact alone, naming no flag; `fix`, when given, names what the
    user can do as a key of the CLI's wordings (kit.fixes.FIXES), with the values that wording needs. The
    CLI prints `error: <fact>; <fix in words>.` and exits with exit_code."""

    exit_code = 2  # 3 (kaggle_client.SentError): the file reached Kaggle, what followed failed

    def __init__(self, fact: str, fix: str | None = None, **values) -> None:
        super().__init__(fact)
        self.fix, self.values = fix, values
