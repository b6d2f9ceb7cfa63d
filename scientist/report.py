"""`report.md`: the campaign's leaderboard, baseline and costs, rewritten after every idea."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from scientist.atomic_files import atomic_write_text
from scientist.campaign import Campaign
from scientist.config import CampaignConfig
from scientist.llm.pricing import unpriced_models
from scientist.models import ArchiveEntry, Effect, ExperimentRun, LedgerEntry
from scientist.pause import read_pause
from scientist.stats import number
from scientist.templates import Template


def _number(value: float | None) -> str:
    return "—" if value is None else number(value, ".4g")


def leaderboard(entries: list[ArchiveEntry]) -> list[ArchiveEntry]:
    """Ideas best first: measured ideas before the rest, those the review did not reject
    before those it did (the review is a gate), then by fitness (the lower bound of the gain
    over the baseline). A duplicate proposal, never run, is not ranked."""

    def key(entry: ArchiveEntry) -> tuple[bool, bool, tuple[float, float], str]:
        return (entry.status == "done", entry.decision != "reject", entry.fitness, entry.id)

    ranked = [entry for entry in entries if entry.status != "duplicate"]
    return sorted(ranked, key=key, reverse=True)


def best_idea(entries: list[ArchiveEntry]) -> ArchiveEntry | None:
    """The idea the headline names: the first measured idea of the leaderboard."""
    return next((e for e in leaderboard(entries) if e.status == "done"), None)


def tested(entries: list[ArchiveEntry]) -> list[ArchiveEntry]:
    """Ideas that ran (whatever came of it): those a headline's best was chosen among."""
    return [e for e in entries if e.status in ("done", "no_effect", "failed")]


def describe_effect(effect: Effect | None, *, brief: bool = False) -> str:
    """'+0.51 [+0.43, +0.59] (paired, n = 3/3)' ('+0.51 [+0.43, +0.59]' when `brief`), or '—'."""
    if effect is None:
        return "—"
    if brief:
        interval = (
            ""
            if effect.low is None or effect.high is None
            else f" [{number(effect.low, '+.3g')}, {number(effect.high, '+.3g')}]"
        )
        return f"{number(effect.mean, '+.3g')}{interval}"
    n = f"n = {effect.n[0]}/{effect.n[1]}"
    if effect.low is None or effect.high is None:
        return f"{number(effect.mean, '+.4g')} (no interval, {n})"
    if effect.test == "exact":
        return f"{number(effect.mean, '+.4g')} (exact, deterministic, {n})"
    interval = f"[{number(effect.low, '+.4g')}, {number(effect.high, '+.4g')}]"
    return f"{number(effect.mean, '+.4g')} {interval} ({effect.test}, {n})"


def run_size(config: CampaignConfig, template: Template) -> str:
    """The size of a campaign's runs in words: full, or smoke with the pack's arguments."""
    if not config.smoke:
        return "full size"
    arguments = " ".join(template.manifest.smoke_args) or "no arguments"
    return f"smoke size (the pack's reduced settings: {arguments})"


