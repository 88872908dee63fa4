"""The submission check in bulk (Task.all_cells_valid, and check_submission's fast path) passes a file exactly when
the row-by-row check passes every row: it may only be faster, never more lenient."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kit import KitError
from kit.submission import check_submission
from kit.task import make_task

TASKS = {
    "labels": make_task("binary", "accuracy", ("0", "1"), ("id", "y")),
    "probability": make_task("binary", "roc_auc", ("0", "1"), ("id", "y")),
    "values": make_task("regression", "rmse", (), ("id", "y")),
    "logs": make_task("regression", "rmsle", (), ("id", "y")),
    "whole": make_task("regression", "qwk", (), ("id", "y")),
    "classes": make_task("multiclass", "log_loss", ("a", "b", "c"), ("id", "a", "b", "c")),
    "ranked": make_task("multiclass", "map_at_3", ("a", "b", "c", "d"), ("id", "y")),
}
# cells near every rule's edge: empty, nan, inf, text, whole and not, below 0, above 1, sums off 1, spacing
CELLS = ["", "nan", "NaN", "inf", "-inf", "x", "a", "b", "c", "d", "0", "1", "2", "-1", "0.5", "1.5", "-0.0", " 0.3",
         "1e3", "1_0", "0.3333333", "0.3333334", "a b", "a  b", "a b c d", "b a", "a a", " a", "0.0", "1.0"]  # fmt: skip


def _valid_row_by_row(task, rows) -> bool:
    return all(task.check_cells(row) is None for row in rows)


@pytest.mark.parametrize("name", sorted(TASKS))
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_the_bulk_check_passes_a_file_exactly_when_every_row_passes(name, data):
    task = TASKS[name]
    width = 3 if name == "classes" else 1  # the cells after the id
    rows = data.draw(st.lists(st.lists(st.sampled_from(CELLS), min_size=width, max_size=width), max_size=6))
    if name == "classes" and data.draw(st.booleans()):  # rows that sum to 1, the common case
        rows = [[f"{p:.7f}" for p in (a / 10, b / 10, 1 - a / 10 - b / 10)] for a, b in data.draw(
            st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=6))]  # fmt: skip
    columns = [tuple(row[j] for row in rows) for j in range(width)]
    assert task.all_cells_valid(columns) == _valid_row_by_row(task, rows)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("1,0\n2,1\n3,1\n", None),
        ("1,0\n1,1\n3,1\n", "appears twice in the submission (line 3)"),
        ("1,0\n2,1\n4,1\n", "(line 4) is not in the test file"),
        ("1,0\n2,1,5\n3,1\n", "line 3 of the submission has 3 fields"),
        ("1,0\n2,\n3,1\n", "(line 3) has no prediction"),
        ("1,0\n2,1\n3,yes\n", "(line 4) has 'yes'; the only allowed values"),
    ],
)
def test_a_file_the_bulk_check_doubts_is_refused_naming_its_first_bad_line(body, why):
    comp = SimpleNamespace(columns=("id", "y"))
    if why is None:
        check_submission(comp, TASKS["labels"], "id,y\n" + body, ["1", "2", "3"])
        return
    with pytest.raises(KitError, match=re.escape(why)):
        check_submission(comp, TASKS["labels"], "id,y\n" + body, ["1", "2", "3"])
