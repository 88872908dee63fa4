"""Shared fixtures: the real competition files from ../shared, and small synthetic competitions."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("KIT_SHARED", REPO.parent / "shared"))


OUTPUT_DIRS = ("submissions", "data", "build")  # where kit writes relative to the working folder


def output_listing(root: Path = REPO) -> dict[str, tuple[int, int]]:
    """Every file and folder under the output folders of a checkout: its size and modification time."""
    found = {}
    for top in OUTPUT_DIRS:
        folder = root / top
        for path in [folder, *sorted(folder.rglob("*"))] if folder.exists() else []:
            stat = path.stat()
            found[path.relative_to(root).as_posix()] = (stat.st_size if path.is_file() else 0, stat.st_mtime_ns)
    return found


def changed(before: dict, after: dict) -> list[str]:
    """The paths added, removed or modified between two listings."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


@pytest.fixture(scope="session", autouse=True)
def checkout_unchanged():
    """The suite writes only under temporary folders: fail if it left anything in the checkout."""
    before = output_listing()
    yield
    if names := changed(before, output_listing()):
        pytest.fail(f"the tests changed the checkout (write under tmp_path instead): {', '.join(names[:10])}")


def shared_data(slug: str) -> Path:
    """A real competition folder from shared/; a test that needs it fails (never skips) without it."""
    path = SHARED / "data" / slug
    if not (path / "train.csv").is_file():
        pytest.fail(f"real data for {slug} is missing at {path}; set KIT_SHARED to the shared folder")
    return path


def titanic_with_training(folder: Path, training: str) -> str:
    """The shipped Titanic definition with its [training] table replaced by `training`, written into folder."""
    text = (REPO / "competitions" / "titanic.toml").read_text()
    start = text.index("[training]")
    end = text.index("\n[", start + 1)
    path = folder / "trained.toml"
    path.write_text(text[:start] + training + text[end:])
    return str(path)


@pytest.fixture
def titanic_dir() -> Path:
    return shared_data("titanic")


def write_titanic_like(folder: Path, n_train: int = 80, n_test: int = 30, seed: int = 0) -> Path:
    """A small synthetic competition folder with Titanic's columns, missing values included."""
    rng = random.Random(seed)
    header = "PassengerId,Survived,Pclass,Name,Sex,Age,SibSp,Parch,Ticket,Fare,Cabin,Embarked"

    def row(pid: int, with_target: bool) -> str:
        sex = rng.choice(["male", "female"])
        pclass = rng.choice([1, 2, 3])
        survived = int(rng.random() < (0.75 if sex == "female" else 0.2))
        age = "" if rng.random() < 0.2 else f"{rng.randint(1, 70)}"
        fare = f"{rng.uniform(5, 100):.4f}"
        embarked = "" if rng.random() < 0.05 else rng.choice(["S", "C", "Q"])
        fields = [str(pid)] + ([str(survived)] if with_target else [])
        fields += [str(pclass), f'"Person, Mr. {pid}"', sex, age, str(rng.randint(0, 3)), str(rng.randint(0, 2))]
        fields += [f"T{pid}", fare, "", embarked]
        return ",".join(fields)

    folder.mkdir(parents=True, exist_ok=True)
    train = [header] + [row(i, True) for i in range(1, n_train + 1)]
    test = [header.replace("Survived,", "")] + [row(i, False) for i in range(n_train + 1, n_train + n_test + 1)]
    (folder / "train.csv").write_text("\n".join(train) + "\n")
    (folder / "test.csv").write_text("\n".join(test) + "\n")
    ids = range(n_train + 1, n_train + n_test + 1)
    (folder / "gender_submission.csv").write_text("PassengerId,Survived\n" + "".join(f"{i},0\n" for i in ids))
    return folder


@pytest.fixture
def synthetic_dir(tmp_path: Path) -> Path:
    return write_titanic_like(tmp_path / "data" / "titanic")


def kit(tmp_path: Path, monkeypatch, capsys, *args: str) -> str:
    """`kit ARGS` in this process, in tmp_path; returns stdout and fails on an error."""
    from kit.cli import main

    monkeypatch.chdir(tmp_path)
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def refused(tmp_path: Path, monkeypatch, capsys, *args: str) -> str:
    """`kit ARGS` that must end in one sentence and exit 2; returns that sentence."""
    from kit.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(list(args)) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def record_full_fit(monkeypatch) -> dict:
    """Patch kit.pipeline.fit_full to record the full fit's test predictions, before any cut or scale, as
    seen["test_pred"]; returns `seen`."""
    from kit import pipeline

    seen, fit_full = {}, pipeline.fit_full

    def recording(*args, **kwargs):
        seen["test_pred"], state = fit_full(*args, **kwargs)
        return seen["test_pred"], state

    monkeypatch.setattr(pipeline, "fit_full", recording)
    return seen


def write_tables(folder: Path, tables: dict) -> None:
    """Each {file name: rows} as a CSV in folder, "\n" line ends (the bytes the same on every system)."""
    import csv
    import io

    for name, rows in tables.items():
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        (folder / name).write_text(out.getvalue())


def definition(slug: str, task: str, metric: str, tables: str) -> str:
    """A small competition's definition: id `id`, target `y`, the files kit new would name, then `tables` (the
    recipe, and [training] where it matters)."""
    return f"""slug = "{slug}"
id = "id"
target = "y"
task = "{task}"
metric = "{metric}"
recipe = "base"

[files]
train = "train.csv"
test = "test.csv"
sample_submission = "sample_submission.csv"

[submission]
columns = ["id", "y"]

{tables}"""
