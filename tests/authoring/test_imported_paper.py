"""The paper on an imported v1 template (offline, `--baseline-paper`): it describes the task in
the template's own words, never prompt.json's instruction to a model; its verbs fit a pack
that trains nothing; the per-run plots of two identical runs are one figure; no figure
floats past the references. Real plot.py, real pdflatex, pypdf."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from scientist.authoring.importer import ImportRequest, import_template
from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign

pytestmark = pytest.mark.latex

ROOT = Path(__file__).resolve().parents[2]
DECAY = ROOT / "tests" / "fixtures" / "ai_scientist" / "decay"
BIB = ROOT / "templates" / "merge" / "references.bib"
SETTINGS = {"absorption": "0.8", "clearance": "0.2", "hours": "48", "method": '"rk4"'}


def knobless_decay(root: Path) -> Path:
    """The decay fixture with its settings as constants (like seir: no flags but --out_dir),
    and a bibliography, so the paper has references to float past."""
    shutil.copytree(DECAY, root)
    script = root / "experiment.py"
    text = script.read_text()
    for name, value in SETTINGS.items():
        text = re.sub(rf'parser\.add_argument\("--{name}".*\n', "", text)
        text = text.replace(f"args.{name}", value)
    script.write_text(text)
    shutil.copy(BIB, root / "references.bib")
    return root


def test_the_paper_on_an_imported_template_speaks_of_the_template(tmp_path, run_cache, capsys):
    source = knobless_decay(tmp_path / "decay")
    pack = import_template(
        ImportRequest(source=source, metric="exposure", aggregate="mean", into=tmp_path / "p")
    )
    assert pack.manifest.search_space == {} and pack.deterministic
    config = CampaignConfig(
        template=str(pack.root), baseline_paper=True, max_ideas=3,
        campaign_dir=tmp_path / "c", literature="off",
    )  # fmt: skip
    campaign = start_campaign(config, quiet=True)
    assert "3 ideas need a model" in capsys.readouterr().out
    (entry,) = campaign.archive()
    paper = campaign.paper_dir(entry.id)
    tex = (paper / "paper.tex").read_text()

    task = json.loads((DECAY / "prompt.json").read_text())["task_description"]
    assert task not in tex and "You are given" not in tex
    assert "compartment drug model, written for scientist" in tex  # its own description
    assert "runs the experiment and writes each metric," in tex  # deterministic: no seeds
    assert "trains" not in tex

    assert tex.count("\\includegraphics") == 1  # run_0 and run_1 drew the same figure
    assert "drawn as blood\\_level\\_run\\_1; it is shown once" in tex
    assert tex.index("\\FloatBarrier") < tex.index("\\bibliography{refs}")

    pages = [page.extract_text() for page in PdfReader(paper / "paper.pdf").pages]
    figure_page = max(i for i, text in enumerate(pages) if "Figure 1" in text)
    references_page = min(i for i, text in enumerate(pages) if "References" in text)
    assert figure_page <= references_page
