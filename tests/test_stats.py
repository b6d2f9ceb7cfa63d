"""One statistics rule: packs report values; mean and sample std are computed from them, a
pack's own summary that disagrees is rejected, and the paper and the review print one ±."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from scientist.comparison import compare
from scientist.errors import TemplateError
from scientist.models import ExperimentRun, FinalInfo, RunResult
from scientist.stats import number
from scientist.templates import load_template
from scientist.writeup.evidence import build_evidence, format_number

VALUES = [0.71, 0.74, 0.78]


def run(index: int, values: list[float], tmp_path: Path) -> ExperimentRun:
    info = FinalInfo.model_validate(
        {"metrics": {"score": {"values": values}}, "seeds": [0, 1, 2], "runtime_s": 1}
    )
    return ExperimentRun(
        idea_id="i",
        index=index,
        result=RunResult(exit_code=0, status="ok", output_dir=tmp_path),
        final_info=info,
        run_dir=tmp_path,
    )


def test_mean_and_sample_std_are_computed_from_the_values(tmp_path: Path) -> None:
    summary = run(1, VALUES, tmp_path).final_info.metrics["score"]
    assert summary.mean == pytest.approx(statistics.fmean(VALUES))
    assert summary.std == pytest.approx(statistics.stdev(VALUES))  # n - 1, not n
    single = FinalInfo.model_validate(
        {"metrics": {"score": {"values": [0.5]}}, "seeds": [0], "runtime_s": 1}
    )
    assert single.metrics["score"].std == 0.0


def test_a_pack_std_that_disagrees_with_its_values_is_rejected(
    toy_pack: Path, tmp_path: Path
) -> None:
    template = load_template(str(toy_pack))
    path = tmp_path / "final_info.json"
    population_std = statistics.pstdev(VALUES)
    metrics = {"score": {"mean": statistics.fmean(VALUES), "std": population_std, "values": VALUES}}
    path.write_text(json.dumps({"metrics": metrics, "seeds": [0, 1, 2], "runtime_s": 1}))
    with pytest.raises(TemplateError, match=r"std .* disagrees with its values"):
        template.read_final_info(path)
    metrics["score"]["std"] = statistics.stdev(VALUES)
    path.write_text(json.dumps({"metrics": metrics, "seeds": [0, 1, 2], "runtime_s": 1}))
    assert template.read_final_info(path).metrics["score"].std == pytest.approx(
        statistics.stdev(VALUES)
    )


def test_the_paper_and_the_review_print_the_same_spread(tmp_path: Path) -> None:
    baseline, idea = run(0, [0.50, 0.52, 0.49], tmp_path), run(1, VALUES, tmp_path)
    paper = build_evidence("score", "maximize", baseline, [idea])
    review = compare([idea], baseline, "score", "maximize")
    assert review is not None
    assert paper.macros["resRunOneScoreStd"] == format_number(review.std)
    assert paper.macros["resBaselineScoreStd"] == format_number(review.baseline_std)


@pytest.mark.parametrize(
    ("value", "spec", "text"),
    [
        (-0.0, "+.4g", "0"),
        (0.0, "+.4g", "0"),
        (-0.0001, "+.2f", "0.00"),
        (-0.0, ".4g", "0"),
        (-0.0, "+.1%", "0.0%"),
        (-0.5, "+.3g", "-0.5"),
        (0.25, "+.3g", "+0.25"),
        (float("nan"), "+.3g", "+nan"),
    ],
)
def test_a_number_that_prints_as_zero_prints_unsigned(value, spec, text):
    assert number(value, spec) == text


def test_report_and_review_never_print_a_signed_zero():
    """An A/A comparison of a deterministic pack: the effect is exactly -0.0."""
    from scientist.models import Effect
    from scientist.report import describe_effect

    effect = Effect(vs="baseline/run_0", metric="m", mean=-0.0, low=-0.0, high=0.0, n=[1, 1],
                    test="exact")  # fmt: skip
    assert describe_effect(effect) == "0 (exact, deterministic, n = 1/1)"
    assert describe_effect(effect, brief=True) == "0 [0, 0]"
    assert format_number(-0.0001, signed=True) == "0.000"  # the paper's macros
