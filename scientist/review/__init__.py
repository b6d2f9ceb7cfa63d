"""Reviews: the LLM reviewer ensemble with an area chair, or the offline rubric reviewer.

from scientist.review import review_paper, archive_fields
meta = review_paper(ctx, idea_id=..., paper=..., baseline=..., runs=...)
campaign.record_idea(entry.model_copy(update=archive_fields(meta)))
"""

from scientist.review.meta import ReviewRecord, archive_fields, calibrated_decision
from scientist.review.service import review_paper, review_pdf

__all__ = ["ReviewRecord", "archive_fields", "calibrated_decision", "review_paper", "review_pdf"]
