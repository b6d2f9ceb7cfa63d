"""End to end on the shipped merge pack (smoke size): the ideas model proposes an operator the
pack lacks, the code model adds it in `mergepack/` (SEARCH text copied from what its prompt
showed), the run uses it, and the paper's text shows the change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.config import CampaignConfig
from scientist.graph.runner import start_campaign
from scientist.templates import load_template

pytestmark = [pytest.mark.slow, pytest.mark.latex]

IDEA = {
    "name": "sign_consensus",
    "title": "Sign-consensus task arithmetic",
    "hypothesis": "Adding only the task-vector entries whose signs agree across sources avoids "
    "interference between the two specialists.",
    "plan": "Add a sign_consensus merge operator to mergepack/merging.py, allow it as "
    "ps_operator in mergepack/settings.py, and evolve per-layer weights with it.",
    "interestingness": 7,
    "feasibility": 8,
    "novelty": 6,
    "overrides": {"ps_operator": "sign_consensus"},
}
MERGE_BRANCH = '    if method not in ("ties", "dare_ties", "dare_linear"):\n'
NEW_BRANCH = (
    '    if method == "sign_consensus":\n'
    "        deltas = torch.stack([s.float() - base.float() for s in sources])\n"
    "        w = torch.tensor(weights).reshape(-1, *([1] * base.dim()))\n"
    "        agree = deltas.sign() == deltas.sum(dim=0).sign()\n"
    "        merged = (base.float() + (deltas * w * agree).sum(dim=0)).to(base.dtype)\n"
    "        return merged if out is None else out.copy_(merged)\n"
)
METHODS_LINE = (
    'METHODS = ("linear", "task_arithmetic", "ties", "dare_ties", "dare_linear", "slerp")\n'
)
CHOICE_LINE = '    "ps_operator": ("task_arithmetic", "ties", "dare_ties", "dare_linear"),\n'


def block(path: str, search: str, replace: str) -> str:
    return f"{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n"


def test_a_new_operator_in_mergepack_runs_and_reaches_the_paper(tmp_path: Path, run_cache):
    pack = load_template("merge").root
    for path, line in (
        ("mergepack/merging.py", MERGE_BRANCH),
        ("mergepack/merging.py", METHODS_LINE),
        ("mergepack/settings.py", CHOICE_LINE),
    ):
        assert line in (pack / path).read_text(), f"{path} changed: update this test"
    answer = "Done! The operator is added:\n\n" + "\n".join(
        [
            block(
                "mergepack/merging.py", METHODS_LINE, METHODS_LINE[:-2] + ', "sign_consensus")\n'
            ),
            block("mergepack/merging.py", MERGE_BRANCH, NEW_BRANCH + MERGE_BRANCH),
            block(
                "mergepack/settings.py", CHOICE_LINE, CHOICE_LINE[:-3] + ', "sign_consensus"),\n'
            ),
        ]
    )
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [
                {"match": "Propose 1 new research ideas", "json": {"ideas": [IDEA]}},
                {"match": "Reflection round 1", "json": {"ideas": [IDEA]}},
                {"match": "Idea: Sign-consensus", "text": answer},
            ]
        )
    )
    config = CampaignConfig(
        template="merge",
        smoke=True,
        seeds=[0],
        max_ideas=1,
        max_runs_per_idea=1,
        campaign_dir=tmp_path / "c",
        models={"ideas": f"scripted:{script}", "code": f"scripted:{script}"},
        literature="off",
    )
    campaign = start_campaign(config, quiet=True)

    [entry] = campaign.archive()
    assert entry.status == "done", entry.error
    assert entry.metric != entry.baseline_metric
    conversation = (campaign.idea_dir(entry.id) / "edits" / "conversation.md").read_text()
    request = conversation.split("## assistant")[0]
    assert MERGE_BRANCH in request and CHOICE_LINE in request  # what the SEARCH text copied
    run = campaign.run_dir(entry.id, 1)
    info = json.loads((run / "outputs" / "final_info.json").read_text())
    assert info["config"]["ps_operator"] == ("sign_consensus")
    diff = (run / "code.diff").read_text()
    assert '+    if method == "sign_consensus":' in diff and "b/mergepack/settings.py" in diff

    paper = (campaign.paper_dir(entry.id) / "paper.tex").read_text()
    assert "\\section{Code change}" in paper
    assert 'if method == "sign_consensus":' in paper
    assert "mergepack/merging.py" in paper
