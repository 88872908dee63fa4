"""Training rows without a target (a Playground's sales never recorded): refused by default, naming the first such row
and the definition's key that leaves them out; `unlabelled = "skip"` trains on the others and says how many it left."""

from __future__ import annotations

import tomllib

import pandas as pd
from conftest import REPO, kit, refused, write_titanic_like

EMPTIED = [2, 5, 9]  # rows of train.csv whose Survived is emptied: PassengerId 3, 6 and 10


def titanic_with_gaps(folder):
    """The small synthetic Titanic with no Survived in the EMPTIED rows. Returns the folder."""
    write_titanic_like(folder)
    frame = pd.read_csv(folder / "train.csv", dtype=str, keep_default_na=False)
    frame.loc[EMPTIED, "Survived"] = ""
    frame.to_csv(folder / "train.csv", index=False)
    return folder


def skipping(folder) -> str:
    """The shipped Titanic definition with unlabelled = "skip", written into folder; its path."""
    path = folder / "titanic.toml"
    path.write_text('unlabelled = "skip"\n' + (REPO / "competitions" / "titanic.toml").read_text())
    return str(path)


FAST = ["--models", "linear", "--folds", "3", "--epochs", "2", "--seeds", "1"]


def test_an_empty_target_stops_the_run_naming_its_row_and_the_key_that_leaves_such_rows_out(
    tmp_path, monkeypatch, capsys
):
    data = titanic_with_gaps(tmp_path / "data")
    err = refused(tmp_path, monkeypatch, capsys, "cv", "--data-dir", str(data), *FAST)
    assert "train.csv column Survived is empty at PassengerId 3 (line 4 of the file)" in err
    assert 'add unlabelled = "skip" to the definition to train without such rows' in err
    assert not (tmp_path / "submissions").exists()


def test_unlabelled_skip_trains_on_the_labelled_rows_alone_and_says_how_many_it_left_out(tmp_path, monkeypatch, capsys):
    data, definition = titanic_with_gaps(tmp_path / "data"), skipping(tmp_path)
    oof = tmp_path / "oof.csv"
    monkeypatch.chdir(tmp_path)
    from kit.cli import main

    assert main(["cv", "-c", definition, "--data-dir", str(data), *FAST, "--oof", str(oof)]) == 0
    err = capsys.readouterr().err
    assert "kit: note: 3 of 80 rows of train.csv have no Survived: left out of training" in err
    ids = pd.read_csv(oof)["PassengerId"].tolist()
    assert len(ids) == 77 and not {3, 6, 10} & set(ids)  # every labelled row validated once, the others never
    kit(tmp_path, monkeypatch, capsys, "submission", "-c", definition, "--data-dir", str(data), *FAST)
    (written,) = (tmp_path / "submissions" / "titanic").glob("*.csv")
    assert len(pd.read_csv(written)) == 30  # every test row predicted


def test_a_cv_against_another_recipe_says_once_how_many_rows_it_left_out(tmp_path, monkeypatch, capsys):
    data, definition = titanic_with_gaps(tmp_path / "data"), skipping(tmp_path)
    monkeypatch.chdir(tmp_path)
    from kit.cli import main

    assert (
        main(["cv", "-c", definition, "--data-dir", str(data), *FAST, "--recipe", "article", "--against", "plus"]) == 0
    )
    assert capsys.readouterr().err.count("have no Survived: left out of training") == 1  # train.csv read twice


def test_a_train_with_no_labelled_row_is_refused_in_one_sentence(tmp_path, monkeypatch, capsys):
    data = write_titanic_like(tmp_path / "data")
    frame = pd.read_csv(data / "train.csv", dtype=str, keep_default_na=False)
    frame["Survived"] = ""
    frame.to_csv(data / "train.csv", index=False)
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", skipping(tmp_path), "--data-dir", str(data), *FAST)
    assert err == "error: train.csv has no row with a value for Survived; check the file."


def test_unlabelled_is_refuse_or_skip(tmp_path, monkeypatch, capsys):
    path = tmp_path / "titanic.toml"
    path.write_text('unlabelled = "drop"\n' + (REPO / "competitions" / "titanic.toml").read_text())
    err = refused(tmp_path, monkeypatch, capsys, "cv", "-c", str(path))
    assert 'titanic.toml: unlabelled must be "refuse" or "skip", not "drop"; fix the file.' in err


