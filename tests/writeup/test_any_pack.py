"""A pack unlike ours: LaTeX specials in every name it supplies, and 16 figures.

The paper must compile on the first attempt (nothing left for the fix loop), keep the
declared main figures in its body, move the rest to `supplementary/`, and stay within the
page limit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scientist.campaign import Campaign
from scientist.config import CampaignConfig, WriteupConfig
from scientist.models import Idea, Paper
from scientist.records.figures import Figure
from scientist.sandbox import Sandbox
from scientist.templates import load_template
from scientist.writeup import write_paper
from scientist.writeup.figure_choice import choose_figures, relevance_terms
from tests.conftest import stage_context
from tests.writeup.conftest import TOY, record_run

SPECIALS = r"_ % & # $ { } ~ ^ \ "
PLOT_NAMES = ["loss_curve", "accuracy", *(f"extra_{k:02d}%#" for k in range(14))]
MAIN = ["accuracy", "loss_curve"]

PLOT = """
import argparse, json
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt

NAMES = {names!r}

parser = argparse.ArgumentParser()
parser.add_argument("--runs", nargs="+", type=Path, required=True)
parser.add_argument("--out-dir", type=Path, required=True)
args = parser.parse_args()
args.out_dir.mkdir(parents=True, exist_ok=True)
for position, name in enumerate(NAMES):  # sixteen different figures (identical ones merge)
    figure, axis = plt.subplots(figsize=(3, 2))
    axis.plot([0, 1], [0, position + 1])
    figure.savefig(args.out_dir / f"{{name}}.png", dpi=40)
    plt.close(figure)
captions = {{name: "Curve " + name + " with {specials}" for name in NAMES}}
(args.out_dir / "captions.json").write_text(json.dumps(captions))
"""


@pytest.fixture(scope="module")
def odd_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("packs") / "odd_pack_name"
    shutil.copytree(TOY, root)
    manifest = (root / "template.toml").read_text()
    manifest = manifest.replace('name = "toy"', 'name = "my_odd_pack"')
    manifest = manifest.replace(
        'title = "Toy quadratic"', f"title = '''Toy {SPECIALS} quadratic'''"
    )
    manifest = manifest.replace('plot = "plot.py"', f'plot = "plot.py"\nmain_figures = {MAIN!r}')
    (root / "template.toml").write_text(manifest)
    (root / "plot.py").write_text(PLOT.format(names=PLOT_NAMES, specials=SPECIALS))
    return root


@pytest.fixture(scope="module")
def odd_paper(odd_pack: Path, tmp_path_factory: pytest.TempPathFactory, sandbox: Sandbox) -> Paper:
    template = load_template(str(odd_pack))
    campaign = Campaign.create(
        tmp_path_factory.mktemp("campaign") / "odd", CampaignConfig(template=str(odd_pack))
    )
    config = {"lr": 0.01, "width": 16, "depth": 2, "learning_rate_%": 1}
    baseline = record_run(campaign.baseline_dir, "baseline", 0, [0.51, 0.50, 0.52], config)
    run = record_run(campaign.run_dir("odd_idea", 1), "odd_idea", 1, [0.70, 0.72, 0.71], config)
    idea = Idea(
        name="odd_idea",
        title=f"Dynamic_block size {SPECIALS}",
        hypothesis=f"Specials {SPECIALS} survive.",
        plan=f"Set odd_knob{SPECIALS} and run.",
        overrides={f"odd_knob{SPECIALS}": f"value_{SPECIALS}"},
    )
    ctx = stage_context(
        campaign, template, sandbox=sandbox, writeup=WriteupConfig(fix_rounds=2, page_limit=8)
    )
    return write_paper(ctx, idea_id="odd_idea", idea=idea, baseline=baseline, runs=[run])


@pytest.mark.latex
def test_special_characters_compile_on_the_first_attempt(odd_paper: Paper) -> None:
    assert odd_paper.compiled and odd_paper.errors == []
    assert odd_paper.compile_rounds == 1
    tex = odd_paper.tex_path.read_text()
    assert "my\\_odd\\_pack" in tex and "Dynamic\\_block" in tex
    assert "\\#" in tex and "\\%" in tex and "\\textbackslash{}" in tex


@pytest.mark.latex
def test_sixteen_figures_keep_the_main_ones_and_the_page_limit(odd_paper: Paper) -> None:
    assert odd_paper.pages is not None and odd_paper.pages <= 8
    tex = odd_paper.tex_path.read_text()
    body = [line for line in tex.splitlines() if "\\includegraphics" in line]
    assert len(body) == 2
    assert "figures/accuracy.png" in body[0] and "figures/loss-curve.png" in body[1]
    supplementary = odd_paper.tex_path.parent / "supplementary"
    assert len(list(supplementary.glob("*.png"))) == 14
    assert "supplementary" in tex


def figure(name: str) -> Figure:
    return Figure(
        label=f"fig:{name}",
        path=f"figures/{name}.png",
        caption=name,
        source=Path(f"{name}.png"),
        name=name,
    )


def test_without_declared_figures_the_most_relevant_few_are_chosen() -> None:
    figures = [figure(n) for n in ("a_noise", "b_width_sweep", "c_score_by_lr", "d_misc")]
    idea = Idea(name="x", title="Wider nets", hypothesis="h", plan="p", overrides={"width": 32})
    body, rest = choose_figures(figures, main=[], limit=2, terms=relevance_terms("score", idea))
    assert [f.name for f in body] == ["b_width_sweep", "c_score_by_lr"]
    assert [f.name for f in rest] == ["a_noise", "d_misc"]
    declared, others = choose_figures(figures, main=["d_misc", "nope"], limit=2, terms=[])
    assert [f.name for f in declared] == ["d_misc"] and len(others) == 3
