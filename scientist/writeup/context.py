"""Everything a writer (model or rules) needs to know about one idea's paper."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pylatex.utils import escape_latex

from scientist.models import ExperimentRun, Idea
from scientist.records.figures import Figure
from scientist.templates import Template
from scientist.writeup.citations import Bibliography
from scientist.writeup.evidence import Evidence, macro_values
from scientist.writeup.verify import numbers_in

_REF = re.compile(r"\\(?:ref|autoref|cref|Cref)\{([^}]*)\}")

SECTIONS: list[tuple[str, str, str]] = [
    ("abstract", "Abstract", "One paragraph: the question, what was run, the headline result."),
    (
        "introduction",
        "Introduction",
        "Motivation from the pack's topic, the hypothesis (word for word as given), findings.",
    ),
    ("related", "Related Work", "Place the idea among the cited works; cite only given keys."),
    (
        "method",
        "Method",
        "The baseline and the change this idea makes (subsections welcome); a code change is "
        "described in prose, and Appendix~\\ref{app:code} lists it.",
    ),
    ("setup", "Experimental Setup", "Pack, metric, seeds, runs, configuration, compute."),
    ("results", "Results", "The results table and figures, each number by macro."),
    ("limitations", "Limitations", "What the evidence cannot show: scale, seeds, noise."),
    ("conclusion", "Conclusion", "What was learned, stated no stronger than the evidence."),
]


@dataclass
class PaperContext:
    idea: Idea
    template: Template
    evidence: Evidence
    bibliography: Bibliography
    baseline: ExperimentRun | None
    runs: list[ExperimentRun]
    figures: list[Figure] = field(default_factory=list)
    supplementary: list[Figure] = field(default_factory=list)
    diff: str = ""
    """The best run's code change (a unified diff against the pack; '' when none)."""
    control: str = "the campaign baseline"
    """What `baseline` is: the run the idea is measured against, in words."""
    size: str = "full size"
    """The run size: full, or smoke with the settings that differ."""

    @property
    def against_control(self) -> bool:
        """Whether the idea's reference run is a control other than the campaign baseline."""
        return self.baseline is not None and self.baseline.idea_id != "baseline"

    @property
    def metric(self) -> str:
        return self.template.manifest.metric.name

    @property
    def goal(self) -> str:
        return self.template.manifest.metric.goal

    def config_sources(self) -> list[Any]:
        """Configuration the paper may quote: run configs, overrides, the search space."""
        manifest = self.template.manifest
        sources: list[Any] = [
            self.idea.overrides,
            manifest.baseline,
            manifest.description,
            self.diff,
        ]
        for run in [self.baseline, *self.runs]:
            if run is None:
                continue
            sources.append(run.overrides)
            if run.final_info is not None:
                sources += [run.final_info.config, run.final_info.seeds]
        sources.append(
            {
                k: v.model_dump() if hasattr(v, "model_dump") else v
                for k, v in self.template.manifest.search_space.items()
            }
        )
        return sources

    def figure_metrics(self, figures: list[Figure]) -> list[str]:
        """The metrics `figures` show: those their file names or captions name."""
        named = " ".join(f"{figure.name} {figure.caption}" for figure in figures).lower()
        return [
            metric
            for metric in self.evidence.metric_names()
            if metric.lower() in named or metric.lower().replace("_", " ") in named
        ]

    def citable(self, latex: str | None = None) -> dict[str, str]:
        """The macros a section may cite: those of no single metric (counts, seeds, runtimes,
        the best run and its interval), the primary metric's, the results table's and those
        of the figures it refers to (`latex`'s `\\ref`s; None: any body figure). A section's
        prompts list only these, and the verifier holds it to them (`sources`): a number a
        section was not shown is unsourced like any other."""
        labels = None if latex is None else referenced_labels(latex)
        figures = [f for f in self.figures if labels is None or f.label in labels]
        metrics = [self.metric, *self.evidence.table_metrics(), *self.figure_metrics(figures)]
        return self.evidence.citable(metrics)

    def sources(self, latex: str | None = None) -> list[float]:
        """The numbers a section may print (`citable`'s values, the configuration)."""
        return [*macro_values(self.citable(latex)), *numbers_in(self.config_sources())]

    def macro_listing(self, latex: str | None = None) -> str:
        """`citable`'s macros with their values, a line each."""
        return "\n".join(f"- `\\{name}` = {value}" for name, value in self.citable(latex).items())

    def macro_names(self, latex: str | None = None) -> str:
        return ", ".join(f"\\{name}" for name in self.citable(latex))

    def figure_listing(self) -> str:
        return "\n".join(f"- `{f.label}`: {f.caption}" for f in self.figures) or "(none)"

    def citation_listing(self) -> str:
        entries = self.bibliography.entries
        return "\n".join(f"- `{e.key}`: {e.title} ({e.year})" for e in entries) or "(none)"

    def pack_summary(self) -> str:
        manifest = self.template.manifest
        return (
            f"{manifest.title}: {manifest.description} "
            f"Metric: {manifest.metric.name} ({manifest.metric.goal}). "
            f"The idea is compared with its control: {self.control} (the 'baseline' of the "
            f"macros and the table). Run size: {self.size}."
        )


def referenced_labels(latex: str) -> set[str]:
    """The labels `latex` refers to with `\\ref` (or `\\autoref`, `\\cref`)."""
    return {label.strip() for group in _REF.findall(latex) for label in group.split(",")}


def tex(text: str) -> str:
    """Plain text made safe for LaTeX."""
    return escape_latex(text)


def reference_sentence(figure: Figure) -> str:
    """A sentence that refers to `figure` and says what it shows (its caption)."""
    caption = figure.caption[:1].lower() + figure.caption[1:].rstrip()
    stop = "" if caption.endswith((".", "!", "?")) else "."
    return f"Figure~\\ref{{{figure.label}}} shows {tex(caption)}{stop}"
