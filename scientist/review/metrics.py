"""Agreement of a reviewer with human decisions: accuracy, balanced accuracy, F1, AUC, FPR, FNR,
and the confusion counts they come from.

Pure functions; "accept" is the positive class. A rate whose denominator is empty is None.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field


class DecisionMetrics(BaseModel):
    model_config = ConfigDict(frozen=True)

    n: int
    positives: int
    tp: int = Field(description="accepted by humans and by the reviewer")
    fp: int = Field(description="rejected by humans, accepted by the reviewer")
    fn: int = Field(description="accepted by humans, rejected by the reviewer")
    tn: int = Field(description="rejected by humans and by the reviewer")
    accuracy: float
    balanced_accuracy: float | None
    f1: float | None
    auc: float | None
    fpr: float | None
    fnr: float | None


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def roc_auc(truth: Sequence[bool], scores: Sequence[float]) -> float | None:
    """The probability that a random accepted paper outscores a random rejected one (ties 1/2)."""
    positives = [s for s, t in zip(scores, truth, strict=True) if t]
    negatives = [s for s, t in zip(scores, truth, strict=True) if not t]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def decision_metrics(
    truth: Sequence[bool], predicted: Sequence[bool], scores: Sequence[float]
) -> DecisionMetrics:
    """Metrics of `predicted` (and the ranking by `scores`) against `truth` (True = accept)."""
    if not truth or not len(truth) == len(predicted) == len(scores):
        raise ValueError("truth, predicted and scores need the same, non-zero length")
    pairs = list(zip(truth, predicted, strict=True))
    tp = sum(t and p for t, p in pairs)
    tn = sum(not t and not p for t, p in pairs)
    fp = sum(not t and p for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    tpr, tnr = _ratio(tp, tp + fn), _ratio(tn, tn + fp)
    return DecisionMetrics(
        n=len(pairs),
        positives=tp + fn,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        accuracy=(tp + tn) / len(pairs),
        balanced_accuracy=None if tpr is None or tnr is None else (tpr + tnr) / 2,
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
        auc=roc_auc(truth, scores),
        fpr=_ratio(fp, fp + tn),
        fnr=_ratio(fn, fn + tp),
    )
