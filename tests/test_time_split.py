"""The time split ([validation] time): each fold validates later times on the rows before them, as a test set of
later dates is scored, and `kit new` drafts it when the test file's dates all come after the training file's."""

from __future__ import annotations

import csv
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from kit import KitError
from kit.cli import main
from kit.validation import time_split


def test_every_fold_learns_from_earlier_times_only_and_a_time_is_never_split():
    gen = np.random.default_rng(0)
    times = gen.integers(0, 40, size=500).astype(float)  # many rows a time, in no order
    folds = time_split(times, 4)
    assert len(folds) == 4
    validated = set()
    for fit_rows, valid_rows in folds:
        assert times[fit_rows].max() < times[valid_rows].min()  # the past only
        assert set(times[fit_rows]).isdisjoint(times[valid_rows])  # a time's rows on one side
        assert set(fit_rows.tolist()) == set(np.flatnonzero(times < times[valid_rows].min()))  # all of the past
        validated |= set(valid_rows.tolist())
    never = set(range(500)) - validated
    assert never == set(np.flatnonzero(times < times[folds[0][1]].min()))  # only the first block is never validated
    assert [len(set(times[v])) for _, v in folds] == [8, 8, 8, 8]  # 40 times: a first block, then 4 of 8


def test_a_time_split_needs_more_distinct_times_than_folds():
    with pytest.raises(
        KitError, match="a time split into 5 folds needs more than 5 distinct times, and the rows hold 3"
    ):
        time_split([1.0, 2.0, 3.0, 3.0], 5)


