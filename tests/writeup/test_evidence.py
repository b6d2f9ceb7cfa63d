"""Evidence macros, the number verifier, bibliography handling and log parsing (no TeX)."""

from __future__ import annotations

from pathlib import Path

from scientist.errors import LiteratureUnavailable
from scientist.literature import PaperRef
from scientist.models import ExperimentRun
from scientist.writeup.citations import Bibliography, gather_bibliography, normalise_entry
from scientist.writeup.document import code_listing
from scientist.writeup.evidence import build_evidence, macro_stem
from scientist.writeup.latex_log import parse_log
from scientist.writeup.verify import find_unsourced

BODY = "\\begin{document}\n"


def test_macros_are_letters_only_and_carry_the_measured_values(
    toy_runs: tuple[ExperimentRun, list[ExperimentRun]],
) -> None:
    baseline, runs = toy_runs
    evidence = build_evidence("score", "maximize", baseline, runs)
    assert macro_stem("top1_acc") == "TopOneAcc"
    assert all(name.isalpha() for name in evidence.macros)
    assert evidence.macros["resBaselineScoreMean"] == "0.512"
    assert evidence.macros["resRunTwoScoreMean"] == "0.663"
    assert evidence.macros["resBestDelta"] == "+0.218"
    assert evidence.macros["resRunOneTrainLossDelta"] == "$-$0.218"
    assert evidence.best is runs[0] and evidence.comparison.verdict == "improved"


def test_minimised_metric_picks_the_lowest_run(
    toy_runs: tuple[ExperimentRun, list[ExperimentRun]],
) -> None:
    baseline, runs = toy_runs
    evidence = build_evidence("train_loss", "minimize", baseline, runs)
    assert evidence.best is runs[0] and evidence.comparison.verdict == "improved"


def test_verifier_reports_only_unsourced_numbers() -> None:
    tex = BODY + "\n".join(
        [
            "We reached \\resBestMean{} (0.730), far from 0.93 in Section~\\ref{sec:results}.",
            "With lr set to 0.1, as \\citet{yadav2023ties} in 2023, on GPT-4 and H2O.",
            "\\begin{figure}[t]\\includegraphics[width=0.7\\linewidth]{figures/run_1.png}",
            "% a comment with 42 is not text",
            "Another claim: 17 percent.",
        ]
    )
    found = find_unsourced(tex, sources=[0.7301, 0.1], years=[2023])
    assert [(f.number, f.line) for f in found] == [("0.93", 2), ("17", 6)]


DIFF = """--- a/train.py
+++ b/train.py
@@ -121,7 +121,9 @@ def train(config):
-    lr = 0.003
+    lr = 0.3 * warmup(step, 250)
"""


def test_verifier_skips_code_listings_and_inline_code() -> None:
    """The code appendix's diff (hunk headers, code) and other listings are code, not prose;
    an unsourced number in the prose around them is still reported, on its own line."""
    tex = BODY + "\n".join(
        [
            "Warm-up takes 64 steps.",
            code_listing(DIFF),
            "\\begin{lstlisting}[language=Python, firstnumber=121]",
            "epochs = 12",
            "\\end{lstlisting}",
            "\\begin{minted}{python}",
            "x = 5e-4",
            "\\end{minted}",
            "Set \\verb|seed=7| and \\lstinline[language=Python]{n = 8}, then 19 more.",
        ]
    )
    found = find_unsourced(tex, sources=[], years=[])
    assert [(f.number, f.line) for f in found] == [("64", 2), ("19", 22)]
    assert tex.splitlines()[21].endswith("then 19 more.")


def test_semantic_scholar_bibtex_is_normalised_and_deduplicated() -> None:
    bib = Bibliography()
    s2 = "@['JournalArticle', 'Conference']{Yadav2023,\n title = {TIES-Merging},\n year = {2023}\n}"
    entry = bib.add(s2)
    assert entry is not None and entry.text.startswith("@inproceedings{Yadav2023,")
    assert bib.add(s2.replace("Yadav2023", "Other")) is None  # same title
    other = bib.add("@article{Yadav2023,\n title = {Another Work},\n year = {2024}\n}")
    assert other is not None and other.key == "Yadav2023b" and "@article{Yadav2023b," in other.text
    assert bib.years() == [2023, 2024]
    assert normalise_entry("not bibtex") is None


class _Unreachable:
    def search(self, query: str, limit: int = 10) -> list[PaperRef]:
        raise LiteratureUnavailable("Semantic Scholar unreachable")

    def bibtex(self, paper: PaperRef) -> str | None:
        raise AssertionError("not called")


def test_unreachable_literature_keeps_the_pack_references() -> None:
    pack_bib = Path(__file__).resolve().parents[2] / "templates" / "namm" / "references.bib"
    bib = gather_bibliography(pack_bib, ["kv cache eviction"], _Unreachable())  # type: ignore[arg-type]
    assert "cetin2025namm" in bib.keys and "vaswani2017attention" in bib.keys
    assert bib.skipped == ["search 'kv cache eviction': Semantic Scholar unreachable"]


def test_log_parser_types_issues_with_lines() -> None:
    log = "\n".join(
        [
            "./paper.tex:41: Undefined control sequence.",
            "l.41 A stray \\undefinedmacro",
            "                              {}",
            "! LaTeX Error: File `nosuch.sty' not found.",
            "Package natbib Warning: Citation `nokey' on page 2 undefined on input line 57.",
            "LaTeX Warning: Reference `fig:x' on page 2 undefined on input line 60.",
            "Overfull \\hbox (12.5pt too wide) in paragraph at lines 70--72",
        ]
    )
    issues = parse_log(log)
    assert [(i.kind, i.line, i.token) for i in issues] == [
        ("undefined_control_sequence", 41, "\\undefinedmacro"),
        ("missing_file", None, "nosuch.sty"),
        ("undefined_citation", 57, "nokey"),
        ("undefined_reference", 60, "fig:x"),
        ("overfull_box", 70, ""),
    ]
