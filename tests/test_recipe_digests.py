"""The recipe gives byte for byte the features and state it gave before it was vectorised."""

from __future__ import annotations

import json

from conftest import shared_data
from recipe_digests import COMPETITIONS, DIGESTS, recipe_digests


def test_every_recipe_reproduces_its_recorded_state_and_tensors_on_titanic_and_spaceship():
    for slug in COMPETITIONS:
        shared_data(slug)  # fails clearly when the real data is missing
    recorded = json.loads(DIGESTS.read_text())
    now = recipe_digests(shared_data(COMPETITIONS[0]).parent)
    assert sorted(now) == sorted(recorded)
    for key, entry in recorded.items():
        assert now[key] == entry, key
