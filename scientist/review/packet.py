"""What a campaign paper's reviewers see beside the paper: the evidence packet, and the data
blocks every model-written text travels in.

The packet holds the idea's sealed results against its control, seed by seed, with the
effect's interval, the gain over the campaign baseline, the run size and seeds, where the
numbers come from (graded or self-reported), and the code diff, in at most `PACKET_CHARS`
characters (about 3,000 tokens): the diff is cut first.

Everything a model or a run wrote (the paper's text, idea titles, run output, file names)
enters a reviewer's or the area chair's prompt only inside a `data_block`, which the
prompts declare to be material, never instructions; a block cannot be closed from inside.
"""

from __future__ import annotations

from scientist.models import ArchiveEntry, ExperimentRun
from scientist.report import describe_effect
from scientist.stats import number

PACKET_CHARS = 12_000
"""The packet's budget, about 3,000 tokens at 4 characters a token."""


def data_block(name: str, text: str) -> str:
    """`text` as a named data block; a `<data` or `</data` inside it is defused."""
    safe = text.replace("</data", "<\\/data").replace("<data", "<\\data")
    return f'<data name="{name}">\n{safe}\n</data>'


def _seed_table(run: ExperimentRun, control: ExperimentRun, metric: str) -> list[str]:
    info, base = run.final_info, control.final_info
    if info is None or base is None or metric not in info.metrics or metric not in base.metrics:
        return ["(no per-seed values on one side)"]
    values, base_values = info.metrics[metric].values, base.metrics[metric].values
    rows = ["| seed | idea | control | idea - control |", "|---|---|---|---|"]
    if info.seeds == base.seeds and len(values) == len(base_values) == len(info.seeds):
        for seed, value, reference in zip(info.seeds, values, base_values, strict=True):
            change = number(value - reference, "+.6g")
            rows.append(f"| {seed} | {value:.6g} | {reference:.6g} | {change} |")
    else:
        rows.append(f"| idea seeds {info.seeds} | {', '.join(f'{v:.6g}' for v in values)} | | |")
        rows.append(
            f"| control seeds {base.seeds} | | {', '.join(f'{v:.6g}' for v in base_values)} | |"
        )
    mean, base_mean = info.metrics[metric].mean, base.metrics[metric].mean
    rows.append(f"| mean | {mean:.6g} | {base_mean:.6g} | {number(mean - base_mean, '+.6g')} |")
    return rows


def evidence_packet(
    *,
    entry: ArchiveEntry | None,
    run: ExperimentRun | None,
    control: ExperimentRun | None,
    metric: str,
    goal: str,
    sizes: str,
    numbers: str,
    diff: str,
    budget: int = PACKET_CHARS,
) -> str:
    """The evidence packet of one idea's paper, within `budget` characters."""
    lines = [
        f"Idea: {entry.idea.title}" if entry else "Idea: (not in the archive)",
        f"Control (what the idea is compared with): {entry.control if entry else 'unknown'}",
        sizes,
        f"Where the numbers come from: {numbers}",
        "",
        f"Results on {metric} ({goal} is better), the idea's best run against its control:",
    ]
    if run is not None and control is not None:
        lines += _seed_table(run, control, metric)
    else:
        lines.append("(no finished run to compare)")
    if entry is not None:
        lines += [
            "",
            f"Effect against the control, 95 % interval: {describe_effect(entry.effect)}",
            f"Gain over the campaign baseline, 95 % interval: {describe_effect(entry.gain)}",
        ]
        if entry.confirmation is not None:
            lines.append(f"Confirmation on fresh seeds: {describe_effect(entry.confirmation)}")
    head = "\n".join(lines)
    room = budget - len(head) - 200
    if not diff.strip():
        return head + "\n\nCode change: none (the idea changes settings only)."
    shown = diff if len(diff) <= room else diff[: max(0, room)] + "\n[... the diff is cut here]"
    return f"{head}\n\nCode change (unified diff against the pack):\n{shown}"


def numbers_source(run: ExperimentRun | None) -> str:
    """Where a run's numbers come from, for the packet."""
    if run is None:
        return "no finished run"
    if run.grade == "graded":
        return (
            "graded by the pack's frozen grader from the unedited pack; the run's own claim agrees"
        )
    if run.grade == "score_mismatch":
        return (
            "graded by the pack's frozen grader; the run's own claim DISAGREES with the grade "
            f"({'; '.join(run.mismatches)})"
        )
    return "self-reported by the experiment's own code (the pack has no grader)"
