"""bench-reviewer metrics against scikit-learn and hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score

from scientist.errors import ConfigError
from scientist.review.bench import read_decisions
from scientist.review.metrics import decision_metrics, roc_auc

TRUTH = [True, True, True, False, False, False, False, True]
PREDICTED = [True, False, True, False, True, False, False, True]
SCORES = [7.0, 5.5, 6.5, 3.0, 6.0, 4.0, 5.5, 8.0]


def test_metrics_agree_with_scikit_learn() -> None:
    m = decision_metrics(TRUTH, PREDICTED, SCORES)
    assert m.accuracy == pytest.approx(accuracy_score(TRUTH, PREDICTED))
    assert m.balanced_accuracy == pytest.approx(balanced_accuracy_score(TRUTH, PREDICTED))
    assert m.f1 == pytest.approx(f1_score(TRUTH, PREDICTED))
    assert m.auc == pytest.approx(roc_auc_score(TRUTH, SCORES))


def test_metrics_hand_computed() -> None:
    # tp=3 (0, 2, 7), fn=1 (1), fp=1 (4), tn=3 (3, 5, 6)
    m = decision_metrics(TRUTH, PREDICTED, SCORES)
    assert (m.n, m.positives) == (8, 4)
    assert (m.tp, m.fp, m.fn, m.tn) == (3, 1, 1, 3)
    assert m.accuracy == 6 / 8
    assert m.fpr == 1 / 4
    assert m.fnr == 1 / 4
    assert m.f1 == 6 / 8
    # positives 7, 5.5, 6.5, 8 vs negatives 3, 6, 4, 5.5: 16 pairs, 5.5 loses to 6 and ties 5.5
    assert m.auc == pytest.approx((16 - 1 - 0.5) / 16)


def test_undefined_rates_are_none() -> None:
    m = decision_metrics([True, True], [True, False], [7, 3])
    assert (m.accuracy, m.fnr) == (0.5, 0.5)
    assert m.fpr is None and m.balanced_accuracy is None and m.auc is None
    assert roc_auc([False], [1.0]) is None


def test_lengths_must_match() -> None:
    with pytest.raises(ValueError):
        decision_metrics([True], [True, False], [1.0])
    with pytest.raises(ValueError):
        decision_metrics([], [], [])


def test_decisions_csv_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_bytes("\ufeffpaper_id,decision\np1,accept\np2,0\n".encode())
    assert read_decisions(path) == [("p1", "accept"), ("p2", "reject")]


def test_decisions_csv_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "decisions.csv"
    path.write_bytes("paper_id,decision\npäper,accept\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_decisions(path)
