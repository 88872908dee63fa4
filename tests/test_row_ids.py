"""Files with no id column: the sample submission numbers the test rows 1, 2, 3, ... (`row_ids`), and writes the
target in another case than train does (Label for label). `kit new` drafts it, `kit cv` and `kit submission` run
it, and the submission's ids are the test rows' numbers."""

from __future__ import annotations

import csv
import tomllib
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from kit import KitError, competition
from kit.cli import main
from kit.competition import load_competition, with_row_ids
from kit.submit import preflight

FAST = ["--models", "linear", "--folds", "2", "--epochs", "2", "--seeds", "1", "--quiet"]


def numbered(folder: Path, start: int = 1, train_rows: int = 90, test_rows: int = 30) -> Path:
    """Three classes of dots on a 4-pixel strip: train.csv is `label` then the pixels, test.csv the pixels alone,
    sample_submission.csv `ImageId,Label` with ImageId start, start + 1, ... Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    pixels = [f"pixel{i}" for i in range(4)]

    def row(i: int) -> list[int]:
        label = i % 3
        return [label, *(200 if p == label else (i * 7 + p) % 5 for p in range(4))]

    rows = [row(i) for i in range(train_rows + test_rows)]
    with (folder / "train.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["label", *pixels], *rows[:train_rows]])
    with (folder / "test.csv").open("w", newline="") as f:
        csv.writer(f).writerows([pixels, *(r[1:] for r in rows[train_rows:])])
    with (folder / "sample_submission.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["ImageId", "Label"], *([start + i, 0] for i in range(test_rows))])
    return folder


def draft(tmp_path: Path, monkeypatch, capsys, folder: Path) -> tuple[dict, str]:
    monkeypatch.chdir(tmp_path)
    code = main(["new", "digits", "--data-dir", str(folder)])
    err = capsys.readouterr().err
    assert code == 0, err
    text = (tmp_path / "competitions" / "digits.toml").read_text()
    return tomllib.loads(text), text


def test_kit_new_drafts_row_ids_when_the_sample_numbers_the_test_rows_and_the_target_in_trains_case(
    tmp_path, monkeypatch, capsys
):
    raw, text = draft(tmp_path, monkeypatch, capsys, numbered(tmp_path / "data"))
    assert (raw["id"], raw["row_ids"], raw["target"]) == ("ImageId", 1, "label")
    assert raw["submission"]["columns"] == ["ImageId", "Label"]
    assert 'id = "ImageId"  # the id column of the submission\n' in text
    assert "train.csv and test.csv have no ImageId column: a row's id is its row number, from 1" in text
    assert "(the submission writes it Label)" in text


def test_rows_numbered_from_0_draft_row_ids_0(tmp_path, monkeypatch, capsys):
    raw, _ = draft(tmp_path, monkeypatch, capsys, numbered(tmp_path / "data", start=0))
    assert raw["row_ids"] == 0


def test_a_sample_whose_ids_are_not_the_test_rows_numbers_is_one_sentence(tmp_path, monkeypatch, capsys):
    folder = numbered(tmp_path / "data", start=5)
    monkeypatch.chdir(tmp_path)
    assert main(["new", "digits", "--data-dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "the id column ImageId is not in both train.csv and test.csv and the sample's ids are not the test " in err
    assert "Traceback" not in err


def test_the_submission_numbers_the_test_rows_and_passes_the_checks_before_an_upload(tmp_path, monkeypatch, capsys):
    folder = numbered(tmp_path / "data")
    draft(tmp_path, monkeypatch, capsys, folder)
    out = tmp_path / "sub.csv"
    assert main(["submission", "-c", "digits", "--data-dir", str(folder), *FAST, "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["ImageId", "Label"]
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 31)]
    assert {r[1] for r in rows[1:]} <= {"0", "1", "2"}
    comp = load_competition(str(tmp_path / "competitions" / "digits.toml"))
    assert len(preflight(comp, out, folder)) == 64  # kit submit's checks: the ids are the sample's, every one once


def test_an_oof_file_of_numbered_rows_carries_the_training_rows_numbers(tmp_path, monkeypatch, capsys):
    folder = numbered(tmp_path / "data")
    draft(tmp_path, monkeypatch, capsys, folder)
    assert main(["cv", "-c", "digits", "--data-dir", str(folder), *FAST, "--oof", "oof.csv"]) == 0
    rows = list(csv.reader((tmp_path / "oof.csv").open()))
    assert rows[0][0] == "ImageId" and rows[0][-1] == "label"
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(1, 91)]


def test_row_ids_beside_a_column_of_that_name_is_refused_in_one_sentence(tmp_path, monkeypatch, capsys):
    folder = numbered(tmp_path / "data")
    draft(tmp_path, monkeypatch, capsys, folder)
    test = (folder / "test.csv").read_text().splitlines()
    (folder / "test.csv").write_text("\n".join([f"ImageId,{test[0]}", *(f"{i},{r}" for i, r in enumerate(test[1:]))]))
    assert main(["cv", "-c", "digits", "--data-dir", str(folder), *FAST]) == 2
    err = capsys.readouterr().err
    assert "test.csv has a column ImageId, and row_ids says its rows are numbered instead" in err


def test_row_ids_is_0_or_1(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'slug = "c"\nid = "Id"\nrow_ids = 2\ntarget = "y"\n[files]\ntrain = "train.csv"\ntest = "test.csv"\n'
        '[recipes.base]\nnumeric = ["x"]\n'
    )
    with pytest.raises(KitError, match="row_ids must be at most 1, not 2"):
        load_competition(str(path))


@pytest.mark.filterwarnings("error::pandas.errors.PerformanceWarning")
def test_a_wide_file_is_numbered_without_pandas_warning_of_its_many_columns(tmp_path):
    folder = numbered(tmp_path / "data")
    path = folder / "wide.csv"
    pd.DataFrame({f"pixel{i}": [0, i] for i in range(150)}).to_csv(path, index=False)
    comp = replace(load_competition_of(tmp_path, folder), files={"train": "train.csv", "test": "wide.csv"})
    assert competition.test_ids(comp, folder) == ["1", "2"]
    assert with_row_ids(comp, pd.read_csv(path), path)["ImageId"].tolist() == ["1", "2"]


def load_competition_of(tmp_path: Path, folder: Path):
    """The definition `kit new` drafts for the files in folder, loaded."""
    code = main(["new", "digits", "--data-dir", str(folder), "--out", str(tmp_path / "digits.toml")])
    assert code == 0
    return load_competition(str(tmp_path / "digits.toml"))
