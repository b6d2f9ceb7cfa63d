"""A scripted writer and reviewer for the scheduler benchmarks: no TeX and no model runs,
only the time a model would take (`steps.write_paper`, `steps.review_paper` stand-ins)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from scientist.models import MetaReview, Paper


class ScriptedPapers:
    """A writer and a reviewer that take seeded time (uniform, 0.5x to 1.5x the mean),
    spent by `sleep` (real seconds, or a simulated clock's)."""

    def __init__(
        self,
        write_s: float,
        review_s: float,
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.write_s, self.review_s = write_s, review_s
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.sleep = sleep

    def _pause(self, mean: float) -> None:
        with self.lock:
            seconds = mean * self.rng.uniform(0.5, 1.5)
        self.sleep(seconds)

    def write_paper(self, ctx, *, idea_id, idea, baseline, runs, control=None) -> Paper:
        self._pause(self.write_s)
        return Paper(idea_id=idea_id, tex_path=ctx.campaign.paper_dir(idea_id) / "paper.tex")

    def review_paper(self, ctx, *, idea_id, paper, baseline, runs) -> MetaReview:
        self._pause(self.review_s)
        metric = runs[-1].final_info.metrics[ctx.template.manifest.metric.name].mean
        score = 1 + 18 * max(0.0, min(0.5, metric - 0.5))  # the pack scores 0.5 to 1
        return MetaReview(
            summary="scripted",
            strengths=[],
            weaknesses=[],
            overall=round(score, 1),
            decision="accept" if score >= 6 else "reject",
            threshold=6,
            n_reviews=1,
            reviewer="scripted",
        )
