"""The LaTeX fix loop with a model: rules first, one request per compile, offline fallback."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from scientist.campaign import Campaign
from scientist.config import ModelsConfig, WriteupConfig
from scientist.llm import open_llm
from scientist.llm.replay_server import ReplayServer
from scientist.models import ExperimentRun
from scientist.sandbox import Sandbox
from scientist.templates import Template
from scientist.writeup import write_paper
from scientist.writeup.context import SECTIONS
from tests.conftest import stage_context
from tests.writeup.conftest import IDEA

FILLER = [f"Observation {word} holds." for word in "abcdefghijklmnop"]
# two stray environment ends, far enough apart to be two blocks of the fix request
BROKEN = [*FILLER[:5], "\\end{itemize}", *FILLER[5:14], "\\end{itemize}", *FILLER[14:]]
INTRODUCTION = "Model-written introduction text with a stray \\undefinedthing{} command."


def fixed_again(tag: str) -> dict:
    """A fix that leaves each error in place: each block is the nine lines around its
    erroneous line, returned with that line changed by `tag`."""
    blocks = []
    for number, line in ((1, 5), (2, 15)):
        window = BROKEN[line - 4 : line + 5]
        window[4] = f"\\end{{itemize}}{tag}"
        blocks.append({"block": number, "lines": "\n".join(window)})
    return {"json": {"blocks": blocks}, "match": "failed to compile"}


def script() -> list[dict]:
    entries: list[dict] = []
    for key, title, _ in SECTIONS:
        body = f"Model-written {key} text."
        body = "\n".join(BROKEN) if key == "results" else body
        body = INTRODUCTION if key == "introduction" else body
        for stage in ("Write the", "draft of the"):
            entries.append({"json": {"latex": body}, "match": f"{stage} **{title}** section"})
    return [*entries, fixed_again("{}"), fixed_again("{}{}")]


@pytest.mark.latex
def test_a_paper_the_model_cannot_fix_still_ends_with_a_pdf(
    replay_server: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
    toy_campaign: Campaign,
    toy_template: Template,
    toy_runs: tuple[ExperimentRun, list[ExperimentRun]],
    sandbox: Sandbox,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    replay_server.load(script())
    models = ModelsConfig(write="openai:gpt-3.5-turbo", base_url=f"{replay_server.url}/v1")
    ctx = stage_context(
        toy_campaign,
        toy_template,
        sandbox=sandbox,
        llm=open_llm(models),
        writeup=WriteupConfig(fix_rounds=3),
    )
    baseline, runs = toy_runs
    paper = write_paper(ctx, idea_id="unfixable", idea=IDEA, baseline=baseline, runs=runs)

    assert paper.compiled and paper.pdf_path is not None and paper.pdf_path.is_file()
    prompts = [r["body"]["messages"][-1]["content"] for r in replay_server.requests]
    fixes = [p for p in prompts if "failed to compile" in p]
    # round 1: the rules removed the undefined command, no request; rounds 2 and 3: one
    # request each, with both erroneous lines of that compile; never the same request twice
    assert len(fixes) == 2 and all("### Block 2" in p for p in fixes)
    assert len(set(replay_server.fingerprints)) == len(replay_server.fingerprints)
    assert paper.compile_rounds == 5  # 4 rounds, then the fallback compiled at once
    tex = paper.tex_path.read_text()
    assert "\\undefinedthing" not in tex and "with a stray  command." in tex
    assert "Model-written conclusion text." in tex and "\\end{itemize}" not in tex
    assert "Table~\\ref{tab:results} lists" in tex  # the offline Results
    assert any(e.startswith("Results: the model's text did not compile") for e in paper.errors)
    text = " ".join(page.extract_text() for page in PdfReader(paper.pdf_path).pages)
    assert "did not compile" in " ".join(text.split())
