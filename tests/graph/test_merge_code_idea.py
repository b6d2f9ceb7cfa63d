"""End to end on the shipped merge pack (smoke size): the ideas model proposes an operator the
pack lacks, the code model adds it in `mergepack/` (SEARCH text copied from what its prompt
showed), the run uses it, and the paper's text shows the change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scientist.campaign import Campaign
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


def _code_idea_campaign(tmp_path: Path, idea: dict, answer: str, **changes) -> Campaign:
    """A one-idea smoke campaign on `merge` whose scripted models propose `idea` and answer
    its implementation request with `answer`."""
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [
                {"match": "Propose 1 new research ideas", "json": {"ideas": [idea]}},
                {"match": "Reflection round 1", "json": {"ideas": [idea]}},
                {"match": f"Idea: {idea['title'][:12]}", "text": answer},
            ]
        )
    )
    config = CampaignConfig(
        template="merge",
        smoke=True,
        max_ideas=1,
        max_runs_per_idea=1,
        campaign_dir=tmp_path / "c",
        models={"ideas": f"scripted:{script}", "code": f"scripted:{script}"},
        literature="off",
        **changes,
    )
    return start_campaign(config, quiet=True)


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
    campaign = _code_idea_campaign(tmp_path, IDEA, answer, seeds=[0])

    [entry] = campaign.archive()
    assert entry.status == "done", entry.error
    assert entry.metric != entry.baseline_metric
    assert entry.control.endswith("without ps_operator, which only its code provides)")
    conversation = (campaign.idea_dir(entry.id) / "edits" / "conversation.md").read_text()
    request = conversation.split("## assistant")[0]
    assert MERGE_BRANCH in request and CHOICE_LINE in request  # what the SEARCH text copied
    run = campaign.run_dir(entry.id, 1)
    info = json.loads((run / "outputs" / "final_info.json").read_text())
    assert info["config"]["ps_operator"] == ("sign_consensus")
    diff = (run / "code.diff").read_text()
    assert '+    if method == "sign_consensus":' in diff and "b/mergepack/settings.py" in diff

    confirm = campaign.idea_dir(entry.id) / "confirm"  # its code rebuilt from the run's diff
    assert NEW_BRANCH in (confirm / "code/mergepack/merging.py").read_text()
    assert (confirm / "run/code.diff").read_text() == diff
    assert entry.confirmation is not None and entry.confirmation.n == [3, 3]  # fresh seeds

    paper = (campaign.paper_dir(entry.id) / "paper.tex").read_text()
    assert "\\section{Code change}" in paper
    assert 'if method == "sign_consensus":' in paper
    assert "mergepack/merging.py" in paper


LONGER = {
    "name": "longer_search",
    "title": "A longer parameter-space search",
    "hypothesis": "More CMA-ES generations find a better merge.",
    "plan": "Raise the smoke-size generation cap of the parameter-space search in "
    "mergepack/settings.py from 12 to 14.",
    "interestingness": 5,
    "feasibility": 9,
    "novelty": 3,
    "overrides": {},
}
SMOKE_GENERATIONS = '    "generations": 12,\n'


def test_a_code_idea_is_measured_against_the_unchanged_pack(tmp_path: Path, run_cache):
    """A code idea with no settings: its control is the unchanged pack at its defaults (the
    evolved merge), not the hand-merge baseline. Its own effect is near zero while its gain
    over the hand merge is large, and the paper names the control."""
    pack = load_template("merge").root
    assert SMOKE_GENERATIONS in (pack / "mergepack/settings.py").read_text()
    answer = block("mergepack/settings.py", SMOKE_GENERATIONS, '    "generations": 14,\n')
    campaign = _code_idea_campaign(tmp_path, LONGER, answer, seeds=[0, 1], confirm_seeds=0)

    [entry] = campaign.archive()
    assert entry.status == "done", entry.error
    assert entry.control == "the unchanged pack with the idea's settings (the pack's defaults)"
    effect, gain = entry.effect, entry.gain
    assert effect.vs.startswith("controls/") and effect.test == "paired"
    control = json.loads((campaign.root / effect.vs / "overrides.json").read_text())
    assert control == {"seeds": [0, 1]}  # the pack's defaults: its own evolved merge
    assert (campaign.root / effect.vs / "code.diff").read_text() == ""
    assert abs(effect.mean) < 0.1, effect
    assert gain.vs == "baseline/run_0" and gain.mean > 0.3, gain  # over the hand merge
    paper = (campaign.paper_dir(entry.id) / "paper.tex").read_text()
    assert "the unchanged pack with the idea" in paper and "Smoke-size runs" in paper
    report = campaign.report_path.read_text()
    assert "effect against the unchanged pack with the idea's settings" in report
