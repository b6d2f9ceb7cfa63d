"""Comparative sentences follow the statistics: n = 1, std = 0, a deterministic pack, a tie."""

from __future__ import annotations

from pathlib import Path

import pytest

from scientist.config import ModelsConfig
from scientist.llm import RoleModel, open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.templates import Template
from scientist.writeup import llm_prose
from scientist.writeup.citations import Bibliography
from scientist.writeup.claims import overclaims
from scientist.writeup.context import SECTIONS, PaperContext
from scientist.writeup.document import results_table
from scientist.writeup.evidence import build_evidence
from scientist.writeup.offline_prose import write_sections
from tests.writeup.conftest import IDEA, record_run

BASE = {"lr": 0.01, "width": 16, "depth": 2}
UNSUPPORTED = ("improved", "more than one standard deviation", "significant", "outperform")


def paper_context(
    tmp_path: Path,
    template: Template,
    base_scores: list[float],
    idea_scores: list[float],
    *,
    deterministic: bool = False,
) -> PaperContext:
    seeding = "deterministic" if deterministic else "stochastic"
    manifest = template.manifest.model_copy(update={"seeding": seeding})
    pack = template.model_copy(update={"manifest": manifest})
    baseline = record_run(tmp_path / "base", "baseline", 0, base_scores, BASE)
    run = record_run(tmp_path / "run", "idea", 1, idea_scores, {**BASE, "lr": 0.1})
    evidence = build_evidence(
        "score", "maximize", baseline, [run], deterministic=pack.deterministic
    )
    return PaperContext(
        idea=IDEA,
        template=pack,
        evidence=evidence,
        bibliography=Bibliography(),
        baseline=baseline,
        runs=[run],
    )


def write_model(
    replay_server: ReplayServer, monkeypatch: pytest.MonkeyPatch, script: list[dict]
) -> RoleModel:
    """The `write` role, answered by the replay server from `script`."""
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    replay_server.load(script)
    llm = open_llm(ModelsConfig(write="openai:gpt-4o", base_url=f"{replay_server.url}/v1"))
    return llm.for_role("write")


def prose(ctx: PaperContext) -> str:
    return "\n".join(write_sections(ctx).values())


def test_a_single_run_claims_no_difference(tmp_path: Path, toy_template: Template) -> None:
    ctx = paper_context(tmp_path, toy_template, [0.50], [0.70])
    text = prose(ctx)
    assert ctx.evidence.comparison.verdict == "single_run"
    assert overclaims(text, ctx.evidence) == []
    assert "a single run; no spread" in text
    assert not any(word in text for word in UNSUPPORTED)
    assert "$\\pm$" not in text  # a lone value has no spread to print
    assert "Welch" not in text


def test_identical_seeds_of_a_stochastic_pack_support_no_claim(
    tmp_path: Path, toy_template: Template
) -> None:
    ctx = paper_context(tmp_path, toy_template, [0.5, 0.5, 0.5], [0.7, 0.7, 0.7])
    text = prose(ctx)
    assert ctx.evidence.comparison.verdict == "no_spread"
    assert "every seed gave the same value" in text
    assert not any(word in text for word in UNSUPPORTED)


def test_a_deterministic_pack_is_measured_exactly_by_one_run(
    tmp_path: Path, toy_template: Template
) -> None:
    ctx = paper_context(tmp_path, toy_template, [0.50], [0.70], deterministic=True)
    text = prose(ctx)
    assert ctx.evidence.comparison.verdict == "improved"
    assert "deterministic, so one run measures each configuration exactly" in text
    assert "the idea improved on the baseline (a difference of \\resBestDelta{})" in text
    assert "seed noise" not in text and "few seeds" not in text


def test_a_tie_is_reported_as_no_difference(tmp_path: Path, toy_template: Template) -> None:
    ctx = paper_context(tmp_path, toy_template, [0.5, 0.6, 0.7], [0.7, 0.6, 0.5])
    text = prose(ctx)
    assert ctx.evidence.comparison.verdict == "tie"
    assert "no difference was measured" in text
    assert not any(word in text for word in UNSUPPORTED)


