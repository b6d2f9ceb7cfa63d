"""The sentence a paper prints about where its numbers come from (the pack's grader, or the
experiment itself), and about a claim the grader refuted. It holds no digits, so it needs no
evidence macro."""

from __future__ import annotations

from scientist.models import ExperimentRun
from scientist.writeup.context import tex


def provenance_sentence(runs: list[ExperimentRun]) -> str:
    """One or two sentences for the Results: graded, self-reported, or a score mismatch."""
    finished = [run for run in runs if run.result.ok]
    if not finished:
        return ""
    if all(run.grade == "self_reported" for run in finished):
        return (
            "These numbers are self-reported: the experiment pack has no grader, so they are "
            "what the experiment's own code computed."
        )
    sentence = (
        "Every number here was measured by the experiment pack's own grader, which scored "
        "each run's saved outputs from the unedited pack on held-out data."
    )
    refuted = sorted({finding.split(":")[0] for run in finished for finding in run.mismatches})
    if refuted:
        names = ", ".join(f"\\texttt{{{tex(name)}}}" for name in refuted)
        sentence += (
            f" The experiment's own code reported values of {names} that the grader refutes "
            "(a score mismatch); those claims are not used, and the graded values are shown."
        )
    return sentence
