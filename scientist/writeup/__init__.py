"""Paper writeup: evidence-chained LaTeX papers that always compile.

`write_paper(ctx, idea_id=..., idea=..., baseline=..., runs=...)` turns an idea's runs into
`paper.tex`, `results.tex` (one macro per reported number), `refs.bib` and `paper.pdf`, and
records the result as a `Paper`.
"""

from scientist.writeup.paper import write_paper

__all__ = ["write_paper"]
