"""`kit drift`: adversarial validation tells test rows from training rows where they differ, names the
features that do, never uses the target, and writes nothing."""

import json
import random
from pathlib import Path

import pytest
from conftest import definition, kit, refused, write_tables

from kit.drift import without_target
from kit.recipe_spec import RecipeSpec

DEFINITION = definition(
    "shifted",
    "binary",
    "roc_auc",
    """[recipes.base]
fill_constant = { colour = "missing" }
target_mean = { colour_rate = { by = ["colour"] } }
log1p = { log_rate = "colour_rate" }
numeric = ["x", "z", "colour_rate", "log_rate"]
one_hot = ["colour"]
scale = "standard"
""",
)


def write_shifted(tmp_path: Path, shift: float) -> Path:
    """A small binary competition whose test rows' x is moved by `shift` (0: drawn as the training rows)."""
    rng = random.Random(1)
    folder = tmp_path / "data"
    folder.mkdir()

    def row(i: int, test: bool) -> list:
        x, z = rng.gauss(shift if test else 0.0, 1.0), rng.gauss(0.0, 1.0)
        cells = [i, f"{x:.4f}", f"{z:.4f}", rng.choice(["red", "green", "blue", ""])]
        return cells if test else [*cells, int(x + z + rng.gauss(0, 1) > 0)]

    write_tables(
        folder,
        {
            "train.csv": [["id", "x", "z", "colour", "y"], *(row(i, False) for i in range(600))],
            "test.csv": [["id", "x", "z", "colour"], *(row(i, True) for i in range(600, 1000))],
            "sample_submission.csv": [["id", "y"], *([i, 0.5] for i in range(600, 1000))],
        },
    )
    (tmp_path / "shifted.toml").write_text(DEFINITION)
    return folder


