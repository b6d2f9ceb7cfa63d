"""`report.md`: the campaign's leaderboard, baseline and costs, rewritten after every idea."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from scientist.campaign import Campaign, atomic_write_text
from scientist.experiments.runs import finished_run
from scientist.llm.pricing import unpriced_models
from scientist.models import ArchiveEntry, ExperimentRun, LedgerEntry
from scientist.pause import read_pause
from scientist.review.evidence import compare
from scientist.templates import Template


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def leaderboard(entries: list[ArchiveEntry]) -> list[ArchiveEntry]:
    """Ideas best first by fitness (review score, then improvement over the baseline)."""
    return sorted(entries, key=lambda entry: (entry.fitness, entry.id), reverse=True)


def render_report(
    campaign: Campaign,
    template: Template,
    baseline: ExperimentRun | None,
    entries: list[ArchiveEntry],
) -> str:
    metric = template.metric
    lines = [
        f"# Campaign {campaign.name}",
        "",
        f"Pack **{template.name}** ({template.manifest.title}); metric **{metric.name}** "
        f"({metric.goal}).",
        "",
    ]
    pause = read_pause(campaign)
    if pause is not None:
        lines += [
            f"**{pause.describe()}**: {pause.message}. Continue with "
            f"`{pause.how_to_continue(campaign)}`.",
            "",
        ]
    lines += [f"Warning: {line}" for line in campaign_warnings(campaign)]
    lines += [provenance(template), ""]
    if baseline is not None:
        base = baseline.metric(metric.name)
        link = _link(campaign.root, baseline.run_dir)
        lines += [f"Baseline ({link}): {metric.name} = {_number(base)}", ""]
    headline = _headline(campaign, template, baseline, entries)
    if headline:
        lines += ["## Headline", "", *headline, ""]
    lines += [
        "## Leaderboard",
        "",
        "Ranked by review score (overall, 1-10), ties by improvement over the baseline.",
        "",
        f"| # | idea | status | {metric.name} | improvement | review | decision "
        "| top weaknesses | paper | runs |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rank, entry in enumerate(leaderboard(entries), start=1):
        runs = ", ".join(
            f"[run_{k}]({_link(campaign.root, campaign.run_dir(entry.id, k))})"
            for k in range(1, entry.runs + 1)
        )
        weaknesses = " ".join(
            f"({k}) {point.replace('|', '/')}" for k, point in enumerate(entry.weaknesses, 1)
        )
        lines.append(
            f"| {rank} | **{entry.id}**: {entry.idea.title} | {entry.status}{_mark(entry)} | "
            f"{_number(entry.metric)} | {_number(entry.improvement)} | "
            f"{_number(entry.review_score)} | {entry.decision or '—'} | {weaknesses or '—'} | "
            f"{_paper_links(campaign, entry.id)} | {runs or '—'} |"
        )
    lines += ["", "## Review feedback", "", *review_feedback(entries), ""]
    lines += ["## Costs", "", *_costs(campaign), ""]
    skipped = [e for e in entries if e.status == "needs_code_model"]
    if skipped:
        lines += ["## Needs a code model (not run)", ""]
        lines += [f"- **{e.id}**: {e.idea.title}: {e.error}" for e in skipped]
        lines.append("")
    mismatched = [e for e in entries if e.grade == "score_mismatch"]
    if mismatched:
        lines += ["## Score mismatches", "", MISMATCH_NOTE, ""]
        for entry in mismatched:
            lines.append(f"- **{entry.id}** ({entry.idea.title}):")
            lines += [f"  - {finding}" for finding in entry.mismatches]
        lines.append("")
    failed = [e for e in entries if e.status == "failed"]
    if failed:
        lines += ["## Failures", ""]
        lines += [f"- **{e.id}**: {e.error or 'no detail'}" for e in failed]
        lines.append("")
    return "\n".join(lines)


MISMATCH_NOTE = (
    "Each idea below reported a score that the pack's grader, run from the unedited pack on "
    "its held-out data, refutes. Its metric is the graded one; it is never a parent, and "
    "its code change is kept in each run's `code.diff`."
)


def provenance(template: Template) -> str:
    """Where the campaign's numbers come from: the pack's grader, or the runs themselves."""
    if template.manifest.grader is not None:
        return (
            "Metrics are **graded**: the pack's grader scores every run from the unedited "
            "pack; what an experiment reports itself is only its claim."
        )
    return (
        "Metrics are **self-reported**: the pack has no grader, so every number is what the "
        "experiment's own (possibly edited) code reported."
    )


def _mark(entry: ArchiveEntry) -> str:
    return " (**score_mismatch**)" if entry.grade == "score_mismatch" else ""


def campaign_warnings(campaign: Campaign) -> list[str]:
    """What makes the costs less than exact: unpriced models, estimated calls."""
    warnings = []
    unpriced = unpriced_models(campaign.config.models)
    if unpriced:
        allowed = " (--allow-unpriced)" if campaign.config.models.allow_unpriced else ""
        warnings.append(
            f"{', '.join(unpriced)} has no price: its calls count as $0 and the budget does "
            f"not limit them{allowed}"
        )
    estimated = [entry for entry in campaign.ledger() if not entry.settled]
    if estimated:
        cost = sum(entry.usage.cost_usd for entry in estimated)
        warnings.append(
            f"${cost:.4f} of the cost is estimated: {len(estimated)} call(s) in flight at a kill"
        )
    return warnings


def _claim(
    campaign: Campaign, template: Template, baseline: ExperimentRun | None, entry: ArchiveEntry
) -> str:
    """One idea's result against the baseline: means, seeds, the Welch interval, the review."""
    metric = template.metric
    runs = [
        run
        for k in range(1, entry.runs + 1)
        if (run := finished_run(campaign.run_dir(entry.id, k), template, entry.id, k))
    ]
    c = compare(runs, baseline, metric.name, metric.goal)
    verdict = f"review {_number(entry.review_score)}, {entry.decision or 'not reviewed'}"
    if c is None:
        return f"**{entry.id}** ({entry.idea.title}): no result against the baseline; {verdict}."
    if c.ci_low is None or c.ci_high is None:
        interval = "no interval (fewer than 2 seeds on one side)"
    else:
        side = "excludes" if c.significant or c.significantly_worse else "includes"
        interval = f"95 % Welch interval [{c.ci_low:.3g}, {c.ci_high:.3g}], which {side} zero"
    return (
        f"**{entry.id}** ({entry.idea.title}): {metric.name} {_number(c.mean)} against the "
        f"baseline's {_number(c.baseline_mean)} ({c.n} and {c.baseline_n} seeds), an "
        f"improvement of {c.effect:+.4g}, {interval}; {verdict}."
    )


