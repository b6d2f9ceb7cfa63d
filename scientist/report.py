"""`report.md`: the campaign's leaderboard, baseline and costs, rewritten after every idea."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from scientist.campaign import Campaign, atomic_write_text
from scientist.models import ArchiveEntry, ExperimentRun
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
    if baseline is not None:
        base = baseline.metric(metric.name)
        link = _link(campaign.root, baseline.run_dir)
        lines += [f"Baseline ({link}): {metric.name} = {_number(base)}", ""]
    lines += [
        "## Leaderboard",
        "",
        f"| # | idea | status | {metric.name} | improvement | review | runs |",
        "|---|---|---|---|---|---|---|",
    ]
    for rank, entry in enumerate(leaderboard(entries), start=1):
        runs = ", ".join(
            f"[run_{k}]({_link(campaign.root, campaign.run_dir(entry.id, k))})"
            for k in range(1, entry.runs + 1)
        )
        lines.append(
            f"| {rank} | **{entry.id}**: {entry.idea.title} | {entry.status} | "
            f"{_number(entry.metric)} | {_number(entry.improvement)} | "
            f"{_number(entry.review_score)} | {runs or '—'} |"
        )
    lines += ["", "## Costs", "", *_costs(campaign), ""]
    failed = [e for e in entries if e.status == "failed"]
    if failed:
        lines += ["## Failures", ""]
        lines += [f"- **{e.id}**: {e.error or 'no detail'}" for e in failed]
        lines.append("")
    return "\n".join(lines)


def _costs(campaign: Campaign) -> list[str]:
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for entry in campaign.ledger():
        row = totals[(entry.role, entry.model)]
        row[0] += 1
        row[1] += entry.usage.cost_usd
    if not totals:
        return ["No model calls (offline campaign): $0.00."]
    rows = ["| role | model | calls | cost (USD) |", "|---|---|---|---|"]
    for (role, model), (calls, cost) in sorted(totals.items()):
        rows.append(f"| {role} | {model} | {int(calls)} | {cost:.4f} |")
    total = sum(cost for _, cost in totals.values())
    return [*rows, "", f"Total: ${total:.4f}"]


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
