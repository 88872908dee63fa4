"""Extra training rows ([files] extra), such as the original dataset a Playground competition was made from: every
fold trains on them, none is validated, the full fit learns from them, and `kit new` drafts them, commented."""

from __future__ import annotations

import json
import random
import re
import tomllib
from pathlib import Path

import pytest
import torch
from conftest import kit, refused, write_tables

from kit.cli import main
from kit.competition import extra_rows, load_competition, read_train_test
from kit.validation import Plan, split_indices

DEFINITION = """\
slug = "play"
id = "id"
target = "target"
metric = "roc_auc"
[files]
train = "train.csv"
test = "test.csv"
sample_submission = "sample_submission.csv"
{extra}
[recipes.base]
numeric = ["x1", "x2"]
one_hot = ["color"]
count = { color_count = "color" }
"""


def playground(folder: Path, n_train: int = 120, n_test: int = 40, n_extra: int = 60, seed: int = 0) -> Path:
    """A Playground-like folder: train/test/sample (target 1/0) and original.csv, the set they were made from,
    without the id column and with its target written Yes/No."""
    rng = random.Random(seed)

    def row():
        x1, x2, color = round(rng.gauss(0, 1), 3), round(rng.gauss(0, 1), 3), rng.choice(["red", "green", "blue"])
        return x1, x2, color, int(x1 + 0.5 * x2 + (color == "red") + rng.gauss(0, 1) > 0)

    folder.mkdir(parents=True, exist_ok=True)
    train = [row() for _ in range(n_train)]
    test = [row()[:3] for _ in range(n_test)]
    original = [row() for _ in range(n_extra)]
    write_tables(
        folder,
        {
            "train.csv": [["id", "x1", "x2", "color", "target"], *([i, *r] for i, r in enumerate(train))],
            "test.csv": [["id", "x1", "x2", "color"], *([n_train + i, *r] for i, r in enumerate(test))],
            "sample_submission.csv": [["id", "target"], *([n_train + i, 0.5] for i in range(n_test))],
            "original.csv": [["x1", "x2", "color", "target"], *([*r[:3], "Yes" if r[3] else "No"] for r in original)],
        },
    )
    return folder


def define(tmp_path: Path, extra: str = 'extra = ["original.csv"]\n[extra]\nlabels = { Yes = "1", No = "0" }') -> str:
    """competitions/play.toml in tmp_path, with `extra` after [files]; returns its path."""
    path = tmp_path / "competitions" / "play.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    keys, _, table = extra.partition("[extra]")  # [extra] is a table of its own: last, after the recipes
    path.write_text(DEFINITION.replace("{extra}\n", keys.strip() + "\n") + (f"[extra]{table}\n" if table else ""))
    return str(path)


FAST = ["--models", "linear", "--folds", "3", "--epochs", "3", "--quiet"]


def uncommented_cv(tmp_path: Path, monkeypatch, capsys, text: str) -> str:
    """The draft `text` with its extra lines uncommented, as a user would, then `kit cv` on it: its output."""
    uncommented = re.sub(r"(?m)^# (extra = |\[extra\]|labels = |columns = )", r"\1", text)
    (tmp_path / "competitions" / "play.toml").write_text(uncommented)
    return kit(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(tmp_path / "data"), *FAST)


def test_the_extra_rows_follow_the_competitions_with_their_labels_mapped_and_ids_of_their_own(tmp_path):
    folder = playground(tmp_path / "data")
    comp = load_competition(define(tmp_path))
    train, _ = read_train_test(comp, folder, comp.recipe())
    assert (len(train), extra_rows(comp, train)) == (180, 60)
    extra = train.iloc[120:]
    assert extra["id"].tolist()[:2] == ["extra:original.csv:2", "extra:original.csv:3"]  # by their line
    assert train["id"].is_unique
    original = (folder / "original.csv").read_text().splitlines()[1:]
    assert [int(t) for t in extra["target"]] == [1 if line.endswith("Yes") else 0 for line in original]
    assert train["target"].dtype == "int64"  # train's own values, not the text "1"


def test_folds_are_cut_on_the_competitions_rows_and_every_fold_trains_on_every_extra_row():
    y = torch.tensor([0.0, 1.0] * 50 + [1.0] * 30)  # 100 competition rows, then 30 extra ones
    plan = Plan(split="stratified", folds=5, repeats=2)
    folds = split_indices(plan, y, extra=30)
    assert [(t.tolist(), v.tolist()) for t, v in split_indices(plan, y[:100])] == [
        (t[t < 100].tolist(), v.tolist()) for t, v in folds
    ]  # the competition's folds, exactly
    for train_idx, valid_idx in folds:
        assert set(range(100, 130)) <= set(train_idx.tolist())
        assert max(valid_idx.tolist()) < 100
    random_split = split_indices(Plan(split="random"), y, extra=30)
    assert set(range(100, 130)) <= set(random_split[0][0].tolist()) and max(random_split[0][1].tolist()) < 100