def test_several_seeds_claim_by_the_paired_interval(tmp_path: Path, toy_template: Template) -> None:
    """Idea and baseline ran the same seeds: the interval is over the per-seed differences."""
    clear = paper_context(tmp_path / "a", toy_template, [0.50, 0.51, 0.52], [0.70, 0.71, 0.72])
    text = prose(clear)
    assert clear.evidence.comparison.test == "paired"
    assert "The idea improved on the baseline: the \\resCiLevel{}\\% paired interval" in text
    assert "[\\resBestCiLow{}, \\resBestCiHigh{}], which excludes zero" in text
    assert clear.evidence.macros["resBestCiLow"].startswith("+")

    noisy = paper_context(tmp_path / "b", toy_template, [0.40, 0.60, 0.50], [0.45, 0.65, 0.52])
    assert "within seed noise" in prose(noisy)
    assert "improved" not in prose(noisy)


def test_the_model_writer_is_given_the_supported_claim(
    tmp_path: Path,
    toy_template: Template,
    replay_server: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = [
        {"json": {"latex": "A single run."}, "match": "Write the **Results** section"},
        {"json": {"latex": "A single run."}, "match": "no more than this sentence"},
    ]
    model = write_model(replay_server, monkeypatch, script)
    ctx = paper_context(tmp_path, toy_template, [0.50], [0.70])
    draft = llm_prose.draft_section(ctx, model, "Results", "The results.")
    body = llm_prose.critique_section(ctx, model, "Results", draft, "")
    assert body == "A single run." and replay_server.remaining == 0
    drafting, critique = (r["body"]["messages"] for r in replay_server.requests)
    assert "a single run; no spread" in drafting[1]["content"]  # the shared material
    assert "a single run; no spread" in critique[-1]["content"]


def test_the_table_prints_no_spread_for_a_single_run(
    tmp_path: Path, toy_template: Template
) -> None:
    single = results_table(paper_context(tmp_path / "a", toy_template, [0.5], [0.7]).evidence)
    assert "\\resBaselineScoreMean{}" in single.dumps()
    assert "ScoreStd" not in single.dumps()
    several = paper_context(tmp_path / "b", toy_template, [0.5, 0.6], [0.7, 0.8]).evidence
    assert "\\resBaselineScoreStd{}" in results_table(several).dumps()


def test_overclaims_are_found_unless_the_comparison_supports_them(
    tmp_path: Path, toy_template: Template
) -> None:
    single = paper_context(tmp_path / "a", toy_template, [0.5], [0.7]).evidence
    text = "Our method significantly outperforms the baseline. The gain is not significant."
    assert overclaims(text, single) == ["outperforms", "significantly"]
    clear = paper_context(tmp_path / "b", toy_template, [0.50, 0.51], [0.70, 0.71]).evidence
    assert overclaims(text, clear) == []


def test_the_hypothesis_stated_as_given_is_no_overclaim(
    tmp_path: Path, toy_template: Template
) -> None:
    """The hypothesis is what the paper tests: its own words, quoted plain or escaped for
    LaTeX, claim nothing; the same word outside it still does."""
    single = paper_context(tmp_path, toy_template, [0.5], [0.7]).evidence
    hypothesis = "A 10% larger learning-rate outperforms the default."
    stated = (
        "We test whether a 10\\% larger learning{-}rate\noutperforms the default. "
        "Our hypothesis: A 10% larger learning-rate outperforms the default"
    )
    assert overclaims(stated, single, hypothesis=hypothesis) == []
    assert overclaims(stated, single) == ["outperforms"]
    claimed = f"{stated}. The tuned rate significantly outperforms it."
    assert overclaims(claimed, single, hypothesis=hypothesis) == ["outperforms", "significantly"]


def test_the_model_restates_an_overclaiming_section(
    tmp_path: Path,
    toy_template: Template,
    replay_server: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    restated = "From a single run, no difference can be claimed."
    script = [{"json": {"latex": restated}, "match": 'It says: "outperforms", "significantly"'}]
    model = write_model(replay_server, monkeypatch, script)
    ctx = paper_context(tmp_path, toy_template, [0.50], [0.70])
    sections = {key: "Plain text." for key, _, _ in SECTIONS}
    sections["results"] = "Our method significantly outperforms the baseline."
    sections["introduction"] = "We hypothesize: the tuned rate outperforms the default."
    ctx.idea = ctx.idea.model_copy(update={"hypothesis": "The tuned rate outperforms the default."})
    fixed = llm_prose.fix_overclaims(ctx, model, sections)
    assert fixed["results"] == restated and fixed["method"] == "Plain text."
    assert fixed["introduction"] == sections["introduction"]
    [request] = replay_server.requests
    assert "a single run; no spread" in request["body"]["messages"][-1]["content"]
