"""The rubric reviewer: fills the review form from evidence alone, deterministically.

Points add up to the overall score: 1 + effect (up to 4.5) + rigour (1.5) + presentation
(1.5; a missing, blank or unreferenced figure costs) + novelty (-1 to 0.5), at most 9. A
flawless protocol with no measured gain scores 4; passing the default threshold of 6 takes a
significant gain of about 3 % or more. A paper that did not compile is capped at 2. Every
strength and weakness names its numbers.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from scientist.comparison import claim_outcome
from scientist.models import ClaimCheck, Review
from scientist.review.evidence import Comparison, Evidence
from scientist.review.verdict import settle
from scientist.stats import number

NOT_COMPILED_CAP = 2.0
SMALL, LARGE, HUGE = 0.01, 0.03, 0.10  # relative effect sizes
FIGURE_COST, FIGURE_COST_CAP = 0.25, 0.5  # presentation points per figure problem, at most


class RubricReview(BaseModel):
    """The filled form and the unrounded overall score it was rounded from."""

    model_config = ConfigDict(frozen=True)

    review: Review
    score: float


def _fmt(value: float) -> str:
    return number(value, ".4g")


def _effect_points(comparison: Comparison | None) -> float:
    """Up to 4.5: a significant effect, more for a larger one; 0.5 for an unconfirmed gain."""
    if comparison is None or comparison.effect <= 0:
        return 0.0
    if not comparison.significant:
        return 0.5
    relative = comparison.relative
    if relative is None:  # a zero baseline: the size cannot be judged, only the sign
        return 2.5
    size = (
        3.5 if relative >= HUGE else 2.0 if relative >= LARGE else 0.5 if relative >= SMALL else 0
    )
    return 1.0 + size


def _rigour_points(evidence: Evidence) -> float:
    """Up to 1.5: seeds, ablations, every run finished."""
    seeds = 0.75 if evidence.has_seeds(3) else 0.25 if evidence.has_seeds(2) else 0.0
    ablations = 0.25 if evidence.configs >= 2 else 0.0
    complete = 0.5 if evidence.runs_total and not evidence.failed_runs else 0.0
    if evidence.score_mismatches:  # the code misreported its own score: nothing it says holds
        return 0.0
    return seeds + ablations + complete


def _presentation_points(evidence: Evidence) -> float:
    """Up to 1.5: compiled, traceable numbers (each unsourced one costs), pages, citations;
    each figure problem (missing, blank, unreferenced) costs 0.25, at most 0.5."""
    if not evidence.compiled:
        return 0.0
    unsourced = len(evidence.unsourced_numbers)
    traceable = 0.5 if not unsourced else -min(1.0, 0.25 * unsourced)
    pages = 0.25 if evidence.within_page_limit else 0.0
    citations = 0.25 if evidence.citations else 0.0
    figures = min(FIGURE_COST_CAP, FIGURE_COST * len(evidence.figure_problems))
    return 0.5 + traceable + pages + citations - figures


def rubric_score(evidence: Evidence) -> float:
    """The overall score in [1, 10] before rounding."""
    novelty = {"novel": 0.5, "unchecked": 0.0, "not_novel": -1.0}[evidence.novelty]
    total = (
        1.0
        + _effect_points(evidence.comparison)
        + _rigour_points(evidence)
        + _presentation_points(evidence)
        + novelty
    )
    if not evidence.compiled:
        total = min(total, NOT_COMPILED_CAP)
    return max(1.0, min(10.0, total))


def _comparison_sentences(evidence: Evidence) -> tuple[list[str], list[str]]:
    c = evidence.comparison
    if c is None:
        return [], [
            f"No finished run reports '{evidence.metric}' next to a baseline, so the paper "
            "has no measured effect; run the baseline and the idea under the same seeds."
        ]
    change = f" ({number(c.relative, '+.1%')} relative)" if c.relative is not None else ""
    headline = (
        f"The best run (run_{c.run_index}) reaches {evidence.metric} "
        f"{_fmt(c.mean)} ± {_fmt(c.std)} (n={c.n}) against the baseline's "
        f"{_fmt(c.baseline_mean)} ± {_fmt(c.baseline_std)} (n={c.baseline_n}), "
        f"an effect of {number(c.effect, '+.4g')}{change} in the {evidence.goal} direction"
    )
    if c.exact:
        exact = f"{headline}; the pack is deterministic, so this one run measures it exactly"
        if c.significant:
            return [f"{exact}."], []
        if c.significantly_worse:
            return [], [f"{exact}: the idea is worse."]
        return [], [f"{exact}: the idea ties the baseline."]
    if c.no_spread:
        return [], [
            f"{headline}, but every seed gave the same value on both sides: the seeds do not "
            "vary the run, so there is no spread to judge the difference by; declare "
            'seeding = "deterministic" if the pack is, else check how it uses its seeds.'
        ]
    if c.ci_low is None or c.ci_high is None:
        return [], [
            f"{headline}, but with fewer than 2 seeds on one side no confidence "
            "interval exists; repeat with at least 3 seeds."
        ]
    test = "paired" if c.test == "paired" else "Welch"
    interval = (
        f"the 95 % {test} interval on the effect is "
        f"[{number(c.ci_low, '.3g')}, {number(c.ci_high, '.3g')}]"
    )
    if c.significant:
        return [f"{headline}; {interval}, which excludes zero."], []
    if c.significantly_worse:
        return [], [f"{headline}; {interval}: the idea is reliably worse."]
    return [], [
        f"{headline}; {interval}, which includes zero: the difference is not "
        "distinguishable from seed noise; add seeds or a larger intervention."
    ]


def _rigour_sentences(evidence: Evidence) -> tuple[list[str], list[str]]:
    strengths: list[str] = []
    weaknesses: list[str] = []
    if evidence.comparison is not None and evidence.comparison.exact:
        strengths.append("The pack is deterministic: one run per configuration is exact.")
    elif evidence.seeds >= 3:
        strengths.append(f"Results are averaged over {evidence.seeds} seeds with their spread.")
    elif evidence.comparison is not None:
        weaknesses.append(f"Only {evidence.seeds} seed(s) per run; use at least 3.")
    if evidence.configs >= 2:
        strengths.append(f"{evidence.configs} distinct configurations were run (ablations).")
    else:
        weaknesses.append(
            f"Only {evidence.configs} configuration finished: no ablation shows which part "
            "of the change matters."
        )
    if evidence.failed_runs:
        weaknesses.append(
            f"{len(evidence.failed_runs)} of {evidence.runs_total} runs did not finish "
            f"({', '.join(evidence.failed_runs)})."
        )
    elif evidence.runs_total:
        strengths.append(f"All {evidence.runs_total} runs finished.")
    if evidence.score_mismatches:
        weaknesses.append(
            "The experiment's code reported scores that the pack's grader refutes ("
            + "; ".join(evidence.score_mismatches[:2])
            + "); only the graded numbers stand."
        )
    return strengths, weaknesses


def _paper_sentences(evidence: Evidence) -> tuple[list[str], list[str]]:
    strengths: list[str] = []
    weaknesses: list[str] = []
    if not evidence.compiled:
        errors = "; ".join(evidence.compile_errors[:2]) or "no error recorded"
        weaknesses.append(f"The paper did not compile ({errors}), so it cannot be read.")
        return strengths, weaknesses
    if evidence.unsourced_numbers:
        shown = ", ".join(evidence.unsourced_numbers[:5])
        weaknesses.append(
            f"{len(evidence.unsourced_numbers)} number(s) in the text have no source in the "
            f"results: {shown}."
        )
    else:
        strengths.append("Every number in the text traces to a results file.")
    weaknesses += evidence.figure_problems
    if evidence.pages is not None and not evidence.within_page_limit:
        weaknesses.append(f"{evidence.pages} pages, over the {evidence.page_limit}-page limit.")
    if evidence.citations:
        strengths.append(f"The paper cites {evidence.citations} prior works.")
    else:
        weaknesses.append("The paper cites no prior work; position the result in the literature.")
    return strengths, weaknesses


def _scale(condition_points: list[bool]) -> int:
    """1 plus one point per condition met, capped at 4."""
    return min(4, 1 + sum(condition_points))


def _form_scores(evidence: Evidence) -> dict[str, int]:
    """The form's 1-4 scales and confidence, each a count of the conditions it rests on."""
    c = evidence.comparison
    positive = c is not None and c.effect > 0
    significant = c is not None and c.significant
    relative = c.relative if c is not None and c.relative is not None else 0.0
    clean = evidence.compiled and not evidence.unsourced_numbers
    complete = evidence.runs_total > 0 and not evidence.failed_runs
    scores = {
        "originality": {"novel": 3, "unchecked": 2, "not_novel": 1}[evidence.novelty],
        "quality": _scale([positive, significant, significant and evidence.has_seeds(3)]),
        "clarity": _scale([evidence.compiled, clean]),
        "significance": _scale(
            [positive, significant and relative >= LARGE, significant and relative >= HUGE]
        ),
        "soundness": _scale(
            [evidence.has_seeds(2), evidence.has_seeds(3) and complete, evidence.configs >= 2]
        ),
        "presentation": _scale(
            [
                evidence.compiled,
                clean and not evidence.figure_problems,
                evidence.within_page_limit and evidence.citations > 0,
            ]
        ),
        "confidence": 2
        if c is None
        else _scale([evidence.has_seeds(2), evidence.has_seeds(3), complete]),
    }
    scores["contribution"] = round(
        (scores["quality"] + scores["significance"] + scores["originality"]) / 3
    )
    return scores