def every_file(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def drift_json(tmp_path, monkeypatch, capsys, *more: str) -> dict:
    out = kit(tmp_path, monkeypatch, capsys, "drift", "-c", "shifted.toml", "--data-dir", "data", "--json", *more)
    return json.loads(out)


def test_a_column_whose_values_moved_tells_test_rows_apart_and_comes_first(tmp_path, monkeypatch, capsys):
    write_shifted(tmp_path, shift=2.0)
    found = drift_json(tmp_path, monkeypatch, capsys)
    assert found["roc_auc"] > 0.85
    assert found["features"][0]["feature"] == "x"
    assert found["features"][0]["roc_auc"] > 0.85
    assert all(f["roc_auc"] < 0.65 for f in found["features"][1:])  # z and the colours were drawn alike
    assert found["rows"] == {"train": 600, "test": 400}


def test_a_level_only_the_test_rows_hold_names_its_column_once(tmp_path, monkeypatch, capsys):
    """The columns listed are the recipe's (as --without takes them): a one-hot column by its most telling level."""
    folder = write_shifted(tmp_path, shift=0.0)
    test = folder / "test.csv"
    lines = test.read_text().splitlines()
    test.write_text("\n".join([lines[0], *(line.replace(",red", ",purple") for line in lines[1:])]) + "\n")
    found = drift_json(tmp_path, monkeypatch, capsys)
    assert found["columns"][0]["column"] == "colour"
    assert found["columns"][0]["feature"] in ("colour_red", "colour_purple")  # red: only the training rows hold it
    assert [c["column"] for c in found["columns"]].count("colour") == 1
    assert {c["column"] for c in found["columns"]} == {"x", "z", "colour"}
    text = kit(tmp_path, monkeypatch, capsys, "drift", "-c", "shifted.toml", "--data-dir", "data", "--top", "1")
    assert "1 of 3" in text and "\n  colour  " in text and "\n  x  " not in text


def test_rows_drawn_alike_look_alike(tmp_path, monkeypatch, capsys):
    write_shifted(tmp_path, shift=0.0)
    found = drift_json(tmp_path, monkeypatch, capsys)
    assert found["roc_auc"] < 0.6
    text = kit(tmp_path, monkeypatch, capsys, "drift", "-c", "shifted.toml", "--data-dir", "data")
    assert "the test rows look like the training rows" in text
    # --quiet, as cv and submission take it (a trial's script passed it to all three), prints the same
    assert kit(tmp_path, monkeypatch, capsys, "drift", "-c", "shifted.toml", "--data-dir", "data", "--quiet") == text


def test_the_target_never_enters(tmp_path, monkeypatch, capsys):
    # a training row's rate is learned without its own label and a test row's is not: that alone tells them apart
    write_shifted(tmp_path, shift=0.0)
    found = drift_json(tmp_path, monkeypatch, capsys)
    names = {f["feature"] for f in found["features"]}
    assert found["left_out"] == ["colour_rate", "log_rate"]
    assert not names & {"colour_rate", "log_rate"}
    assert {"x", "z", "colour_red"} <= names


def test_without_leaves_columns_out_and_shows_what_else_differs(tmp_path, monkeypatch, capsys):
    write_shifted(tmp_path, shift=2.0)
    found = drift_json(tmp_path, monkeypatch, capsys, "--without", "x")
    assert found["without"] == ["x"]
    assert "x" not in {f["feature"] for f in found["features"]}
    assert found["roc_auc"] < 0.6  # nothing else moved


def test_ids_that_both_files_number_from_zero_are_not_refused(tmp_path, monkeypatch, capsys):
    write_shifted(tmp_path, shift=0.0)
    test = tmp_path / "data" / "test.csv"
    lines = test.read_text().splitlines()
    test.write_text(
        "\n".join([lines[0], *(f"{i}," + line.split(",", 1)[1] for i, line in enumerate(lines[1:]))]) + "\n"
    )
    definition = tmp_path / "shifted.toml"  # count tells rows by their id
    definition.write_text(DEFINITION.replace("[recipes.base]", '[recipes.base]\ncount = { colour_n = ["colour"] }'))
    found = drift_json(tmp_path, monkeypatch, capsys)
    assert found["rows"] == {"train": 600, "test": 400} and found["roc_auc"] < 0.6


def test_the_same_command_gives_the_same_figures_and_writes_nothing(tmp_path, monkeypatch, capsys):
    write_shifted(tmp_path, shift=1.0)
    before = every_file(tmp_path)
    first = drift_json(tmp_path, monkeypatch, capsys, "--rows", "300")
    assert first["rows"] == {"train": 300, "test": 300}
    assert drift_json(tmp_path, monkeypatch, capsys, "--rows", "300") == first
    assert every_file(tmp_path) == before  # no run log, no cache, no file of any kind


@pytest.mark.parametrize(
    "args, words",
    [
        (["--without", "nope"], "--without names nope, which is not a feature column of recipe base"),
        (["--without", "colour_red"], "one of the columns colour makes; the recipe leaves out whole columns"),
        (["--without", "x,z,colour_rate,log_rate,colour"], "leaves recipe base no feature columns"),
        (["--folds", "1"], "--folds must be 2 or more"),
        (["--rows", "3"], "--rows must be at least two per fold"),
    ],
)
def test_bad_options_are_one_sentence(tmp_path, monkeypatch, capsys, args, words):
    write_shifted(tmp_path, shift=0.0)
    err = refused(tmp_path, monkeypatch, capsys, "drift", "-c", "shifted.toml", "--data-dir", "data", *args)
    assert words in err


def test_without_target_drops_what_is_made_from_the_rate_and_keeps_the_rest():
    spec = RecipeSpec(
        name="r",
        target_mean={"rate": {"by": ["c"]}},
        ratio={"per_rate": ("x", "rate"), "x_per_z": ("x", "z")},
        log1p={"log_rate": "rate", "log_x": "x"},
        numeric=("x", "rate", "per_rate", "x_per_z", "log_rate", "log_x"),
        piecewise={"rate": 4, "x": 4},
        one_hot=("c",),
        target="y",
    )
    kept, left_out = without_target(spec)
    assert left_out == ("rate", "per_rate", "log_rate")
    assert kept.numeric == ("x", "x_per_z", "log_x") and kept.piecewise == {"x": 4}
    assert kept.target_mean == {} and set(kept.ratio) == {"x_per_z"} and set(kept.log1p) == {"log_x"}
    assert without_target(kept) == (kept, ())


def test_titanic_test_rows_look_like_its_training_rows(tmp_path, monkeypatch, capsys, titanic_dir):
    found = json.loads(kit(tmp_path, monkeypatch, capsys, "drift", "--data-dir", str(titanic_dir), "--json"))
    assert found["rows"] == {"train": 891, "test": 418}
    assert found["roc_auc"] < 0.6  # Kaggle drew Titanic's test rows at random
    assert found["left_out"]  # its plus recipe's ticket and surname rates


def test_where_the_definition_validates_forward_in_time_the_advice_says_so(tmp_path, monkeypatch, capsys):
    # a trial's user was told to set [validation] time and --split time, which the definition already had
    write_shifted(tmp_path, shift=2.0)
    args = ("drift", "-c", "shifted.toml", "--data-dir", "data")
    assert "validated forward in time ([validation] time, `--split time`)" in kit(tmp_path, monkeypatch, capsys, *args)
    with (tmp_path / "shifted.toml").open("a") as f:
        f.write('\n[validation]\ntime = "id"\n')
    said = kit(tmp_path, monkeypatch, capsys, *args)
    assert "validated forward in time, as this definition does ([validation] time = id)" in said
