"""Model-written prose: one LaTeX fragment per section, then a self-critique pass each.

The model sees the idea, the code diff, the evidence macros, the figure captions and the
bibliography keys. Its critique pass is told which literal numbers in its draft have no
source (from the verifier), so the rewrite can replace them by macros.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from scientist.writeup.context import SECTIONS, PaperContext
from scientist.writeup.prompting import ask
from scientist.writeup.verify import find_unsourced, numbers_in

MAX_DIFF_CHARS = 6000


class SectionDraft(BaseModel):
    """A section body in LaTeX."""

    latex: str


def sources(ctx: PaperContext) -> list[float]:
    return [*ctx.evidence.values(), *numbers_in(ctx.config_sources())]


def unsourced_in(ctx: PaperContext, fragment: str) -> list[str]:
    found = find_unsourced(fragment, sources=sources(ctx), years=ctx.bibliography.years())
    return [item.number for item in found]


def _common(ctx: PaperContext) -> dict[str, str]:
    return {
        "macro_names": ", ".join(f"\\{name}" for name in ctx.evidence.macros),
        "keys": ", ".join(ctx.bibliography.keys) or "(none)",
    }


def write_section(ctx: PaperContext, llm: Any, title: str, guidance: str) -> str:
    draft = ask(
        llm,
        "section",
        schema=SectionDraft,
        section=title,
        guidance=guidance,
        title=ctx.idea.title,
        hypothesis=ctx.idea.hypothesis,
        plan=ctx.idea.plan,
        pack=ctx.pack_summary(),
        diff=ctx.diff[:MAX_DIFF_CHARS] or "(no code change: the idea is a configuration)",
        macros=ctx.macro_listing(),
        figures=ctx.figure_listing(),
        citations=ctx.citation_listing(),
    ).latex
    revised = ask(
        llm,
        "critique",
        schema=SectionDraft,
        section=title,
        draft=draft,
        unsourced=", ".join(unsourced_in(ctx, draft)) or "(none)",
        **_common(ctx),
    )
    return revised.latex


def write_sections(ctx: PaperContext, llm: Any) -> dict[str, str]:
    return {key: write_section(ctx, llm, title, guide) for key, title, guide in SECTIONS}


def fix_unsourced(ctx: PaperContext, llm: Any, sections: dict[str, str]) -> dict[str, str]:
    """Ask the model once more for each section that still has unsourced numbers."""
    fixed = dict(sections)
    for key, title, _ in SECTIONS:
        numbers = unsourced_in(ctx, sections[key])
        if not numbers:
            continue
        fixed[key] = ask(
            llm,
            "unsourced",
            schema=SectionDraft,
            section=title,
            unsourced=", ".join(numbers),
            draft=sections[key],
            macro_names=_common(ctx)["macro_names"],
        ).latex
    return fixed
