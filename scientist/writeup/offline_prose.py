"""Deterministic prose (no model): what was run, what changed, what the numbers say.

Every number is printed by an evidence macro or quoted from the configuration; the
verdict wording is decided from the comparison with the baseline (`claims`).
"""

from __future__ import annotations

import re
from typing import Any

from scientist.models import ExperimentRun
from scientist.writeup.claims import claim_sentence
from scientist.writeup.context import PaperContext, reference_sentence, tex
from scientist.writeup.evidence import macro_stem, run_label
from scientist.writeup.figure_choice import SUPPLEMENTARY


def _m(ctx: PaperContext, name: str) -> str:
    return ctx.evidence.ref(name)


def _metric_macro(ctx: PaperContext, label: str, suffix: str) -> str | None:
    name = f"res{label}{macro_stem(ctx.metric)}{suffix}"
    return ctx.evidence.ref(name) if ctx.evidence.has(name) else None


def verdict(ctx: PaperContext) -> str:
    """What the comparison supports, and nothing stronger (`claims.claim_sentence`)."""
    return claim_sentence(ctx.evidence)


def _spread(mean: str, std: str, seeds: int) -> str:
    """`mean ± std` with several seeds; a lone value has no spread to print."""
    return f"{mean}~$\\pm$~{std}" if seeds > 1 else mean


def _seeds(run: ExperimentRun | None) -> int:
    return len(run.final_info.seeds) if run is not None and run.final_info is not None else 0


def _headline(ctx: PaperContext) -> str:
    if ctx.evidence.best is None:
        return ""
    best = _spread(_m(ctx, "resBestMean"), _m(ctx, "resBestStd"), _seeds(ctx.evidence.best))
    text = (
        f"The best of the idea's runs (runs in all: {_m(ctx, 'resNumRuns')}) reached "
        f"{tex(ctx.metric)} of {best} (seeds: {_m(ctx, 'resBestNumSeeds')})"
    )
    base = _metric_macro(ctx, "Baseline", "Mean")
    if base and ctx.evidence.has("resBestDelta"):
        base_std = _metric_macro(ctx, "Baseline", "Std") or ""
        shown = _spread(base, base_std, _seeds(ctx.evidence.baseline))
        text += f", against {shown} for the baseline (a difference of {_m(ctx, 'resBestDelta')})"
    return text + ". "


def abstract(ctx: PaperContext) -> str:
    goal = "higher" if ctx.goal == "maximize" else "lower"
    return (
        f"We test one idea on the {tex(ctx.template.manifest.title)} experiment pack: "
        f"{tex(ctx.idea.title)}. {tex(ctx.idea.hypothesis)} We compare it with the pack's "
        f"baseline on {tex(ctx.metric)} ({goal} is better). {_headline(ctx)}{verdict(ctx)}"
    )


def introduction(ctx: PaperContext) -> str:
    return (
        f"{tex(ctx.template.manifest.description)}\n\n"
        f"This paper studies one idea in that setting, \\emph{{{tex(ctx.idea.title)}}}.\n\n"
        f"\\paragraph{{Hypothesis.}} {tex(ctx.idea.hypothesis)}\n\n"
        f"\\paragraph{{Findings.}} {verdict(ctx)} Section~\\ref{{sec:results}} reports the "
        "measurements and Section~\\ref{sec:limitations} states what they cannot show."
    )


def related(ctx: PaperContext) -> str:
    entries = ctx.bibliography.entries
    if not entries:
        return "No bibliography was available for this paper, so no related work is cited."
    cited = "; ".join(
        f"\\citet{{{e.key}}} (\\emph{{{tex(re.sub(r'[{}]', '', e.title))}}})" for e in entries
    )
    return f"This study builds on the following work: {cited}."


def _value(value: Any) -> str:
    return "unset" if value is None else tex(str(value))


def method(ctx: PaperContext) -> str:
    base_config = ctx.baseline.final_info.config if ctx.baseline and ctx.baseline.final_info else {}
    if ctx.against_control:
        text = (
            f"\\subsection{{Control}}\nThe idea is measured against its control, "
            f"{tex(ctx.control)}, run with the same seeds as the idea: it differs from the idea "
            "only by the idea's change, and the table calls it the baseline.\n\n"
        )
    else:
        text = "\\subsection{Baseline}\nThe baseline is the pack's default configuration"
    if ctx.template.manifest.baseline and not ctx.against_control:
        settings = ", ".join(
            f"\\texttt{{{tex(k)}}}~$=$~{_value(v)}"
            for k, v in ctx.template.manifest.baseline.items()
        )
        text += f" with {settings}"
    if not ctx.against_control:
        text += ", run once per campaign with the same seeds as the idea.\n\n"
    text += f"\\subsection{{This idea}}\n{tex(ctx.idea.plan)}\n"
    changed = {k: v for k, v in ctx.idea.overrides.items() if base_config.get(k) != v}
    if ctx.idea.overrides and not changed:
        text += "\nThe idea's settings are those of the baseline.\n"
    if changed:
        items = "\n".join(
            f"  \\item \\texttt{{{tex(key)}}}: {_value(base_config.get(key))} "
            f"$\\rightarrow$ {_value(value)}"
            for key, value in changed.items()
        )
        text += (
            "\nRelative to the baseline, the idea changes these settings "
            f"(baseline $\\rightarrow$ idea):\n\\begin{{itemize}}\n{items}\n\\end{{itemize}}\n"
        )
    if ctx.diff.strip():
        text += "\n" + code_change(ctx.diff)
    return text


