"""The paper's sentence on where its numbers come from: graded, self-reported, or a claim
the grader refuted (named by metric, with no digit, so it needs no evidence macro)."""

from __future__ import annotations

import re
from pathlib import Path

from scientist.models import ExperimentRun, FinalInfo, RunResult
from scientist.writeup.provenance import provenance_sentence


def run(tmp_path: Path, **fields) -> ExperimentRun:
    info = FinalInfo(metrics={"target_accuracy": {"values": [0.5]}}, seeds=[0], runtime_s=0)
    ok = RunResult(exit_code=0, status="ok")
    return ExperimentRun(
        idea_id="i", index=1, result=ok, final_info=info, run_dir=tmp_path, **fields
    )


def test_each_kind_of_run_gets_its_sentence(tmp_path: Path) -> None:
    assert "self-reported" in provenance_sentence([run(tmp_path)])
    graded = provenance_sentence([run(tmp_path, grade="graded")])
    assert "grader" in graded and "mismatch" not in graded
    finding = "target_accuracy: claimed [0.9713], graded [0.5] (tolerance 1e-09)"
    refuted = provenance_sentence([run(tmp_path, grade="score_mismatch", mismatches=[finding])])
    assert "\\texttt{target\\_accuracy}" in refuted and "score mismatch" in refuted
    assert not re.search(r"\d", refuted)
    failed = run(tmp_path).model_copy(update={"result": RunResult(exit_code=1, status="error")})
    assert provenance_sentence([failed]) == ""