def sales(folder: Path, days: int = 60, test_days: int = 10, overlap: bool = False) -> Path:
    """Daily sales of 6 stores: a date (ISO), the store, a promotion flag and sales with a rising trend; the test
    rows are the last `test_days` days (or, with overlap, every fifth row). Returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for d in range(days):
        for store in range(6):
            date = f"2024-{1 + d // 28:02d}-{1 + d % 28:02d}"
            promo = (d * 7 + store) % 3 == 0
            rows.append([f"r{len(rows)}", date, store, int(promo), round(10 + d / 5 + store + 4 * promo, 2)])
    is_test = [i % 5 == 0 for i in range(len(rows))] if overlap else [r[1] >= rows[-test_days * 6][1] for r in rows]
    with (folder / "train.csv").open("w", newline="") as f:
        csv.writer(f).writerows(
            [["id", "date", "store", "promo", "sales"], *(r for r, t in zip(rows, is_test) if not t)]
        )
    with (folder / "test.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["id", "date", "store", "promo"], *(r[:4] for r, t in zip(rows, is_test) if t)])
    with (folder / "sample_submission.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["id", "sales"], *([r[0], 0] for r, t in zip(rows, is_test) if t)])
    return folder


def test_kit_new_drafts_the_time_split_when_the_test_dates_all_come_later_and_kit_cv_runs_it(
    tmp_path, monkeypatch, capsys
):
    folder = sales(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "sales", "--data-dir", str(folder), "--metric", "rmsle"]) == 0
    assert "its folds validate on later dates" in capsys.readouterr().err
    text = (tmp_path / "competitions" / "sales.toml").read_text()
    assert tomllib.loads(text)["validation"] == {"time": "date", "block": 10}  # the test's 10 days
    assert tomllib.loads(text)["training"]["refit"] is True  # the fold models never learn from the latest dates
    assert "test.csv's date values (from 2024-02-23) all come after train.csv's (to 2024-02-22)" in text
    fast = ["--data-dir", str(folder), "--models", "linear", "--folds", "3", "--epochs", "3", "--quiet", "--json"]
    assert main(["cv", "-c", "sales", *fast]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["split"], len(out["ensemble"]["fold_scores"])) == ("time", 3)
    assert "validates on later" not in capsys.readouterr().err
    assert main(["submission", "-c", "sales", *fast[:-1]]) == 0
    # --split sets the time split aside: said (a trial's kfold CV scored MAPE 0.07, its test rows 0.73)
    assert main(["cv", "-c", "sales", *fast, "--split", "kfold"]) == 0
    err = capsys.readouterr().err
    assert "validates on later date values ([validation] time), as the test rows come after the training" in err
    assert "--split kfold scores each fold on date values among its training rows'" in err


@pytest.mark.parametrize(
    ("days", "test_days", "folds", "block"),
    [(60, 10, 4, 10), (40, 15, 2, 8)],  # 50 training days: 4 blocks after a first; 25: 2 folds of shorter blocks
)
def test_the_drafted_time_split_has_folds_that_fit_and_kit_cv_runs_the_draft_unchanged(
    tmp_path, monkeypatch, capsys, days, test_days, folds, block
):
    folder = sales(tmp_path / "data", days=days, test_days=test_days)
    monkeypatch.chdir(tmp_path)
    assert main(["new", "sales", "--data-dir", str(folder), "--metric", "rmse"]) == 0
    drafted = tomllib.loads((tmp_path / "competitions" / "sales.toml").read_text())
    assert drafted["run"] == {"folds": folds} and drafted["validation"]["block"] == block
    capsys.readouterr()
    assert main(["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "2", "--json"]) == 0
    fold_rows = [len(f) for f, _ in time_split(np.repeat(np.arange(days - test_days, dtype=float), 6), folds, block)]
    assert len(json.loads(capsys.readouterr().out)["ensemble"]["fold_scores"]) == folds
    assert fold_rows[0] >= 6 * block  # the first fold learns from a block's dates at least


def test_time_folds_keep_the_test_periods_block_while_the_first_fold_learns_from_one():
    from kit.draft import time_folds

    assert time_folds(730, 30, 0) == (5, 30)  # two years, a month's test: kit's 5 folds
    assert time_folds(912, 184, 0) == (3, 184)  # half a year's test: 3 folds leave the first 360 dates
    assert time_folds(912, 184, 200) == (2, 184)
    assert time_folds(300, 184, 0) == (2, 100)  # not even 2 fit: 2 folds of a third of the dates


def test_no_time_split_is_drafted_when_the_test_rows_are_drawn_from_the_same_dates(tmp_path, monkeypatch, capsys):
    folder = sales(tmp_path / "data", overlap=True)
    monkeypatch.chdir(tmp_path)
    assert main(["new", "sales", "--data-dir", str(folder), "--metric", "rmse"]) == 0
    drafted = tomllib.loads((tmp_path / "competitions" / "sales.toml").read_text())
    assert "validation" not in drafted and drafted["training"]["refit"] is False  # the fold models' mean


def in_seconds(folder: Path) -> Path:
    """The sales files with each date as seconds since the first day (a number, as a card-fraud set's Time)."""
    import pandas as pd

    for name in ("train.csv", "test.csv"):
        frame = pd.read_csv(folder / name)
        frame["date"] = (pd.to_datetime(frame["date"]) - pd.Timestamp("2024-01-01")).dt.total_seconds().astype(int)
        frame.rename(columns={"date": "seconds"}).to_csv(folder / name, index=False)
    return folder


@pytest.mark.parametrize("overlap", [False, True])
def test_kit_new_offers_a_time_split_commented_when_a_numbers_test_values_all_come_later(
    tmp_path, monkeypatch, capsys, overlap
):
    folder = in_seconds(sales(tmp_path / "data", overlap=overlap))
    monkeypatch.chdir(tmp_path)
    assert main(["new", "sales", "--data-dir", str(folder), "--metric", "rmse"]) == 0
    said = "test.csv's seconds values all come after train.csv's: if seconds is a time"
    assert (said in capsys.readouterr().err) is not overlap
    path = tmp_path / "competitions" / "sales.toml"
    text = path.read_text()
    assert "validation" not in tomllib.loads(text)  # offered, not drafted
    if overlap:
        assert "# time = " not in text
        return
    path.write_text(text.replace("# [validation]\n# time = ", "[validation]\ntime = "))  # the user takes it
    assert tomllib.loads(path.read_text())["validation"] == {"time": "seconds"}
    assert main(["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["split"] == "time"


def definition(tmp_path: Path, folder: Path, validation: str) -> None:
    monkey = tmp_path / "competitions"
    monkey.mkdir(parents=True, exist_ok=True)
    (monkey / "sales.toml").write_text(
        'slug = "sales"\nid = "id"\ntarget = "sales"\ntask = "regression"\nmetric = "rmse"\n'
        '[files]\ntrain = "train.csv"\ntest = "test.csv"\nsample_submission = "sample_submission.csv"\n'
        '[recipes.base]\nnumeric = ["store", "promo"]\n' + validation
    )


@pytest.mark.parametrize(
    ("validation", "flags", "message"),
    [
        ('[validation]\ntime = "date"\ngroup = "store"\n', [], "[validation] names both group and time"),
        ("", ["--split", "time"], "--split time needs [validation] time = COLUMN in"),
        ('[validation]\ntime = "date"\n', ["--repeats", "2"], "a time split cuts the same folds every repeat"),
        ('[validation]\ntime = "when"\n', [], "train.csv lacks the column when that [validation] time names"),
        ('[validation]\ntime = "date"\n', ["--folds", "70"], "needs more than 70 distinct times, and the rows hold"),
        (
            '[validation]\ngroup = "stores"\n',
            [],
            "lacks the column stores that [validation] group names (the file has store)",
        ),
    ],
)
def test_a_time_split_that_cannot_be_cut_is_one_sentence(tmp_path, monkeypatch, capsys, validation, flags, message):
    folder = sales(tmp_path / "data")
    definition(tmp_path, folder, validation)
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_row_without_a_time_is_refused_naming_its_line(tmp_path, monkeypatch, capsys):
    folder = sales(tmp_path / "data")
    lines = (folder / "train.csv").read_text().splitlines()
    lines[3] = lines[3].replace("2024-01-01", "")
    (folder / "train.csv").write_text("\n".join(lines) + "\n")
    definition(tmp_path, folder, '[validation]\ntime = "date"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "1"]) == 2
    assert "train.csv row 4 has no time in date" in capsys.readouterr().err


def test_an_id_of_day_numbers_read_as_text_orders_the_rows_as_numbers(tmp_path, monkeypatch, capsys):
    # a trial's daily rainfall (id 0-2189, a day each): `time = "id"` was refused as no date kit reads
    import pandas as pd

    folder = sales(tmp_path / "data")
    for name in ("train.csv", "test.csv"):
        frame = pd.read_csv(folder / name, dtype=str)
        frame.assign(id=frame["id"].str[1:]).to_csv(folder / name, index=False)  # r12 -> 12
    definition(tmp_path, folder, '[validation]\ntime = "id"\n')
    monkeypatch.chdir(tmp_path)
    args = ["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "2", "--folds", "3"]
    assert main(args) == 0, capsys.readouterr().err
    assert "split=time 3 folds" in capsys.readouterr().out
    from types import SimpleNamespace

    from kit.competition import row_times

    comp = SimpleNamespace(validation={"time": "id"}, files={"train": "train.csv"}, id="id")
    train = pd.DataFrame({"id": ["9", "10", "100"]})  # as text, "10" < "9"; as numbers, in this order
    assert row_times(comp, train).tolist() == [9.0, 10.0, 100.0]


def test_the_time_split_is_the_default_where_the_definition_names_a_time_and_validates_later_rows(
    tmp_path, monkeypatch, capsys
):
    folder = sales(tmp_path / "data")
    definition(tmp_path, folder, '[validation]\ntime = "date"\n')
    monkeypatch.chdir(tmp_path)
    args = ["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "2", "--folds", "3"]
    assert main(args) == 0
    assert "split=time 3 folds" in capsys.readouterr().out
    import pandas as pd

    from kit.competition import load_competition, row_times

    comp = load_competition(str(tmp_path / "competitions" / "sales.toml"))
    train = pd.read_csv(folder / "train.csv", dtype={"id": str})
    times = row_times(comp, train)
    assert times[0] < times[-1] and np.isfinite(times).all()
    assert torch.as_tensor(times).argsort(stable=True).tolist() == list(range(len(train)))  # the file is in order


@pytest.mark.parametrize("refit", [True, False])
def test_without_a_refit_the_cv_table_says_no_time_folds_model_learnt_from_the_latest_dates(
    tmp_path, monkeypatch, capsys, refit
):
    # a draft's refit = false, kept when the user adds [validation] time by hand, would leave the latest dates unlearnt
    folder = sales(tmp_path / "data")
    definition(tmp_path, folder, f'[training]\nrefit = {str(refit).lower()}\n[validation]\ntime = "date"\n')
    monkeypatch.chdir(tmp_path)
    args = ["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "2", "--folds", "3"]
    assert main(args) == 0
    said = "none of which learnt from the latest dates (refit = true in [training] trains every model again"
    assert (said in capsys.readouterr().out) is not refit


def test_blocks_of_a_given_length_are_the_last_ones_and_each_fold_trains_on_every_earlier_time():
    times = np.repeat(np.arange(20.0), 3)[::-1]  # 20 times of 3 rows each, in no particular order
    folds = time_split(times, 3, block=4)
    assert [sorted(set(times[v])) for _, v in folds] == [[8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19]]
    assert [sorted(set(times[f])) for f, _ in folds] == [list(range(8)), list(range(12)), list(range(16))]
    assert all(len(v) == 4 * 3 for _, v in folds)  # every row of each validated time


def test_a_gap_leaves_that_many_times_out_between_each_folds_training_rows_and_its_block():
    times = np.repeat(np.arange(20.0), 3)
    folds = time_split(times, 3, block=4, gap=2)
    assert [sorted(set(times[v])) for _, v in folds] == [[8, 9, 10, 11], [12, 13, 14, 15], [16, 17, 18, 19]]
    assert [sorted(set(times[f])) for f, _ in folds] == [list(range(6)), list(range(10)), list(range(14))]
    # without a block, TimeSeriesSplit's own blocks (20 // 4 = 5 times) with the gap before each
    plain = time_split(times, 3, gap=1)
    assert [sorted(set(times[v]))[0] for _, v in plain] == [5, 10, 15]
    assert [max(times[f]) for f, _ in plain] == [3, 8, 13]


@pytest.mark.parametrize(
    ("block", "gap", "says"),
    [
        (7, 0, "3 folds of 7 distinct times needs more than 21 distinct times, and the rows hold 20, so its first "
         "fold would have no training rows; what fits: 2 folds or fewer, or [validation] block = 6 or less"),
        (5, 6, "3 folds of 5 distinct times after a gap of 6 needs more than 21 distinct times, and the rows hold 20"),
        (5, 6, "what fits: 2 folds or fewer, or [validation] block = 4 or less, or gap = 4 or less"),
        (0, 15, "gap = 4 or less"),
    ],
)  # fmt: skip
def test_a_block_or_gap_that_leaves_a_fold_no_training_rows_is_refused_naming_what_fits(block, gap, says):
    times = np.repeat(np.arange(20.0), 3)
    with pytest.raises(KitError, match="a time split into") as e:
        time_split(times, 3, block=block, gap=gap)
    assert says in str(e.value)
    fits = int(str(e.value).split("[validation] block = ")[1].split(" ")[0])
    assert len(time_split(times, 3, block=fits, gap=gap)) == 3  # the block it names fits with the same gap
    with pytest.raises(KitError):
        time_split(times, 3, block=fits + 1, gap=gap)  # and is the longest that does


def test_kit_new_drafts_a_block_as_long_as_the_test_period_and_a_gap_where_the_test_starts_later(
    tmp_path, monkeypatch, capsys
):
    folder = sales(tmp_path / "data", days=70, test_days=7)
    monkeypatch.chdir(tmp_path)
    assert main(["new", "sales", "--data-dir", str(folder), "--metric", "rmsle"]) == 0
    drafted = tomllib.loads((tmp_path / "competitions" / "sales.toml").read_text())["validation"]
    assert drafted == {"time": "date", "block": 7}  # adjacent to the training dates: no gap
    # the 5 days before the test period (2024-03-08 on) taken out of train: a gap of 5 days
    rows = (folder / "train.csv").read_text().splitlines()
    late = {f"2024-03-{d:02d}" for d in range(3, 8)}
    kept = [r for r in rows if r.split(",")[1] not in late]
    assert len(kept) == len(rows) - 5 * 6
    (folder / "train.csv").write_text("\n".join(kept) + "\n")
    out = tmp_path / "gap.toml"
    assert main(["new", "sales", "--data-dir", str(folder), "--metric", "rmsle", "--out", str(out)]) == 0
    text = out.read_text()
    assert tomllib.loads(text)["validation"] == {"time": "date", "block": 7, "gap": 5}
    assert "gap = 5  # days left out between" in text
    fast = ["--data-dir", str(folder), "--models", "linear", "--epochs", "2", "--quiet", "--json"]
    capsys.readouterr()
    assert main(["cv", "-c", str(out), *fast]) == 0
    assert len(json.loads(capsys.readouterr().out)["ensemble"]["fold_scores"]) == 5


@pytest.mark.parametrize("key", ["block = 30", "gap = 2"])
def test_a_block_or_gap_without_a_time_column_is_refused_in_one_sentence(tmp_path, monkeypatch, capsys, key):
    folder = sales(tmp_path / "data")
    definition(tmp_path, folder, f"[validation]\n{key}\n")
    monkeypatch.chdir(tmp_path)
    assert main(["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    name = key.split()[0]
    assert f"[validation] {name} sizes the time split's folds and needs time = COLUMN beside it" in err
    assert len(err.strip().splitlines()) == 1


def test_the_definitions_block_and_gap_cut_the_folds_kit_cv_scores(tmp_path, monkeypatch, capsys):
    folder = sales(tmp_path / "data")  # 50 training days
    definition(tmp_path, folder, '[validation]\ntime = "date"\nblock = 10\ngap = 3\n')
    monkeypatch.chdir(tmp_path)
    args = ["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "1", "--folds", "4"]
    assert main([*args, "--quiet", "--json"]) == 0
    folds = json.loads(capsys.readouterr().out)["ensemble"]["fold_scores"]
    assert len(folds) == 4
    assert main([*args, "--folds", "5"]) == 2  # 5 blocks of 10 and a gap of 3 leave 50 days no training day
    err = capsys.readouterr().err
    assert (
        "rows hold 50, so its first fold would have no training rows; what fits: 4 folds or fewer, or [validation] "
        "block = 9 or less" in err
    )
    assert len(err.strip().splitlines()) == 1


# ---- rmsle: Kaggle refuses a value below 0, in the targets and in a submission ----


def test_a_negative_target_under_rmsle_is_refused_naming_its_line_even_for_a_sampled_cv(tmp_path, monkeypatch, capsys):
    folder = sales(tmp_path / "data")
    lines = (folder / "train.csv").read_text().splitlines()
    lines[40] = ",".join([*lines[40].split(",")[:-1], "-0.5"])  # r39's sales
    (folder / "train.csv").write_text("\n".join(lines) + "\n")
    definition(tmp_path, folder, "")
    text = (tmp_path / "competitions" / "sales.toml").read_text()
    (tmp_path / "competitions" / "sales.toml").write_text(text.replace('metric = "rmse"', 'metric = "rmsle"'))
    monkeypatch.chdir(tmp_path)
    args = ["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "1"]
    for extra in ([], ["--rows", "20"]):  # a sample of 20 rows would draw line 41 only by chance
        assert main([*args, *extra]) == 2
        err = capsys.readouterr().err
        assert "train.csv column sales is -0.5 at id r39 (line 41 of the file), below 0, which rmsle cannot" in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "submissions").exists()


def test_a_submission_with_a_negative_value_passes_for_rmse_and_is_refused_for_rmsle():
    from kit.task import make_task

    assert make_task("regression", "rmse", (), ("id", "sales")).check_cells(["-2.5"]) is None
    problem = make_task("regression", "rmsle", (), ("id", "sales")).check_cells(["-2.5"])
    assert problem == "has '-2.5'; rmsle scores log(1 + x) and refuses a value below 0"
    assert make_task("regression", "rmsle", (), ("id", "sales")).check_cells(["0"]) is None


def test_cvs_of_other_blocks_are_not_paired_fold_by_fold_and_the_log_tells_their_blocks_apart(
    tmp_path, monkeypatch, capsys
):
    # a trial's blocks of 852 and 365 dates both read "time2": other blocks validate other rows
    folder = sales(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    args = ["cv", "-c", "sales", "--data-dir", str(folder), "--models", "linear", "--epochs", "2", "--folds", "2"]
    definition(tmp_path, folder, '[validation]\ntime = "date"\nblock = 10\n')
    assert main(args) == 0
    definition(tmp_path, folder, '[validation]\ntime = "date"\nblock = 8\n')
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "(the folds differ: " in out  # judged by the spread, not fold by fold
    assert "changed: split time2 block 10 -> time2 block 8" in out
    assert main(["report", "-c", "sales"]) == 0
    report = capsys.readouterr().out
    assert "time2 block 10" in report and "time2 block 8" in report
