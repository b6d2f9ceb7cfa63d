"""SEARCH/REPLACE blocks: parsed from model text, applied all-or-nothing, failures reported."""

from __future__ import annotations

from pathlib import Path

from scientist.experiments.editing import apply_blocks, parse_blocks

ANSWER = """I will raise the bonus.

experiment.py
<<<<<<< SEARCH
BONUS = 0.0
=======
BONUS = 0.5
>>>>>>> REPLACE

and document it:

experiment.py
<<<<<<< SEARCH
def main():
=======
def main():  # with bonus
>>>>>>> REPLACE
"""


def _code(tmp_path: Path) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "experiment.py").write_text("BONUS = 0.0\n\n\ndef main():\n    pass\n")
    return tmp_path


def test_blocks_parse_and_apply(tmp_path: Path):
    blocks = parse_blocks(ANSWER)
    assert [b.path for b in blocks] == ["experiment.py", "experiment.py"]
    report = apply_blocks(_code(tmp_path), blocks)
    assert report.ok
    assert (tmp_path / "experiment.py").read_text() == (
        "BONUS = 0.5\n\n\ndef main():  # with bonus\n    pass\n"
    )


def test_a_mismatching_block_applies_nothing_and_says_why(tmp_path: Path):
    text = ANSWER.replace("def main():\n=", "def main(args):\n=")
    report = apply_blocks(_code(tmp_path), parse_blocks(text))
    assert not report.ok
    assert report.failures == ["block 2 (experiment.py): SEARCH text not found: 'def main(args):'"]
    assert (tmp_path / "experiment.py").read_text().startswith("BONUS = 0.0")


def test_ambiguous_and_outside_paths_are_refused(tmp_path: Path):
    code = _code(tmp_path / "code")
    (code / "experiment.py").write_text("x = 1\nx = 1\n")
    text = "experiment.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
    text += "../secret.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n"
    (tmp_path / "secret.py").write_text("a\n")
    report = apply_blocks(code, parse_blocks(text))
    assert "matches 2 times" in report.failures[0]
    assert "no such file in the pack" in report.failures[1]
    assert (tmp_path / "secret.py").read_text() == "a\n"
