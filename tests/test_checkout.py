"""The suite's own guard: a listing of a checkout's output folders notices what a test left there."""

from __future__ import annotations

import os

from conftest import changed, output_listing


def test_the_listing_notices_a_new_a_changed_and_a_removed_file_and_an_empty_folder(tmp_path):
    runs = tmp_path / "submissions" / "titanic" / "runs.json"
    runs.parent.mkdir(parents=True)
    runs.write_text("[]\n")
    before = output_listing(tmp_path)
    assert changed(before, output_listing(tmp_path)) == []

    runs.write_text('[{"cv_mean": 0.8}]\n')  # a test appended a run
    assert changed(before, output_listing(tmp_path)) == ["submissions/titanic/runs.json"]
    runs.unlink()
    (tmp_path / "data").mkdir()  # a failed fetch left an empty folder
    assert "data" in changed(before, output_listing(tmp_path))
    assert "submissions/titanic/runs.json" in changed(before, output_listing(tmp_path))


def test_a_file_rewritten_with_the_same_size_is_noticed_by_its_time(tmp_path):
    notebook = tmp_path / "build" / "notebook" / "titanic.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("a")
    before = output_listing(tmp_path)
    notebook.write_text("b")
    os.utime(notebook, ns=(1, 1))  # a later write, whatever the clock's resolution
    assert changed(before, output_listing(tmp_path)) == ["build/notebook/titanic.ipynb"]
