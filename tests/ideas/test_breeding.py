"""Offline idea breeding: inside the search space, new every time, parents by fitness."""

from __future__ import annotations

from pathlib import Path

from scientist.ideas.breeding import breed_ideas, describe_change
from scientist.manifest import Range
from scientist.models import ArchiveEntry, Idea
from scientist.templates import load_template

TOY = Path(__file__).resolve().parent.parent / "fixtures" / "toy"
DEFAULTS = {"lr": 0.01, "width": 16, "depth": 2}


def _entry(name: str, overrides: dict, improvement: float) -> ArchiveEntry:
    idea = Idea(name=name, title=name, hypothesis="h", plan="p", overrides=overrides)
    return ArchiveEntry(id=f"0_0_{name}", idea=idea, status="done", improvement=improvement)


def test_children_stay_in_the_search_space_and_are_distinct():
    manifest = load_template(str(TOY)).manifest
    ideas = breed_ideas(manifest, [], defaults=DEFAULTS, generation=1, count=20)
    assert len(ideas) == 20
    assert len({tuple(sorted(i.overrides.items())) for i in ideas}) == 20
    for idea in ideas:
        assert idea.origin == "offline" and idea.generation == 1
        for knob, value in idea.overrides.items():
            space = manifest.search_space[knob]
            if isinstance(space, Range):
                assert space.low <= value <= space.high
                assert isinstance(value, int) == space.integer
            else:
                assert value in space


def test_breeding_is_seeded_and_avoids_archived_overrides():
    manifest = load_template(str(TOY)).manifest
    archive = [_entry("a", {"width": 32}, 0.1)]
    first = breed_ideas(manifest, archive, defaults=DEFAULTS, generation=2, count=5, seed=7)
    again = breed_ideas(manifest, archive, defaults=DEFAULTS, generation=2, count=5, seed=7)
    assert [i.overrides for i in first] == [i.overrides for i in again]
    assert all(i.overrides != {"width": 32} for i in first)


def test_parents_are_chosen_by_fitness():
    manifest = load_template(str(TOY)).manifest
    archive = [
        _entry("best", {"width": 32}, 0.5),
        _entry("worse", {"width": 8}, -0.5),
        _entry("worst", {"width": 64}, -0.9),
    ]
    ideas = breed_ideas(manifest, archive, defaults=DEFAULTS, generation=3, count=30)
    parents = [p for idea in ideas for p in idea.parents]
    assert parents.count("0_0_best") > parents.count("0_0_worst")
    assert all(idea.parents for idea in ideas)


def test_titles_say_what_changed():
    assert describe_change("lr", 0.01, 0.1) == "Raising lr from 0.01 to 0.1"
    assert describe_change("width", 32, 8) == "Lowering width from 32 to 8"
    assert describe_change("mode", "a", "b") == "Switching mode from a to b"
    assert describe_change("lr", None, 0.1) == "Setting lr to 0.1"
    manifest = load_template(str(TOY)).manifest
    [idea] = breed_ideas(manifest, [], defaults=DEFAULTS, generation=1, count=1)
    knob = next(iter(idea.overrides))
    assert knob in idea.title and "score" in idea.hypothesis
