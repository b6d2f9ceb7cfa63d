"""Assemble `paper.tex` with pylatex: layout, sections, the results table, figures, references."""

from __future__ import annotations

from pylatex import Command, Document, Figure, NoEscape, Package, Section, Table, Tabular
from pylatex.base_classes import Environment

from scientist.writeup.context import SECTIONS, PaperContext, tex
from scientist.writeup.evidence import PREFIX, Evidence, macro_stem, run_label

STYLE = "scientist"
LISTING_LINES = 120
LISTING_WIDTH = 88


class Abstract(Environment):
    _latex_name = "abstract"


def text_markers(key: str) -> tuple[str, str]:
    """The comment lines around the prose of section `key` in `paper.tex` (so that a
    section's text can be found, and replaced, after the fix loop edited the source)."""
    return f"% text of {key}", f"% end of the text of {key}"


def _prose(key: str, text: str) -> NoEscape:
    start, end = text_markers(key)
    return NoEscape(f"\n{start}\n{text}\n{end}\n")


def _cell(evidence: Evidence, stem: str, single: bool) -> NoEscape:
    """`mean ± std`; a single run's mean alone (it has no spread)."""
    mean, std = f"{stem}Mean", f"{stem}Std"
    if not evidence.has(mean):
        return NoEscape("--")
    if single:
        return NoEscape(evidence.ref(mean))
    return NoEscape(f"{evidence.ref(mean)}~$\\pm$~{evidence.ref(std)}")


def results_table(evidence: Evidence) -> Table:
    """Baseline and runs by metric (mean $\\pm$ std), delta of the primary metric, seeds."""
    metrics = evidence.table_metrics()
    table = Table(position="t")
    table.append(NoEscape("\\centering\\small"))
    tabular = Tabular("l" + "c" * (len(metrics) + 2), booktabs=True)
    header = ["", *[NoEscape(f"\\texttt{{{tex(m)}}}") for m in metrics]]
    tabular.add_row([*header, NoEscape(f"$\\Delta$ \\texttt{{{tex(evidence.metric)}}}"), "seeds"])
    tabular.add_hline()
    rows = [("Baseline", "Baseline")] if evidence.baseline is not None else []
    rows += [
        (f"Run~\\{PREFIX}{run_label(r.index)}Index{{}}", run_label(r.index)) for r in evidence.runs
    ]
    for title, label in rows:
        seeds = f"{PREFIX}{label}NumSeeds"
        single = evidence.macros.get(seeds) == "1"
        cells = [_cell(evidence, f"{PREFIX}{label}{macro_stem(m)}", single) for m in metrics]
        delta = f"{PREFIX}{label}{macro_stem(evidence.metric)}Delta"
        tabular.add_row(
            [
                NoEscape(title),
                *cells,
                NoEscape(evidence.ref(delta) if evidence.has(delta) else "--"),
                NoEscape(evidence.ref(seeds) if evidence.has(seeds) else "--"),
            ]
        )
    table.append(NoEscape("\\begin{adjustbox}{max width=\\linewidth}"))
    table.append(tabular)
    table.append(NoEscape("\\end{adjustbox}"))
    table.add_caption(
        NoEscape(
            "Mean $\\pm$ sample standard deviation across seeds (a single run: its value, with "
            "no spread); $\\Delta$ is the difference of the primary metric from the baseline. "
            "Generated from the runs' "
            "\\texttt{final\\_info.json}."
        )
    )
    table.append(NoEscape("\\label{tab:results}"))
    return table


def _figure(path: str, caption: str, label: str, two_column: bool) -> Figure:
    figure = Figure(position="t")
    figure.append(NoEscape("\\centering"))
    width = "\\linewidth" if two_column else "0.7\\linewidth"
    figure.add_image(path, width=NoEscape(width))
    figure.add_caption(NoEscape(tex(caption)))
    figure.append(NoEscape(f"\\label{{{label}}}"))
    return figure


def code_listing(diff: str) -> str:
    """The code change as an appendix: the diff verbatim, long lines wrapped, cut after
    `LISTING_LINES` lines (the run folder keeps all of it)."""
    lines = []
    for line in diff.splitlines()[:LISTING_LINES]:
        line = line.replace("\t", "    ").replace("\\end{verbatim}", "\\end {verbatim}")
        lines += [line[k : k + LISTING_WIDTH] for k in range(0, max(len(line), 1), LISTING_WIDTH)]
    if len(diff.splitlines()) > LISTING_LINES:
        lines.append(f"... ({len(diff.splitlines()) - LISTING_LINES} more lines in code.diff)")
    body = "\n".join(lines)
    return (
        "\\appendix\n\\section{Code change}\\label{app:code}\n"
        "The change to the experiment pack that produced the best run, as a unified diff.\n"
        f"{{\\footnotesize\n\\begin{{verbatim}}\n{body}\n\\end{{verbatim}}\n}}\n"
    )


def build_document(ctx: PaperContext, sections: dict[str, str], *, two_column: bool = False) -> str:
    """The full `paper.tex` source."""
    options = ["10pt", "twocolumn"] if two_column else ["11pt"]
    doc = Document(
        documentclass="article",
        document_options=options,
        fontenc=None,
        inputenc=None,
        lmodern=False,
        textcomp=False,
        page_numbers=True,
        microtype=False,
    )
    doc.preamble.append(Package(STYLE))
    doc.preamble.append(NoEscape("\\input{results}"))
    doc.preamble.append(Command("title", NoEscape(tex(ctx.idea.title))))
    doc.preamble.append(Command("author", "scientist"))
    smoke = "Smoke-size runs\\\\ " if ctx.size.startswith("smoke") else ""
    doc.preamble.append(Command("date", NoEscape(f"{smoke}\\today")))
    doc.append(NoEscape("\\maketitle"))
    abstract = Abstract()
    abstract.append(_prose("abstract", sections["abstract"]))
    doc.append(abstract)
    for key, title, _ in SECTIONS[1:]:
        section = Section(title, label=False)
        section.append(NoEscape(f"\\label{{sec:{key}}}"))
        section.append(_prose(key, sections[key]))
        if key == "results":
            section.append(results_table(ctx.evidence))
            for figure in ctx.figures:
                section.append(_figure(figure.path, figure.caption, figure.label, two_column))
        doc.append(section)
    doc.append(NoEscape("\\FloatBarrier"))  # every figure before the references
    if ctx.bibliography.entries:
        doc.append(NoEscape("\\bibliographystyle{plainnat}\n\\bibliography{refs}"))
    if ctx.diff.strip():
        doc.append(NoEscape("\\onecolumn\n" * two_column + code_listing(ctx.diff)))
    return doc.dumps() + "\n"
