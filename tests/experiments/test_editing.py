"""Edits parsed from model answers in every format, applied on whole lines, all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist.experiments.editing import PROTECTED, apply_edits, parse_answer

SOURCE = "BONUS = 0.0\n\n\ndef main():\n    value = 1\n    return value\n"
OPS = "def scale(x):\n    return x\n"
EDITABLE = {"experiment.py", "lib/ops.py"}
BODY = "<<<<<<< SEARCH\n    return x\n=======\n    return 2 * x\n>>>>>>> REPLACE\n"


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "experiment.py").write_text(SOURCE)
    (tmp_path / "lib" / "ops.py").write_text(OPS)
    return tmp_path


def apply(code: Path, answer: str):
    parsed = parse_answer(answer)
    assert not parsed.unreadable, parsed.unreadable
    return apply_edits(code, parsed.blocks, EDITABLE)


def test_search_replace_blocks_in_two_files(code: Path):
    answer = (
        "Raising the bonus.\n\nexperiment.py\n<<<<<<< SEARCH\nBONUS = 0.0\n=======\n"
        "BONUS = 0.5\n>>>>>>> REPLACE\n\nlib/ops.py\n<<<<<<< SEARCH\n    return x\n=======\n"
        "    return 2 * x\n>>>>>>> REPLACE\n"
    )
    report = apply(code, answer)
    assert report.ok and report.changed == ["experiment.py", "lib/ops.py"]
    assert (code / "experiment.py").read_text().startswith("BONUS = 0.5\n")
    assert (code / "lib" / "ops.py").read_text() == "def scale(x):\n    return 2 * x\n"


@pytest.mark.parametrize(
    "answer",
    [
        "```python\n`lib/ops.py`\n" + BODY + "```\n",
        "**lib/ops.py**\n```python\n"
        + BODY.replace("<<<<<<<", "<<<<<<<<").replace(">>>>>>>", ">>>>>>>>")
        + "```\n",
        ("File: lib/ops.py\n" + BODY).replace("\n", "\r\n"),
    ],
    ids=["fenced-backticked-path", "bold-path-eight-markers", "crlf"],
)
def test_fences_backticks_marker_lengths_and_crlf_are_normalised(code: Path, answer: str):
    assert apply(code, answer).ok
    assert (code / "lib" / "ops.py").read_text() == "def scale(x):\n    return 2 * x\n"


def test_a_unified_diff_applies_by_its_context_not_its_line_numbers(code: Path):
    answer = (
        "```diff\n--- a/experiment.py\n+++ b/experiment.py\n@@ -40,4 +40,4 @@ def main():\n"
        " def main():\n-    value = 1\n+    value = 2\n     return value\n```\n"
    )
    assert apply(code, answer).ok
    assert "    value = 2\n    return value\n" in (code / "experiment.py").read_text()


def test_a_whole_file_replaces_the_file_and_a_new_file_is_created(code: Path):
    answer = (
        "lib/ops.py\n```python\ndef scale(x):\n    return 3 * x\n```\n\n"
        "lib/extra.py\n<<<<<<< SEARCH\n=======\nEXTRA = 1\n>>>>>>> REPLACE\n"
    )
    assert apply(code, answer).ok
    assert (code / "lib" / "ops.py").read_text() == "def scale(x):\n    return 3 * x\n"
    assert (code / "lib" / "extra.py").read_text() == "EXTRA = 1\n"


def test_a_short_snippet_of_an_existing_file_is_not_taken_for_the_whole_file(code: Path):
    report = apply(code, "experiment.py\n```python\nBONUS = 1.0\n```\n")
    assert not report.ok and "snippet" in str(report.failures[0])
    assert (code / "experiment.py").read_text() == SOURCE


def test_a_search_without_its_indentation_matches_whole_lines_and_is_reindented(code: Path):
    answer = (
        "experiment.py\n<<<<<<< SEARCH\nvalue = 1\n=======\nvalue = 1\nvalue += 1\n"
        ">>>>>>> REPLACE\n"
    )
    assert apply(code, answer).ok
    assert (
        "    value = 1\n    value += 1\n    return value\n" in (code / "experiment.py").read_text()
    )


def test_a_search_inside_a_line_does_not_match(code: Path):
    report = apply(code, "experiment.py\n<<<<<<< SEARCH\n= 0.0\n=======\n= 1.0\n>>>>>>> REPLACE\n")
    assert not report.ok and "no whole lines" in report.failures[0].reason


def test_one_failing_block_applies_nothing_and_names_its_file(code: Path):
    answer = (
        "experiment.py\n<<<<<<< SEARCH\nBONUS = 0.0\n=======\nBONUS = 0.5\n>>>>>>> REPLACE\n"
        "lib/ops.py\n<<<<<<< SEARCH\n    return y\n=======\n    return 2\n>>>>>>> REPLACE\n"
    )
    report = apply(code, answer)
    assert [f.path for f in report.failures] == ["lib/ops.py"]
    assert "block 2" in report.failures[0].reason
    assert (code / "experiment.py").read_text() == SOURCE


def test_paths_outside_the_pack_or_not_editable_are_refused(code: Path):
    (code / "README.md").write_text("notes\n")
    for path in ("../evil.py", "README.md"):
        report = apply(code, f"{path}\n<<<<<<< SEARCH\nnotes\n=======\nx\n>>>>>>> REPLACE\n")
        assert not report.ok, path
    assert not (code.parent / "evil.py").exists()


def test_ambiguous_search_is_reported(code: Path):
    (code / "lib" / "ops.py").write_text("x = 1\nx = 1\n")
    report = apply(code, "lib/ops.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n")
    assert "matches 2 places" in report.failures[0].reason


def test_a_block_without_its_path_or_end_marker_is_unreadable_not_dropped():
    parsed = parse_answer("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n")
    assert not parsed.blocks and "path" in parsed.unreadable[0].reason
    parsed = parse_answer("x.py\n<<<<<<< SEARCH\na\n=======\nb\n")
    assert not parsed.blocks and "REPLACE" in parsed.unreadable[0].reason


def test_an_edit_to_a_protected_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "grader.py").write_text("SCORE = 1\n")
    (tmp_path / "experiment.py").write_text("X = 1\n")
    blocks = parse_answer(
        "experiment.py\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n\n"
        "grader.py\n<<<<<<< SEARCH\nSCORE = 1\n=======\nSCORE = 2\n>>>>>>> REPLACE\n"
    ).blocks
    editable = {"experiment.py", "grader.py"}
    report = apply_edits(tmp_path, blocks, editable, protected={"grader.py"})
    [failure] = report.failures
    assert failure.path == "grader.py" and PROTECTED in failure.reason
    assert (tmp_path / "experiment.py").read_text() == "X = 1\n"  # all or nothing
