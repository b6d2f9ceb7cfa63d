"""Compile a paper and repair it until it builds: the rules, the writer model, the offline prose.

Each round compiles once. What the compile reports is fixed by the built-in rules first
(`fixes.apply_rules`); when they change nothing, the writer model gets one request with
every erroneous line of that compile (`fixes.apply_model`). At most `fix_rounds` rounds,
and a source met before ends the loop, so no request is repeated. Offline, the rules' last
resort comments an erroneous line out.

A model-written paper that still does not build falls back: each section whose text holds an
error of the last compile gets its offline prose, with a note that says so, spliced into the
repaired source, and the rules run again; when that fails too, or no section holds the
error, the whole paper is rebuilt from the offline prose. Only a good compile replaces
`paper.pdf` (`compile.compile_attempt`), so the last good PDF is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scientist.atomic_files import atomic_write_text
from scientist.config import WriteupConfig
from scientist.llm import RoleModel
from scientist.sandbox import Sandbox
from scientist.writeup.compile import MAIN, CompileAttempt, compile_attempt
from scientist.writeup.context import SECTIONS, PaperContext
from scientist.writeup.document import build_document, text_markers
from scientist.writeup.fixes import apply_model, apply_rules
from scientist.writeup.latex_log import LatexIssue

RETRY_KINDS = frozenset({"undefined_citation", "undefined_reference"})
FALLBACK_NOTE = (
    "\\emph{The model-written text of this section did not compile; the text below was "
    "generated from the recorded results instead.}\n\n"
)


@dataclass
class Compiled:
    """The last compiled source, every attempt, the citation keys the rules dropped and the
    sections whose offline prose replaced the model's (`fallback`, by key)."""

    tex: str
    attempts: list[CompileAttempt] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    fallback: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].ok


def next_attempt(paper_dir: Path) -> int:
    numbers = [int(p.name.split("_")[-1]) for p in paper_dir.glob("attempts/attempt_*")]
    return max(numbers, default=0) + 1


def compile_with_fixes(
    paper_dir: Path,
    tex: str,
    sources: dict[str, str],
    assets: dict[str, Path],
    config: WriteupConfig,
    sandbox: Sandbox | None,
    model: RoleModel | None,
) -> Compiled:
    """Compile, repair (rules first, then one model request), recompile: bounded rounds."""
    compiled = Compiled(tex)
    seen = {tex}
    number = next_attempt(paper_dir)
    for round_index in range(config.fix_rounds + 1):
        attempt = compile_attempt(
            paper_dir, number + round_index, {**sources, MAIN: tex}, assets, config, sandbox
        )
        compiled.attempts.append(attempt)
        # after a fatal error latexmk stops before BibTeX: citations only look undefined
        fatal = [i for i in attempt.issues if i.fatal]
        to_fix = fatal or [i for i in attempt.issues if i.kind in RETRY_KINDS]
        if (attempt.ok and not to_fix) or round_index == config.fix_rounds:
            break
        fix = apply_rules(tex, to_fix, last_resort=model is None)
        if not fix.changed and model is not None:
            fix = apply_model(tex, to_fix, model)
        if not fix.changed or fix.text in seen:
            break
        atomic_write_text(attempt.directory / "fixes.txt", "\n".join(fix.actions) + "\n")
        tex = compiled.tex = fix.text
        seen.add(tex)
        compiled.dropped += fix.dropped_citations
    return compiled


def _text_spans(tex: str) -> dict[str, tuple[int, int]] | None:
    """Each section's text as (first, last) line index of its markers, or None when the
    repairs removed a marker."""
    lines = tex.split("\n")
    spans = {}
    for key, _, _ in SECTIONS:
        start, end = text_markers(key)
        if start not in lines or end not in lines:
            return None
        spans[key] = (lines.index(start), lines.index(end))
    return spans


def failing_sections(tex: str, issues: list[LatexIssue]) -> list[str]:
    """The sections whose text holds a fatal error of `issues` (found compiling `tex`)."""
    spans = _text_spans(tex) or {}
    lines = {i.line - 1 for i in issues if i.fatal and i.line and i.file in ("", MAIN)}
    return [key for key, (first, last) in spans.items() if any(first < n < last for n in lines)]


def splice(tex: str, texts: dict[str, str]) -> str | None:
    """`tex` with the text of each section in `texts` replaced, or None when it cannot be
    found."""
    spans = _text_spans(tex)
    if spans is None:
        return None
    lines = tex.split("\n")
    for key, (first, last) in sorted(spans.items(), key=lambda item: -item[1][0]):
        if key in texts:
            lines[first + 1 : last] = texts[key].split("\n")
    return "\n".join(lines)


def compile_paper(
    paper_dir: Path,
    paper: PaperContext,
    tex: str,
    offline: dict[str, str],
    sources: dict[str, str],
    assets: dict[str, Path],
    config: WriteupConfig,
    sandbox: Sandbox | None,
    model: RoleModel | None,
) -> Compiled:
    """Compile `tex` (`paper`'s source) with the fix loop; a model-written paper that does
    not build falls back to the `offline` prose, section by section, then whole."""
    compiled = compile_with_fixes(paper_dir, tex, sources, assets, config, sandbox, model)
    if compiled.ok or model is None:
        return compiled
    noted = {key: FALLBACK_NOTE + text for key, text in offline.items()}
    keys = failing_sections(compiled.tex, compiled.attempts[-1].issues)
    spliced = splice(compiled.tex, {key: noted[key] for key in keys}) if keys else None
    fallbacks = [(keys, spliced)] if spliced is not None else []
    fallbacks.append((list(noted), build_document(paper, noted, two_column=config.two_column)))
    for keys, tex in fallbacks:
        again = compile_with_fixes(paper_dir, tex, sources, assets, config, sandbox, None)
        compiled = Compiled(
            again.tex,
            [*compiled.attempts, *again.attempts],
            [*compiled.dropped, *again.dropped],
            keys,
        )
        if compiled.ok:
            break
    return compiled
