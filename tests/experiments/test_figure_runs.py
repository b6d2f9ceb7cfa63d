"""What the figures step gives a plot script and takes from it: the runs under the names the
paper's table uses (`run_labels.json`), and each distinct figure once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PIL import Image

from scientist.config import SandboxConfig
from scientist.experiments.figures import make_figures
from scientist.records.figures import collect_figures
from scientist.sandbox import open_sandbox
from scientist.templates import load_template
from scientist.writeup.figure_choice import choose_figures, missing_main_figures
from tests.writeup.conftest import TOY, record_run

LABELS_TO_CAPTION = """\
import json, pathlib, sys
first_run = pathlib.Path(sys.argv[sys.argv.index("--runs") + 1])
labels = json.loads((first_run.parent / "run_labels.json").read_text())
out = pathlib.Path(sys.argv[-1]); out.mkdir(parents=True, exist_ok=True)
from PIL import Image
Image.new("RGB", (8, 8), (200, 10, 10)).save(out / "labels.png")
(out / "captions.json").write_text(json.dumps({"labels": json.dumps(labels, sort_keys=True)}))
"""


def test_the_plot_script_gets_the_table_s_names_of_the_runs(tmp_path: Path) -> None:
    pack = tmp_path / "toy"
    shutil.copytree(TOY, pack)
    (pack / "plot.py").write_text(LABELS_TO_CAPTION)
    pack.chmod(0o755)
    template = load_template(str(pack))
    baseline = record_run(tmp_path / "baseline", "baseline", 0, [0.5, 0.6], {"lr": 0.01})
    runs = [record_run(tmp_path / f"run_{k}", "idea", k, [0.7, 0.8], {"lr": 0.1}) for k in (1, 2)]
    figures, error = make_figures(
        template, baseline, runs, open_sandbox(SandboxConfig()), tmp_path / "figures"
    )
    assert error == ""
    (figure,) = figures
    assert json.loads(figure.caption) == {"run_0": "Baseline", "run_1": "Run 1", "run_2": "Run 2"}


def test_identical_figures_are_one_figure(tmp_path: Path) -> None:
    for name, colour in [("a_run_0", "red"), ("a_run_1", "red"), ("b", "blue")]:
        Image.new("RGB", (16, 16), colour).save(tmp_path / f"{name}.png")
    figures = collect_figures(tmp_path, "toy")
    assert [f.name for f in figures] == ["a_run_0", "b"]
    assert figures[0].caption.endswith("(The same figure was drawn as a_run_1; it is shown once.)")
    body, rest = choose_figures(figures, main=["a_run_1", "b", "a_run_0"], limit=3, terms=[])
    assert [f.name for f in body] == ["a_run_0", "b"] and rest == []  # a copy names its figure
    assert missing_main_figures(figures, ["a_run_1", "c"]) == ["c"]
