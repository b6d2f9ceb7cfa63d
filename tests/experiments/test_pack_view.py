"""The code model's view of a pack: tree, files in full within the budget, outlines, READ."""

from __future__ import annotations

from scientist.experiments.pack_view import PackView, read_requests
from scientist.templates import load_template


def merge_view(context_tokens: int) -> PackView:
    template = load_template("merge")
    agent = template.manifest.agent.model_copy(update={"context_tokens": context_tokens})
    manifest = template.manifest.model_copy(update={"agent": agent})
    return PackView(template.model_copy(update={"manifest": manifest}), template.root)


def test_the_view_lists_every_source_file_and_marks_the_editable_ones():
    view = merge_view(16000)
    tree = view.tree()
    assert "- experiment.py (" in tree and "- mergepack/merging.py (" in tree
    settings = load_template("merge").root / "mergepack" / "settings.py"
    lines = len(settings.read_text().splitlines())
    assert f"- mergepack/settings.py ({lines} lines, editable)" in tree
    assert "- README.md (" in tree and "README.md (" in tree and "README.md" not in view.editable
    assert "references.bib" not in tree
    assert "- grader.py (" in tree and "- mergepack/grading.py (" in tree
    assert "mergepack/grading.py" in view.protected and "grader.py" in view.protected
    assert not view.protected & view.editable and "protected: the grader's" in tree


def test_a_small_budget_shows_the_idea_s_files_in_full_and_outlines_the_rest():
    view = merge_view(2000)
    shown = view.render(hints="a new operator in merging.py", knobs=["ps_operator"])
    full, outlines = shown.split("## Outlines")
    assert "experiment.py\n```python\n" in full  # the entrypoint first
    assert "mergepack/merging.py\n```python\n" in full  # named by the idea
    assert "def weighted_sum(" in full
    assert "mergepack/world.py\n```\n" in outlines
    assert "def weighted_sum" not in outlines  # shown in full, so not outlined
    assert "# line" in outlines and '"""' in outlines


def test_files_the_idea_has_no_reason_to_touch_are_outlined_whatever_the_budget():
    view = merge_view(16000)
    shown = view.render(hints="a new operator in merging.py", knobs=["ps_operator"])
    full, outlines = shown.split("## Outlines")
    assert "mergepack/settings.py\n```python\n" in full  # it defines the knob
    for unrelated in ("grader.py", "mergepack/hf_paths.py", "seed_ideas.json", "template.toml"):
        assert f"\n{unrelated}\n```" in outlines and f"\n{unrelated}\n```" not in full


def test_a_file_asked_for_is_shown_in_full_whatever_the_budget():
    view = merge_view(1000)
    shown = view.render(hints="", knobs=[], wanted=["mergepack/world.py"])
    assert "mergepack/world.py\n```python\n" + view.text("mergepack/world.py") in shown


def test_read_requests_are_lines_of_their_own():
    answer = "I need more context.\nREAD mergepack/lab.py\n`READ mergepack/world.py`\nread me"
    assert read_requests(answer) == ["mergepack/lab.py", "mergepack/world.py"]


def test_a_model_window_smaller_than_the_pack_s_budget_outlines_the_knob_files():
    view = merge_view(16000)
    roomy = view.render(hints="an idea", knobs=["ps_operator"])
    narrow = view.render(hints="an idea", knobs=["ps_operator"], budget=500)
    assert "mergepack/settings.py\n```python\n" in roomy.split("## Outlines")[0]
    assert "mergepack/settings.py\n```python\n" not in narrow.split("## Outlines")[0]
    assert "experiment.py\n```python\n" in narrow  # the entrypoint is shown in full always
    assert view.render(hints="an idea", knobs=["ps_operator"], budget=10**6) == roomy
