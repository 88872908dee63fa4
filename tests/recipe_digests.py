"""Digests of every competition recipe's outputs on the real Titanic and Spaceship data.

`tests/recipe_digests.json` holds what the recipe gave when the vectorised implementation replaced the
per-cell one; tests/test_recipe_digests.py checks that the recipe still gives exactly those bytes.
Each recipe is fit on all training rows and on every other training row (fewer rows, other levels),
then applied to train and test. Only digests are stored, never data rows.

    python tests/recipe_digests.py   # rewrite the JSON (only when a change of outputs is intended)
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DIGESTS = HERE / "recipe_digests.json"
COMPETITIONS = ("titanic", "spaceship-titanic")

# Every step the competitions' recipes leave out (count, ratio, fill_group by mode, split on Titanic,
# one-hot of numbers and of flags, no scaling), on Titanic's columns.
EVERY_STEP = {
    "split": {"Cabin": {"sep": " ", "into": ["Cabin1", "Cabin2"]}},
    "extract": {
        "Deck": {"from": "Cabin", "pattern": "^([A-Z])"},
        "Title": {"from": "Name", "pattern": r",\s*([^.]+)\."},
    },
    "replace": {"Title": {"Mlle": "Miss"}, "Pclass": {"3": "third"}},
    "rare": {"Title": 5, "Deck": 20},
    "fill_constant": {"Fare": 0, "Cabin1": "none"},
    "fill_mode": ["Embarked", "SibSp", "Parch"],
    "fill_group": {"Age": {"by": ["Sex", "Pclass"], "stat": "median"}, "Deck": {"by": "Pclass", "stat": "mode"}},
    "sum": {"FamilySize": ["SibSp", "Parch", 1], "Total": ["Fare", "Age"]},
    "equals": {
        "Alone": {"column": "FamilySize", "value": 1},
        "Young": {"column": "Title", "value": ["Master", "Miss"]},
    },
    "count": {"TicketSize": "Ticket", "CabinSize": ["Cabin1", "Embarked"]},
    "target_mean": {"TicketRate": {"by": "Ticket", "prior_weight": 2}, "SexRate": {"by": ["Sex", "Embarked"]}},
    "ratio": {"FarePer": ["Fare", "TicketSize"]},
    "log1p": {"LogFare": "Fare"},
    "numeric": [
        "Age",
        "FarePer",
        "FamilySize",
        "Total",
        "Alone",
        "Young",
        "TicketSize",
        "CabinSize",
        "TicketRate",
        "SexRate",
        "LogFare",
    ],
    "one_hot": ["Title", "Deck", "Pclass", "Embarked", "SibSp", "Alone"],
    "level_order": {"Embarked": ["S"], "SibSp": ["8", "0"]},
    "scale": "none",
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recipe_digests(data_root: Path) -> dict:
    """{competition/recipe/fit: {state, train, test}}: sha256 of the state's JSON and of each float32 tensor."""
    from kit.competition import load_competition, read_train_test
    from kit.recipe import apply_recipe, fit_recipe
    from kit.recipe_spec import parse_recipe

    out = {}
    for slug in COMPETITIONS:
        comp = load_competition(slug)
        specs = [comp.recipe(name) for name in sorted(comp.recipes)]
        if slug == "titanic":
            specs.append(parse_recipe("every-step", EVERY_STEP, comp.id, comp.target))
        for spec in specs:
            name = spec.name
            train, test = read_train_test(comp, data_root / slug, spec)
            for fit_name, rows in (("all", train), ("every-other", train.iloc[::2])):
                state = fit_recipe(spec, rows)
                entry = {"state": _sha(json.dumps(state).encode())}
                for part, frame in (("train", train), ("test", test)):
                    x = apply_recipe(spec, state, frame)
                    entry[part] = f"{tuple(x.shape)} {x.dtype} {_sha(x.numpy().tobytes())}"
                out[f"{slug}/{name}/{fit_name}"] = entry
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    from conftest import SHARED

    DIGESTS.write_text(json.dumps(recipe_digests(SHARED / "data"), indent=2, sort_keys=True) + "\n")
    print(f"wrote {DIGESTS}")