def test_kit_new_drafts_unlabelled_skip_for_a_target_with_gaps_and_its_draft_runs(tmp_path, monkeypatch, capsys):
    data = titanic_with_gaps(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    from kit.cli import main

    assert main(["new", "gappy", "--data-dir", str(data)]) == 0
    err = capsys.readouterr().err
    assert 'kit: note: 3 training rows have no target: the draft leaves them out (unlabelled = "skip").' in err
    text = (tmp_path / "competitions" / "gappy.toml").read_text()
    assert tomllib.loads(text)["unlabelled"] == "skip"
    assert 'unlabelled = "skip"  # 3 of 80 training rows (3.8%) have no Survived: left out of training' in text
    kit(tmp_path, monkeypatch, capsys, "cv", "-c", "gappy", *FAST)


def _shop_sales(folder, unrecorded) -> None:
    """A small sales set (shop and item categories, a price) whose rows picked by unrecorded(frame) have no sales."""
    import numpy as np

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame(
        {
            "id": range(n),
            "shop": [["north", "south", "east"][i % 3] for i in range(n)],
            "item": [["pen", "ink"][i // 3 % 2] for i in range(n)],
            "price": rng.integers(1, 50, n),
        }
    )
    frame["sales"] = (frame["price"] * 2 + rng.integers(0, 5, n)).astype(float)
    frame.loc[unrecorded(frame), "sales"] = np.nan
    frame.to_csv(folder / "train.csv", index=False)
    test = frame.drop(columns="sales").assign(id=frame["id"] + n)
    test.to_csv(folder / "test.csv", index=False)
    test[["id"]].assign(sales=0).to_csv(folder / "sample_submission.csv", index=False)


def test_kit_new_says_where_rows_without_a_target_fall_when_they_are_nearly_a_whole_group(
    tmp_path, monkeypatch, capsys
):
    from kit.cli import main

    _shop_sales(tmp_path / "data", lambda f: ((f["shop"] == "east") & (f["item"] == "ink")) | (f["id"] == 7))
    monkeypatch.chdir(tmp_path)
    assert main(["new", "shops", "--data-dir", str(tmp_path / "data")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    said = (
        "nearly all the rows of 1 group of shop, item: east, ink (40 of its 40 rows), whose 40 test "
        "rows are predicted from other groups' rows"
    )
    assert (
        f'41 training rows have no target: the draft leaves them out (unlabelled = "skip"); 40 of them are {said}.'
        in err
    )
    text = (tmp_path / "competitions" / "shops.toml").read_text()
    assert f"# 40 of those rows are {said}." in text  # under the line that leaves them out
    assert tomllib.loads(text)["unlabelled"] == "skip"


def test_kit_new_names_no_group_where_rows_without_a_target_fall_anywhere(tmp_path, monkeypatch, capsys):
    from kit.cli import main

    _shop_sales(tmp_path / "data", lambda f: f["id"] % 7 == 0)  # every shop and item, a seventh of each
    monkeypatch.chdir(tmp_path)
    assert main(["new", "shops", "--data-dir", str(tmp_path / "data")]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert 'training rows have no target: the draft leaves them out (unlabelled = "skip").' in err
    assert "nearly all the rows" not in err + (tmp_path / "competitions" / "shops.toml").read_text()


def test_where_the_rows_without_a_target_fall_counts_the_test_rows_and_skips_train_only_columns():
    import numpy as np

    from kit.draft import _unlabelled_groups

    train = pd.DataFrame(
        {
            "shop": ["north", "south"] * 20,
            "clerk": ["ann", "bob", "cy", "di"] * 10,  # not in test.csv: no group of it is counted or named
            "sales": [1.0] * 40,
        }
    )
    unlabelled = (train["shop"] == "south").to_numpy()
    found = _unlabelled_groups(train, pd.DataFrame({"shop": ["south", "north"]}), unlabelled, ["sales"])
    assert found == (20, "nearly all the rows of 1 group of shop: south (20 of its 20 rows), whose 1 test row is "
                     "predicted from other groups' rows")  # fmt: skip
    assert _unlabelled_groups(train, pd.DataFrame({"shop": ["north"]}), unlabelled, ["sales"])[1].endswith(
        "(20 of its 20 rows), of no test row"
    )
    assert _unlabelled_groups(train, pd.DataFrame({"shop": ["north"]}), np.zeros(40, dtype=bool), []) is None
