"""Model-written prose: one LaTeX fragment per section, then a critique round over those
with a problem (`draft_checks`).

Between the drafts and the critique round the figure review looks at the figures
(`figure_review`); its findings reach the critique of the sections that discuss them. The
model sees the idea, the code diff, the evidence macros, the figure captions, the
bibliography keys and the one comparative claim the evidence supports (`claims`), which no
section may state more strongly. Of the evidence it sees only the macros a section may cite
(`PaperContext.citable`); a literal number counts as sourced only when one of those, or the
configuration, backs it. Its critique pass is told which literal numbers in its
draft have no source (from the verifier), so the rewrite can replace them by macros.
"""

from __future__ import annotations

from pydantic import BaseModel

from scientist.llm import RoleModel
from scientist.prompts import render_prompt
from scientist.writeup.claims import claim_sentence, overclaims
from scientist.writeup.context import SECTIONS, PaperContext
from scientist.writeup.draft_checks import draft_problems, unsourced_in
from scientist.writeup.prompting import ask

MAX_DIFF_CHARS = 6000


class SectionDraft(BaseModel):
    """A section body in LaTeX."""

    latex: str


def paper_material(ctx: PaperContext) -> str:
    """What every section's draft is written from: the same text for each section, so it is
    the stable prefix of their requests."""
    return render_prompt(
        "write/paper_context",
        title=ctx.idea.title,
        hypothesis=ctx.idea.hypothesis,
        plan=ctx.idea.plan,
        pack=ctx.pack_summary(),
        diff=ctx.diff[:MAX_DIFF_CHARS] or "(none: the idea changes settings only)",
        macros=ctx.macro_listing(),
        figures=ctx.figure_listing(),
        citations=ctx.citation_listing(),
        claim=claim_sentence(ctx.evidence),
    )


def draft_section(ctx: PaperContext, model: RoleModel, title: str, guidance: str) -> str:
    request = render_prompt("write/section", section=title, guidance=guidance)
    return ask(model, request, schema=SectionDraft, material=paper_material(ctx)).latex


def critique_section(
    ctx: PaperContext, model: RoleModel, title: str, draft: str, figure_notes: str
) -> str:
    """The critique round of one section: the rules, and the figure review's findings on the
    figures it discusses (`figure_notes`, '' when none)."""
    critique = render_prompt(
        "write/critique",
        section=title,
        draft=draft,
        unsourced=", ".join(unsourced_in(ctx, draft)) or "(none)",
        macro_names=ctx.macro_names(draft),
        keys=", ".join(ctx.bibliography.keys) or "(none)",
        claim=claim_sentence(ctx.evidence),
        figure_notes=figure_notes,
    )
    return ask(model, critique, schema=SectionDraft).latex


def draft_sections(ctx: PaperContext, model: RoleModel) -> dict[str, str]:
    return {key: draft_section(ctx, model, title, guide) for key, title, guide in SECTIONS}


def critique_sections(
    ctx: PaperContext, model: RoleModel, drafts: dict[str, str], figure_notes: dict[str, str]
) -> dict[str, str]:
    """Each draft with a problem code can find (`draft_checks`) through its critique round
    (`figure_notes` by section key); a draft without one is kept as it is."""
    critiqued = dict(drafts)
    for key, title, _ in SECTIONS:
        notes = figure_notes.get(key, "")
        if draft_problems(ctx, drafts[key], notes):
            critiqued[key] = critique_section(ctx, model, title, drafts[key], notes)
    return critiqued


def fix_unsourced(ctx: PaperContext, model: RoleModel, sections: dict[str, str]) -> dict[str, str]:
    """Ask the model once more for each section that still has unsourced numbers."""
    fixed = dict(sections)
    for key, title, _ in SECTIONS:
        numbers = unsourced_in(ctx, sections[key])
        if not numbers:
            continue
        request = render_prompt(
            "write/unsourced",
            section=title,
            unsourced=", ".join(numbers),
            draft=sections[key],
            macro_names=ctx.macro_names(sections[key]),
        )
        fixed[key] = ask(model, request, schema=SectionDraft).latex
    return fixed


def fix_overclaims(ctx: PaperContext, model: RoleModel, sections: dict[str, str]) -> dict[str, str]:
    """Ask the model once to restate each section that claims more than the comparison
    supports (an improvement, significance) in the terms of the supported claim; the idea's
    hypothesis, stated as given, claims nothing."""
    fixed = dict(sections)
    for key, title, _ in SECTIONS:
        phrases = overclaims(sections[key], ctx.evidence, hypothesis=ctx.idea.hypothesis)
        if not phrases:
            continue
        request = render_prompt(
            "write/overclaim",
            section=title,
            phrases=", ".join(f'"{phrase}"' for phrase in phrases),
            claim=claim_sentence(ctx.evidence),
            draft=sections[key],
        )
        fixed[key] = ask(model, request, schema=SectionDraft).latex
    return fixed