def code_change(diff: str) -> str:
    """The code change in words: which files, how many lines, where it is listed."""
    files = re.findall(r"^\+\+\+ b/(\S+)", diff, re.MULTILINE)
    added = sum(1 for line in diff.splitlines() if line[:1] == "+" and line[:3] != "+++")
    removed = sum(1 for line in diff.splitlines() if line[:1] == "-" and line[:3] != "---")
    names = ", ".join(f"\\texttt{{{tex(name)}}}" for name in files)
    return (
        f"The idea changes the experiment code in {names}: {added} lines added and {removed} "
        "removed, listed in Appendix~\\ref{app:code}.\n"
    )


def setup(ctx: PaperContext) -> str:
    manifest = ctx.template.manifest
    seeds = "" if ctx.template.deterministic else " per seed"
    text = (
        f"All runs use the \\texttt{{{tex(manifest.name)}}} pack: "
        f"\\texttt{{{tex(manifest.entrypoint)}}} "
        f"runs the experiment and writes each metric{seeds}, and "
        f"\\texttt{{{tex(manifest.plot)}}} draws the figures. The primary metric is "
        f"\\texttt{{{tex(ctx.metric)}}}, to {tex(ctx.goal)}. "
    )
    if ctx.template.deterministic:
        text += (
            "The pack declares itself deterministic: a run gives the same numbers whatever "
            "its seed, so each configuration is run once. "
        )
    text += f"Runs are {tex(ctx.size)}. The idea is compared with {tex(ctx.control)}. "
    if ctx.evidence.has("resBaselineNumSeeds"):
        text += f"Seeds of the baseline: {_m(ctx, 'resBaselineNumSeeds')}. "
    for run in ctx.runs:
        label = run_label(run.index)
        if ctx.evidence.has(f"res{label}NumSeeds"):
            text += (
                f"Run~{_m(ctx, f'res{label}Index')}: seeds {_m(ctx, f'res{label}NumSeeds')}, "
                f"runtime {_m(ctx, f'res{label}RuntimeMinutes')} minutes. "
            )
    failed = [run for run in ctx.runs if run.final_info is None]
    if failed:
        text += f"Runs without results, not reported: {_m(ctx, 'resNumFailedRuns')}. "
    return text + "Every experiment ran in an isolated sandbox with limits set outside the code."


def results(ctx: PaperContext) -> str:
    text = (
        "Table~\\ref{tab:results} lists, for the baseline and every run of the idea, the mean "
        "and standard deviation across seeds of each metric, and the difference of the "
        f"primary metric from the baseline. {_headline(ctx)}{verdict(ctx)}\n\n"
    )
    for run in ctx.runs:
        label = run_label(run.index)
        mean, delta = _metric_macro(ctx, label, "Mean"), _metric_macro(ctx, label, "Delta")
        if mean is None:
            continue
        text += f"Run~{_m(ctx, f'res{label}Index')} reached {mean}"
        text += f" ({delta} against the baseline)" if delta else ""
        pct = _metric_macro(ctx, label, "DeltaPct")
        text += f", a relative change of {pct}\\%. " if pct else ". "
    for figure in ctx.figures:
        text += f"\n\n{reference_sentence(figure)}"
    if ctx.supplementary:
        text += (
            "\n\nThe plot script drew further figures; they are kept with this paper in its "
            f"\\texttt{{{SUPPLEMENTARY}}} folder rather than printed."
        )
    return text


def _noise(ctx: PaperContext) -> str:
    """What the seeds can and cannot show, for this comparison."""
    comparison = ctx.evidence.comparison
    if comparison is not None and comparison.exact:
        return (
            "The pack is deterministic, so seeds add nothing and one run per configuration "
            "is exact; the evidence is still one setting of the pack. "
        )
    if comparison is not None and comparison.ci_low is not None:
        return (
            "The evidence is small-scale: each configuration was run with few seeds (see "
            "Section~\\ref{sec:setup}); the spread we report is the sample standard deviation "
            "across those seeds, and the comparison rests on a 95 % interval (paired over shared "
            "seeds, else Welch's). "
        )
    return (
        "The evidence is small-scale: with a single run on at least one side there is no "
        "spread, so no difference can be told apart from seed noise. "
    )


def limitations(ctx: PaperContext) -> str:
    return (
        f"{_noise(ctx)}The study covers one experiment pack and one "
        "idea, so it says nothing about other models, data or scales. The prose of this paper "
        "was generated by rules from the recorded results rather than by a model, so it "
        "describes what was measured and does not interpret it further."
    )


def conclusion(ctx: PaperContext) -> str:
    return (
        f"We tested \\emph{{{tex(ctx.idea.title)}}} against the pack's baseline. "
        f"{_headline(ctx)}{verdict(ctx)}"
    )


WRITERS = {
    "abstract": abstract,
    "introduction": introduction,
    "related": related,
    "method": method,
    "setup": setup,
    "results": results,
    "limitations": limitations,
    "conclusion": conclusion,
}


def write_sections(ctx: PaperContext) -> dict[str, str]:
    return {name: writer(ctx) for name, writer in WRITERS.items()}