def review_evidence(evidence: Evidence, *, threshold: float) -> RubricReview:
    """Fill the review form from `evidence`; `decision` is `score >= threshold`."""
    score = rubric_score(evidence)
    strengths, weaknesses = [], []
    for part in (_comparison_sentences, _rigour_sentences, _paper_sentences):
        more_strengths, more_weaknesses = part(evidence)
        strengths += more_strengths
        weaknesses += more_weaknesses
    questions = []
    if not evidence.has_seeds(5):
        questions.append("Does the effect hold with 5 or more seeds?")
    if evidence.configs < 2:
        questions.append("Which component of the change drives the effect?")
    significant = evidence.comparison is not None and evidence.comparison.significant
    outcome = "improves on" if significant else "does not reliably improve on"
    verdict = claim_outcome(evidence.comparison)
    pointer = _claim_evidence(evidence.comparison)
    checks = [ClaimCheck(claim=s, verdict=verdict, evidence=pointer) for s in evidence.gain_claims]
    review = Review(
        claims=checks,
        summary=(
            f"The paper's best run {outcome} the baseline on {evidence.metric} "
            f"({evidence.goal}). This review scores measured evidence only: effect size and its "
            "interval, seeds, ablations, completed runs, compilation, traceable numbers, figures, "
            "page limit and citations; it does not judge the prose or the idea's depth."
        ),
        strengths=strengths,
        weaknesses=weaknesses,
        questions=questions,
        limitations=["A rubric cannot judge novelty beyond the recorded literature check."],
        overall=max(1, min(10, int(score + 0.5))),
        decision="accept" if score >= threshold else "reject",
        **_form_scores(evidence),
    )
    return RubricReview(review=settle(review), score=score)


def _claim_evidence(c: Comparison | None) -> str:
    """Where a claimed gain is checked: the comparison's verdict, effect and interval."""
    if c is None:
        return "no comparison with the baseline exists"
    interval = (
        ""
        if c.ci_low is None or c.ci_high is None
        else f", 95 % interval [{number(c.ci_low, '.3g')}, {number(c.ci_high, '.3g')}]"
    )
    return f"results: {c.verdict.replace('_', ' ')}, effect {number(c.effect, '+.4g')}{interval}"