def _headline(
    campaign: Campaign,
    template: Template,
    baseline: ExperimentRun | None,
    entries: list[ArchiveEntry],
) -> list[str]:
    """The best idea's claim, and the best idea bred from reviewed parents, with its lineage."""
    ranked = [e for e in leaderboard(entries) if e.status == "done"]
    if not ranked:
        return []
    lines = [f"- Best idea: {_claim(campaign, template, baseline, ranked[0])}"]
    bred = [e for e in ranked if e.idea.parents and e.review_score is not None]
    if bred:
        parents = ", ".join(f"**{parent}**" for parent in bred[0].idea.parents)
        claim = _claim(campaign, template, baseline, bred[0])
        lines.append(f"- Best idea bred from reviewed parents ({parents}): {claim}")
    return lines


def _paper_links(campaign: Campaign, idea_id: str) -> str:
    links = []
    pdf = campaign.paper_dir(idea_id) / "paper.pdf"
    if pdf.is_file():
        links.append(f"[paper.pdf]({_link(campaign.root, pdf)})")
    meta = campaign.reviews_dir(idea_id) / "meta.json"
    if meta.is_file():
        links.append(f"[reviews]({_link(campaign.root, meta.parent)})")
    return ", ".join(links) or "—"


def generation_scores(entries: list[ArchiveEntry]) -> tuple[list[float], list[float]]:
    """Review scores of the first generation (seed ideas, generation 0) and of the ideas bred
    from reviewed parents (generation >= 1)."""
    reviewed = [e for e in entries if e.review_score is not None]
    first = [e.review_score for e in reviewed if e.idea.generation == 0]
    bred = [e.review_score for e in reviewed if e.idea.generation >= 1 and e.idea.parents]
    return first, bred


def review_feedback(entries: list[ArchiveEntry]) -> list[str]:
    """Report lines on whether breeding from the best-reviewed ideas pays off."""
    lines = []
    labels = ("first generation (seed ideas)", "ideas bred from reviewed parents")
    for label, scores in zip(labels, generation_scores(entries), strict=True):
        mean = statistics.fmean(scores) if scores else None
        lines.append(f"- mean review score, {label}: {_number(mean)} ({len(scores)} reviewed)")
    return lines


def image_spending(ledger: Iterable[LedgerEntry]) -> str | None:
    """The input tokens and cost of the images the calls sent, or None when they sent none."""
    usages = [entry.usage for entry in ledger if entry.usage.image_tokens]
    if not usages:
        return None
    tokens = sum(usage.image_tokens for usage in usages)
    return f"images: {tokens:,} input tokens, ${sum(usage.image_usd for usage in usages):.4f}"


def _costs(campaign: Campaign) -> list[str]:
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    ledger = campaign.ledger()
    for entry in ledger:
        row = totals[(entry.role, entry.model)]
        row[0] += 1
        row[1] += entry.usage.cost_usd
    if not totals:
        return ["No model calls (offline campaign): $0.00."]
    rows = ["| role | model | calls | cost (USD) |", "|---|---|---|---|"]
    for (role, model), (calls, cost) in sorted(totals.items()):
        rows.append(f"| {role} | {model} | {int(calls)} | {cost:.4f} |")
    total = sum(cost for _, cost in totals.values())
    images = image_spending(ledger)
    return [*rows, "", f"Total: ${total:.4f}" + (f" ({images})" if images else "")]


def _link(root: Path, target: Path) -> str:
    try:
        return str(Path(target).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(target)


def write_report(
    campaign: Campaign,
    template: Template,
    baseline: ExperimentRun | None,
    entries: list[ArchiveEntry],
) -> Path:
    atomic_write_text(campaign.report_path, render_report(campaign, template, baseline, entries))
    return campaign.report_path
