"""AI Scientist (v1) templates run unchanged: how their files map onto a pack's contract.

Such a template's `experiment.py` takes `--out_dir=DIR` (and no overrides file); its
`final_info.json` is nested by dataset, `{"<dataset>": {"means": {...}, "stderrs": {...},
"final_info_dict": {"<metric>": [per-seed values]}}}`; `plot.py` takes no arguments and
draws every `run_*` folder next to it into PNGs in its working directory; `seed_ideas.json`
rows carry `Name`, `Title`, a free-text `Experiment` and 1-10 scores, and no settings.
A pack's `[ai_scientist]` table (written by `scientist templates import`) says which
dataset's metrics count, or that each metric is averaged over every dataset, and which
command-line flag of `experiment.py` each knob of the pack's `search_space` sets (`flags`):
a run passes each knob of its overrides file as `--flag=value`, the template unchanged.
"""

from __future__ import annotations

import json
import statistics
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scientist.models import FinalInfo, Idea, MetricSummary
from scientist.stats import agrees, mean_std

OUT_DIR_FLAG = "--out_dir"
# plot.py writes into its working directory; the figures step collects them from `out/`.
PLOT_ARGV = [
    "python",
    "-c",
    "import pathlib, runpy, shutil; runpy.run_path('plot.py', run_name='__main__'); "
    "out = pathlib.Path('out'); out.mkdir(exist_ok=True); "
    "[shutil.move(str(f), str(out / f.name)) for f in pathlib.Path('.').glob('*.png')]",
]
# experiment.py with the run's knobs as its own flags: argv is the entrypoint, the out dir,
# the overrides file and the JSON {knob: flag} map; keys that are not knobs (seeds) are not
# passed, since a v1 template takes no seeds.
RUN_WITH_FLAGS = (
    "import json, runpy, sys; "
    "entry, out, overrides, flags = sys.argv[1:5]; rest = sys.argv[5:]; "
    "values = json.load(open(overrides)); flags = json.loads(flags); "
    "sys.argv = [entry, '--out_dir=' + out] "
    "+ [f'{flag}={values[knob]}' for knob, flag in flags.items() if knob in values] + rest; "
    "runpy.run_path(entry, run_name='__main__')"
)
EXPECTED_SHAPE = '{"<dataset>": {"means": {"<metric>": 0.5}, "final_info_dict": {...}}}'


class AIScientistFormat(BaseModel):
    """The `[ai_scientist]` table of a pack made from an AI Scientist (v1) template."""

    model_config = ConfigDict(extra="forbid")

    dataset: str | None = Field(default=None, description="the dataset whose metrics count")
    aggregate: Literal["mean"] | None = Field(
        default=None, description="'mean': each metric averaged over every dataset, per seed"
    )
    flags: dict[str, str] = Field(
        default_factory=dict, description="knob name -> the experiment.py flag that sets it"
    )

    @model_validator(mode="after")
    def _one_source(self) -> AIScientistFormat:
        if (self.dataset is None) == (self.aggregate is None):
            raise ValueError("set exactly one of 'dataset' or 'aggregate'")
        return self

    def final_info(self, data: Any, measured_s: float) -> FinalInfo:
        """The nested file as a FinalInfo; `ValueError` names what does not fit."""
        if not isinstance(data, dict) or not data:
            raise ValueError(
                f"expected an object with one entry per dataset, found {_excerpt(data)}; "
                f"expected shape: {EXPECTED_SHAPE}"
            )
        datasets = {}
        for name, entry in data.items():
            try:
                datasets[name] = _Dataset.model_validate(entry)
            except ValidationError as exc:
                first = exc.errors()[0]
                key = ".".join([name, *map(str, first["loc"])])
                raise ValueError(
                    f"not nested by dataset: at '{key}': {first['msg']}, found "
                    f"{_excerpt(first['input'])}; expected shape: {EXPECTED_SHAPE}"
                ) from None
        if self.dataset is not None:
            if self.dataset not in datasets:
                raise ValueError(f"no dataset '{self.dataset}' (has: {', '.join(datasets)})")
            metrics = datasets[self.dataset].summaries()
            seeds = max((len(m.values) for m in metrics.values()), default=1)
        else:
            metrics = _mean_over(datasets)
            seeds = max((len(m.values) for m in metrics.values()), default=1)
        return FinalInfo(
            metrics=metrics,
            config={},
            seeds=list(range(seeds)),
            runtime_s=measured_s,
            datasets=sorted(datasets),
        )


class _Dataset(BaseModel):
    means: dict[str, float] = Field(min_length=1)
    final_info_dict: dict[str, Any] = Field(default_factory=dict)

    def summaries(self) -> dict[str, MetricSummary]:
        """Each metric over its per-seed values when the template recorded values whose mean
        is the reported one, else the reported mean as the one value."""
        summaries = {}
        for key, mean in self.means.items():
            values = self.final_info_dict.get(key.removesuffix("_mean"))
            if not _numbers(values) or not agrees(mean, mean_std(values)[0]):
                values = [mean]
            summaries[key] = MetricSummary.model_validate({"values": values})
        return summaries


def _excerpt(value: Any, limit: int = 80) -> str:
    """A found value as short JSON, for an error message."""
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _numbers(values: Any) -> bool:
    return (
        isinstance(values, list)
        and bool(values)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    )


def _mean_over(datasets: dict[str, _Dataset]) -> dict[str, MetricSummary]:
    """Metrics every dataset reports, averaged over the datasets seed by seed: one value per
    seed when every dataset recorded the same number of per-seed values, else the one mean
    of the datasets' means. Datasets are never samples."""
    summaries = {name: dataset.summaries() for name, dataset in datasets.items()}
    shared = set.intersection(*(set(d.means) for d in datasets.values()))
    metrics = {}
    for key in sorted(shared):
        per_dataset = [summaries[name][key].values for name in sorted(datasets)]
        if len({len(values) for values in per_dataset}) == 1:
            values = [statistics.fmean(seed) for seed in zip(*per_dataset, strict=True)]
        else:
            values = [statistics.fmean(datasets[name].means[key] for name in sorted(datasets))]
        metrics[key] = MetricSummary.model_validate({"values": values})
    return metrics


class _SeedIdea(BaseModel):
    Name: str
    Title: str
    Experiment: str
    Interestingness: int = Field(default=5, ge=1, le=10)
    Feasibility: int = Field(default=5, ge=1, le=10)
    Novelty: int = Field(default=5, ge=1, le=10)


def seed_idea(row: Any) -> Idea:
    """A seed row as a code-change idea: its "Experiment" text is the plan."""
    seed = _SeedIdea.model_validate(row)
    return Idea(
        name=seed.Name,
        title=seed.Title,
        hypothesis=seed.Title,
        plan=seed.Experiment,
        interestingness=seed.Interestingness,
        feasibility=seed.Feasibility,
        novelty=seed.Novelty,
        origin="seed",
    )