def sizes(config: CampaignConfig, template: Template) -> str:
    """The campaign's run size, seeds and confirmation seeds, in one line."""
    confirm = (
        f"the best idea is confirmed on {config.confirm_seeds} fresh seeds"
        if config.confirm_seeds and not template.deterministic
        else "no confirmation run"
    )
    seeds = template.run_seeds(config.seeds)
    return f"Runs: {run_size(config, template)}; seeds {seeds}; {confirm}."


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
    lines += [sizes(campaign.config, template), ""]
    headline = _headline(entries, campaign.config, template)
    if headline:
        lines += ["## Headline", "", *headline, ""]
    lines += [
        "## Leaderboard",
        "",
        "Each idea's *effect* is against its own control (what differs is only the idea's "
        "change); its *gain* is against the campaign baseline. Both are means with a 95 % "
        "interval (paired over shared seeds, else Welch). Ideas are ranked by the gain's lower "
        "bound; the review is a gate (a rejected idea ranks after the others and is never a "
        "parent).",
        "",
        f"| # | idea | status | {metric.name} | effect vs control | gain vs baseline | review "
        "| decision | top weaknesses | paper | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for rank, entry in enumerate(leaderboard(entries), start=1):
        runs = ", ".join(
            f"[run_{k}]({_link(campaign.root, campaign.run_dir(entry.id, k))})"
            for k in range(1, entry.runs + 1)
        )
        weaknesses = " ".join(
            f"({k}) {point.replace('|', '/')}" for k, point in enumerate(entry.weaknesses, 1)
        )
        control = f" (vs {entry.control})" if entry.control else ""
        lines.append(
            f"| {rank} | **{entry.id}**: {entry.idea.title} | {entry.status}{_mark(entry)} | "
            f"{_number(entry.metric)} | {describe_effect(entry.effect)}{control} | "
            f"{describe_effect(entry.gain)} | "
            f"{_number(entry.review_score)} | {entry.decision or '—'} | {weaknesses or '—'} | "
            f"{_paper_links(campaign, entry.id)} | {runs or '—'} |"
        )
    lines += ["", "## Review feedback", "", *review_feedback(entries), ""]
    lines += ["## Costs", "", *_costs(campaign), ""]
    no_effect = [e for e in entries if e.status == "no_effect"]
    if no_effect:
        lines += ["## No effect (a result, not written up)", ""]
        lines += [f"- **{e.id}**: {e.idea.title}: {e.error}" for e in no_effect]
        lines.append("")
    repeats = [e for e in entries if e.status == "duplicate"]
    if repeats:
        lines += ["## Duplicate proposals (not run)", ""]
        lines += [f"- **{e.id}**: {e.idea.title}: {e.error}" for e in repeats]
        lines.append("")
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


def _claim(entry: ArchiveEntry) -> str:
    """One idea's result: its effect against its control, its gain over the baseline, the
    review."""
    verdict = f"review {_number(entry.review_score)}, {entry.decision or 'not reviewed'}"
    control = entry.control or "its control"
    effect = f"effect against {control}: {describe_effect(entry.effect)}"
    if entry.effect is not None and entry.gain is not None and entry.effect.vs == entry.gain.vs:
        return f"**{entry.id}** ({entry.idea.title}): {effect}; {verdict}."
    gain = f"gain over the campaign baseline: {describe_effect(entry.gain)}"
    return f"**{entry.id}** ({entry.idea.title}): {effect}; {gain}; {verdict}."


def _confirmation(entry: ArchiveEntry, config: CampaignConfig, template: Template) -> str:
    """What the re-run on fresh seeds said about the best idea, plainly."""
    if entry.confirmation_error:
        return f"Not confirmed: {entry.confirmation_error}."
    if entry.confirmation is None and template.deterministic:
        return "No confirmation: the pack is deterministic, so one run measures it exactly."
    if entry.confirmation is None and not config.confirm_seeds:
        return "Not confirmed on fresh seeds (confirm_seeds = 0)."
    if entry.confirmation is None:
        return "Not yet confirmed on fresh seeds."
    effect = describe_effect(entry.confirmation)
    if entry.confirmed:
        return f"Confirmed on fresh seeds: effect {effect} against its control."
    return (
        f"**Did not confirm** on fresh seeds: effect {effect} against its control; the "
        "selection effect above is not a finding."
    )


def _headline(entries: list[ArchiveEntry], config: CampaignConfig, template: Template) -> list[str]:
    """The best idea's claim with its confirmation, and the best idea bred from reviewed
    parents, with its lineage."""
    best = best_idea(entries)
    if best is None:
        return []
    count = len(tested(entries))
    confirmation = _confirmation(best, config, template)
    lines = [f"- Best of {count} idea(s) tested: {_claim(best)} {confirmation}"]
    ranked = [e for e in leaderboard(entries) if e.status == "done"]
    bred = [e for e in ranked if e.idea.parents and e.review_score is not None]
    if bred:
        parents = ", ".join(f"**{parent}**" for parent in bred[0].idea.parents)
        lines.append(f"- Best idea bred from reviewed parents ({parents}): {_claim(bred[0])}")
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


def cache_spending(ledger: Iterable[LedgerEntry]) -> str | None:
    """The input tokens read from and written to the providers' prompt caches (already in
    each call's cost at their prices), or None when no call used a cache."""
    usages = [entry.usage for entry in ledger]
    read = sum(usage.cached_input_tokens for usage in usages)
    written = sum(usage.cache_write_tokens for usage in usages)
    if not read and not written:
        return None
    return f"prompt cache: {read:,} input tokens read, {written:,} written"


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
    notes = "; ".join(note for note in (image_spending(ledger), cache_spending(ledger)) if note)
    return [*rows, "", f"Total: ${total:.4f}" + (f" ({notes})" if notes else "")]


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
