"""A competition is its definition file: mistakes in it are one clear sentence, and the class labels
come from the definition, else from the training target's values."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, shared_data
from hypothesis import given, settings
from hypothesis import strategies as st

from kit import KitError
from kit.competition import (
    _field_counts,
    _infinite_cells,
    known_competitions,
    load_competition,
    read_csv,
    refuse_infinite,
    target_vector,
    task_of,
)

HEAD = """\
slug = "toy"
id = "PassengerId"
target = "Survived"
[files]
train = "train.csv"
test = "test.csv"
sample_submission = "sample.csv"
"""


def definition(tmp_path: Path, recipe: str, submission: str = '[submission]\nlabels = ["0", "1"]\n') -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(HEAD + submission + "[recipes.r]\n" + recipe)
    return path


@pytest.mark.parametrize("name", known_competitions())
def test_every_definition_loads_and_its_recipes_read_only_columns_its_test_file_has(name):
    comp = load_competition(name)
    header = (shared_data(comp.slug) / comp.files["test"]).read_text().splitlines()[0].split(",")
    for spec in comp.recipes.values():
        assert set(spec.input_columns()) <= set(header), spec.name
        assert spec.id == comp.id and spec.target == comp.target


def test_kit_has_no_code_for_the_second_competition():
    for path in (REPO / "kit").glob("*.py"):
        assert "spaceship" not in path.read_text().lower(), path.name


@pytest.mark.parametrize(
    ("recipe", "reason"),
    [
        ('numeric = ["Age"]\nlog2 = { A = "Age" }\n', "unknown key"),
        (
            'target_mean = { R = { by = "Ticket", smoothing = 1 } }\n',
            r"\[recipes.r\] target_mean.R has unknown key smoothing",
        ),
        ('extract = { T = { from = "Name", pattern = "Mr" } }\n', "needs a \\(group\\)"),
        ('extract = { T = { from = "Name", pattern = "(" } }\n', "invalid"),
        ('split = { Cabin = { into = ["Deck"] } }\n', "lacks the key 'sep'"),
        ('fill_mode = ["Size"]\ncount = { Size = "Ticket" }\n', "fill_mode reads Size before a later step makes it"),
        ('extract = { Age = { from = "Name", pattern = "(.)" } }\nsum = { Age = ["SibSp"] }\n', "Age more than once"),
        ('numeric = ["Survived"]\n', "reads the target Survived"),
        ('fill_mode = ["Age"]\nfill_group = { Age = { by = "Title" } }\n', "both fill_mode and fill_group"),
        ('fill_group = { Age = { by = "Title", stat = "mean" } }\n', 'stat must be "median" or "mode"'),
        ('ratio = { R = ["Fare"] }\n', "numerator, denominator"),
        ('ratio = { R = ["Fare", "Age", "0"] }\n', "its third entry is a number, not '0'"),
        (
            'ratio = { R = ["Fare", 2, 0] }\n',
            r"must be \[numerator, denominator\], or \[numerator, denominator, the value",
        ),
        ('scale = "standard"\n', "makes no features; list the columns it feeds the models in numeric or one_hot"),
        (
            'numeric = ["Age"]\ndrop = ["Fare"]\n',
            r"\[recipes.r\] has no step drop: a recipe makes only the features its steps name, so leave a column out "
            r"by taking it out of every list that names it \(numeric, one_hot, ...\), or in a recipe from another, drop = "
            r"\{ numeric = \[...\] \} \(from = \"base\"\)",
        ),
    ],
)
def test_a_mistake_in_a_recipe_is_one_sentence_naming_it(tmp_path, recipe, reason):
    with pytest.raises(KitError, match=reason):
        load_competition(str(definition(tmp_path, recipe)))


def test_input_columns_are_the_raw_columns_never_the_made_ones():
    spec = load_competition("titanic").recipe("plus")
    assert set(spec.input_columns()) == {"Name", "Fare", "SibSp", "Parch", "Pclass", "Age", "Ticket"}
    assert {"Title", "Surname", "FamilySize", "WomanChild", "TicketRate", "LogFare"} <= set(spec.produced())


@pytest.mark.parametrize("name", ["titanic", "spaceship-titanic"])
def test_the_training_target_gives_the_labels_each_definition_lists(name):
    comp = load_competition(name)
    unlisted = dataclasses.replace(comp, labels=())
    train = pd.read_csv(shared_data(comp.slug) / comp.files["train"])
    assert task_of(unlisted, train).labels == comp.labels


def test_a_definition_without_labels_takes_the_target_values_sorted(tmp_path):
    comp = load_competition(str(definition(tmp_path, 'numeric = ["Age"]\n', submission="")))
    assert comp.labels == () and comp.columns == ("PassengerId", "Survived")
    train = pd.DataFrame({"PassengerId": ["1", "2"], "Survived": [True, False]})
    assert task_of(comp, train).labels == ("False", "True")
    assert target_vector(comp, train) == [1.0, 0.0]


def test_a_binary_target_with_three_values_is_a_clear_error(tmp_path):
    comp = load_competition(str(definition(tmp_path, 'numeric = ["Age"]\n', submission="")))
    train = pd.DataFrame({"PassengerId": ["1", "2", "3"], "Survived": ["a", "b", "c"]})
    with pytest.raises(KitError, match="binary task needs two labels"):
        task_of(comp, train)


def test_a_target_outside_the_listed_labels_names_its_row(tmp_path):
    comp = load_competition(str(definition(tmp_path, 'numeric = ["Age"]\n')))
    train = pd.DataFrame({"PassengerId": ["1", "2"], "Survived": [1, 2]})
    with pytest.raises(KitError, match="holds '2' at PassengerId 2 \\(line 3 of the file\\)"):
        target_vector(comp, train)


# ---- infinite numbers -------------------------------------------------------------------------

INF_CELLS = st.one_of(
    st.none(),
    st.just(math.nan),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 1.5, 1e20, math.inf, -math.inf]),
    st.sampled_from(["a", "1", "True", "inf", "-inf", "1e400", "Infinity", "-Infinity", "1e5", ""]),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(INF_CELLS, max_size=12))
def test_infinite_cells_read_each_distinct_value_as_the_whole_column_reads_it(cells):
    for column in (pd.Series(cells, dtype=object), pd.Series(cells)):  # as given, and as pandas infers them
        frame = pd.DataFrame({"x": column, "n": range(len(cells))})
        whole = np.isinf(pd.to_numeric(column, errors="coerce").astype("float64").to_numpy())  # every cell read
        assert _infinite_cells(frame, ["x", "n"]).tolist() == [[bool(v), False] for v in whole]


def test_whole_number_columns_are_not_read_again_for_inf(monkeypatch):
    read = []
    to_numeric = pd.to_numeric
    monkeypatch.setattr(pd, "to_numeric", lambda column, **kw: read.append(column.name) or to_numeric(column, **kw))
    frame = pd.DataFrame({"pixel0": [0, 255, 3], "flag": [True, False, True], "x": [0.5, np.inf, 1.0]})
    assert _infinite_cells(frame, ["pixel0", "flag", "x"]).tolist() == [[False] * 3, [False, False, True], [False] * 3]
    assert read == ["x"]  # 784 pixel columns of whole numbers cost nothing


def test_an_inf_among_the_levels_of_a_text_column_is_refused_naming_its_row(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("id,Colour,Size\n1,red,2\n2,blue,3\n3,inf,4\n4,red,-inf\n5,-Infinity,5\n")
    frame = read_csv(path, ["id"], "id")
    assert str(frame["Colour"].dtype) == "str" and frame["Size"].dtype == "float64"  # text, and numbers
    with pytest.raises(KitError) as refused:
        refuse_infinite(frame, path, ["Colour", "Size"], "id")
    assert (
        str(refused.value)
        == f"{path} column Colour holds 'inf', not a finite number, at id 3 (line 4 of the file); fix the file."
    )
    assert _infinite_cells(frame, ["Colour", "Size"]).tolist() == [[False, False]] * 2 + [
        [True, False],
        [False, True],
        [True, False],
    ]


def test_a_train_csv_cut_off_mid_line_is_refused_naming_its_line_and_nothing_trains(tmp_path, monkeypatch, capsys):
    from kit.cli import main

    data = tmp_path / "data"
    data.mkdir()
    text = (shared_data("titanic") / "train.csv").read_text()
    cut = text.index("male,32", text.rindex("\n891,")) + len("male,32")  # the last row stops after Age
    (data / "train.csv").write_text(text[:cut])
    (data / "test.csv").write_text((shared_data("titanic") / "test.csv").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["submission", "--data-dir", str(data), "--models", "linear", "--epochs", "1"]) == 2
    # files the user put there: fixed, or replaced by the competition's download (a fetch would find them its own)
    assert capsys.readouterr().err == (
        f"error: {data / 'train.csv'} line 892 has 6 fields where the header has 12: the file looks cut off; "
        "fix the file, or put the competition's own download in its place.\n"
    )
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["data", "test.csv", "train.csv"]  # nothing written
    # a file kit fetched (its manifest beside it, passed over here) is downloaded again
    (data / "kit-manifest.json").write_text("{}")
    assert main(["submission", "--data-dir", str(data), "--models", "linear", "--epochs", "1",
                 "--allow-changed-data"]) == 2  # fmt: skip
    assert capsys.readouterr().err.endswith("the file looks cut off; download it again (`kit fetch --force`).\n")


FIELDS = st.sampled_from(["", "a", "1.5", '"x,y"', '"p\nq"', '"say ""hi"", ok"', '""'])


@st.composite
def csv_files(draw):
    """(text, header width, the fields of each row, the line each row ends on): a header of 2-5 columns, rows of
    1 to that many fields (quoted commas, newlines and quotes among them), blank lines between, LF or CRLF."""
    width = draw(st.integers(2, 5))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text, fields, lines = ",".join(f"c{j}" for j in range(width)), [], []
    for i in range(draw(st.integers(1, 8))):
        text += eol + draw(st.sampled_from(["", "", "  " + eol, eol]))  # a blank line now and then
        row = [f"id{i}", *draw(st.lists(FIELDS, max_size=width - 1))]
        text += ",".join(row)
        fields.append(len(row))
        lines.append(text.count("\n") + 1)
    return text + draw(st.sampled_from(["", eol])), width, fields, lines  # a last newline or not


@settings(max_examples=150, deadline=None)
@given(csv_files())
def test_a_row_with_fewer_fields_than_the_header_is_refused_naming_the_first_and_its_line(tmp_path_factory, made):
    text, width, fields, lines = made
    path = tmp_path_factory.mktemp("csv") / "train.csv"
    path.write_bytes(text.encode())
    assert [_field_counts(path, block)[0].tolist() for block in (1, 2, 3, 7)] == [[width, *fields]] * 4
    assert _field_counts(path)[1].tolist()[1:] == lines
    short = [i for i, n in enumerate(fields) if n < width]
    if not short:
        assert len(read_csv(path, ["c0"], "c0")) == len(fields)
        return
    row = short[0]
    cut = ": the file looks cut off" if row == len(fields) - 1 else ""
    with pytest.raises(KitError) as refused:
        read_csv(path, ["c0"], "c0")
    assert str(refused.value) == f"{path} line {lines[row]} has {fields[row]} fields where the header has {width}{cut}"