def test_fold_scores_are_the_competition_rows_and_the_extra_rows_are_never_validated(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data")
    define(tmp_path)
    out = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert "each fold also trained on 60 extra rows (original.csv), validated on none" in out
    assert "extra rows repeat a row" not in capsys.readouterr().err  # an original set's own rows: no note
    from kit.competition import target_tensor, task_of
    from kit.pipeline import run_cv

    comp = load_competition("play")
    train, test = read_train_test(comp, folder, comp.recipe())
    plan = Plan(models=("linear",), folds=3)
    result, y = run_cv(comp, comp.recipe(), train, test, plan, quiet=True)
    assert (
        len(y) == 180 and torch.isnan(result.ensemble.oof[120:]).all() and not result.ensemble.oof[:120].isnan().any()
    )
    task = task_of(comp, train)
    for (train_idx, valid_idx), pred, score in zip(
        result.folds, result.ensemble.fold_preds, result.ensemble.fold_scores
    ):
        assert set(range(120, 180)) <= set(train_idx.tolist()) and max(valid_idx.tolist()) < 120
        assert score == task.score(pred, target_tensor(comp, task, train.iloc[:120])[valid_idx])
    without, _ = run_cv(comp, comp.recipe(), train.iloc[:120], test, plan, quiet=True)
    assert [v.tolist() for _, v in result.folds] == [v.tolist() for _, v in without.folds]  # the same folds
    assert result.ensemble.fold_scores != without.ensemble.fold_scores  # ... and the extra rows trained in them


def test_extra_rows_that_copy_training_rows_are_noted_as_training_the_folds_that_validate_their_twins(
    tmp_path, monkeypatch, capsys
):
    # a trial's user added the positives three times over as extra rows: CV 0.26, the hidden rows 0.66
    folder = playground(tmp_path / "data")
    train = (folder / "train.csv").read_text().splitlines()
    copies = [line.split(",", 1)[1].rsplit(",", 1) for line in train[1:6]]  # 5 rows less their id
    with (folder / "original.csv").open("a") as f:
        f.writelines(f"{inputs},{'Yes' if target == '1' else 'No'}\n" for inputs, target in copies)
    define(tmp_path)
    monkeypatch.chdir(tmp_path)
    from kit.cli import main

    assert main(["cv", "-c", "play", "--data-dir", str(folder), *FAST]) == 0
    assert "kit: note: 5 extra rows repeat a row of train.csv (every column but the id): each trains the fold that " \
        "validates its twin" in capsys.readouterr().err  # fmt: skip


def test_a_cv_with_the_extra_rows_is_compared_fold_by_fold_with_one_without_them(tmp_path, monkeypatch, capsys):
    # the folds are the competition's rows alone: a trial's original dataset made "the folds differ", and the
    # change read only as input files' fingerprints
    folder = playground(tmp_path / "data")
    define(tmp_path, extra="")
    kit(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    define(tmp_path)
    out = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert "against the last CV (" in out and "of 3 folds" in out and "the folds differ" not in out
    assert "extra files none -> original.csv" in out
    # kit report's data column names the extra files beside the fingerprint (a trial read two hashes alone)
    report = kit(tmp_path, monkeypatch, capsys, "report", "-c", "play").splitlines()
    assert report[0].split()[:5] == ["when", "models", "recipe", "data", "split"]
    assert sorted(" +original.csv " in line for line in report[1:3]) == [False, True], report
    (folder / "train.csv").write_text((folder / "train.csv").read_text().replace(",red,", ",blue,", 5))
    out = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert "(the input files differ: " in out  # another training file: other rows, judged by the spread


@pytest.mark.parametrize(
    ("extra", "change", "message"),
    [
        ('extra = ["gone.csv"]', None, "gone.csv, an extra file of [files] extra, is missing"),
        ('extra = ["original.csv"]', None, "(line 2 of the file), which train.csv never holds (0, 1)"),
        ('extra = ["original.csv"]\n[extra]\nlabels = { Yes = "1" }', None, "holds 'No'"),
        ('extra = ["original.csv"]\n[extra]\nlabels = { Yes = "1", No = "2" }', None, "which train.csv never holds"),
        ('extra = ["original.csv"]\n[extra]\nlabels = { Yes = "1", No = "0" }', "x2", "lacks the column(s) x2"),
        ('[extra]\nlabels = { Yes = "1" }', None, "[files] names no extra file"),
    ],
)
def test_an_extra_file_kit_cannot_use_is_one_sentence(tmp_path, monkeypatch, capsys, extra, change, message):
    folder = playground(tmp_path / "data")
    if change:  # the original without that column
        lines = [line.split(",") for line in (folder / "original.csv").read_text().splitlines()]
        keep = [i for i, name in enumerate(lines[0]) if name != change]
        (folder / "original.csv").write_text("".join(",".join(r[i] for i in keep) + "\n" for r in lines))
    define(tmp_path, extra)
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert message in err


def test_a_changed_extra_file_changes_the_run_key_and_the_sidecars_inputs(tmp_path):
    from kit.pipeline import run_key

    folder = playground(tmp_path / "data")
    comp = load_competition(define(tmp_path))
    before = run_key(comp, comp.recipe(), Plan(), folder)
    with (folder / "original.csv").open("a") as f:
        f.write("0.1,0.2,red,Yes\n")
    assert run_key(comp, comp.recipe(), Plan(), folder) != before
    from kit.competition import input_hashes

    assert "original.csv" in input_hashes(comp, folder)


def test_kit_cv_submission_and_submit_check_run_with_extra_rows_and_a_rerun_is_byte_identical(
    tmp_path, monkeypatch, capsys
):
    folder = playground(tmp_path / "data")
    define(tmp_path)
    args = ["-c", "play", "--data-dir", str(folder), *FAST]
    kit(tmp_path, monkeypatch, capsys, "cv", *args)
    first = (
        tmp_path / kit(tmp_path, monkeypatch, capsys, "submission", *args, "--out", "a.csv").strip().splitlines()[-1]
    )
    second = (
        tmp_path / kit(tmp_path, monkeypatch, capsys, "submission", *args, "--out", "b.csv").strip().splitlines()[-1]
    )
    assert first.read_bytes() == second.read_bytes()
    sidecar = json.loads(first.with_suffix(".json").read_text())
    assert "original.csv" in sidecar["inputs"]
    assert sum(sidecar["recipe_state"]["count"]["color_count"].values()) == 180  # the full fit learned every row
    assert len(first.read_text().splitlines()) == 41
    kit(tmp_path, monkeypatch, capsys, "submit", str(first), "-c", "play", "--data-dir", str(folder), "--check")


def new(tmp_path, monkeypatch, capsys, folder: Path) -> str:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "play", "--data-dir", str(folder), "--metric", "roc_auc"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return (tmp_path / "competitions" / "play.toml").read_text()


def test_kit_new_drafts_an_original_set_as_extra_commented_with_its_labels_and_uncommented_it_runs(
    tmp_path, monkeypatch, capsys
):
    folder = playground(tmp_path / "data")
    write_tables(folder, {"notes.csv": [["x1", "comment"], [1, "not training rows"]]})  # no target: not extra
    text = new(tmp_path, monkeypatch, capsys, folder)
    assert "extra" not in tomllib.loads(text)["files"]  # the user's call
    assert '# extra = ["original.csv"]\n' in text and "notes.csv" not in text.split("[submission]")[0]
    assert '# labels = { No = "0", Yes = "1" }\n' in text
    assert "each fold also trained on 60 extra rows (original.csv)" in uncommented_cv(
        tmp_path, monkeypatch, capsys, text
    )


def test_kit_new_asks_for_the_labels_when_they_do_not_pair_with_trains(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data")
    lines = (folder / "original.csv").read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",Maybe"  # three values against train's two
    (folder / "original.csv").write_text("\n".join(lines) + "\n")
    text = new(tmp_path, monkeypatch, capsys, folder)
    assert "write which of train's values each is" in text and '# labels = { THEIRS = "TRAINS" }' in text


def test_kit_new_drafts_no_labels_when_the_original_writes_the_target_as_train_does(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data")
    text = (folder / "original.csv").read_text().replace(",Yes\n", ",1\n").replace(",No\n", ",0\n")
    (folder / "original.csv").write_text(text)
    drafted = new(tmp_path, monkeypatch, capsys, folder)
    assert '# extra = ["original.csv"]' in drafted and "labels = {" not in drafted.split("[submission]")[0]


def test_kit_new_fills_the_gaps_an_original_set_alone_has_so_uncommented_it_runs(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data")  # train and test have no gap; the original, like cirrhosis.csv, has "NA"s
    lines = (folder / "original.csv").read_text().splitlines()
    for i in (1, 5, 9):
        x1, _, color, target = lines[i].split(",")
        lines[i] = ",".join([x1, "NA", "NA" if i == 5 else color, target])
    (folder / "original.csv").write_text("\n".join(lines) + "\n")
    text = new(tmp_path, monkeypatch, capsys, folder)
    recipe = tomllib.loads(text)["recipes"]["base"]
    assert recipe["fill_median"] == ["x2"] and recipe["fill_constant"] == {"color": "missing"}
    # said so: a trial's user met a "missing" level that no train or test row holds
    assert (
        'fill_constant = { color = "missing" }  # gaps in text categories as a level of their own (the gaps are '
        "in the extra files' rows only)\n" in text
    )
    assert 'fill_median = ["x2"]  # gaps in numbers take the training rows\' median (the gaps are in the extra' in text
    uncommented = text.replace("# extra = ", "extra = ").replace("# [extra]", "[extra]").replace("# labels", "labels")
    (tmp_path / "competitions" / "play.toml").write_text(uncommented)
    out = kit(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert "each fold also trained on 60 extra rows (original.csv)" in out


def test_a_gap_only_the_extra_file_has_is_named_by_its_file_and_line(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data")
    lines = (folder / "original.csv").read_text().splitlines()
    x1, rest = lines[4].split(",", 1)
    lines[4] = "," + rest  # line 5 of the file: x1 left empty
    (folder / "original.csv").write_text("\n".join(lines) + "\n")
    define(tmp_path)
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert "feature x1 has missing values (the first on line 5 of original.csv, an extra file)" in err


def spelled_otherwise(folder: Path) -> None:
    """original.csv with x2 written X_2 and color written shade (as an original set's Shucked_weight is a
    Playground's "Whole weight.1"), in the same places."""
    lines = (folder / "original.csv").read_text().splitlines()
    (folder / "original.csv").write_text("\n".join(["x1,X_2,shade,target", *lines[1:]]) + "\n")


LABELS = '[extra]\nlabels = { Yes = "1", No = "0" }'


def test_an_extra_file_that_names_trains_columns_otherwise_is_read_through_extra_columns(tmp_path):
    folder = playground(tmp_path / "data")
    spelled_otherwise(folder)
    comp = load_competition(
        define(tmp_path, f'extra = ["original.csv"]\n{LABELS}\ncolumns = {{ X_2 = "x2", shade = "color" }}')
    )
    train, _ = read_train_test(comp, folder, comp.recipe())
    original = [line.split(",") for line in (folder / "original.csv").read_text().splitlines()[1:]]
    assert train["x2"].iloc[120:].tolist() == [float(row[1]) for row in original]
    assert train["color"].iloc[120:].tolist() == [row[2] for row in original]


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("", "lacks the column(s) color, x2 (the file has X_2); where it writes one under another name, map"),
        ("", 'name to train\'s in [extra] columns, such as { X_2 = "x2" }'),  # a near miss is the example
        ('columns = { X_2 = "x2", shade = "x1" }', "renames a column of"),  # the file holds x1 already
        ('columns = { X_2 = "x2", shade = "x2" }', "[extra] columns names x2 for more than one column"),
    ],
)
def test_an_extra_file_whose_columns_do_not_map_onto_trains_is_one_sentence(
    tmp_path, monkeypatch, capsys, columns, message
):
    folder = playground(tmp_path / "data")
    spelled_otherwise(folder)
    define(tmp_path, f'extra = ["original.csv"]\n{LABELS}\n{columns}')
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", "play", "--data-dir", str(folder), *FAST)
    assert message in err


def test_kit_new_pairs_an_extra_files_other_names_by_name_then_by_place_and_uncommented_it_runs(
    tmp_path, monkeypatch, capsys
):
    folder = playground(tmp_path / "data")
    spelled_otherwise(folder)
    text = new(tmp_path, monkeypatch, capsys, folder)
    assert '# extra = ["original.csv"]\n' in text
    assert "paired by name, and shade by place in the file: check them" in text
    assert '# columns = { X_2 = "x2", shade = "color" }\n' in text
    assert "each fold also trained on 60 extra rows (original.csv)" in uncommented_cv(
        tmp_path, monkeypatch, capsys, text
    )


def test_kit_new_takes_no_csv_as_extra_whose_columns_match_trains_by_place_alone(tmp_path, monkeypatch, capsys):
    folder = playground(tmp_path / "data")
    lines = (folder / "original.csv").read_text().splitlines()
    (folder / "original.csv").write_text("\n".join(["a,b,c,target", *lines[1:]]) + "\n")
    assert "original.csv" not in new(tmp_path, monkeypatch, capsys, folder)
